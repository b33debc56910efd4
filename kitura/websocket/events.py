"""Events produced by the sans-I/O ``ServerProtocol``.

This module owns the event types that ``ServerProtocol.events_received()``
returns. They are small frozen dataclasses with slots. It imports only the
standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Event", "TextMessage", "BinaryMessage", "Ping", "Pong", "CloseReceived"]


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message (fragments joined, UTF-8 validated and decoded)."""

    data: str


@dataclass(frozen=True, slots=True)
class BinaryMessage:
    """A complete binary message (fragments joined, inflated if compressed)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A Ping frame; the protocol has already queued the Pong (RFC 6455 5.5.2)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """A Pong frame, solicited or not (RFC 6455 5.5.3)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer's Close frame: ``code`` is 1005 when it carried no code
    (RFC 6455 7.1.5); ``reason`` is the decoded UTF-8 reason."""

    code: int
    reason: str


Event = TextMessage | BinaryMessage | Ping | Pong | CloseReceived
