"""Kitura-WebSocket for Python: RFC 6455 and RFC 7692 on the same port as the HTTP server.

The sans-I/O core (``frames``, ``mask``, ``protocol``, ``handshake``, ``deflate``,
``close_codes``, ``errors``) imports only the standard library; the glue
(``connection``, ``registry``, ``service``) puts it on asyncio and registers the
upgrade factory with ``kitura.net``. See docs/websocket.md.
"""

from .close_codes import WebSocketCloseReasonCode
from .connection import WebSocketConnection
from .deflate import DeflateSettings
from .errors import ProtocolError, WebSocketError
from .pubsub import InProcessPubSub, PubSubBackend, RedisPubSub
from .registry import WebSocket
from .rooms import Room
from .service import WebSocketService

__all__ = [
    "WebSocket", "WebSocketService", "WebSocketConnection", "WebSocketCloseReasonCode",
    "DeflateSettings", "WebSocketError", "ProtocolError",
    "Room", "PubSubBackend", "InProcessPubSub", "RedisPubSub",
]
