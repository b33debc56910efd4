"""Keep-alive connections for the HTTP client, on the standard library's ``http.client``.

``http.client`` does the wire work (request heads, chunked and Content-Length bodies,
close-delimited bodies, HEAD); this module only keeps idle connections per origin so
that the next request to the same server reuses one, and opens TCP, TLS and Unix
socket connections. An idle connection the server has closed meanwhile is noticed
before reuse (its socket reads as ready), and an idempotent request (GET, HEAD,
OPTIONS, PUT, DELETE, TRACE) that finds a reused connection closed before any
answer is retried once on a fresh one; a POST or PATCH is not sent twice.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from typing import Hashable, Optional

__all__ = ["ConnectionPool", "Origin", "POOL"]

#: Idle connections kept per origin; more are closed when given back.
MAX_IDLE_PER_ORIGIN = 8


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix domain socket; ``host`` is only what goes in the Host header."""

    def __init__(self, path: str, host: str, timeout: float | None) -> None:
        super().__init__(host, timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _UnixHTTPSConnection(_UnixHTTPConnection):
    """HTTPS over a Unix domain socket (Kitura's tests run TLS on both kinds of listener)."""

    def __init__(self, path: str, host: str, timeout: float | None, context: ssl.SSLContext) -> None:
        super().__init__(path, host, timeout)
        self._tls_context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._tls_context.wrap_socket(self.sock, server_hostname=self.host)


class Origin(tuple):
    """Where a connection goes: (scheme, host, port, unix socket path, TLS context)."""

    __slots__ = ()

    def __new__(cls, scheme: str, host: str, port: int, unix_path: Optional[str],
                context: Optional[ssl.SSLContext]) -> "Origin":
        return super().__new__(cls, (scheme, host, port, unix_path, context))

    def open(self, timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port, unix_path, context = self
        if unix_path is not None:
            if scheme == "https":
                return _UnixHTTPSConnection(unix_path, host, timeout, context)
            return _UnixHTTPConnection(unix_path, host, timeout)
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=timeout)


def _is_dead(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that reads as ready has been closed (or sent junk)."""
    sock = conn.sock
    if sock is None:
        return True
    poller = select.poll()  # not select.select: it cannot watch an fd above 1023
    try:
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))  # readable, hung up or in error
    except (OSError, ValueError):
        return True


class ConnectionPool:
    """Idle keep-alive connections by origin; safe to use from any thread."""

    def __init__(self) -> None:
        self._idle: dict[Hashable, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, origin: Origin, timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to ``origin`` and whether it is a reused one."""
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None:
                return origin.open(timeout), False
            if _is_dead(conn):
                conn.close()
                continue
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            return conn, True

    def give_back(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def idle_count(self, origin: Optional[Origin] = None) -> int:
        with self._lock:
            if origin is not None:
                return len(self._idle.get(origin, ()))
            return sum(len(v) for v in self._idle.values())

    def clear(self) -> None:
        """Close every idle connection."""
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


#: The process-wide pool every ``ClientRequest`` uses.
POOL = ConnectionPool()
