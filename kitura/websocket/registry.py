"""``WebSocket.register`` / ``unregister`` and the upgrade factory that serves them.

Importing ``kitura.websocket`` registers ``WebSocketUpgradeFactory`` with KituraNet's
``ConnectionUpgrader`` (as Kitura-WebSocket-NIO does), so every ``HTTPServer`` of the
process upgrades requests for registered paths, on the same port as its delegate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Union

from ..net.upgrade import ConnectionUpgrader, UpgradeHandover, UpgradeRejection
from .connection import WebSocketConnection
from .deflate import DeflateSettings, negotiate
from .handshake import HandshakeError, build_response, check_origin, check_request, choose_subprotocol, \
    handshake_fields, header_values, no_service_body, plain_handshake
from .protocol import DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_MESSAGE_SIZE, ServerProtocol
from .service import WebSocketService

__all__ = ["WebSocket", "WebSocketUpgradeFactory", "ServiceEntry"]

_log = logging.getLogger("kitura.websocket")


@dataclass(eq=False)
class ServiceEntry:
    """A registered service and its per-service settings (see ``WebSocket.register``)."""

    service: WebSocketService
    path: str
    max_message_size: Optional[int] = DEFAULT_MAX_MESSAGE_SIZE
    max_fragments: Optional[int] = DEFAULT_MAX_FRAGMENTS
    compression: DeflateSettings = field(default_factory=DeflateSettings)
    subprotocols: Sequence[str] = ()
    allowed_origins: Optional[Sequence[str]] = None
    write_limit: int = 64 * 1024
    max_send_buffer: int = 16 * 1024 * 1024
    close_timeout: float = 5.0
    connections: set[WebSocketConnection] = field(default_factory=set)


def _normalize(path: str) -> str:
    """``"chat"``, ``"/chat"`` and ``"/chat/"`` are one path; a query string is not part of it."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = "/" + path.strip("/")
    return path


class WebSocket:
    """Kitura's ``WebSocket`` facade: the process-wide registry of services by path."""

    _services: dict[str, ServiceEntry] = {}

    @classmethod
    def register(
        cls,
        service: WebSocketService,
        on_path: str,
        *,
        max_message_size: Optional[int] = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: Optional[int] = DEFAULT_MAX_FRAGMENTS,
        compression: Union[bool, DeflateSettings] = True,
        subprotocols: Iterable[str] = (),
        allowed_origins: Optional[Iterable[str]] = None,
        write_limit: int = 64 * 1024,
        max_send_buffer: int = 16 * 1024 * 1024,
        close_timeout: float = 5.0,
    ) -> None:
        """Serve ``service`` on ``on_path`` of every HTTP server of the process.

        - ``max_message_size``: largest message in bytes (after inflating), 16 MiB by
          default (Kitura's frame limit); past it the peer gets close 1009. ``None``: no limit.
        - ``max_fragments``: most frames one message may be cut into (close 1008 past it).
        - ``compression``: permessage-deflate (RFC 7692): True (default: accept what the
          client offers), False (never), or a ``DeflateSettings`` for the details.
        - ``subprotocols``: the ``Sec-WebSocket-Protocol`` values the service speaks, in
          order of preference; the first one the client offers is chosen (``connection.subprotocol``).
          Left empty, the first protocol the client offers is accepted, as Kitura does.
        - ``allowed_origins``: when given, an upgrade whose ``Origin`` is not in the list
          gets 403: the defence against cross-site WebSocket hijacking ("*" allows any).
        - ``write_limit``: bytes waiting to be sent above which the connection stops reading
          and ``asend`` waits; ``max_send_buffer``: above it a plain ``send`` closes with 1008.
        - ``close_timeout``: seconds the peer has to answer our Close before TCP is dropped.
        """
        if not isinstance(service, WebSocketService) and not callable(getattr(service, "received_text", None)):
            raise TypeError("WebSocket.register(service=...) takes a WebSocketService")
        if compression is True:
            settings = DeflateSettings()
        elif compression is False:
            settings = DeflateSettings(enabled=False)
        else:
            settings = compression
        path = _normalize(on_path)
        cls._services[path] = ServiceEntry(
            service=service, path=path, max_message_size=max_message_size, max_fragments=max_fragments,
            compression=settings, subprotocols=tuple(subprotocols),
            allowed_origins=None if allowed_origins is None else tuple(allowed_origins),
            write_limit=write_limit, max_send_buffer=max_send_buffer, close_timeout=close_timeout,
        )
        ConnectionUpgrader.register(_factory)

    @classmethod
    def unregister(cls, path: str) -> None:
        """Stop serving the service on ``path``; open connections stay open."""
        cls._services.pop(_normalize(path), None)

    @classmethod
    def service(cls, path: str) -> Optional[WebSocketService]:
        entry = cls._services.get(_normalize(path))
        return None if entry is None else entry.service

    @classmethod
    def connections(cls, path: str) -> list[WebSocketConnection]:
        """The open connections of the service on ``path``."""
        entry = cls._services.get(_normalize(path))
        return [] if entry is None else list(entry.connections)


