"""``ServerOptions`` and ``KeepAliveState``: the server's policies, as Kitura names them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ..log import Log
from .status import HTTPStatusCode

__all__ = ["ServerOptions", "KeepAliveState", "ResponseGenerator"]

#: ``(limit, client address) -> (status, body)``; returning None closes without an answer.
ResponseGenerator = Callable[[int, str], Optional[tuple[HTTPStatusCode, str]]]


def default_request_size_response_generator(limit: int, client: str) -> tuple[HTTPStatusCode, str] | None:
    Log.debug(f"Request from {client} exceeds size limit of {limit} bytes. Connection will be closed.")
    return (HTTPStatusCode.REQUEST_TOO_LONG, "")


def default_connection_response_generator(limit: int, client: str) -> tuple[HTTPStatusCode, str] | None:
    Log.debug(f"Rejected connection from {client}: Maximum connection limit of {limit} reached.")
    return (HTTPStatusCode.SERVICE_UNAVAILABLE, "")


@dataclass
class ServerOptions:
    """Kitura's ``ServerOptions``, plus the timeouts and header limits Kitura lacks.

    - ``request_size_limit``: largest request body in bytes (None: no limit); past it the
      ``request_size_response_generator`` answer (413 by default) is sent and the connection closed.
    - ``connection_limit``: most connections open at once (None: no limit); a connection over
      it gets the ``connection_response_generator`` answer (503 by default) and is closed.
    - ``header_timeout``: seconds a client has to send a request's head (slowloris defence); 408.
    - ``body_timeout``: seconds a client may send nothing while a request body is expected
      (after a Content-Length, mid-chunk, before the final chunk); 408, then close.
    - ``keep_alive_timeout``: seconds an idle keep-alive connection is kept open.
    - ``write_timeout``: seconds a thread streaming a response with ``write()`` (a plain
      ``def`` handler) waits for a client that reads nothing before the connection is
      dropped and ``write()`` raises ``ConnectionError`` (None: wait as long as it takes).
    - ``max_request_line``, ``max_header_size``, ``max_header_count``: 414 and 431 past them.
    - ``shutdown_timeout``: seconds a graceful stop (SIGTERM, Ctrl-C, ``stop(graceful=True)``)
      lets in-flight requests finish and WebSocket close handshakes complete before the
      connections still open are closed.
    """

    request_size_limit: Optional[int] = 100 * 1024 * 1024
    connection_limit: Optional[int] = 10_000
    request_size_response_generator: ResponseGenerator = field(default=default_request_size_response_generator)
    connection_response_generator: ResponseGenerator = field(default=default_connection_response_generator)
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 60.0
    write_timeout: Optional[float] = 60.0
    max_request_line: int = 8 * 1024
    max_header_size: int = 16 * 1024
    max_header_count: int = 100
    shutdown_timeout: float = 10.0

    default_request_size_limit = 100 * 1024 * 1024
    default_connection_limit = 10_000


class KeepAliveState:
    """Kitura's ``KeepAliveState``: ``UNLIMITED``, ``DISABLED`` or ``limited(max_requests=n)``."""

    UNLIMITED: "KeepAliveState"
    DISABLED: "KeepAliveState"

    __slots__ = ("max_requests", "_name")

    def __init__(self, max_requests: int | None, name: str) -> None:
        self.max_requests = max_requests
        self._name = name

    @classmethod
    def limited(cls, max_requests: int) -> "KeepAliveState":
        if max_requests < 0:
            raise ValueError("max_requests must be >= 0")
        return cls(max_requests, f"limited(max_requests={max_requests})")

    def keep_alive(self) -> bool:
        return self.max_requests is None or self.max_requests > 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeepAliveState) and (self.max_requests, self._name) == (
            other.max_requests,
            other._name,
        )

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"KeepAliveState.{self._name}"


KeepAliveState.UNLIMITED = KeepAliveState(None, "UNLIMITED")
KeepAliveState.DISABLED = KeepAliveState(0, "DISABLED")
