"""Errors of the WebSocket core (RFC 6455).

This module owns the exception types raised by the sans-I/O core
(``frames.py``, ``protocol.py``, ``deflate.py``, ``handshake.py``). It imports
only the standard library.

Hierarchy::

    WebSocketError(Exception)
    └── ProtocolError          carries the close code it must produce
                               (1002 protocol, 1007 bad data, 1008 policy,
                               1009 too big, ...)

A ``ProtocolError`` is raised where the problem is found and caught once, in
``ServerProtocol.receive_data``, which turns it into ``fail(code, reason)``.
"""

from __future__ import annotations

__all__ = ["WebSocketError", "ProtocolError"]


class WebSocketError(Exception):
    """Base class of every error raised by ``kitura.websocket``."""


class ProtocolError(WebSocketError):
    """The peer broke RFC 6455 (or a configured limit).

    ``code`` is the close status code the connection must be failed with
    (RFC 6455 section 7.4.1), ``reason`` a short text for the close frame.
    """

    code: int
    reason: str

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code} {self.reason}" if self.reason else str(self.code)
