"""``ClientRequest``: KituraNet's HTTP client, on the standard library's ``http.client``.

As in KituraNet, ``end()`` sends the request, reads the whole response and runs the
callback before it returns, so plain ``def`` code and tests read top to bottom. In an
``async def`` handler, ``await request.end_async()`` does the same on a worker thread,
so the event loop keeps serving. Failures (refused connection, TLS, timeout) give the
callback ``None``, as Kitura's do; the exception, with a message saying what went wrong,
is in ``request.error`` and is logged. Responses 301, 302, 303, 307 and 308 are followed
up to ``max_redirects`` times. Connections are kept alive and reused (``client_pool``).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import inspect
import logging
import ssl
from typing import Any, Callable, Iterable, Mapping, Optional, Union
from urllib.parse import quote, urljoin, urlsplit

from .client_options import ClientRequestOption, ClientRequestOptions
from .client_pool import POOL, Origin
from .client_response import ClientResponse

__all__ = ["ClientRequest", "ClientRequestError", "ClientTimeoutError", "Callback"]

_log = logging.getLogger("kitura.net.client")

Callback = Callable[[Optional[ClientResponse]], Any]

#: Default seconds to wait for a connection and for each read (Kitura waits forever).
DEFAULT_TIMEOUT = 60.0
#: Default bound on a response body, which is held whole in memory (Kitura has none):
#: the server's own ``request_size_limit`` default.
DEFAULT_MAX_RESPONSE_SIZE = 100 * 1024 * 1024
_READ_CHUNK = 256 * 1024

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Foundation's .urlQueryAllowed: what Kitura leaves unencoded in a URL it percent-encodes.
_URL_SAFE = "!$&'()*+,-./:;=?@_~[]"
_CLOSED = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
# RFC 9110 9.2.2: a request with one of these methods may be sent again automatically.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_URL_PARTS = frozenset({"schema", "hostname", "port", "path", "username", "password"})


class ClientRequestError(Exception):
    """Why a ``ClientRequest`` got no response; the callback got ``None``."""


class ClientTimeoutError(ClientRequestError, TimeoutError):
    """The server did not connect or answer within the request's ``timeout``."""


_contexts: dict[bool, ssl.SSLContext] = {}


def _default_context(verify: bool) -> ssl.SSLContext:
    ctx = _contexts.get(verify)
    if ctx is None:
        ctx = ssl.create_default_context()
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        _contexts[verify] = ctx
    return ctx


def _percent_encode(url: str) -> str:
    """Kitura's rule: a URL with a ``%`` in it is taken as already encoded."""
    return url if "%" in url else quote(url, safe=_URL_SAFE)


def _basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _authority(host: str, port: Optional[int] = None) -> str:
    """``host[:port]`` as written in a URL or a Host header (an IPv6 literal in brackets)."""
    name = f"[{host}]" if ":" in host else host
    return name if port is None else f"{name}:{port}"


def _has(headers: Mapping[str, str], name: str) -> bool:
    lower = name.lower()
    return any(key.lower() == lower for key in headers)


def _is_chunked(lines: Iterable[tuple[str, str]]) -> bool:
    return any(name.lower() == "transfer-encoding" and "chunked" in value.lower() for name, value in lines)


def _drop(headers: dict[str, str], *names: str) -> None:
    lowered = {n.lower() for n in names}
    for key in [k for k in headers if k.lower() in lowered]:
        del headers[key]


