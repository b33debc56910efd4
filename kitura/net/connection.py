"""``HTTPConnection``: one asyncio Protocol per client connection, fed by httptools callbacks.

Theory of operation. httptools calls ``on_*`` as it parses; each complete request
goes into ``_queue``. Requests are answered one at a time, in order (HTTP/1.1
pipelining, RFC 9112 9.3.2): ``_process_queue`` dispatches the head of the queue
and the next one only after its response completed (``complete_response``, always on
the loop thread). Protocol errors (``errors.HTTPError``) are raised inside the
callbacks, caught once in ``data_received`` and queued as an answer, so they too are
sent in order, followed by closing the connection.

Time limits are deadlines checked by the server's once-a-second sweep: from
accept until the first request head is complete ``header_timeout`` (408, then close;
slowloris), while a body is expected and nothing arrives ``body_timeout`` (408, then
close), while idle between requests ``keep_alive_timeout`` (close), and a later head's
``header_timeout`` from its first byte. A request being handled has none.

An upgrade request (``Connection: upgrade`` + ``Upgrade: token``) whose token has a
factory in ``upgrade.ConnectionUpgrader`` is handed over with the bytes read after
its head; every other request goes to the delegate. This is the only module that
imports httptools.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional

import httptools

from .errors import BadRequest, HeaderFieldsTooLarge, HTTPError, PayloadTooLarge, RequestTimeout, URITooLong
from .http11 import CONTINUE_100, NO_EXTENSIONS, simple_response
from .linger import close_lingering
from .loop import call_soon_on_loop, start_coroutine
from . import monitor as monitoring
from .monitor import notify
from .request import ServerRequest
from .request_checks import valid_host, valid_target
from .response import ServerResponse
from .upgrade import ConnectionUpgrader, UpgradeHandover, UpgradeRejection, upgrade_tokens

if TYPE_CHECKING:
    from .serving import ServingState

__all__ = ["HTTPConnection"]

_log = logging.getLogger("kitura.net")

#: Pipelined requests parsed ahead of the one being answered before reading pauses.
MAX_QUEUED_REQUESTS = 32
#: Bytes a client may send after an upgrade request before it was answered.
MAX_UPGRADE_EARLY_DATA = 1024 * 1024
#: Bytes of a streamed response a writer thread may hand to the loop, not yet written,
#: before it waits (see post_response).
MAX_POSTED_BYTES = 256 * 1024

_flow_created = threading.Lock()

_OWS = (32, 9)  # SP, HTAB

_METHODS = {m.encode(): m for m in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")}

#: The C parser of plain requests (kitura/net/_speedups.c); None without the extension
#: or with KITURA_NO_EXTENSIONS=1, when httptools parses every request (the reference).
parse_request: Callable[..., Any] | None = None
if not NO_EXTENSIONS:
    try:
        from ._speedups import parse_request  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass


#: What an upgraded connection holds instead of its request queue and header list (it
#: parses nothing more): shared, always empty (a deque of maxlen 0 keeps nothing).
_NO_QUEUE: deque[Any] = deque(maxlen=0)
_NO_HEADERS: Any = ()


class HTTPConnection(asyncio.Protocol):
    __slots__ = ('serving', 'loop', 'loop_thread', 'options', 'transport', 'parser', 'remote_address', '_scheme', '_local_port', '_queue', '_current', '_processing', '_closed', '_counted', '_reading_paused', '_writing_paused', '_requests', '_deadline', '_answer_408_on_deadline', '_failed', '_upgrade_buffer', '_upgraded', '_url', '_headers', '_field_bytes', '_count_field_bytes', '_head_size', '_in_head', '_in_body', '_hosts', '_body', '_expect_continue', '_flow', '_posted', '_draining', '_valid_host')

    def __init__(self, serving: "ServingState") -> None:
        # what the server shares with its connections
        self.serving = serving
        self.loop = serving.loop
        self.loop_thread = serving.loop_thread
        self.options = serving.options
        self.transport: Optional[asyncio.Transport] = None
        # httptools' parser, made when a read needs it (the C parser takes plain requests);
        # it refers back to this object, so connection_lost lets go of it.
        self.parser: Any = None
        self.remote_address = ""
        self._scheme = serving.scheme
        self._local_port: int | None = None

        # per-connection state
        self._queue: deque[Any] = deque()
        self._current: Optional[ServerResponse] = None
        self._processing = False
        self._closed = False
        self._counted = False
        self._reading_paused = False
        self._writing_paused = False
        self._requests = 0
        self._deadline: float | None = None
        self._answer_408_on_deadline = False  # a head or body is awaited (408 when late), else idle (close)
        self._failed = False  # a protocol error was queued: parse no more
        self._draining = False  # a graceful stop: read no more, answer what came with Connection: close
        self._upgrade_buffer: bytearray | None = None
        self._upgraded: Any = None

        # per-request parse state
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._field_bytes = 0
        self._count_field_bytes = False
        self._head_size = 0
        self._in_head = False
        self._in_body = False  # a head was parsed, its body is not complete yet
        self._hosts = 0  # Host fields in this head (RFC 9112 3.2: exactly one in HTTP/1.1)
        self._valid_host = b""  # the last Host value found valid on this connection
        self._body: bytearray | None = None
        self._expect_continue = False

        # flow control of parts streamed from other threads (post_response)
        self._flow: threading.Condition | None = None
        self._posted = 0

    # --- asyncio.Protocol ----------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if isinstance(peer, (tuple, list)) and peer:
            self.remote_address = str(peer[0])
        elif self.serving.unix_domain_socket_path is not None:
            self.remote_address = "uds"  # as KituraNet names a Unix domain socket peer
        sock = transport.get_extra_info("sockname")
        if isinstance(sock, (tuple, list)) and len(sock) > 1:
            self._local_port = sock[1]
        serving = self.serving
        limit = self.options.connection_limit
        if limit is not None and len(serving.connections) >= limit:
            self._reject_connection(limit)
            return
        serving.connections.add(self)
        self._counted = True
        self._deadline = self.loop.time() + self.options.header_timeout
        self._answer_408_on_deadline = True
        if serving.ssl_context is not None:
            # Started eagerly so that the TLS protocol is in place before the loop reads
            # the first bytes (uvloop starts reading right after connection_made returns).
            start_coroutine(self._start_tls(), self._tls_failed)

    def _reject_connection(self, limit: int) -> None:
        answer = self.options.connection_response_generator(limit, self.remote_address)
        if answer is not None and self.serving.ssl_context is None:
            status, body = answer
            self.transport.write(simple_response(int(status), body.encode("utf-8")))  # type: ignore[union-attr]
        self._closed = True
        self.transport.close()  # type: ignore[union-attr]

    async def _start_tls(self) -> None:
        try:
            self.transport = await self.loop.start_tls(  # type: ignore[assignment]
                self.transport, self, self.serving.ssl_context, server_side=True,  # type: ignore[arg-type]
                ssl_handshake_timeout=self.options.header_timeout,
            )
        except Exception as exc:  # noqa: BLE001 - a client's failed handshake
            self._tls_failed(exc)
            return
        if self.transport is None:
            self._forget()

    def _tls_failed(self, exc: BaseException) -> None:
        self._forget()
        if self.transport is not None:
            self.transport.abort()
        self.serving.client_connection_failed(exc)

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._closed = True
        self.parser = None  # no cycle left for the garbage collector
        self._current = None
        self._queue.clear()
        self._forget()
        self._wake_writers()

    def _forget(self) -> None:
        self._closed = True
        if self._counted:
            self._counted = False
            self.serving.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        if self._upgrade_buffer is not None:
            self._upgrade_buffer += data
            if len(self._upgrade_buffer) > MAX_UPGRADE_EARLY_DATA:
                self._close()
            return
        if self._failed or self._closed:
            return
        if parse_request is not None and not self._in_head and not self._in_body:
            # The C fast path (_speedups.parse_request) takes the plain, complete requests
            # at the front of ``data``; httptools parses from the first one it declines.
            pos = self._parse_plain_requests(data)
            if pos:
                if pos >= len(data) or self._failed:
                    # All taken (no head or body left half-read): answer what was queued.
                    if not self._processing:
                        self._process_queue()
                    if len(self._queue) > MAX_QUEUED_REQUESTS and not self._reading_paused:
                        self._pause_reading()
                    return
                data = data[pos:]
        head_continues = self._in_head
        # A head that fits in one read of at most max_header_size bytes cannot be over
        # the limit: only other heads have their header bytes added up (on_headers_complete).
        self._count_field_bytes = head_continues or len(data) > self.options.max_header_size
        parser = self.parser
        if parser is None:
            parser = self.parser = httptools.HttpRequestParser(self)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._upgrade_buffer = bytearray(data[upgrade.args[0]:])
        except HTTPError as err:
            self._queue_error(err)
        except httptools.HttpParserError as err:
            # httptools wraps what a callback raised in HttpParserCallbackError.
            cause = err.__cause__ or err.__context__
            self._queue_error(cause if isinstance(cause, HTTPError) else BadRequest(str(err)))
        else:
            if self._in_head and head_continues:
                self._head_size += len(data)
                if self._head_size > self.options.max_request_line + self.options.max_header_size:
                    self._queue_error(HeaderFieldsTooLarge("request head too large"))
        self._after_data()

    def _after_data(self) -> None:
        if self._in_body and self._current is None and not self._queue:
            # An idle-read limit while a body is expected (issue 14, defect 1).
            self._deadline = self.loop.time() + self.options.body_timeout
            self._answer_408_on_deadline = True
        if self._queue and not self._processing:
            self._process_queue()
        if len(self._queue) > MAX_QUEUED_REQUESTS and not self._reading_paused:
            self._pause_reading()

    def eof_received(self) -> Optional[bool]:
        # A half-closed client may still read our answers to what it sent (RFC 9112 9.6).
        if self._closed or (self._current is None and not self._queue):
            return None  # close now
        return True

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_writers()
        if not self._processing:
            self._process_queue()
        self._resume_reading()

    # --- the C fast path ---------------------------------------------------------
    def _parse_plain_requests(self, data: bytes) -> int:
        """Queue the plain, complete requests at the front of ``data`` that
        ``parse_request`` (C) accepts, with the state the httptools callbacks would
        leave; the offset of the first byte it declined (0: none taken)."""
        options = self.options
        max_line, max_fields = options.max_request_line, options.max_header_size
        max_count, size_limit = options.max_header_count, options.request_size_limit
        max_requests = self.serving.max_requests
        queue = self._queue
        pos = 0
        end = len(data)
        while pos < end:
            # The request is made in the same C call (a ServerRequest, as the fields below).
            parsed = parse_request(data, pos, max_line, max_fields, max_count, size_limit,  # type: ignore[misc]
                                   ServerRequest, self.remote_address, self._scheme, self._local_port)
            if parsed is None:
                break
            request, keep_alive, pos, upgrade = parsed
            if self._current is None and not queue:
                self._deadline = None  # as on_headers_complete: the head is in
                self._answer_408_on_deadline = True
            self._requests += 1
            if not keep_alive or (max_requests is not None and self._requests >= max_requests):
                request.keep_alive = False
            queue.append(request)
            if upgrade:
                # As httptools' HttpParserUpgrade: parsing stops after this head, what
                # follows it waits for the upgrade (or for a fresh parser, see _hand_over).
                request.wants_upgrade = True
                self._upgrade_buffer = bytearray(data[pos:])
                return end
            if not keep_alive:
                # As llhttp after a message that closes the connection: CR/LF are skipped,
                # anything else is an error (answered in order, never in practice: the
                # connection closes after this request's response).
                if data[pos:].strip(b"\r\n"):
                    self._queue_error(BadRequest("data after Connection: close"))
                else:
                    self._failed = True
                return end
        return pos

    # --- httptools callbacks --------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._field_bytes = 0
        self._head_size = 0
        self._in_head = True
        self._in_body = False
        self._hosts = 0
        self._body = None
        self._expect_continue = False
        # The first head's deadline runs from accept; a later one's from its first byte.
        if self._current is None and not self._queue and not self._answer_408_on_deadline:
            self._deadline = self.loop.time() + self.options.header_timeout
            self._answer_408_on_deadline = True

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self.options.max_request_line:
            raise URITooLong("request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        if value and value[-1] in _OWS:
            value = value.rstrip(b" \t")  # RFC 9110 5.5: OWS is not part of the value
        headers = self._headers
        headers.append((name, value))
        if len(headers) > self.options.max_header_count:
            raise HeaderFieldsTooLarge("too many header fields")
        if self._count_field_bytes:
            self._field_bytes += len(name) + len(value) + 4
            if self._field_bytes > self.options.max_header_size:
                raise HeaderFieldsTooLarge("header fields too large")
        size = len(name)
        if size != 14 and size != 6 and size != 4:
            return
        if size == 4:
            if name.lower() == b"host":
                self._hosts += 1
                if self._hosts > 1:
                    raise BadRequest("more than one Host header")
                if value != self._valid_host:  # a client sends the same Host each time
                    if not valid_host(value):
                        raise BadRequest("invalid Host header")
                    self._valid_host = value
        elif size == 14 and name.lower() == b"content-length":
            limit = self.options.request_size_limit
            if limit is not None and int(value) > limit:
                raise PayloadTooLarge("Content-Length over the limit")
        elif size == 6 and name.lower() == b"expect":
            if value.strip().lower() == b"100-continue":
                self._expect_continue = True
            else:
                raise _ExpectationFailed()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._in_body = True
        if not self._hosts and self.parser.get_http_version() == "1.1":
            raise BadRequest("an HTTP/1.1 request needs a Host header")
        if not self._url.startswith(b"/") and not valid_target(self._url):
            raise BadRequest("invalid request target")
        if self._current is None and not self._queue:
            self._deadline = None
            if self._expect_continue and self.parser.get_http_version() == "1.1":
                self.transport.write(CONTINUE_100)  # type: ignore[union-attr]

    def on_body(self, body: bytes) -> None:
        if self._body is None:
            self._body = bytearray(body)
        else:
            self._body += body
        limit = self.options.request_size_limit
        if limit is not None and len(self._body) > limit:
            raise PayloadTooLarge("body over the limit")

    def on_message_complete(self) -> None:
        self._in_body = False
        parser = self.parser
        version = parser.get_http_version()
        method = parser.get_method()
        request = ServerRequest(
            _METHODS.get(method) or method.decode("ascii"),
            self._url,
            self._headers,
            self._body if self._body is not None else b"",
            self.remote_address,
            (1, 1) if version == "1.1" else (int(version[0]), int(version[2])),
            self._scheme,
            self._local_port,
        )
        self._requests += 1
        max_requests = self.serving.max_requests
        if not parser.should_keep_alive() or (max_requests is not None and self._requests >= max_requests):
            request.keep_alive = False
        if parser.should_upgrade():
            request.wants_upgrade = True
        self._queue.append(request)

    # --- answering in order ----------------------------------------------------
    def _process_queue(self) -> None:
        self._processing = True
        try:
            queue = self._queue
            while queue and self._current is None and not self._closed and not self._writing_paused:
                item = queue.popleft()
                if isinstance(item, HTTPError):
                    self._answer_error(item)
                    return
                if item.wants_upgrade and self._hand_over(item):
                    return
                # Dispatch (written out here: this is every request).
                response = ServerResponse(self, item)
                self._current = response
                if self._draining:
                    response.close_after()
                self._deadline = None
                monitor = monitoring.active  # Monitor.delegate, in one load
                if monitor is not None:
                    notify(monitor.started, item, response, self.loop)
                # The delegate's first step runs now, on the loop (ServingState.dispatch); what
                # it writes without ending is flushed after the step (ServerResponse.finish_step).
                try:
                    self.serving.dispatch(item, response)
                except BaseException as exc:  # noqa: BLE001 - answered with 500
                    response.fail(exc)
                response.finish_step()
        finally:
            self._processing = False
        if self._current is None and not queue and not self._closed:
            if self._in_body:
                self._deadline = self.loop.time() + self.options.body_timeout
                self._answer_408_on_deadline = True
            elif self._upgrade_buffer is None and not self._in_head:
                self._deadline = self.loop.time() + self.options.keep_alive_timeout
                self._answer_408_on_deadline = False
            if self._reading_paused:
                self._resume_reading()

    def write_response(self, response: ServerResponse, data: bytes) -> None:
        if response is self._current and not self._closed:
            self.transport.write(data)  # type: ignore[union-attr]

    def post_response(self, response: ServerResponse, data: bytes) -> None:
        """From a thread other than the loop's: hand a streamed part of ``response`` to the
        loop, then wait while the client reads nothing (the transport paused writing) or
        more than ``MAX_POSTED_BYTES`` wait for the loop. So a plain ``def`` handler that
        streams a large body holds a bounded amount of memory; after ``write_timeout``
        seconds without progress the connection is dropped and ``ConnectionError`` raised."""
        flow = self._flow
        if flow is None:
            with _flow_created:
                flow = self._flow
                if flow is None:
                    flow = self._flow = threading.Condition()
        size = len(data)
        with flow:
            self._posted += size
        if self.loop.is_closed():  # so is the connection
            return
        call_soon_on_loop(self.loop, self._write_posted, response, data, size)
        timeout = self.options.write_timeout
        with flow:
            while not self._closed and (self._writing_paused or self._posted > MAX_POSTED_BYTES):
                if not flow.wait(timeout) and not self._closed and \
                        (self._writing_paused or self._posted > MAX_POSTED_BYTES):
                    break
            else:
                return
        call_soon_on_loop(self.loop, self._write_timed_out)
        raise ConnectionError(f"the client read nothing for {timeout} s (ServerOptions.write_timeout): "
                              "the connection is dropped")

    def _write_posted(self, response: ServerResponse, data: bytes, size: int) -> None:
        self.write_response(response, data)
        flow = self._flow
        with flow:  # type: ignore[union-attr]
            self._posted -= size
            flow.notify_all()  # type: ignore[union-attr]

    def _write_timed_out(self) -> None:
        _log.warning("Dropping the connection of %s: it read nothing for %s s while a response was streamed",
                     self.remote_address, self.options.write_timeout)
        self._closed = True
        if self.transport is not None:
            self.transport.abort()
        self._forget()
        self._wake_writers()

    def abort_response(self, response: ServerResponse) -> None:
        """The response cannot be completed (ServerResponse.abort): close the connection
        after what was already written, so the client sees it cut short."""
        if response is self._current and not self._closed:
            self._close()

    def _wake_writers(self) -> None:
        flow = self._flow
        if flow is not None:
            with flow:
                flow.notify_all()

    def complete_response(self, response: ServerResponse, data: bytes, keep_alive: bool) -> None:
        if response is not self._current or self._closed:
            return
        transport = self.transport
        if data:
            transport.write(data)  # type: ignore[union-attr]
        self._current = None
        monitor = monitoring.active  # Monitor.delegate, in one load
        if monitor is not None:
            notify(monitor.finished, response.request, response, self.loop)
        if not keep_alive:
            self._close()
        elif not self._processing:
            self._process_queue()

    # --- errors ----------------------------------------------------------------
    def _queue_error(self, err: HTTPError) -> None:
        self._failed = True
        self._in_head = self._in_body = False
        self._queue.append(err)
        self._pause_reading()

    def _answer_error(self, err: HTTPError) -> None:
        status, body = err.status, b""
        if isinstance(err, PayloadTooLarge):
            limit = self.options.request_size_limit or 0
            answer = self.options.request_size_response_generator(limit, self.remote_address)
            if answer is None:
                self._close()
                return
            status, body = int(answer[0]), answer[1].encode("utf-8")
        _log.debug("Answering %d to %s: %s", status, self.remote_address, err.message)
        self.transport.write(simple_response(status, body))  # type: ignore[union-attr]
        self._close()

    def check_deadline(self, now: float) -> None:
        """Called by the server's sweep: act on an expired header or keep-alive deadline."""
        deadline = self._deadline
        if deadline is None or now < deadline or self._closed or self._upgraded is not None:
            return
        self._deadline = None
        if self._answer_408_on_deadline:
            self._failed = True
            self._queue.clear()
            what = "request body" if self._in_body else "request head"
            self._answer_error(RequestTimeout(f"{what} not received in time"))
        else:
            self._close()

    # --- upgrade ---------------------------------------------------------------
    def _hand_over(self, request: ServerRequest) -> bool:
        """Hand the connection to an upgrade factory; False if none takes the request's token."""
        # The fields as parsed while no HeadersContainer was made of them: read without building it.
        pairs = request.unread_header_pairs
        tokens = (request.headers.first("Upgrade") or "") if pairs is None else upgrade_tokens(pairs)
        factory = ConnectionUpgrader.factory_for(tokens)
        leftover = bytes(self._upgrade_buffer or b"")
        if factory is None:
            # An ordinary request after all: parse what follows it with a fresh parser
            # (made when needed).
            self._upgrade_buffer = None
            self.parser = None  # a fresh one for what follows
            if leftover:
                self.loop.call_soon(self.data_received, leftover)
            return False
        self._upgrade_buffer = None
        self._deadline = None
        handover = UpgradeHandover(request, self.transport, leftover, self.loop,  # type: ignore[arg-type]
                                   self.loop_thread, self._set_upgraded, self._forget, pairs)
        try:
            rejection = factory.upgrade(handover)
        except Exception:  # noqa: BLE001
            _log.exception("Upgrade factory %r failed", factory.name)
            rejection = UpgradeRejection(500)
        if handover.taken:
            return True
        if rejection is None:
            rejection = UpgradeRejection(500)
        self.transport.write(  # type: ignore[union-attr]
            simple_response(rejection.status, rejection.body, close=True, headers=rejection.headers)
        )
        self._close()
        return True

    def _set_upgraded(self, protocol: Any) -> None:
        self._upgraded = protocol
        self._current = None
        self._queue.clear()
        # This object now only counts the connection: let go of the HTTP parsing state.
        self.parser = None
        self._headers = _NO_HEADERS
        self._body = None
        self._url = b""
        self._queue = _NO_QUEUE  # its block is ~600 bytes: an upgraded connection queues nothing

    # --- closing ---------------------------------------------------------------
    def drain(self) -> None:
        """A graceful stop begins: read no further request and close once idle (see
        ``close_if_idle``); an upgraded connection closes its own way (WebSocket: 1001)."""
        if self._upgraded is not None:
            self._upgraded.shutdown()
        else:
            self._draining = True
            self._pause_reading()
            if self._current is not None:
                self._current.close_after()  # its head says Connection: close, if not out yet
            self.close_if_idle()

    def close_if_idle(self) -> None:
        """Close an HTTP connection with no request in progress or queued (during a drain)."""
        if self._upgraded is None and self._current is None and not self._queue and not self._closed:
            self._close()

    def shutdown(self) -> None:
        """The server stops: close this connection (an upgraded one closes its own way)."""
        if self._upgraded is not None:
            self._upgraded.shutdown()
            return
        self._close()
        if self.transport is not None:
            self.transport.close()  # no lingering when the server stops: what is written goes, then close

    def _close(self) -> None:
        """Close without erasing what the client has not read yet (linger.close_lingering);
        the connection stays counted until its fd is gone (connection_lost)."""
        if not self._closed:
            self._closed = True
            self._deadline = None
            transport = self.transport
            if transport is not None:
                options = self.options
                write_timeout = options.write_timeout
                close_lingering(transport, self.loop,  # type: ignore[arg-type]
                                write_timeout if write_timeout is not None else options.keep_alive_timeout)
            else:
                self._forget()
        self._wake_writers()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None and not self._closed:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and not self._failed and not self._writing_paused and not self._closed \
                and not self._draining:
            self._reading_paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]


class _ExpectationFailed(HTTPError):
    """RFC 9110 10.1.1: an Expect value other than 100-continue gets 417."""

    status = 417
