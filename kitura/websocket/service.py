"""``WebSocketService``: the callbacks a WebSocket service implements (Kitura's protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from .close_codes import WebSocketCloseReasonCode
    from .connection import WebSocketConnection

__all__ = ["WebSocketService"]


class WebSocketService:
    """Subclass it and override what you need; every callback defaults to doing nothing.

    Swift's two ``received(message:from:)`` overloads are ``received_text`` and
    ``received_binary``. Each callback may be ``async def``. Callbacks run on the event
    loop thread, in order for each connection (an ``async`` callback that awaits holds
    back the next event of its connection until it returns), so a service's own dict of
    connections needs no lock. ``disconnected`` is called exactly once per connection.

    ``connection_timeout``: seconds; when set, a peer silent for half of it is pinged and,
    if nothing comes back in the other half, dropped (Kitura's ``connectionTimeout``).
    """

    connection_timeout: Optional[float] = None

    def connected(self, connection: "WebSocketConnection") -> Any:
        pass

    def disconnected(self, connection: "WebSocketConnection", reason: "WebSocketCloseReasonCode") -> Any:
        pass

    def received_text(self, message: str, from_: "WebSocketConnection") -> Any:
        pass

    def received_binary(self, message: bytes, from_: "WebSocketConnection") -> Any:
        pass