class ClientRequest:
    """One HTTP request: made by ``HTTP.request(url_or_options, callback)``, sent by ``end()``.

    Attributes as Kitura's: ``url``, ``method``, ``headers`` (a dict of str), ``user_name``,
    ``password``, ``max_redirects`` (10), ``close_connection``; additions: ``timeout``
    (seconds, default 60), ``ssl_context``, ``max_response_size`` (bytes of body, default
    100 MiB, None for no limit) and ``error`` (why the callback got None).
    """

    Options = ClientRequestOptions
    Callback = Callback

    def __init__(self, url: Optional[str] = None, callback: Optional[Callback] = None, *,
                 options: Optional[Iterable[ClientRequestOption]] = None,
                 unix_domain_socket_path: Optional[str] = None) -> None:
        self.callback = callback
        self.unix_domain_socket_path = unix_domain_socket_path
        self.headers: dict[str, str] = {}
        self.method = "get"
        self.user_name: Optional[str] = None
        self.password: Optional[str] = None
        self.max_redirects = 10
        self.close_connection = False
        self.timeout: Optional[float] = DEFAULT_TIMEOUT
        self.ssl_context: Optional[ssl.SSLContext] = None
        self.max_response_size: Optional[int] = DEFAULT_MAX_RESPONSE_SIZE
        self.disable_ssl_verification = False
        self.error: Optional[ClientRequestError] = None
        self._body: Optional[bytearray] = None
        self._scheme = "http"
        self.hostname: Optional[str] = None
        self.port: Optional[int] = None
        self.path = ""
        if url is not None:
            self._init_from_url(url)
        else:
            self._init_from_options(list(options or ()))

    # --- construction ----------------------------------------------------
    def _init_from_url(self, url: str) -> None:
        self.url = url
        try:
            parts = urlsplit(_percent_encode(url))
            port = parts.port
        except ValueError:
            return  # an unusable URL: end() reports it
        self._scheme = parts.scheme or "http"
        self.hostname = parts.hostname
        self.port = port
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.user_name = parts.username
        self.password = parts.password
        if self.user_name is not None and self.password is not None:
            self.headers["Authorization"] = _basic_auth(self.user_name, self.password)
        path = self.path if self.path.startswith("/") else "/" + self.path
        port_text = f":{port}" if port is not None else ""
        self.url = f"{self._scheme}://{self.hostname or 'unknown'}{port_text}{path}"

    def _init_from_options(self, options: list[ClientRequestOption]) -> None:
        schema, hostname, path, port_text = "http://", "localhost", "", ""
        for option in options:
            name, value = option.name, option.value
            if name == "schema":
                schema = value if "://" in value or not value else value + "://"
            elif name == "hostname":
                hostname = self.hostname = value
            elif name == "port":
                self.port = value
                port_text = f":{value}"
            elif name == "path":
                path = self.path = value if value.startswith("/") else "/" + value
            elif name == "username":
                self.user_name = value
            elif name == "password":
                self.password = value
            else:
                self.set(option)
        if self.hostname is None:
            self.hostname = hostname
        self._scheme = schema[:-3] if schema.endswith("://") else schema
        if self.user_name is not None and self.password is not None:
            self.headers["Authorization"] = _basic_auth(self.user_name, self.password)
        self.url = f"{schema}{hostname}{port_text}{path}"

    def set(self, option: ClientRequestOption) -> None:
        """Set an option that is not part of the URL (method, headers, max_redirects, ...)."""
        name, value = option.name, option.value
        if name in _URL_PARTS:
            raise ValueError(
                f"ClientRequest.set({option!r}): the URL ({', '.join(sorted(_URL_PARTS))}) is given when the "
                "request is made: HTTP.request(url) or HTTP.request([options])")
        if name == "method":
            self.method = value
        elif name == "headers":
            self.headers.update(value)
        elif name == "max_redirects":
            self.max_redirects = value
        elif name == "disable_ssl_verification":
            self.disable_ssl_verification = True
        elif name == "timeout":
            self.timeout = value
        elif name == "ssl_context":
            self.ssl_context = value
        elif name == "max_response_size":
            self.max_response_size = value
        elif name != "use_http2":
            raise ValueError(f"unknown ClientRequest option {option!r}")

    @classmethod
    def parse(cls, url: str) -> list[ClientRequestOption]:
        """The options that make up ``url`` (Kitura's ``ClientRequest.parse``)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return []
        options = []
        if parts.scheme:
            options.append(ClientRequestOptions.schema(parts.scheme + "://"))
        if parts.hostname:
            options.append(ClientRequestOptions.hostname(parts.hostname))
        options.append(ClientRequestOptions.path(parts.path + (f"?{parts.query}" if parts.query else "")))
        if port is not None:
            options.append(ClientRequestOptions.port(port))
        if parts.username is not None:
            options.append(ClientRequestOptions.username(parts.username))
        if parts.password is not None:
            options.append(ClientRequestOptions.password(parts.password))
        return options

    # --- body ----------------------------------------------------------------
    def write(self, from_: Union[str, bytes, bytearray, memoryview]) -> None:
        """Add to the body (sent by ``end()``); sets Content-Length, as Kitura does."""
        data = from_.encode("utf-8") if isinstance(from_, str) else bytes(from_)
        if self._body is None:
            self._body = bytearray()
        self._body += data
        if not _is_chunked(self.headers.items()):
            self.headers["Content-Length"] = str(len(self._body))

    # --- sending -------------------------------------------------------------
    def end(self, data: Union[str, bytes, None] = None, close: bool = False) -> None:
        """Send the request, read the response and run the callback, all before returning."""
        if data is not None:
            self.write(from_=data)
        self.close_connection = close
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            _log.warning("ClientRequest.end() blocks the event loop it is called on: "
                         "in an async def handler use `await request.end_async()`")
        response = self._perform()
        if self.callback is not None:
            self.callback(response)

    async def end_async(self, data: Union[str, bytes, None] = None, close: bool = False) -> ClientResponse:
        """``end()`` for ``async def`` code: the I/O runs on a worker thread, the callback on the loop.

        Returns the response; where ``end()`` would give the callback None it raises
        ``request.error`` (after the callback, if there is one, got None).
        """
        if data is not None:
            self.write(from_=data)
        self.close_connection = close
        response = await asyncio.to_thread(self._perform)
        if self.callback is not None:
            result = self.callback(response)
            if inspect.isawaitable(result):
                await result
        if response is None:
            assert self.error is not None
            raise self.error
        return response

    def _perform(self) -> Optional[ClientResponse]:
        self.error = None
        try:
            return self._exchange_following_redirects()
        except ClientRequestError as exc:
            self.error = exc
            _log.error("%s", exc)
            return None

    def _exchange_following_redirects(self) -> ClientResponse:
        if self.hostname is None and self.unix_domain_socket_path is None:
            raise ClientRequestError(f"ClientRequest: no host in URL {self.url!r}")
        scheme = self._scheme.lower()
        if scheme not in ("http", "https"):
            raise ClientRequestError(f"ClientRequest: unsupported scheme {scheme!r} in {self.url!r} (http or https)")
        host = self.hostname or "localhost"
        port = self.port or (443 if scheme == "https" else 80)
        target = _percent_encode(self.path or "/")
        method = self.method.upper()
        headers = dict(self.headers)
        body = bytes(self._body) if self._body is not None else None
        redirects = 0
        while True:
            response = self._exchange(scheme, host, port, method, target, headers, body)
            location = response.headers.first("Location")
            if response.status not in _REDIRECTS or location is None or redirects >= self.max_redirects:
                return response
            redirects += 1
            here = f"{scheme}://{_authority(host, port)}{target}"
            there = urlsplit(urljoin(here, location))
            if there.scheme not in ("http", "https") or not there.hostname:
                return response
            new_origin = (there.scheme, there.hostname, there.port or (443 if there.scheme == "https" else 80))
            if new_origin != (scheme, host, port):
                _drop(headers, "Authorization", "Cookie", "Host")  # credentials stay with their origin
                if there.hostname != host:
                    self.unix_domain_socket_path = None
            else:
                _drop(headers, "Host")
            scheme, host, port = new_origin
            target = there.path or "/"
            if there.query:
                target += "?" + there.query
            if response.status in (301, 302, 303) and method != "HEAD":
                method, body = "GET", None
                _drop(headers, "Content-Length", "Content-Type", "Transfer-Encoding")

    def _exchange(self, scheme: str, host: str, port: int, method: str, target: str,
                  headers: dict[str, str], body: Optional[bytes]) -> ClientResponse:
        context = None
        if scheme == "https":
            context = self.ssl_context or _default_context(verify=not self.disable_ssl_verification)
        origin = Origin(scheme, host, port, self.unix_domain_socket_path, context)
        lines = self._head_lines(scheme, host, port, method, headers, body)
        chunked = _is_chunked(lines)
        where = f"{method} {scheme}://{_authority(host, port)}{target}"
        if self.unix_domain_socket_path is not None:
            where += f" (Unix socket {self.unix_domain_socket_path})"
        for attempt in (1, 2):
            conn, reused = POOL.take(origin, self.timeout)
            answered = False
            try:
                body_cut = self._send(conn, method, target, lines, body, chunked)
                raw = conn.getresponse()
                answered = True
                data = self._read_body(raw, where)
            except ClientRequestError:
                conn.close()  # the rest of the body is not read: the connection cannot be reused
                raise
            except _CLOSED as exc:
                conn.close()
                if reused and attempt == 1 and not answered:
                    if method in _IDEMPOTENT:
                        continue  # the server closed a kept-alive connection as we reused it
                    raise ClientRequestError(
                        f"ClientRequest {where}: the server closed the reused keep-alive connection "
                        f"without an answer ({exc}); {method} is not idempotent, so it was not sent "
                        "again: the server may have processed it") from exc
                raise ClientRequestError(f"ClientRequest {where}: the connection was closed: {exc}") from exc
            except TimeoutError as exc:
                conn.close()
                raise ClientTimeoutError(
                    f"ClientRequest {where}: no answer within {self.timeout} s "
                    "(set a longer timeout with the timeout= option)") from exc
            except ssl.SSLCertVerificationError as exc:
                conn.close()
                raise ClientRequestError(
                    f"ClientRequest {where}: the server's certificate was refused: {exc.verify_message} "
                    "(pass ssl_context= to trust its CA, or disable_ssl_verification)") from exc
            except (OSError, http.client.HTTPException, ValueError) as exc:
                conn.close()
                raise ClientRequestError(f"ClientRequest {where} failed: {type(exc).__name__}: {exc}") from exc
            if self.close_connection or raw.will_close or body_cut:
                conn.close()
            else:
                POOL.give_back(origin, conn)
            return ClientResponse(raw.status, raw.getheaders(), data,
                                  http_version_major=raw.version // 10, http_version_minor=raw.version % 10)
        raise AssertionError("unreachable")

    def _read_body(self, raw: http.client.HTTPResponse, where: str) -> bytes:
        """The whole body, or ``ClientRequestError`` once it is past ``max_response_size``."""
        limit = self.max_response_size
        if limit is None:
            return raw.read()
        if raw.length is not None and not raw.chunked:  # Content-Length: known before reading
            if raw.length > limit:
                raise self._too_large(where, f"its Content-Length is {raw.length}")
            return raw.read()
        parts, size = [], 0
        while chunk := raw.read(min(_READ_CHUNK, limit - size + 1)):
            size += len(chunk)
            if size > limit:
                raise self._too_large(where, "more came")
            parts.append(chunk)
        return b"".join(parts)

    def _too_large(self, where: str, why: str) -> ClientRequestError:
        return ClientRequestError(
            f"ClientRequest {where}: the response body is larger than max_response_size "
            f"({self.max_response_size} bytes; {why}); pass a larger max_response_size= (None for no limit)")

    @staticmethod
    def _send(conn: http.client.HTTPConnection, method: str, target: str, lines: list[tuple[str, str]],
              body: Optional[bytes], chunked: bool) -> bool:
        """Write the request; True when the server closed while the body was going out.

        A server may answer before it has read the whole body and close (413 Payload Too
        Large, say): the answer is then read as usual instead of reporting a broken pipe.
        """
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in lines:
            conn.putheader(name, value)
        try:
            if chunked:
                conn.endheaders(iter([body] if body else []), encode_chunked=True)
            else:
                conn.endheaders(body)
        except _CLOSED:
            if not body:
                raise
            return True
        return False

    def _head_lines(self, scheme: str, host: str, port: int, method: str,
                    headers: dict[str, str], body: Optional[bytes]) -> list[tuple[str, str]]:
        """The header lines to send, with Kitura's defaults added."""
        lines = dict(headers)
        if not _has(lines, "Host"):
            default_port = 443 if scheme == "https" else 80
            lines["Host"] = _authority(host, None if port == default_port else port)
        if not _has(lines, "Accept"):
            lines["Accept"] = "*/*"
        if not _has(lines, "User-Agent"):
            lines["User-Agent"] = "Kitura"
        if self.close_connection:
            _drop(lines, "Connection")
            lines["Connection"] = "close"
        if _is_chunked(lines.items()):
            _drop(lines, "Content-Length")
        elif body is None and method in ("POST", "PUT", "PATCH") and not _has(lines, "Content-Length"):
            lines["Content-Length"] = "0"  # RFC 9110 8.6: a body-carrying method with no body says so
        elif body is not None and not _has(lines, "Content-Length"):
            lines["Content-Length"] = str(len(body))
        return list(lines.items())

    def __repr__(self) -> str:
        return f"<ClientRequest {self.method.upper()} {self.url}>"
