"""``ServerRequest``: one parsed HTTP request, with its whole body buffered."""

from __future__ import annotations

from typing import Optional
from urllib.parse import SplitResult, urlsplit

from .headers import HeadersContainer
from .http11 import NO_EXTENSIONS

__all__ = ["ServerRequest", "RequestCore", "PyRequestCore", "RequestMethods"]


class PyRequestCore:
    """The fields of a ``ServerRequest``, in Python: the reference for
    ``_speedups.RequestCore`` (kitura/net/_request.c), used without the extension or
    with ``KITURA_NO_EXTENSIONS=1``. Not Kitura API: use ``ServerRequest``."""

    __slots__ = (
        "method", "url", "remote_address", "http_version_major", "http_version_minor",
        "_raw_headers", "_headers", "_body", "_body_pos", "_scheme", "_url_url", "_local_port",
        "keep_alive", "wants_upgrade", "__weakref__",
    )

    def __init__(
        self,
        method: str,
        url: bytes,
        raw_headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
        remote_address: str = "",
        http_version: tuple[int, int] = (1, 1),
        scheme: str = "http",
        local_port: int | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.remote_address = remote_address
        self.http_version_major, self.http_version_minor = http_version
        self._raw_headers = raw_headers
        self._headers: HeadersContainer | None = None
        self._body = body
        self._body_pos = 0
        self._scheme = scheme
        self._url_url: SplitResult | None = None
        self._local_port = local_port
        self.keep_alive = True
        #: Added member: the request asks to switch protocols (``Connection: upgrade``).
        self.wants_upgrade = False


RequestCore: type = PyRequestCore
if not NO_EXTENSIONS:
    try:
        from ._speedups import RequestCore  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass


class RequestMethods:
    """What a ``ServerRequest`` adds to its fields (C or Python), in Python on either.
    Not Kitura API: use ``ServerRequest``."""

    __slots__ = ()

    @property
    def headers(self) -> HeadersContainer:
        headers = self._headers
        if headers is None:
            headers = self._headers = HeadersContainer.from_raw(self._raw_headers)
            self._raw_headers = []  # the container owns them now
        return headers

    @property
    def unread_header_pairs(self) -> list[tuple[bytes, bytes]] | None:
        """The header fields as parsed, (name, value) bytes, while no ``headers`` container
        was made of them; None after. Not Kitura API: the upgrade reads the handshake fields
        from them without building a container."""
        return self._raw_headers or None

    @property
    def url_url(self) -> SplitResult:
        """The full URL: scheme from the connection, host from ``Host`` (or the local address)."""
        result = self._url_url
        if result is None:
            target = self.url.decode("latin-1")
            if target.startswith(("http://", "https://")):  # absolute-form (RFC 9112 3.2.2)
                result = urlsplit(target)
            else:
                host = self.headers.first("Host")
                if not host:
                    host = "localhost" if self._local_port is None else f"localhost:{self._local_port}"
                result = urlsplit(f"{self._scheme}://{host}{target}")
            self._url_url = result
        return result

    # --- the body ----------------------------------------------------------
    def read(self, into: bytearray) -> int:
        """Append the unread body to ``into``; the count, 0 when nothing is left."""
        return self.read_all_data(into)

    def read_all_data(self, into: bytearray) -> int:
        body, pos = self._body, self._body_pos
        count = len(body) - pos
        if count:
            into += memoryview(body)[pos:] if pos else body
            self._body_pos = len(body)
        return count

    def read_string(self) -> Optional[str]:
        """The unread body as UTF-8 text, or None once it is used up."""
        body, pos = self._body, self._body_pos
        if pos >= len(body):
            return None
        self._body_pos = len(body)
        return bytes(body[pos:]).decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"<ServerRequest {self.method} {self.url!r} from {self.remote_address}>"


class ServerRequest(RequestMethods, RequestCore):  # type: ignore[valid-type,misc]
    """Kitura's ``ServerRequest`` / ``HTTPServerRequest``.

    - ``method`` (``"GET"``), ``url`` (bytes: path and query as sent), ``url_url``
      (a ``urllib.parse.SplitResult`` of the full URL: scheme, host, path, query),
      ``headers`` (``HeadersContainer``), ``remote_address``, ``http_version_major/minor``.
    - The body: ``read(into=bytearray)`` and ``read_all_data(into=bytearray)`` append what
      is left to ``into`` and return the count (0 at the end); ``read_string()`` returns what
      is left as text, or None once the body is used up.
    """

    __slots__ = ()
