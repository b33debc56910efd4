"""RouterResponse: the response as the Router's handlers build it (Kitura's RouterResponse).

As in Kitura the body is buffered: ``send()`` appends, ``end()`` writes the
status, headers, cookies and body in one go through the kitura.net
``ServerResponse`` (HEAD gets the headers only). ``end()`` may be called from
any thread; the chain waiting on it is woken on the event loop.
"""
from __future__ import annotations

import json as _json
import logging
import os
import re
from typing import TYPE_CHECKING, Any, Callable

from .codec import to_jsonable
from .content_type import ContentType
from .cookies import AdditionalCookieAttribute, Cookie, ResponseCookies
from .element import RouterMethod
from .headers import Headers
from .lazy import PerInstance
from .paths import absolute_path
from .status import status_enum, status_phrase, status_value
from .templating import TemplatingError
from .workers import submit_to_worker

if TYPE_CHECKING:
    from .request import RouterRequest
    from .router import Router

__all__ = ["RouterResponse", "status_phrase", "status_value"]  # the status helpers live in status.py

logger = logging.getLogger("kitura.router")

_MISSING: Any = object()
_UNKNOWN = -1
_NO_BODY_STATUSES = frozenset((204, 304))
_HTML_UTF8 = "text/html; charset=utf-8"
_MAY_START_HTML = frozenset(b"< \t\r\n\x0b\x0c")   # "<" or what bytes.lstrip() strips
_HEAD = RouterMethod.HEAD
#: Files (or ranges of them) larger than this are streamed from disk at ``end()``
#: instead of being read into the body buffer.
STREAM_FILES_OVER = 1024 * 1024
_FILE_CHUNK = 256 * 1024
_TEXT_UTF8 = "text/plain; charset=utf-8"
_JS_IDENT_SANITIZER = re.compile(r"[^\[\]\w$.]")


