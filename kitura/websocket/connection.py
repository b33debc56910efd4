"""``WebSocketConnection``: the asyncio glue around the sans-I/O ``ServerProtocol``.

One object per connection: it is the transport's Protocol after the upgrade and the
``connection`` the service sees. ``data_received`` feeds the core, writes what the
core wants sent (pongs, close echoes), then hands the events to the service in order.
Every public method may be called from any thread: off the loop it is passed to the
loop with ``call_soon_threadsafe``; on it, it runs at once.

Flow control (never a silent drop):
- the transport's write buffer has a high-water mark (``write_limit``); above it the
  connection stops reading from the peer, so a peer that sends pings but never reads
  cannot grow our memory, and ``await asend(...)`` waits until the buffer drains;
- a plain ``send()`` while more than ``max_send_buffer`` bytes wait to be written
  closes the connection with 1008 and logs why, instead of buffering without bound.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import itertools
import os
import uuid
from threading import get_ident
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..net.linger import close_lingering
from ..net.loop import call_on_loop, start_coroutine
from .close_codes import WebSocketCloseReasonCode
from .events import BinaryMessage, Event, TextMessage
from .frames import OP_BINARY, OP_TEXT, text_frame
from .protocol import ServerProtocol, State

if TYPE_CHECKING:
    from ..net.request import ServerRequest
    from ..net.upgrade import UpgradeHandover
    from .registry import ServiceEntry

__all__ = ["WebSocketConnection", "deliver_as_batch", "joined_room", "left_room"]

_log = logging.getLogger("kitura.websocket")

_CLOSED = State.CLOSED
# Connection ids: UUID-shaped strs, unique in the process: a random prefix drawn once
# and a counter (uuid4 per connection reads os.urandom each time).
_ID_PREFIX = str(uuid.uuid4())[:24]
_ids = itertools.count(1)
#: The named reasons by code (what WebSocketCloseReasonCode(code) gives, without its call).
_REASONS = {member.code(): member for member in WebSocketCloseReasonCode}


def _new_id_prefix() -> None:
    """A forked worker draws its own prefix: ids stay unique across the workers."""
    global _ID_PREFIX
    _ID_PREFIX = str(uuid.uuid4())[:24]


os.register_at_fork(after_in_child=_new_id_prefix)


class DeliveryBatch:
    """The sends made on one loop thread while a connection delivers the events of one
    read (``data_received``): their frames wait in the cores, and each connection they
    went to is written once when the delivery ends. ``owner`` is the delivering
    connection (None between batches; it writes its own frames at the end of
    ``data_received``); ``others`` lists the other connections with frames waiting.

    It also holds its thread's one-entry cache of text frames: the last str sent as
    text (``text``) and its frame (``frame``), so that a message sent to many
    connections (the chat's relay loop) is framed once (connections without
    compression only)."""

    __slots__ = ("owner", "others", "text", "frame")

    def __init__(self) -> None:
        self.owner: Any = None  # a WebSocketConnection, or _NO_CONNECTION
        self.others: list[WebSocketConnection] = []
        self.text: Any = None
        self.frame = b""

    def flush(self) -> None:
        """Write each of ``others`` once, then end the batch."""
        others = self.others
        i = 0
        try:
            while i < len(others):
                connection = others[i]
                i += 1
                if not connection._batched_bytes:
                    continue  # written meanwhile (a Close, a ping, past write_limit)
                if connection.transport_closed:
                    connection._batched_bytes = 0
                    continue
                try:
                    connection._write_out()
                except Exception:  # noqa: BLE001 - one broken transport must not strand the others
                    _log.exception("Error writing to WebSocket connection %s", connection.id)
        finally:
            # Whatever happened, the next read starts a new batch. Connections not reached
            # (a BaseException escaped a write) keep their frames in their cores: they go
            # out, in order, with the next write to that connection.
            for j in range(i, len(others)):
                others[j]._batched_bytes = 0
            others.clear()
            self.owner = None


def joined_room(connection: "WebSocketConnection", room: Any) -> None:
    """Note that ``connection`` is in ``room``: it calls ``room.leave(connection)`` when it
    closes (so a quiet room holds no closed connections), and keeps the room alive meanwhile."""
    rooms = connection._rooms
    if rooms is None:
        rooms = connection._rooms = set()
    rooms.add(room)


def left_room(connection: "WebSocketConnection", room: Any) -> None:
    """Undo ``joined_room``."""
    rooms = connection._rooms
    if rooms is not None:
        rooms.discard(room)


#: The delivery batch of each loop thread.
_batches: dict[int, DeliveryBatch] = {}


def _batch_of(thread: int) -> DeliveryBatch:
    batch = _batches.get(thread)
    if batch is None:
        batch = _batches[thread] = DeliveryBatch()
    return batch


def deliver_as_batch(fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` on the loop thread as one delivery batch, as ``data_received``
    runs a read's callbacks: the frames it sends are queued and written once per
    connection at the end (rooms deliver the messages of one pub/sub read this way)."""
    batch = _batch_of(get_ident())
    if batch.owner is not None:  # nested in a batch: that one flushes
        fn(*args)
        return
    batch.owner = _NO_CONNECTION
    try:
        fn(*args)
    finally:
        if batch.others:
            batch.flush()
        else:
            batch.owner = None