class WebSocketUpgradeFactory:
    """Kitura's ``WSConnectionUpgradeFactory``: checks the handshake and takes the connection."""

    name = "websocket"

    def upgrade(self, handover: UpgradeHandover) -> Optional[UpgradeRejection]:
        request = handover.request
        pairs = handover.header_pairs
        # A plain handshake (one key, version 13, ...) is checked, and its 101 made, in one
        # call over the raw pairs (C, or its Python twin); any other takes the general path.
        plain = plain_handshake(pairs) if pairs is not None and request.method == "GET" else None
        if plain is not None:
            key, head, offered_protocol, offer, origin = plain
            headers = None
        else:
            # The few fields read here, in one pass over the raw pairs when the server has them.
            headers = request.headers if pairs is None else handshake_fields(pairs)
            try:
                key = check_request(headers, request.method)
            except HandshakeError as err:
                return UpgradeRejection(err.status, err.headers, err.body.encode("utf-8"))
            head = None
        path = request.url.decode("latin-1")
        if path.startswith(("http://", "https://")):
            path = request.url_url.path
        services = WebSocket._services
        # The keys are normalized and _normalize is idempotent: a path equal to a key is its own form.
        entry = services.get(path)
        if entry is None:
            entry = services.get(_normalize(path))
        if entry is None:
            return UpgradeRejection(400, [], no_service_body(_normalize(path)).encode("utf-8"))
        if entry.allowed_origins is not None:
            if headers is not None:
                origins = headers["Origin"] if "Origin" in headers else None
                origin = origins[0] if origins else None
            if not check_origin(origin, entry.allowed_origins):
                _log.info("Rejected a WebSocket upgrade from origin %r on %s", origin, entry.path)
                return UpgradeRejection(403, [], b"Origin not allowed")
        if headers is not None:
            offered = header_values(headers, "Sec-WebSocket-Protocol")
        else:
            offered = [] if offered_protocol is None else \
                header_values({"Sec-WebSocket-Protocol": [offered_protocol]}, "Sec-WebSocket-Protocol")
        if entry.subprotocols:
            subprotocol = choose_subprotocol(offered, entry.subprotocols)
        else:
            # Kitura answers with the first protocol the client offers (the tutorial's client
            # offers "chat" and refuses a 101 without it).
            subprotocol = offered[0] if offered else None
        extensions, deflate = None, None
        if entry.compression.enabled:
            if headers is not None:
                offers = headers["Sec-WebSocket-Extensions"] if "Sec-WebSocket-Extensions" in headers else None
            else:
                offers = None if offer is None else [offer]
            if offers:  # blank values are no offers: negotiate declines them too
                extensions, deflate = negotiate(offers, entry.compression)
        protocol = ServerProtocol(max_message_size=entry.max_message_size, max_fragments=entry.max_fragments,
                                  deflate=deflate, logger=_log)
        connection = WebSocketConnection(entry, handover, protocol, subprotocol)
        if head is None or extensions or subprotocol:
            head = build_response(key, extensions=extensions, subprotocol=subprotocol)
        handover.take(connection, head)
        connection.start()
        return None


_factory = WebSocketUpgradeFactory()
ConnectionUpgrader.register(_factory)
