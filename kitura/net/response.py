"""``ServerResponse``: what a handler answers, written to the connection in request order.

A response whose body is complete at ``end()`` goes out in one write with
``Content-Length``, also when parts came through ``write()`` just before (as
Kitura buffers them); a body that stays open past the loop's next turn, or grows
past ``FLUSH_AT``, is streamed with chunked transfer coding (HTTP/1.1) or delimited
by closing the connection (HTTP/1.0). ``write()`` and ``end()`` may be called from
any thread, also after the handler returned: the bytes are built in the caller's
thread under the response's lock and handed to the loop.
"""

from __future__ import annotations

import asyncio
import logging
from threading import Lock, get_ident
from typing import TYPE_CHECKING, Protocol, Union

from .headers import HeadersContainer
from .http11 import LAST_CHUNK, NO_EXTENSIONS, STATUS_LINES, c_encode_head, encode_chunk, py_encode_head
from .loop import call_on_loop
from .status import HTTPStatusCode

if TYPE_CHECKING:
    from .request import ServerRequest

__all__ = ["ServerResponse", "ResponseConnection", "ResponseCore", "PyResponseCore", "ResponseMethods"]

_log = logging.getLogger("kitura.net")

Body = Union[str, bytes, bytearray, memoryview]

#: Bytes ``write()`` may hold back before the head goes out chunked.
FLUSH_AT = 16 * 1024


def _to_bytes(data: Body) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"a response body must be str or bytes, not {type(data).__name__}")


class ResponseConnection(Protocol):
    """What a ``ServerResponse`` needs of its connection (``HTTPConnection`` is one).

    Every method runs on the loop thread and ignores a response that is no longer the
    connection's current one (the connection closed, or it was answered already).
    """

    loop: asyncio.AbstractEventLoop
    loop_thread: int

    def write_response(self, response: "ServerResponse", data: bytes) -> None:
        """Write a part of the response now."""

    def post_response(self, response: "ServerResponse", data: bytes) -> None:
        """From another thread: hand a part to the loop, waiting while the client reads nothing."""

    def complete_response(self, response: "ServerResponse", data: bytes, keep_alive: bool) -> None:
        """Write the last part; then answer the next request, or close."""

    def abort_response(self, response: "ServerResponse") -> None:
        """Close the connection after what was written (the answer is cut short)."""