#: The owner of a batch that no connection delivers (deliver_as_batch).
_NO_CONNECTION: Any = object()


def _json_default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"send(model=...) cannot encode {type(obj).__name__} as JSON")


def encode_message(message: Any, as_binary: Optional[bool], model: Any) -> tuple[int, Any]:
    """(opcode, payload) for ``send(message, as_binary, model=)``, checked; what
    ``WebSocketConnection.send_encoded`` takes (rooms encode a message once for all members)."""
    if model is not None:
        if message is not None:
            raise TypeError("send() takes message= or model=, not both")
        return OP_TEXT, json.dumps(model, default=_json_default, separators=(",", ":"))
    if isinstance(message, str):
        if as_binary:
            return OP_BINARY, message.encode("utf-8")
        return OP_TEXT, message
    if isinstance(message, (bytes, bytearray, memoryview)):
        if as_binary is False:
            data = bytes(message)
            data.decode("utf-8")  # a text message must be UTF-8 (RFC 6455 5.6): fail here, not on the wire
            return OP_TEXT, data
        return OP_BINARY, message
    raise TypeError(f"send(message=...) takes str or bytes, not {type(message).__name__}")


class WebSocketConnection(asyncio.Protocol):
    """Kitura's ``WebSocketConnection``: ``id``, ``request``, ``send``, ``ping``, ``close``, ``drop``.

    Not Kitura API, the contract with the upgrade (registry.py) and rooms (rooms.py):
    ``start()``, ``send_encoded()``, and the attributes ``loop`` and ``loop_thread`` (the
    event loop the connection runs on, and its thread's id) and ``transport_closed``
    (the TCP connection is closed or closing: nothing more can be sent).
    """

    __slots__ = ('_id', 'request', 'subprotocol', 'service', '_entry', '_handover', '_transport', '_proto', 'loop', 'loop_thread', '_compressed', '_opened', '_batched_bytes', 'transport_closed', '_disconnected', '_backlog', '_reading_paused', '_drain_waiters', '_close_timer', '_idle_timer', '_awaiting_pong', '_last_seen', '_rooms', '_batch')

    def __init__(self, entry: "ServiceEntry", handover: "UpgradeHandover", protocol: ServerProtocol,
                 subprotocol: Optional[str] = None) -> None:
        self._id: int | str = next(_ids)  # its number; the id str is made when first read
        self.request: "ServerRequest" = handover.request
        self.subprotocol = subprotocol
        self.service = entry.service
        self._entry = entry
        self._handover = handover
        self._transport = handover.transport
        self._proto = protocol
        self.loop = handover.loop
        self.loop_thread = handover.loop_thread
        self._compressed = protocol.deflate is not None
        self._opened = False
        self._batched_bytes = 0  # queued in the core by sends during a delivery batch, not yet written
        self.transport_closed = False  # TCP closed (or closing)
        self._disconnected = False
        self._backlog: Optional[deque[tuple[Callable[..., Any], tuple[Any, ...]]]] = None
        self._reading_paused = False
        self._drain_waiters: Optional[list[asyncio.Future[None]]] = None  # made by the first asend that waits
        self._rooms: Optional[set[Any]] = None  # the rooms it is in: it leaves them when it closes
        self._close_timer: Optional[asyncio.TimerHandle] = None
        self._idle_timer: Optional[asyncio.TimerHandle] = None
        self._awaiting_pong = False
        self._last_seen = 0.0
        self._batch = _batch_of(handover.loop_thread)  # the delivery batch of its loop thread
        self._transport.set_write_buffer_limits(high=entry.write_limit)

    @property
    def id(self) -> str:
        """The connection's id: UUID-shaped, unique in the process."""
        ident = self._id
        if ident.__class__ is int:
            ident = self._id = f"{_ID_PREFIX}{ident:012x}"
        return ident  # type: ignore[return-value]

    # --- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        """The 101 is out: tell the service, then start the liveness timer (called by the
        upgrade, or by the first read if that comes first)."""
        if self._opened:
            return
        self._opened = True
        self._entry.connections.add(self)
        timeout = self.service.connection_timeout
        if timeout:
            self._last_seen = self.loop.time()
            self._idle_timer = self.loop.call_later(timeout / 2, self._check_idle)
        self._deliver(self.service.connected, (self,))

    def data_received(self, data: bytes) -> None:
        if not self._opened:
            self.start()
        proto = self._proto
        # A read that is one whole message comes back as its str/bytes, else the events.
        received: str | bytes | list[Event] | None = proto.receive_message(data)
        if self._idle_timer is not None:
            self._last_seen = self.loop.time()
            self._awaiting_pong = False
        if received is None:
            received = proto.events_received() or None
        if received is not None:
            # A delivery batch: sends made by the callbacks below, to this connection or
            # any other of this loop, are queued in their cores and written once each,
            # after the callbacks (see send_encoded): one write per connection for a batch,
            # and echoes go out before a Close that followed their messages on the wire
            # (the core holds that Close back).
            batch = self._batch
            if batch.owner is not None:  # nested in another connection's batch: that one flushes
                self._deliver_input(received)
            else:
                batch.owner = self
                try:
                    kind = received.__class__
                    if kind is str and self._backlog is None:
                        # A lone text message (the echo's path): _deliver inline.
                        try:
                            result = self.service.received_text(received, self)
                        except Exception as exc:  # noqa: BLE001 - as in _call
                            self._callback_failed(exc)
                        else:
                            if result is not None:
                                self._started(result)
                    else:
                        self._deliver_input(received)
                finally:
                    if batch.others:
                        batch.flush()
                    else:
                        batch.owner = None
        self._batched_bytes = 0
        out = proto.data_to_send()
        if out:
            if len(out) == 1:
                self._transport.write(out[0])
            else:
                self._transport.writelines(out)
        if proto.state is _CLOSED and not self.transport_closed:
            self._finish_close()

    def _deliver_input(self, received: "str | bytes | list[Event]") -> None:
        """Deliver a lone message (str or bytes) or the events of one read, in order."""
        kind = received.__class__
        if kind is str or kind is bytes:
            self._deliver(self.service.received_text if kind is str else self.service.received_binary,
                          (received, self))
            return
        for event in received:  # type: ignore[union-attr]
            kind = type(event)
            if kind is TextMessage:
                self._deliver(self.service.received_text, (event.data, self))
            elif kind is BinaryMessage:
                self._deliver(self.service.received_binary, (event.data, self))
            # Ping (answered by the core), Pong and CloseReceived need nothing here.

    def eof_received(self) -> Optional[bool]:
        self._proto.receive_eof()
        return None  # let the transport close

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.transport_closed = True
        self._proto.receive_eof()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        waiters = self._drain_waiters
        if waiters is not None:
            self._drain_waiters = None
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(ConnectionError("the WebSocket connection is closed"))
        self._entry.connections.discard(self)
        self._handover.release()
        rooms = self._rooms
        if rooms:
            self._rooms = None
            for room in list(rooms):
                room.leave(self)
        if self._opened and not self._disconnected:
            self._disconnected = True
            self._deliver(self.service.disconnected, (self, self._disconnect_reason()))

    def _disconnect_reason(self) -> WebSocketCloseReasonCode:
        proto = self._proto
        code = proto.close_code
        if code is None or code == 1006:
            # The peer sent no Close: say why we ended it, if we did.
            code = proto.local_close_code if proto.local_close_code is not None else 1006
        reason = _REASONS.get(code)
        return reason if reason is not None else WebSocketCloseReasonCode(code)

    def shutdown(self) -> None:
        """The server stops: close with 1001 Going Away."""
        self.close(reason=WebSocketCloseReasonCode.GOING_AWAY, description="Server is shutting down")

    # --- callbacks, in order per connection ------------------------------------
    def _deliver(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if self._backlog is not None:
            self._backlog.append((fn, args))
            return
        self._call(fn, args)

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - a service bug must not take the server down
            self._callback_failed(exc)
            return
        if result is not None:
            self._started(result)

    def _started(self, result: Any) -> None:
        """A callback returned ``result`` (not None): a coroutine is run, its first step now."""
        if asyncio.iscoroutine(result):
            task = start_coroutine(result, self._callback_failed)  # eagerly: most callbacks never suspend
            if task is not None:  # it suspended: later callbacks wait behind it
                self._backlog = deque()
                task.add_done_callback(self._resume_backlog)

    def _resume_backlog(self, _task: Any) -> None:
        backlog, self._backlog = self._backlog, None
        while backlog:
            fn, args = backlog.popleft()
            self._call(fn, args)
            if self._backlog is not None:  # suspended again: the rest waits behind it
                self._backlog.extend(backlog)
                return

    def _callback_failed(self, exc: BaseException) -> None:
        _log.error("Error in a callback of %s on connection %s", type(self.service).__name__, self.id,
                   exc_info=(type(exc), exc, exc.__traceback__))
        self.close(reason=WebSocketCloseReasonCode.SERVER_ERROR)

    # --- sending ------------------------------------------------------------------
    def send(self, message: str | bytes | bytearray | memoryview | None = None, as_binary: Optional[bool] = None,
             *, model: Any = None) -> None:
        """Send a message: ``str`` as text, ``bytes`` as binary (``as_binary`` overrides),
        or ``model=`` as JSON text (anything ``json.dumps`` takes, dataclasses too).

        Safe from any thread. Past ``max_send_buffer`` waiting bytes the connection is
        closed with 1008 (logged); use ``await asend(...)`` to wait instead.
        """
        if message.__class__ is str and as_binary is None and model is None:
            if get_ident() == self.loop_thread and not self._compressed:
                # send_encoded(OP_TEXT, message) on a connection without compression, its
                # text path inline (one Python call less for the echo and the chat relay);
                # tests/websocket/test_batching.py checks that both do the same.
                if self.transport_closed:
                    return
                entry = self._entry
                batched = self._batched_bytes
                if self._transport.get_write_buffer_size() + batched > entry.max_send_buffer:
                    self._send_buffer_full()
                    return
                batch = self._batch
                if batch.text is message:
                    frame = batch.frame
                else:
                    batch.frame = frame = text_frame(message)
                    batch.text = message
                self._proto.send_frame(frame)
                owner = batch.owner
                if owner is not None:
                    if not batched and owner is not self:
                        batch.others.append(self)
                    self._batched_bytes = batched = batched + len(frame)
                    if batched <= entry.write_limit:
                        return
                self._write_out()
                return
            opcode, payload = OP_TEXT, message  # what encode_message gives, without the call
        else:
            opcode, payload = encode_message(message, as_binary, model)
        if get_ident() == self.loop_thread:
            self.send_encoded(opcode, payload)
        else:
            self._call_soon(self.send_encoded, opcode, payload)

    async def asend(self, message: str | bytes | bytearray | memoryview | None = None,
                    as_binary: Optional[bool] = None, *, model: Any = None) -> None:
        """Send, waiting first while more than ``write_limit`` bytes wait for a slow peer.

        From a coroutine on the server's loop, or on any other loop/thread (it is
        then run on the server's loop). Raises ConnectionError once the connection closed.
        """
        opcode, payload = encode_message(message, as_binary, model)
        if asyncio.get_running_loop() is not self.loop:
            future = asyncio.run_coroutine_threadsafe(self._asend_here(opcode, payload), self.loop)
            await asyncio.wrap_future(future)
        else:
            await self._asend_here(opcode, payload)

    async def _asend_here(self, opcode: int, payload: bytes) -> None:
        if self._batched_bytes and \
                self._transport.get_write_buffer_size() + self._batched_bytes > self._entry.write_limit:
            self._write_out()  # what waits in a batch counts: write it, so the transport can push back
        while self._transport.get_write_buffer_size() > self._entry.write_limit and not self.transport_closed:
            waiter = self.loop.create_future()
            if self._drain_waiters is None:
                self._drain_waiters = []
            self._drain_waiters.append(waiter)
            await waiter
        if self.transport_closed:
            raise ConnectionError("the WebSocket connection is closed")
        self.send_encoded(opcode, payload)

    def send_encoded(self, opcode: int, payload: Any) -> None:
        """On the loop thread: send what ``encode_message`` gave (rooms send one encoded
        message to each member with it)."""
        if self.transport_closed:
            return
        entry = self._entry
        batched = self._batched_bytes
        if self._transport.get_write_buffer_size() + batched > entry.max_send_buffer:
            self._send_buffer_full()
            return
        batch = self._batch
        if opcode == OP_TEXT and payload.__class__ is str and not self._compressed:
            # The thread's one-entry cache: a message sent to many connections is framed once.
            if batch.text is payload:
                frame = batch.frame
            else:
                batch.frame = frame = text_frame(payload)
                batch.text = payload
            self._proto.send_frame(frame)
            size = len(frame)
        elif opcode == OP_TEXT:
            self._proto.send_text(payload)
            size = len(payload) + 2
        else:
            self._proto.send_binary(payload)
            size = len(payload) + 2
        owner = batch.owner
        if owner is not None:
            # A delivery batch is running on this thread (see data_received): queue the
            # frame in the core, to be written when the batch ends, but never more than
            # write_limit bytes, so the buffer checks keep their meaning.
            if not batched and owner is not self:
                batch.others.append(self)
            self._batched_bytes = batched = batched + size
            if batched <= entry.write_limit:
                return
        self._write_out()

    def _send_buffer_full(self) -> None:
        waiting = self._transport.get_write_buffer_size() + self._batched_bytes
        _log.warning(
            "Closing WebSocket connection %s: %d bytes wait to be sent to a peer that does not read "
            "(max_send_buffer=%d); use `await connection.asend(...)` to wait instead",
            self.id, waiting, self._entry.max_send_buffer)
        self.drop(reason=WebSocketCloseReasonCode.POLICY_VIOLATION, description="send buffer full")

    def _write_out(self) -> None:
        """Write what the core has queued (the frames of a batch first, in order).

        During a delivery batch a Close or Pong the core holds back stays held: the
        replies still to come in this batch go before it (data_received releases it)."""
        self._batched_bytes = 0
        out = self._proto.data_to_send(self._batch.owner is None)
        if out:
            self._write(out)

    def _write(self, chunks: list[bytes]) -> None:
        if len(chunks) == 1:
            self._transport.write(chunks[0])
        else:
            self._transport.writelines(chunks)

    def ping(self, with_message: str | bytes | None = None) -> None:
        """Send a Ping (payload at most 125 bytes)."""
        payload = with_message.encode("utf-8") if isinstance(with_message, str) else (with_message or b"")
        if len(payload) > 125:
            raise ValueError("a ping payload is at most 125 bytes (RFC 6455 5.5)")
        self._call_soon(self._ping_now, payload)

    def _ping_now(self, payload: bytes) -> None:
        if not self.transport_closed:
            self._proto.send_ping(payload)
            self._write_out()  # the frames queued before it, then the Ping

    # --- closing -------------------------------------------------------------------
    def close(self, reason: Optional[WebSocketCloseReasonCode] = None, description: Optional[str] = None) -> None:
        """Start the close handshake; the peer has ``close_timeout`` seconds to answer."""
        code = (reason or WebSocketCloseReasonCode.NORMAL).code()
        self._call_soon(self._close_now, code, description or "", False)

    def drop(self, reason: Optional[WebSocketCloseReasonCode] = None, description: Optional[str] = None) -> None:
        """Send a Close and close the TCP connection at once, without waiting for the answer."""
        code = (reason or WebSocketCloseReasonCode.NORMAL).code()
        self._call_soon(self._close_now, code, description or "", True)

    def _close_now(self, code: int, description: str, drop: bool) -> None:
        if self.transport_closed:
            return
        proto = self._proto
        try:
            proto.send_close(code, description)
        except ValueError:
            proto.send_close(1000, description)
        self._write_out()  # the frames queued before it, then the Close
        if drop or proto.close_expected():
            if proto.close_code is None and proto.local_close_code is None:
                proto.local_close_code = code
            self._finish_close()
        elif self._close_timer is None:
            self._close_timer = self.loop.call_later(self._entry.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        self._close_timer = None
        if not self.transport_closed:
            _log.debug("WebSocket connection %s: no Close answer in time, dropping it", self.id)
            self.transport_closed = True
            self._transport.abort()

    def _finish_close(self) -> None:
        """RFC 6455 7.1.1: the server closes the TCP connection once the handshake is done."""
        if not self.transport_closed:
            self.transport_closed = True
            transport = self._transport
            tls = transport.get_extra_info("sslcontext") is not None
            # Half-close and drain what the peer still sends, so that no reset erases the
            # frames and the Close not yet read (RFC 9112 9.6); a peer that reads nothing
            # is aborted after close_timeout without progress. A peer whose Close (or EOF)
            # was read sends nothing more (RFC 6455 5.5.1): a plain close, no drain.
            close_lingering(transport, self.loop, self._entry.close_timeout,
                            drain=self._proto.close_code is None)
            if tls:  # TLS has its own shutdown exchange: bound it too
                self._close_timer = self.loop.call_later(self._entry.close_timeout, transport.abort)

    def _call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        call_on_loop(self.loop, self.loop_thread, fn, *args)

    # --- flow control and liveness ---------------------------------------------------
    def pause_writing(self) -> None:
        if not self._reading_paused and not self.transport_closed:  # closing: input is drained (linger)
            self._reading_paused = True
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            if not self.transport_closed:
                self._transport.resume_reading()
        waiters, self._drain_waiters = self._drain_waiters, None
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _check_idle(self) -> None:
        self._idle_timer = None
        if self.transport_closed:
            return
        # Kitura's rule: a peer silent for half the timeout is pinged, and dropped if it
        # still says nothing in the other half.
        timeout = (self.service.connection_timeout or 0) / 2
        if timeout <= 0:
            return
        idle = self.loop.time() - self._last_seen
        if idle >= timeout:
            if self._awaiting_pong:
                _log.debug("WebSocket connection %s: no answer to a ping in %ss, dropping it", self.id, timeout)
                self._proto.local_close_code = 1006
                self.transport_closed = True
                self._transport.abort()
                return
            self._awaiting_pong = True
            self._last_seen = self.loop.time()
            self._ping_now(b"")
            idle = 0.0
        self._idle_timer = self.loop.call_later(max(timeout - idle, 0.01), self._check_idle)

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self.id} {self.request.url!r}>"
