"""RouterRequest: the request as the Router's handlers see it (Kitura's RouterRequest).

Wraps a kitura.net ``ServerRequest``. The body is read from the server request
once and kept, so ``read_string()``, ``read(as_=Model)`` and BodyParser can all
read it, in any order and more than once.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import SplitResult, urlsplit

from .codec import decode_body, decode_query
from .content_type import ContentType
from .cookies import Cookie, parse_cookies
from .element import METHODS_BY_RAW_VALUE, RouterMethod
from .headers import Headers
from .lazy import PerInstance
from .query import parse_query, parse_query_multi

if TYPE_CHECKING:
    from .body_parser import ParsedBody

__all__ = ["RouterRequest", "HTTPVersion", "parse_query", "parse_query_multi"]

T = TypeVar("T")


class HTTPVersion(NamedTuple):
    major: int
    minor: int

    def __str__(self) -> str:
        return f"HTTP/{self.major}.{self.minor}"


_UNKNOWN_METHOD = RouterMethod.UNKNOWN   # bound once: reading an Enum class attribute costs a lookup through the metaclass
_DOMAIN = re.compile(r"([a-z0-9][a-z0-9\-]{1,63}\.[a-z.]{2,6})$", re.IGNORECASE)


class RouterRequest:
    """The incoming request: parameters, query, headers, cookies, body, content negotiation."""

    def __init__(self, server_request: Any) -> None:
        self.server_request = server_request
        self.method: RouterMethod = METHODS_BY_RAW_VALUE.get(server_request.method, _UNKNOWN_METHOD)
        raw = server_request.url
        if raw.__class__ is bytes or isinstance(raw, (bytes, bytearray)):
            try:
                raw = raw.decode()      # valid UTF-8 (the usual): the same text, decoded faster
            except UnicodeDecodeError:
                raw = raw.decode("utf-8", "surrogateescape")
        self.url: str = raw
        """The request target as sent: path and query (deprecated in Kitura; see ``url_url``)."""
        if "?" in raw:
            path, _, query = raw.partition("?")
        else:
            path, query = raw, ""
        if path[:1] != "/":
            # absolute-form ("GET http://host/p") or "*": route on the path part
            path = urlsplit(raw).path or "/"
        #: The path being routed (``path``): while a mounted sub-router runs, the walk
        #: (walker.py) sets it to the part after the mount path, then puts it back.
        self.routed_path: str = path
        self._query: str = query
        self.parameters: dict[str, str] = {}
        # The other attributes start as the class-level defaults below (set per request
        # only when they change: fewer stores on the per-request path), or are made on
        # their first use.

    user_info: "dict[str, Any]" = PerInstance(lambda self: {},  # type: ignore[assignment]
                                              "Anything a handler keeps for the next ones.")
    handled_named_parameters: "set[str]" = PerInstance(  # type: ignore[assignment]
        lambda self: set(), "The parameters whose ``parameter()`` handlers ran (the walk keeps it).")

    matched_path: str = ""
    route: str | None = None
    allow_partial_match: bool = True
    body: "ParsedBody | None" = None
    has_body_parser_been_used: bool = False
    _headers: "Headers | None" = None
    _body: bytes | None = None
    _read_pos: int = 0
    _query_parameters: dict[str, str] | None = None
    _query_multi: dict[str, list[str]] | None = None
    _cookies: "dict[str, Cookie] | None" = None

    def __repr__(self) -> str:
        return f"<RouterRequest {self.method} {self.url}>"

    # -- URL ---------------------------------------------------------------
    @property
    def url_url(self) -> SplitResult:
        """The full URL (scheme, host, path, query) as a ``urllib.parse.SplitResult``."""
        return self.server_request.url_url

    @property
    def original_url(self) -> str:
        """The full URL as a string (Kitura's ``originalURL``)."""
        return self.url_url.geturl()

    @property
    def path(self) -> str:
        """The raw path being routed (percent-encoding kept; relative to a sub-router's mount path)."""
        return self.routed_path

    @property
    def hostname(self) -> str:
        return self.url_url.hostname or ""

    @property
    def port(self) -> int:
        url = self.url_url
        try:
            port = url.port
        except ValueError:
            port = None
        return port if port is not None else (443 if url.scheme == "https" else 80)

    @property
    def domain(self) -> str:
        m = _DOMAIN.search(self.hostname)
        return m.group(1) if m else self.hostname

    @property
    def subdomains(self) -> list[str]:
        host, domain = self.hostname, self.domain
        rest = host[: len(host) - len(domain)] if domain and host.endswith(domain) else ""
        return [s for s in rest.split(".") if s]

    @property
    def remote_address(self) -> str:
        return self.server_request.remote_address

    @property
    def http_version(self) -> HTTPVersion:
        sr = self.server_request
        return HTTPVersion(getattr(sr, "http_version_major", 1) or 1, getattr(sr, "http_version_minor", 1) or 0)

    # -- headers, cookies, query -------------------------------------------
    @property
    def headers(self) -> Headers:
        h = self._headers
        if h is None:
            h = self._headers = Headers(self.server_request.headers)
        return h

    @property
    def cookies(self) -> dict[str, Cookie]:
        if self._cookies is None:
            self._cookies = parse_cookies(self.server_request.headers["cookie"])
        return self._cookies

    @property
    def query_parameters(self) -> dict[str, str]:
        """Query values, ``+`` and percent-escapes decoded; a repeated key's values joined by ``,``."""
        if self._query_parameters is None:
            self._query_parameters = parse_query(self._query)
        return self._query_parameters

    @property
    def query_parameters_multi_values(self) -> dict[str, list[str]]:
        if self._query_multi is None:
            self._query_multi = parse_query_multi(self._query)
        return self._query_multi

    def get_query_parameters(self, as_: type[T]) -> T | None:
        """Decode the query into a dataclass model; None when it does not fit."""
        try:
            return decode_query(as_, self.query_parameters_multi_values)
        except Exception:
            return None

    # -- body --------------------------------------------------------------
    def body_bytes(self) -> bytes:
        """The whole request body (read once from the connection, then kept)."""
        body = self._body
        if body is None:
            buf = bytearray()
            reader = getattr(self.server_request, "read_all_data", None)
            if reader is not None:
                reader(buf)
            else:  # pragma: no cover - a minimal ServerRequest
                while self.server_request.read(buf):
                    pass
            body = self._body = bytes(buf)
        return body

    def read(self, into: bytearray | None = None, *, as_: type[T] | None = None) -> Any:
        """``read(into=buf)`` appends the body and returns the byte count (0 once at the end,
        after which the next call starts again); ``read(as_=Model)`` decodes the body
        (JSON, or URL-encoded form) into a dataclass model."""
        if as_ is not None:
            return decode_body(as_, self.body_bytes(), self.headers["Content-Type"])
        if into is None:
            raise TypeError("read() needs into=bytearray or as_=Model")
        body = self.body_bytes()
        chunk = body[self._read_pos:]
        if not chunk:
            self._read_pos = 0
            return 0
        into += chunk
        self._read_pos = len(body)
        return len(chunk)

    def read_string(self) -> str | None:
        """The body as text (UTF-8); None when there is no body. Can be called again."""
        body = self.body_bytes()
        if not body:
            return None
        return body.decode("utf-8", "replace")

    # -- content negotiation -----------------------------------------------
    def accepts(self, header: str = "Accept", types: list[str] | str | None = None, *,
                type: str | None = None) -> str | None:
        """The best of ``types`` for the Accept (or Accept-*) header, or None.

        Types may be media types (``"text/html"``) or extensions (``"json"``);
        the best one is returned as given.
        """
        if types is None:
            types = [type] if type is not None else []
        elif isinstance(types, str):
            types = [types]
        value = self.headers[header]
        if value is None:
            return None
        match_all = "*/*" if header.lower() == "accept" else "*"
        return _best_accept([v for v in value.split(",")], list(types), match_all)


def _parse_media_range(raw: str) -> tuple[str, float, str]:
    parts = raw.strip().split(";")
    mtype = parts[0].strip()
    q, q_raw = 1.0, "1.0"
    last = parts[-1].strip()
    name, sep, val = last.partition("=")
    if sep and name.strip() == "q":
        try:
            q, q_raw = float(val), val.strip()
        except ValueError:
            pass
    return mtype, q, q_raw


def _best_accept(header_values: list[str], types: list[str], match_all: str) -> str | None:
    # Kitura's MimeTypeAcceptor: exact match beats type/* beats */*; then q; then header order.
    matches: dict[str, tuple[int, float, str, int]] = {}
    ct = ContentType.shared_instance
    for order, raw in enumerate(header_values):
        htype, q, q_raw = _parse_media_range(raw)
        if not htype or q <= 0.0:
            continue
        for t in types:
            mime = ct.get_content_type(t) or t
            if htype == mime:
                matches[t] = (1, q, q_raw, order)
            elif htype == match_all:
                if t not in matches:
                    matches[t] = (3, q, q_raw, order)
            elif htype.endswith("/*") and mime.startswith(htype[:-1]):
                cur = matches.get(t)
                if cur is None or cur[0] > 2:
                    matches[t] = (2, q, q_raw, order)
    if not matches:
        return None
    return min(matches.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[1][3]))[0]