class PyResponseCore:
    """The state and hot methods of a ``ServerResponse``, in Python: the reference for
    ``_speedups.ResponseCore`` (kitura/net/_response.c), used without the extension or
    with ``KITURA_NO_EXTENSIONS=1``. Not Kitura API: use ``ServerResponse``."""

    __slots__ = ("_conn", "_request", "_status", "headers", "_headers_sent", "_ended", "_chunked",
                 "_keep_alive", "_no_body", "_lock", "_pending", "_pending_size", "_flush_scheduled", "_in_step",
                 "__weakref__")

    def __init__(self, conn: "ResponseConnection | None", request: "ServerRequest") -> None:
        self._conn = conn
        self._request = request
        self._status = 200
        self.headers = HeadersContainer()
        self._headers_sent = False
        self._ended = False
        self._chunked = False
        self._keep_alive = request.keep_alive
        self._no_body = request.method == "HEAD"
        self._lock = Lock()
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._flush_scheduled = False
        # A new response is inside its handler's first step, run on the loop by the
        # connection, until the connection calls finish_step().
        self._in_step = True

    # --- status ------------------------------------------------------------
    @property
    def status_code(self) -> HTTPStatusCode:
        return HTTPStatusCode(self._status)

    @status_code.setter
    def status_code(self, code: "HTTPStatusCode | int | None") -> None:
        if self._headers_sent:
            raise RuntimeError("the status cannot change once the response head was sent")
        code = 200 if code is None else int(code)
        if not 100 <= code <= 999:
            if code != -1:
                raise ValueError(f"HTTP status code must be in 100..999, got {code}")
            code = 200  # Kitura's .unknown
        self._status = code

    @property
    def status(self) -> int:
        """The status as a plain int (``status_code`` is an HTTPStatusCode, UNKNOWN for unnamed codes)."""
        return self._status

    @property
    def headers_sent(self) -> bool:
        return self._headers_sent

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def on_loop_thread(self) -> bool:
        """True when called on the thread of the event loop that serves this response."""
        conn = self._conn
        return conn is not None and get_ident() == conn.loop_thread

    @property
    def request(self) -> "ServerRequest":
        return self._request

    # --- body --------------------------------------------------------------
    def write(self, from_: Body) -> None:
        """Add to the body. Written parts go out at the latest on the loop's next turn:
        a handler that writes and then ends at once sends one response with
        ``Content-Length``; a body still open on the next turn (or past ``FLUSH_AT``
        bytes) goes out as it comes, chunked."""
        data = from_.encode("utf-8") if from_.__class__ is str else _to_bytes(from_)
        schedule = False
        with self._lock:
            if self._ended:
                raise RuntimeError("write() after end(): the response is complete")
            if self._headers_sent:
                out = (encode_chunk(data) if self._chunked else data) if data and not self._no_body else b""
            else:
                self._pending.append(data)
                self._pending_size += len(data)
                if self._pending_size < FLUSH_AT:
                    schedule = not self._flush_scheduled
                    self._flush_scheduled = True
                    out = b""
                else:
                    out = self._flush_pending()
        conn = self._conn
        if conn is None:
            return
        if out:
            if get_ident() == conn.loop_thread:
                conn.write_response(self, out)
            else:
                conn.post_response(self, out)  # waits while the client is not reading
        elif schedule:
            if get_ident() == conn.loop_thread:
                # Inside the handler's first step finish_step() flushes, if the response
                # is still open then: same turn, no callback per request.
                if not self._in_step:
                    conn.loop.call_soon(self._deferred_flush)
            else:
                try:  # call_soon_on_loop, inlined: this is every write() of a worker's handler
                    conn.loop.call_soon_threadsafe(self._deferred_flush)
                except RuntimeError:  # the loop is closed: so is the connection
                    pass

    def finish_step(self) -> None:
        """The connection ran the handler's first step (on the loop): flush what it
        wrote without ending, on the loop's next turn, unless ``end()`` came first."""
        self._in_step = False
        if self._flush_scheduled and not self._ended:
            self._conn.loop.call_soon(self._deferred_flush)  # type: ignore[union-attr]

    def _flush_pending(self) -> bytes:
        """The head (chunked) and what was written so far. Call with the lock held."""
        out = self._head(None)
        data = b"".join(self._pending)
        self._pending = []
        self._pending_size = 0
        if data and not self._no_body:
            out += encode_chunk(data) if self._chunked else data
        return out

    def _deferred_flush(self) -> None:
        """On the loop: send what ``write`` buffered, unless ``end`` already did."""
        if self._ended:  # the common case (write then end from a worker): nothing to do
            return
        with self._lock:
            self._flush_scheduled = False
            if self._ended or self._headers_sent or not self._pending:
                return
            out = self._flush_pending()
        if self._conn is not None:
            self._conn.write_response(self, out)

    def end(self, text: Body | None = None) -> None:
        """Complete the response (with ``text`` as the last part of the body, if given)."""
        data = b"" if text is None else text.encode("utf-8") if text.__class__ is str else _to_bytes(text)
        with self._lock:
            if self._ended:
                return
            if not self._headers_sent:
                if self._pending:
                    self._pending.append(data)
                    data = b"".join(self._pending)
                    self._pending = []
                out = self._head(len(data))
                if data and not self._no_body:
                    out += data
            elif self._no_body:
                out = b""
            elif self._chunked:
                out = encode_chunk(data) + LAST_CHUNK
            else:
                out = data
            self._ended = True
        conn = self._conn
        if conn is not None:
            if get_ident() == conn.loop_thread:  # the common case, without a call_on_loop frame
                conn.complete_response(self, out, self._keep_alive)
            else:
                try:  # call_soon_on_loop, inlined: this is every end() of a worker's handler
                    conn.loop.call_soon_threadsafe(conn.complete_response, self, out, self._keep_alive)
                except RuntimeError:  # the loop is closed: so is the connection
                    pass

    def close_after(self) -> None:
        """Close the connection after this response (its head says ``Connection: close``),
        unless the head went out already; on the loop thread (a graceful stop uses it)."""
        if not self._headers_sent:
            self._keep_alive = False

    def reset(self) -> None:
        """Forget the status and headers set so far (only before the head was sent)."""
        if self._headers_sent:
            raise RuntimeError("reset() after the response head was sent")
        self._status = 200
        self.headers = HeadersContainer()
        with self._lock:
            self._pending = []
            self._pending_size = 0

    # --- the head ----------------------------------------------------------
    def _head(self, content_length: int | None) -> bytes:
        """Encode the head; ``content_length`` None means the body is streamed."""
        request = self._request
        entries = self.headers.entry_map()
        encoded = None
        if c_encode_head is not None:
            encoded = c_encode_head(STATUS_LINES, self._status, entries, content_length, self._keep_alive,
                                    self._no_body, request.http_version_major, request.http_version_minor)
        if encoded is None:
            encoded = py_encode_head(self._status, entries, content_length, self._keep_alive, self._no_body,
                                     request.http_version_major, request.http_version_minor)
        head, self._keep_alive, self._no_body, self._chunked = encoded
        self._headers_sent = True
        return head


ResponseCore: type = PyResponseCore
if not NO_EXTENSIONS:
    try:
        from ._speedups import ResponseCore, configure_response  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass
    else:
        configure_response(HeadersContainer, HTTPStatusCode, STATUS_LINES, py_encode_head)


class ResponseMethods:
    """What a ``ServerResponse`` adds to its core (C or Python), in Python on either.
    Not Kitura API: use ``ServerResponse``."""

    __slots__ = ()

    def abort(self) -> None:
        """Cut the connection (from any thread): the response cannot be completed, e.g. the
        source of a body whose length was announced failed after part of it went out."""
        conn = self._conn
        if conn is not None:
            call_on_loop(conn.loop, conn.loop_thread, conn.abort_response, self)

    def fail(self, error: BaseException) -> None:
        """The handler raised ``error`` (from any thread): log it and answer 500, or cut
        the connection when part of the answer is already out."""
        _log.error("Error in the handler of %r", self.request, exc_info=(type(error), error, error.__traceback__))
        conn = self._conn
        if conn is not None:
            call_on_loop(conn.loop, conn.loop_thread, self._answer_failure)

    def _answer_failure(self) -> None:
        if self.ended:
            return
        if self.headers_sent:
            self.abort()  # part of the answer is out: the only honest end is to cut it
            return
        self.reset()
        self.status_code = 500  # type: ignore[assignment]
        self.end()

    def __repr__(self) -> str:
        return f"<ServerResponse {self.status} for {self.request!r}>"


class ServerResponse(ResponseMethods, ResponseCore):  # type: ignore[valid-type,misc]
    """Kitura's ``ServerResponse``: ``status_code``, ``headers``, ``write(from_=)``, ``end()``, ``reset()``.

    ``ServerResponse(conn, request)``; its state and hot methods are ``ResponseCore``'s:
    in C when the extension is built (``_speedups.ResponseCore``), else ``PyResponseCore``."""

    __slots__ = ()
