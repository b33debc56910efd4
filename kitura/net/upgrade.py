"""Kitura's ``ConnectionUpgrader``: a registry of protocol upgrade factories.

A factory registered under a protocol token (``"websocket"``) is asked about every
request whose ``Upgrade`` header names that token (with ``Connection: upgrade``).
It either rejects the request with an HTTP answer (``UpgradeRejection``) or takes
the connection over through ``UpgradeHandover.take``. Requests that name no
registered token go to the server's delegate as ordinary requests, so the HTTP
layer never imports the layers that plug in here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, runtime_checkable

from .loop import call_on_loop

if TYPE_CHECKING:
    from .request import ServerRequest

__all__ = [
    "ConnectionUpgrader", "ConnectionUpgradeFactory", "UpgradeHandover", "UpgradeRejection",
    "UpgradedProtocol", "upgrade_tokens",
]


@dataclass
class UpgradeRejection:
    """An HTTP answer to an upgrade request that the factory refuses; the connection then closes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@runtime_checkable
class UpgradedProtocol(Protocol):
    """What a factory hands the transport to: an asyncio Protocol that can be shut down."""

    def data_received(self, data: bytes) -> None: ...

    def connection_lost(self, exc: Optional[Exception]) -> None: ...

    def shutdown(self) -> None:
        """The server stops: close gracefully (for WebSocket: 1001 Going Away)."""


class ConnectionUpgradeFactory(Protocol):
    """Kitura's ``ConnectionUpgradeFactory`` (``ProtocolHandlerFactory``)."""

    name: str

    def upgrade(self, handover: "UpgradeHandover") -> Optional[UpgradeRejection]:
        """Take the connection (``handover.take(...)``) and return None, or return a rejection."""


class UpgradeHandover:
    """Everything a factory needs to take over a connection, and nothing more."""

    __slots__ = ("request", "transport", "leftover", "loop", "loop_thread", "_release", "_register", "taken",
                 "header_pairs")

    def __init__(self, request: "ServerRequest", transport: asyncio.Transport, leftover: bytes,
                 loop: asyncio.AbstractEventLoop, loop_thread: int,
                 register: Callable[[UpgradedProtocol], None], release: Callable[[], None],
                 header_pairs: Optional[list[tuple[bytes, bytes]]] = None) -> None:
        self.request = request
        #: The request's header fields as the parser saw them, ``(name, value)`` bytes in
        #: order, when the server has them at hand (else None: read ``request.headers``).
        #: A factory that reads a few fields finds them here without building the
        #: request's ``HeadersContainer``.
        self.header_pairs = header_pairs
        self.transport = transport
        self.leftover = leftover
        #: The loop the connection lives on, and the ident of its thread.
        self.loop = loop
        self.loop_thread = loop_thread
        self._register = register
        self._release = release
        self.taken = False

    def take(self, protocol: UpgradedProtocol, response_head: bytes) -> None:
        """Write the 101 head, switch the transport to ``protocol`` and feed it the leftover bytes.

        ``protocol.connection_made`` is not called (the transport is already connected);
        the protocol must call ``handover.release()`` once, when its connection is lost.
        """
        if self.taken:
            raise RuntimeError("this connection was already taken over")
        self.taken = True
        self.transport.write(response_head)
        self.transport.set_protocol(protocol)  # type: ignore[arg-type]
        register, self._register = self._register, None  # held no longer: no reference cycle
        register(protocol)
        if self.leftover:
            data, self.leftover = self.leftover, b""
            protocol.data_received(data)

    def on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` on the connection's loop: now when on its thread, else on
        its next turn (ignored once the loop is closed)."""
        call_on_loop(self.loop, self.loop_thread, fn, *args)

    def release(self) -> None:
        """Free the connection's slot in the server (call once, from connection_lost)."""
        release, self._release = self._release, None
        if release is not None:
            release()


def upgrade_tokens(header_pairs: list[tuple[bytes, bytes]]) -> str:
    """The ``Upgrade`` field's value from raw header pairs, repeated fields joined with
    ", " (as ``HeadersContainer`` merges them)."""
    found = None
    for name, value in header_pairs:
        if len(name) == 7 and name.lower() == b"upgrade":
            text = value.decode("latin-1")
            found = text if found is None else f"{found}, {text}"
    return found or ""


class ConnectionUpgrader:
    """The process-wide registry of upgrade factories, by lower-case protocol token."""

    _factories: dict[str, ConnectionUpgradeFactory] = {}
    #: factory_for's answers by Upgrade value (a client sends the same one each time);
    #: emptied whenever the registry changes.
    _by_value: dict[str, Optional[ConnectionUpgradeFactory]] = {}

    @classmethod
    def register(cls, factory: ConnectionUpgradeFactory) -> None:
        cls._factories[factory.name.lower()] = factory
        cls._by_value.clear()

    @classmethod
    def unregister(cls, name: str) -> None:
        cls._factories.pop(name.lower(), None)
        cls._by_value.clear()

    @classmethod
    def factory(cls, token: str) -> Optional[ConnectionUpgradeFactory]:
        return cls._factories.get(token.strip().lower())

    @classmethod
    def factory_for(cls, tokens: str) -> Optional[ConnectionUpgradeFactory]:
        """The factory of the first token of an ``Upgrade`` value (comma-separated
        ``protocol[/version]`` tokens) that has one, else None. Not Kitura API: the
        server's lookup for an upgrade request (answers cached by value)."""
        by_value = cls._by_value
        if tokens in by_value:
            return by_value[tokens]
        found = None
        for token in tokens.split(","):
            found = cls.factory(token.split("/")[0])
            if found is not None:
                break
        if len(by_value) < 64:  # a bound: the values are the clients' to choose
            by_value[tokens] = found
        return found

    @classmethod
    def clear(cls) -> None:
        cls._factories.clear()
        cls._by_value.clear()