def to_json_bytes(obj: Any) -> bytes:
    return _json.dumps(to_jsonable(obj), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class RouterResponse:
    """The outgoing response: status, headers, cookies, buffered body; ``send()`` and ``status()`` chain.

    Internal contract with the Router (router.py) and its walk (walker.py, steps.py),
    plain attributes because they are read on every request: ``raw_status`` (the status
    as an int, -1 while unset; handlers use ``status_code``), ``deferred`` (``defer()``
    was called and the walk has not taken it yet), ``end_waiter`` (what ``end()`` calls
    to wake a walk waiting for it) and ``router_stack`` (the routers being walked,
    innermost last, where ``render()`` looks for template engines).
    """

    def __init__(self, server_response: Any, request: "RouterRequest",
                 router_stack: list["Router"] | None = None) -> None:
        self.server_response = server_response
        self.request = request
        self._buffer = bytearray()
        self.router_stack: list[Router] = router_stack if router_stack is not None else []
        # The other attributes start as the class-level defaults below; headers, cookies
        # and user_info are made on their first use (most requests never touch some).

    headers: Headers = PerInstance(lambda self: Headers(self.server_response.headers),  # type: ignore[assignment]
                                   "The response headers (a ``Headers`` view of the server response's).")
    cookies: "dict[str, Cookie]" = PerInstance(lambda self: ResponseCookies(),  # type: ignore[assignment]
                                               "The cookies ``end()`` sends (a ``ResponseCookies``).")
    user_info: "dict[str, Any]" = PerInstance(lambda self: {},  # type: ignore[assignment]
                                              "Anything a handler keeps for the next ones.")
    raw_status: int = _UNKNOWN
    error: BaseException | None = None
    _file_body: "tuple[str, int, int] | None" = None   # (path, offset, length) streamed at end()
    invoked_end: bool = False
    invoked_send: bool = False
    _text_only: bool = True
    _on_end: Callable[[], None] | None = None
    _data_filter: Callable[[bytes], bytes] | None = None
    end_waiter: Callable[[], None] | None = None   # set by the walker while it waits (deferral)
    deferred: bool = False
    _end_off_loop: int | None = None           # end_off_loop()'s body length, when asked

    def __repr__(self) -> str:
        return f"<RouterResponse {self.raw_status} ended={self.invoked_end}>"

    # -- status ------------------------------------------------------------
    @property
    def status_code(self) -> Any:
        """The status as an ``HTTPStatusCode`` (``UNKNOWN`` until set or sent)."""
        return status_enum(self.raw_status)

    @status_code.setter
    def status_code(self, code: Any) -> None:
        self.raw_status = status_value(code)

    def status(self, code: Any) -> "RouterResponse":
        """Set the status code; returns the response for chaining."""
        self.raw_status = status_value(code)
        return self

    @property
    def ended(self) -> bool:
        return self.invoked_end

    # -- sending -----------------------------------------------------------
    def _append(self, data: bytes, text: bool) -> None:
        if self._file_body is not None:
            self._read_file_body()
        self._buffer += data
        if not text:
            self._text_only = False
        self.invoked_send = True
        if self.raw_status == _UNKNOWN:
            self.raw_status = 200

    def _after_end(self, what: str) -> bool:
        if self.invoked_end:
            logger.warning("RouterResponse %s invoked after end() for %s", what, self.request.url)
            return True
        return False

    def send(self, value: Any = _MISSING, /, *, json: Any = _MISSING, data: bytes | bytearray | memoryview | None = None,
             file_name: str | os.PathLike[str] | None = None, download: str | os.PathLike[str] | None = None,
             status: Any = None, jsonp: Any = _MISSING, callback_parameter: str = "callback") -> "RouterResponse":
        """Append to the body; returns the response for chaining.

        ``send("text")``, ``send(b"bytes")``, ``send(model)`` (JSON of a dataclass,
        dict or list), ``send(json=obj)``, ``send(data=b"")``, ``send(file_name=path)``,
        ``send(download=path)`` (as an attachment), ``send(status=404)`` (the status
        and its phrase), ``send(jsonp=obj)`` (``callback(...)`` from the query).
        """
        if value.__class__ is str and not self.invoked_end:
            # send("text"), the usual call: _append inlined.
            if self._file_body is not None:
                self._read_file_body()
            self._buffer += value.encode("utf-8")
            self.invoked_send = True
            if self.raw_status == _UNKNOWN:
                self.raw_status = 200
            if status is not None:
                self.raw_status = status_value(status)
            return self
        if self._after_end("send()"):
            return self
        if status is not None and value is _MISSING and json is _MISSING and data is None \
                and file_name is None and download is None and jsonp is _MISSING:
            code = status_value(status)
            self.raw_status = code
            self._append(status_phrase(code).encode(), True)
            return self
        if value is not _MISSING:
            if isinstance(value, str):
                self._append(value.encode("utf-8"), True)
            elif isinstance(value, (bytes, bytearray, memoryview)):
                self._append(bytes(value), False)
            elif value is None:
                logger.warning("RouterResponse send() invoked with None")
                self._append(b"", True)
            else:
                self._send_json(value)
        elif json is not _MISSING:
            self._send_json(json)
        elif data is not None:
            self._append(bytes(data), False)
        elif file_name is not None:
            self._send_file(os.fspath(file_name))
        elif download is not None:
            path = os.fspath(download)
            self._send_file(absolute_path(path))
            self.headers.add_attachment(for_=path)
        elif jsonp is not _MISSING:
            self._send_jsonp(jsonp, callback_parameter)
        if status is not None:
            self.raw_status = status_value(status)
        return self

    def _send_json(self, obj: Any) -> None:
        body = to_json_bytes(obj)
        self.headers["Content-Type"] = "application/json"
        self._append(body, False)

    def _send_file(self, path: str) -> None:
        size = os.stat(path).st_size
        content_type = ContentType.shared_instance.get_content_type(for_file_name=path)
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        self.send_file_part(path, 0, size)

    def send_file_part(self, path: str, offset: int, length: int) -> None:
        """Append ``length`` bytes of a file from ``offset``: read now when small or when
        the body already has content, else streamed from disk at ``end()`` (bounded memory).
        Not Kitura API: what ``StaticFileServer`` sends a file (or a range of it) with."""
        if length <= STREAM_FILES_OVER or self._buffer or self._file_body is not None:
            self._append(_read_part(path, offset, length), False)
            return
        with open(path, "rb"):   # fail now, not at end(), when it cannot be read
            pass
        self._file_body = (path, offset, length)
        self._text_only = False
        self.invoked_send = True
        if self.raw_status == _UNKNOWN:
            self.raw_status = 200

    def drop_unsent(self) -> None:
        """Forget the body, file and status set so far (nothing has been written): the
        walk calls it when a handler raised, so that the error answer starts clean."""
        self._buffer = bytearray()
        self._file_body = None
        self.invoked_send = False
        self.raw_status = _UNKNOWN

    def _read_file_body(self) -> None:
        """Something more is appended (or a filter needs the body): read the file now."""
        path, offset, length = self._file_body  # type: ignore[misc]
        self._file_body = None
        self._buffer += _read_part(path, offset, length)

    def _send_jsonp(self, obj: Any, callback_parameter: str) -> None:
        name = self.request.query_parameters.get(callback_parameter)
        if not name or _JS_IDENT_SANITIZER.sub("", name) != name:
            raise JSONPError(name)
        text = to_json_bytes(obj).decode("utf-8").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        self.headers["Content-Type"] = "application/javascript"
        self.headers["X-Content-Type-Options"] = "nosniff"
        self._append(f"/**/ {name}({text})".encode("utf-8"), False)

    # -- cookies -----------------------------------------------------------
    def add_cookie(self, name: str, value: str, domain: str | None = None, path: str | None = "/",
                   other_attributes: list[AdditionalCookieAttribute] | None = None) -> "RouterResponse":
        """Set a cookie on the response (Kitura's ``addCookie``)."""
        cookie = Cookie(name=name, value=value, domain=domain, path=path)
        for attribute in other_attributes or ():
            attribute.apply(cookie)
        self.cookies[name] = cookie
        return self

    # -- redirect, render, negotiation ---------------------------------------
    def redirect(self, path: str, status: Any = 302) -> "RouterResponse":
        """Set Location (``"back"`` is the Referer), the status (302 by default), and end."""
        self.headers.set_location(path if path != "back" else (self.request.headers["Referer"] or "/"))
        self.status(status).end()
        return self

    def render(self, resource: str, context: dict[str, Any] | None = None, options: Any = None, *,
               with_: Any = _MISSING, for_key: str | None = None) -> "RouterResponse":
        """Render a template from the router's ``views_path`` and send it.

        ``render("page", context={...})``; ``render("page", with_=model, for_key="item")``
        passes a dataclass (or list) as the context (under ``for_key`` when given).
        Raises ``TemplatingError`` when no engine fits or the template fails.
        """
        if with_ is not _MISSING:
            encoded = to_jsonable(with_)
            if for_key is not None:
                context = {for_key: encoded}
            elif isinstance(encoded, dict):
                context = encoded
            else:
                raise TemplatingError("render(with_=...) needs for_key= when the value is not an object")
        for router in reversed(self.router_stack):
            if router.get_template_engine(resource) is not None:
                text = router.render_template(resource, context or {}, options)
                if self.headers["Content-Type"] is None:
                    self.headers["Content-Type"] = "text/html; charset=utf-8"
                return self.send(text)
        raise TemplatingError(f"No template engine defined for the template {resource!r}")

    def format(self, callbacks: dict[str, Callable[["RouterRequest", "RouterResponse"], Any]]) -> None:
        """Call the callback for the best Accept type (``"default"`` when none fits, else 406)."""
        keys = [k for k in callbacks if k != "default"]
        accepted = self.request.accepts(types=keys)
        if accepted is not None:
            self.headers["Content-Type"] = ContentType.shared_instance.get_content_type(accepted) or accepted
            callbacks[accepted](self.request, self)
        elif "default" in callbacks:
            callbacks["default"](self.request, self)
        else:
            self.status(406).end()

    # -- lifecycle ---------------------------------------------------------
    def set_on_end_invoked(self, handler: Callable[[], None]) -> Callable[[], None]:
        """Run ``handler`` when ``end()`` is called; returns the previous one (call it from yours)."""
        old = self._on_end or (lambda: None)
        self._on_end = handler
        return old

    def end_off_loop(self, min_body: int = 0) -> None:
        """Ask ``end()``, when called on the event loop thread with at least ``min_body``
        bytes buffered, to run the end hooks, the written-data filter and the write on a
        worker thread instead: for work that blocks (a session store over the network,
        compressing a large body). The response counts as ended at once; it is written
        after that work is done, so ordering is kept."""
        current = self._end_off_loop
        self._end_off_loop = min_body if current is None else min(current, min_body)

    def set_written_data_filter(self, filter: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
        """Transform the body at ``end()``; returns the previous filter (call it from yours;
        setting it back restores what was there, no filter included)."""
        old = self._data_filter or _no_filter
        self._data_filter = None if filter is _no_filter else filter
        return old

    @property
    def streamed_file_length(self) -> int | None:
        """The length of the file body ``end()`` will stream from disk (``send(file_name=)``
        of a large file), or None. A written-data filter makes ``end()`` read it in whole."""
        file_body = self._file_body
        return file_body[2] if file_body is not None else None

    def defer(self) -> "RouterResponse":
        """Tell the Router that this handler will call ``next()`` or ``end()`` later (from
        any thread), so it must not end the response when the handler returns."""
        self.deferred = True
        return self

    def end(self) -> None:
        """Send the response: status (200 if unset), headers, cookies, then the body."""
        if self.invoked_end:
            logger.warning("RouterResponse end() invoked more than once for %s", self.request.url)
            return
        off_loop = self._end_off_loop
        if (off_loop is not None and len(self._buffer) >= off_loop
                and getattr(self.server_response, "on_loop_thread", False)):
            self._end_off_loop = None
            self.invoked_end = True     # ended for the walk and for callers; written by the worker
            submit_to_worker(self._end_on_worker)
            return
        self._end_now()

    def _end_on_worker(self) -> None:
        try:
            self._end_now()
        except Exception as exc:  # noqa: BLE001 - a hook or filter raised: answer 500, never leave it open
            self.server_response.fail(exc)

    def _end_now(self) -> None:
        on_end = self._on_end
        if on_end is not None:
            self._on_end = None
            on_end()
        if self.raw_status == _UNKNOWN:
            self.raw_status = 200
        data_filter = self._data_filter
        if data_filter is not None and self._file_body is not None:
            self._read_file_body()
        file_body = self._file_body
        if file_body is not None:
            self._file_body = None
        buffer = self._buffer
        content = bytes(buffer)
        buffer.clear()
        if data_filter is not None:
            self._data_filter = None
            content = data_filter(content)
        status = self.raw_status
        sr = self.server_response
        container = sr.headers
        cookies = self.__dict__.get("cookies")     # made only if a handler used it (PerInstance)
        if cookies:
            container.append("Set-Cookie", [c.header_value() for c in cookies.values()])
        # The container's own map (lower-cased name -> [name, values]): membership tests
        # without a frame each.
        entries = container.entry_map()
        is_head = self.request.method is _HEAD
        if status in _NO_BODY_STATUSES or 100 <= status < 200:
            content, file_body = b"", None
            entries.pop("content-length", None)
        else:
            if content and self._text_only and "content-type" not in entries:
                if content[0] in _MAY_START_HTML:
                    head = content[:64].lstrip().lower()
                    kind = _HTML_UTF8 if head.startswith((b"<!doctype", b"<html")) else _TEXT_UTF8
                else:
                    kind = _TEXT_UTF8
                entries["content-type"] = ["Content-Type", [kind]]
            if file_body is not None:
                container["Content-Length"] = str(file_body[2])
            elif is_head and "content-length" not in entries:
                # kitura.net counts the body it is given; HEAD gives none, so say what GET would send.
                container["Content-Length"] = str(len(content))
        sr.status_code = status
        self.invoked_end = True
        try:
            if file_body is not None and not is_head:
                # Streamed from disk by a worker (kitura.net's write() waits for the client).
                submit_to_worker(_stream_file, sr, *file_body)
            elif is_head or not content:
                sr.end()
            else:
                sr.end(content)
        finally:
            if self.end_waiter is not None:
                self._wake()

    def _wake(self) -> None:
        waiter = self.end_waiter
        if waiter is not None:
            waiter()


def _no_filter(body: bytes) -> bytes:
    return body


def _read_part(path: str, offset: int, length: int) -> bytes:
    """Up to ``length`` bytes of a file from ``offset`` (a file that shrank gives fewer:
    the body says its own length)."""
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def _stream_file(server_response: Any, path: str, offset: int, length: int) -> None:
    """On a worker thread: write ``length`` bytes of the file, then end the response. The
    head (with Content-Length) goes out with the first part; a file that shrank since it
    was sized cannot be completed honestly, so the connection is cut."""
    sent = 0
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            while sent < length:
                chunk = f.read(min(_FILE_CHUNK, length - sent))
                if not chunk:
                    raise OSError(f"{path} is shorter than when it was sized ({sent} of {length} bytes)")
                server_response.write(from_=chunk)
                sent += len(chunk)
    except ConnectionError:
        return  # the client is gone (or dropped for reading nothing): nothing left to do
    except Exception:  # noqa: BLE001 - a file that went away or changed mid-way
        logger.exception("Failed to send %s", path)
        if sent == 0 and not server_response.headers_sent:
            server_response.reset()
            server_response.status_code = 500
            server_response.end()
        else:
            server_response.abort()
        return
    server_response.end()


class JSONPError(Exception):
    """``send(jsonp=...)`` without a valid callback name in the query (Kitura's JSONPError)."""

    def __init__(self, name: str | None) -> None:
        super().__init__(f"Invalid JSONP callback name: {name!r}")
        self.name = name
