"""The sans-I/O WebSocket server protocol (RFC 6455 sections 5-8, RFC 7692 6).

This module owns ``ServerProtocol``, one per connection, after the opening
handshake: bytes in (``receive_data``, ``receive_eof``), events out
(``events_received``) and bytes out (``data_to_send``). It assembles
fragmented messages, validates UTF-8, enforces the size limits, answers
pings, runs the close handshake and maps every parse error to a close code.
It does no I/O and imports only the standard library (``deflate`` is passed in).

Theory of operation:

- ``receive_data`` is the single error boundary: a ``ProtocolError`` raised
  anywhere below becomes ``fail(error.code, error.reason)``, any other
  exception is logged and becomes ``fail(1011)``. Nothing escapes it.
- A read that is exactly one whole uncompressed message in one frame, with
  nothing buffered or in progress, is parsed by one call
  (``frames.parse_message``, in C when ``_speedups`` was built);
  ``receive_message`` hands such a message out without an event object.
  Otherwise a message that fits in one uncompressed frame takes a fast path
  in the parse loop (no assembly state touched). Fragmented or compressed messages
  go through ``_on_data``, which keeps the parts in a list and joins them
  once at the end (no quadratic copying). Text is decoded fragment by
  fragment with an incremental UTF-8 decoder, so an invalid byte fails the
  connection (1007) as soon as it arrives.
- Before a data frame's payload is buffered, its length is checked against
  what is left of the message budget (``max_message_size``); compressed
  messages pass the remaining budget to ``deflate.decompress``.
- A failure, or the peer's Close, met while data message events wait for
  the application is held back: input stops, the state stays OPEN so the
  application can answer those messages, and ``data_to_send`` appends the
  Close after the answers, then enters CLOSED. A Ping's Pong is held the
  same way (see the ``ServerProtocol`` docstring for the exact contract).
- The arrived part of an uncompressed text frame that is still incomplete
  at the end of ``receive_data`` is unmasked (``FrameReader.take_partial``)
  and fed to the UTF-8 decoder, so a frame sent in pieces fails (1007) with
  the piece that carries the invalid byte; each byte is unmasked and
  decoded once. Whole frames do not take this path.
- States: OPEN -> CLOSING (we sent a Close, wait for the peer's) -> CLOSED,
  or OPEN -> CLOSED directly (the peer's Close was echoed, or ``fail``).
  In CLOSED every further input is ignored and ``close_expected()`` is True:
  the server should close the TCP connection (RFC 6455 7.1.1).
"""

from __future__ import annotations

import enum
import logging
from typing import NamedTuple, Protocol

from .close_codes import is_valid_close_code
from .errors import ProtocolError
from .events import BinaryMessage, CloseReceived, Event, Ping, Pong, TextMessage
from .mask import apply_mask
from .frames import (
    MAX_CONTROL_PAYLOAD,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RSV1,
    FrameReader,
    encode_close_payload,
    encode_frame,
    encode_frame_head,
    parse_close_payload,
    parse_message,
)
from .utf8 import Utf8Decoder

__all__ = [
    "State",
    "ServerProtocol",
    "Deflate",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_FRAGMENTS",
]

DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
"""Largest message accepted by default: 16 MiB, Kitura's frame limit."""

DEFAULT_MAX_FRAGMENTS = 100_000
"""Most frames one message may be cut into by default."""

_UNLIMITED = 1 << 63

_DATA_EVENTS = (TextMessage, BinaryMessage)
# From this payload size on, a data frame is queued as two chunks (header, payload).
_SPLIT_AT = 16 * 1024
# First header byte without FIN (RSV bits and opcode) of the frames whose
# arrived part _on_partial validates: uncompressed text / continuation.
_TEXT_ONLY = frozenset({OP_TEXT})
_CONT_ONLY = frozenset({OP_CONT})
_TEXT_OR_CONT = frozenset({OP_TEXT, OP_CONT})


class HeldClose(NamedTuple):
    """A Close held back behind the answers to data messages (see ``ServerProtocol``)."""

    peer_close: bool  # the echo of the peer's Close (else a failure's Close)
    code: int
    reason: str


class State(enum.Enum):
    """Connection state after the opening handshake (RFC 6455 4.1, 7)."""

    OPEN = 1
    CLOSING = 2
    CLOSED = 3


_OPEN = State.OPEN
_CLOSING = State.CLOSING
_CLOSED = State.CLOSED


class Deflate(Protocol):
    """What ``ServerProtocol`` needs from ``deflate.PerMessageDeflate`` (RFC 7692)."""

    def decompress(self, payload: bytes, fin: bool, max_length: int) -> bytes: ...

    def compress(self, data: bytes | bytearray | memoryview) -> bytes: ...


# The close reasons Kitura sends for these failures, word for word.
_INVALID_UTF8 = "Failed to convert received payload to UTF-8 String"


def _rsv_error(rsv: int) -> str:
    bits = ",".join(name for bit, name in ((0x40, "RSV1"), (0x20, "RSV2"), (0x10, "RSV3")) if rsv & bit) or "RSV1"
    return f"{bits} must be 0 unless negotiated to define meaning for non-zero values"


#: The Close frames without a reason of the common codes, made once (most closes echo
#: a peer's 1000 or 1001, or fail with one of these).
_CLOSE_FRAMES = {code: encode_frame(OP_CLOSE, encode_close_payload(code))
                 for code in (1000, 1001, 1002, 1003, 1005, 1007, 1008, 1009, 1010, 1011)}
#: The CloseReceived events of the same codes without a reason: frozen values, so one
#: of each serves every connection.
_CLOSE_EVENTS = {code: CloseReceived(code, "") for code in _CLOSE_FRAMES}


def _truncate_reason(reason: str) -> str:
    # RFC 6455 5.5: a Close payload is at most 125 bytes, 2 of them the code.
    data = reason.encode("utf-8")
    if len(data) <= MAX_CONTROL_PAYLOAD - 2:
        return reason
    return data[: MAX_CONTROL_PAYLOAD - 2].decode("utf-8", "ignore")


class ServerProtocol:
    """Sans-I/O WebSocket server side of one connection (after the handshake).

    Args:
        max_message_size: largest message accepted, in bytes after inflating
            (default 16 MiB); ``None`` for no limit. Past it: fail 1009.
        max_fragments: most frames in one message (default 100,000);
            ``None`` for no limit. Past it: fail 1008 ("too many fragments").
        deflate: the negotiated permessage-deflate codec, or ``None``. When
            set, RSV1 is accepted on the first frame of a data message and
            ``send_text``/``send_binary`` compress messages of at least
            ``deflate.min_size`` bytes (an optional attribute, default 0).
        logger: where unexpected errors are logged (default ``kitura.websocket``).

    Public attributes (read them, do not assign):
        deflate: the ``deflate`` given (None: no compression was negotiated).
        state: ``State.OPEN``, ``CLOSING`` or ``CLOSED``.
        close_code, close_reason: what the peer sent in its Close frame; 1005
            for an empty Close, 1006 after ``receive_eof`` without a Close;
            ``None``/``""`` until then.
        local_close_code, local_close_reason: added member: the code and
            reason this side closed with (the Close frame sent by
            ``send_close``/``fail``, the echo of the peer's Close, or the
            code given to ``fail`` even when no frame could be sent);
            ``None``/``""`` until then.
        max_message_size, max_fragments: the limits in force.

    Use, in this order, for each chunk of bytes read:

    1. ``receive_data(data)``;
    2. ``events = events_received()``; deliver each event to the
       application, whose answers call ``send_text``/``send_binary``/
       ``send_frame`` (and must not call ``data_to_send()`` meanwhile);
    3. ``out = data_to_send()``; write ``out`` to the transport;
    4. if ``close_expected()``: close the TCP connection.

    Holding back (so that answers to messages go out before what followed
    those messages on the wire, e.g. Autobahn 3.x, 4.x, 5.15): when the input
    fails (a ``ProtocolError``, or an unexpected error: 1011) or brings the
    peer's Close while a ``TextMessage``/``BinaryMessage`` event still waits
    in the events list (not yet returned by ``events_received()``), the
    protocol stops parsing (the rest of the input is discarded, and further
    ``receive_data`` calls are ignored), keeps ``state`` OPEN so that sends
    still work, and holds the Close back: ``data_to_send()`` appends it (the
    failure's Close, or the echo of the peer's Close) after the frames
    queued by the sends, and only then moves to CLOSED, so
    ``close_expected()`` becomes True after that call. ``close_code``/
    ``close_reason`` are set as soon as the peer's Close is parsed (and a
    ``CloseReceived`` event is queued as usual); ``local_close_code`` when
    the Close is queued. Likewise the Pong answering a Ping met while a data
    message event waits (or while an earlier Pong is held) is held back and
    appended by ``data_to_send()`` after the sends' frames (before a held
    Close). With no data message event waiting, all of this happens at
    once, as it always did. ``send_close`` or ``fail`` by the application
    act at once (held pongs are queued before their Close; a held Close is
    then not sent); ``receive_eof`` queues what is held first.
    """

    # Slots: with an instance dict of these 32 attributes, the 32-byte echo
    # (receive_data + send_text + data_to_send) measured about 15% slower.
    __slots__ = (
        "max_message_size", "max_fragments", "_max_size", "_max_frags", "deflate",
        "_compress_min", "_max_wire", "_logger", "_debug", "state", "close_code", "close_reason",
        "local_close_code", "local_close_reason", "_reader", "_events", "_out", "_held_pongs",
        "_held_close", "_scanned", "_msg_opcode", "_msg_compressed", "_msg_parts",
        "_msg_size", "_msg_wire", "_msg_frames", "_decoder", "_frame_started", "_limit",
        "_rsv1_limit", "__weakref__",
    )

    def __init__(
        self,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int | None = DEFAULT_MAX_FRAGMENTS,
        deflate: Deflate | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        # Configuration.
        self.max_message_size = max_message_size
        self.max_fragments = max_fragments
        max_size = self._max_size = _UNLIMITED if max_message_size is None else max_message_size
        self._max_frags = _UNLIMITED if max_fragments is None else max_fragments
        self.deflate = deflate
        max_wire: int | None = None
        if deflate is None:
            self._compress_min = 0
        else:
            self._compress_min = getattr(deflate, "min_size", 0) or 0
            # A compressed frame may be a little larger than its inflated size
            # (stored deflate blocks add 5 bytes per block); allow 1/256 + 1 KiB.
            max_wire = max_size + (max_size >> 8) + 1024
        self._max_wire = max_wire
        if logger is None:
            logger = logging.getLogger("kitura.websocket")
        self._logger = logger
        self._debug = logger.isEnabledFor(logging.DEBUG)

        # Connection state.
        self.state = _OPEN
        self.close_code: int | None = None
        self.close_reason = ""
        self.local_close_code: int | None = None
        self.local_close_reason = ""
        self._reader = FrameReader(require_mask=True)
        self._events: list[Event] = []
        self._out: list[bytes] = []
        # Holding back behind the answers to data messages (see the class docstring).
        # Input is ignored while a Close is held (as in CLOSED); data_to_send releases both.
        # The lists below that most connections never fill start as the shared empty tuple
        # (a list is made when one is needed): an idle connection holds less.
        self._held_pongs: list[bytes] | tuple[()] = ()
        self._held_close: HeldClose | None = None
        self._scanned = 0  # events already found to hold no data message

        # The message being assembled (_msg_opcode == 0: none).
        self._msg_opcode = 0
        self._msg_compressed = False
        self._msg_parts: list[bytes] | list[str] | tuple[()] = ()
        self._msg_size = 0  # payload bytes so far, after inflating
        self._msg_wire = 0  # compressed bytes so far
        self._msg_frames = 0
        self._decoder: Utf8Decoder | None = None  # made by the first text message in frames
        self._frame_started = False  # _on_partial has seen the start of the frame at the reader's head
        # Payload caps for the next frame, from the header (see FrameReader.next_frame).
        self._limit = max_size
        self._rsv1_limit = max_wire


    # ------------------------------------------------------------------ input

    def receive_data(self, data: bytes) -> None:
        """Feed bytes received from the peer; never raises.

        Complete frames are processed at once: events are queued for
        ``events_received()``, answers (pongs, the Close echo, a failure's
        Close) for ``data_to_send()``, held back behind the answers to the
        data messages received before them (see the class docstring). The
        payload of an uncompressed text frame still incomplete at the end
        of the call is unmasked and UTF-8 validated as far as it arrived.
        Bytes are ignored once the state is CLOSED (after the peer's Close,
        after ``fail``, after EOF) and while a Close is held back.
        """
        message = self.receive_message(data)
        if message is not None:
            self._events.append(TextMessage(message) if message.__class__ is str else BinaryMessage(message))

    def receive_message(self, data: bytes) -> str | bytes | None:
        """Added member: ``receive_data`` that hands out a lone message directly.

        When ``data`` is exactly one whole uncompressed text or binary message
        in one frame, nothing is buffered or being assembled and no events wait
        for ``events_received``, return it (``str`` for text, ``bytes`` for
        binary) instead of queuing an event: the caller delivers it as it would
        the ``TextMessage``/``BinaryMessage``. Otherwise do what ``receive_data``
        does and return ``None``; events, if any, are then in ``events_received()``.
        """
        if self._held_close is not None or self.state is _CLOSED:  # input stopped (see data_to_send)
            return None
        if not self._reader.buf and not self._msg_opcode and not self._debug:
            # Fastest path (an echo or chat message): what _parse would do, in one call.
            # Anything else, invalid UTF-8 included, takes _parse.
            message = parse_message(data, self._limit)
            if message is not None:
                if not self._events:
                    return message
                # Events wait: this message goes after them.
                self._events.append(TextMessage(message) if message.__class__ is str else BinaryMessage(message))
                return None
        self._parse(data)
        return None

    def _parse(self, data: bytes) -> None:
        """The general input path: frames of any kind, split anywhere."""
        reader = self._reader
        events = self._events
        try:
            if (not reader.buf and data.__class__ is bytes and 6 <= len(data) <= 131 and data[0] == 0x88
                    and data[1] ^ 0x80 == len(data) - 6 and not self._debug):
                # One whole masked Close frame and nothing else (how most connections end):
                # what the loop below does with it, without buffering it in the reader.
                payload = apply_mask(data[6:], data[2:6])
                if self.state is _OPEN and not events and not self._held_pongs:
                    # Nothing waits before it (no event, no held pong): what _on_control
                    # and _peer_closed do then, written out.
                    code, reason = parse_close_payload(payload)
                    self.close_code = code
                    self.close_reason = reason
                    event = None if reason else _CLOSE_EVENTS.get(code)
                    events.append(event if event is not None else CloseReceived(code, reason))
                    self._scanned = 1  # as _data_waiting: the one event is no data message
                    self._queue_close(code, reason)
                    self._enter_closed()
                else:
                    self._on_control(0, OP_CLOSE, payload)
                return
            reader.feed(data)
            while True:
                frame = reader.next_frame(self._limit, self._rsv1_limit)
                if frame is None:
                    if reader.buf:  # an incomplete frame is buffered
                        self._on_partial()
                    return
                fin, rsv, opcode, payload = frame
                if self._debug:
                    self._logger.debug("< opcode=%#x fin=%s rsv=%#x %d bytes", opcode, fin, rsv, len(payload))
                if opcode >= 8:
                    self._on_control(rsv, opcode, payload)
                    if self._held_close is not None or self.state is _CLOSED:
                        return
                elif fin and opcode and not rsv and not self._msg_opcode:
                    # Fast path: a whole uncompressed message in one frame
                    # (its size was checked by next_frame against _limit).
                    if opcode == OP_TEXT:
                        try:
                            text = payload.decode("utf-8")
                        except UnicodeDecodeError:  # RFC 6455 8.1
                            raise ProtocolError(1007, _INVALID_UTF8) from None
                        events.append(TextMessage(text))
                    else:
                        events.append(BinaryMessage(payload))
                else:
                    self._on_data(fin, rsv, opcode, payload)
        except ProtocolError as exc:
            if self._debug:
                self._logger.debug("! failing the connection: %s", exc)
            self._fail_input(exc.code, exc.reason)
        except Exception:
            # RFC 6455 7.4.1: 1011, an unexpected condition; no details to the peer.
            self._logger.exception("unexpected error while processing WebSocket data")
            self._fail_input(1011, "")

    def receive_eof(self) -> None:
        """The peer closed the TCP connection (or it was lost).

        Without a Close frame before it, ``close_code`` becomes 1006
        (RFC 6455 7.1.5, 7.4.1). The state becomes CLOSED. A held-back
        Close (and pongs) is queued first, as ``data_to_send`` would.
        """
        if self._held_pongs or self._held_close is not None:
            self._release()
        elif self.state is _CLOSED and self.close_code is not None:
            return  # closed already (the peer's Close was read): nothing changes
        if self.close_code is None:
            self.close_code = 1006
            self.close_reason = ""
        self._enter_closed()

    def events_received(self) -> list[Event]:
        """Return the events received since the last call (and forget them)."""
        events = self._events
        self._events = []
        self._scanned = 0
        return events

    def data_to_send(self, release_held: bool = True) -> list[bytes]:
        """Return the frames to write, in order, since the last call (and forget them).

        A frame is one item, except a data frame with a payload of 16 KiB or more
        (``bytes``, or compressed): its header and its payload are two items, so that
        the payload is written without being copied.

        Frames held back behind the answers to received data messages come
        last: the pongs, then the held-back Close (the failure's Close, or
        the echo of the peer's Close), whose transition to CLOSED happens
        here; ``close_expected()`` is True from then on. With
        ``release_held=False`` (a flush in the middle of the answers) they
        stay held, so answers queued after this call still go before them.
        """
        if release_held and (self._held_pongs or self._held_close is not None):
            self._release()
        out = self._out
        self._out = []
        return out

    def close_expected(self) -> bool:
        """True when the server should now close the TCP connection (RFC 6455 7.1.1).

        That is once the state is CLOSED: the close handshake finished, the
        connection failed, or EOF was received. A held-back Close counts
        only once ``data_to_send()`` has returned it.
        """
        return self.state is _CLOSED

    # ----------------------------------------------------------------- output

    def send_text(self, data: str | bytes) -> None:
        """Send a text message in one frame (compressed when deflate is on).

        ``bytes`` must already be UTF-8. Does nothing unless the state is OPEN
        (RFC 6455 5.5.1: no data after our Close).
        """
        if self.state is not _OPEN:
            return
        if data.__class__ is str:
            data = data.encode("utf-8")
        self._send_message(OP_TEXT, data)  # type: ignore[arg-type]

    def send_binary(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message in one frame (compressed when deflate is on).

        Does nothing unless the state is OPEN.
        """
        if self.state is not _OPEN:
            return
        self._send_message(OP_BINARY, data)

    def _send_message(self, opcode: int, data: bytes | bytearray | memoryview) -> None:
        deflate = self.deflate
        compressed = deflate is not None and len(data) >= self._compress_min
        if compressed:
            # RFC 7692 6: RSV1 on the (only) frame of a compressed message.
            data = deflate.compress(data)  # type: ignore[union-attr]
        if len(data) >= _SPLIT_AT and data.__class__ is bytes:
            # A large immutable payload is queued after its header, not copied into
            # one frame: the transport writes both chunks (writev).
            self._out += (encode_frame_head(opcode, len(data), compressed), data)
        else:
            self._out.append(encode_frame(opcode, data, True, compressed))

    def send_frame(self, frame: bytes) -> None:
        """Added member: queue a data frame already made by ``frames.encode_frame``.

        For broadcast: frame a message once (uncompressed, so valid on every
        connection whatever was negotiated) and pass the same bytes to each
        receiver's protocol. Does nothing unless the state is OPEN.
        """
        if self.state is _OPEN:
            self._out.append(frame)

    def send_ping(self, data: bytes = b"") -> None:
        """Send a Ping (RFC 6455 5.5.2). ``ValueError`` past 125 bytes.

        Does nothing unless the state is OPEN.
        """
        if len(data) > MAX_CONTROL_PAYLOAD:
            raise ValueError("ping payload longer than 125 bytes")
        if self.state is _OPEN:
            self._out.append(encode_frame(OP_PING, data))

    def send_pong(self, data: bytes = b"") -> None:
        """Send an unsolicited Pong, a heartbeat (RFC 6455 5.5.3). ``ValueError`` past 125 bytes.

        Does nothing unless the state is OPEN.
        """
        if len(data) > MAX_CONTROL_PAYLOAD:
            raise ValueError("pong payload longer than 125 bytes")
        if self.state is _OPEN:
            self._out.append(encode_frame(OP_PONG, data))

    def send_close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake (RFC 6455 7.1.2): send Close, state CLOSING.

        The peer's Close then completes it (state CLOSED, ``close_expected()``).
        ``code`` 1005 sends an empty Close; other codes must be valid on the
        wire (RFC 6455 7.4), else ``ValueError``. ``reason`` is cut to fit 123
        bytes of UTF-8. Does nothing unless the state is OPEN.
        """
        if code != 1005 and not is_valid_close_code(code):
            raise ValueError(f"close code {code} may not be sent (RFC 6455 7.4)")
        if self.state is not _OPEN:
            return
        self._queue_close(code, reason)
        self.state = _CLOSING

    def fail(self, code: int, reason: str = "") -> None:
        """Fail the WebSocket connection (RFC 6455 7.1.7).

        Sends a Close with ``code`` and ``reason`` if the state is OPEN and the
        code may be sent (so ``fail(1006)`` sends nothing), then enters
        CLOSED: further input is ignored and ``close_expected()`` is True, so
        the TCP connection should be closed now. Does nothing when CLOSED.
        Called by the application, it acts at once (a held-back Close of
        the input is dropped: this Close replaces it).
        """
        if self.state is _CLOSED:
            return
        if self.state is _OPEN:
            if is_valid_close_code(code):
                self._queue_close(code, reason)
            else:
                self.local_close_code = code
                self.local_close_reason = reason
        self._enter_closed()

    # --------------------------------------------------------------- internal

    def _queue_close(self, code: int, reason: str) -> None:
        if self._held_pongs:  # they go before our Close
            self._out += self._held_pongs
            self._held_pongs = ()
        frame = None if reason else _CLOSE_FRAMES.get(code)
        if frame is None:
            reason = _truncate_reason(reason)
            frame = encode_frame(OP_CLOSE, encode_close_payload(code, reason))
        self._out.append(frame)
        self.local_close_code = code
        self.local_close_reason = reason

    def _enter_closed(self) -> None:
        self.state = _CLOSED
        self._held_close = None
        if self._held_pongs:
            self._out += self._held_pongs
            self._held_pongs = ()
        self._stop_input()

    def _stop_input(self) -> None:
        self._reader.discard()
        self._msg_opcode = 0
        self._msg_parts = ()
        self._frame_started = False

    def _data_waiting(self) -> bool:
        """True when a TextMessage/BinaryMessage waits in the events list.

        Scans only the events added since the last scan (``_scanned``, reset
        by ``events_received``): linear in the events, however many control
        frames ask.
        """
        events = self._events
        for i in range(self._scanned, len(events)):
            if events[i].__class__ in _DATA_EVENTS:
                self._scanned = i  # found: the next call stops here at once
                return True
        self._scanned = len(events)
        return False

    def _hold(self, peer_close: bool, code: int, reason: str) -> None:
        # The Close waits for data_to_send (after the answers to the data
        # messages in the events list); input stops here, sends still work.
        self._held_close = HeldClose(peer_close, code, reason)
        self._stop_input()

    def _release(self) -> None:
        """Queue the held-back pongs, then apply the held-back transition."""
        if self._held_pongs:
            self._out += self._held_pongs
            self._held_pongs = ()
        held = self._held_close
        if held is not None:
            self._held_close = None
            peer_close, code, reason = held
            if peer_close:
                self._peer_closed(code, reason)
            else:
                self.fail(code, reason)

    def _fail_input(self, code: int, reason: str) -> None:
        # A failure met in the input: held back behind waiting data messages.
        if self.state is _OPEN and self._data_waiting():
            self._hold(False, code, reason)
        else:
            self.fail(code, reason)

    def _peer_closed(self, code: int, reason: str = "") -> None:
        if self.state is _OPEN:
            # RFC 6455 5.5.1: answer with a Close, echoing the status code (an empty
            # Close gets an empty Close) and, as Kitura does, the reason.
            self._queue_close(code, reason)
        # RFC 6455 7.1.1/5.5.1: the handshake is complete; the server
        # closes TCP, and nothing after the Close frame is processed.
        self._enter_closed()

    def _on_control(self, rsv: int, opcode: int, payload: bytes) -> None:
        # FrameReader has checked fin and the 125-byte limit (RFC 6455 5.5).
        if rsv:
            # RFC 6455 5.2, RFC 7692 6: no extension defines RSV bits on control frames.
            raise ProtocolError(1002, _rsv_error(rsv))
        if opcode == OP_PING:
            self._events.append(Ping(payload))
            if self.state is _OPEN:
                # RFC 6455 5.5.3: the Pong carries the Ping's payload. It goes
                # after the answers to the data messages received before it.
                pong = encode_frame(OP_PONG, payload)
                if self._held_pongs:
                    self._held_pongs.append(pong)  # type: ignore[union-attr]
                elif self._data_waiting():
                    self._held_pongs = [pong]
                else:
                    self._out.append(pong)
        elif opcode == OP_PONG:
            # RFC 6455 5.5.3: an unsolicited Pong is allowed and needs no answer.
            self._events.append(Pong(payload))
        else:
            code, reason = parse_close_payload(payload)
            self.close_code = code
            self.close_reason = reason
            self._events.append(CloseReceived(code, reason))
            if self.state is _OPEN and self._data_waiting():
                self._hold(True, code, reason)
            else:
                self._peer_closed(code, reason)

    def _on_partial(self) -> None:
        # RFC 6455 8.1: fail fast: the arrived part of an uncompressed text
        # frame (a text message's first frame, or a continuation of an
        # uncompressed text message) is validated now. Each byte once:
        # FrameReader.take_partial hands out only the new bytes, and
        # next_frame later only the rest.
        if self._frame_started:
            accept = _TEXT_OR_CONT
        elif not self._msg_opcode:
            accept = _TEXT_ONLY
        elif self._msg_opcode == OP_TEXT and not self._msg_compressed:
            accept = _CONT_ONLY
        else:
            return
        got = self._reader.take_partial(accept)
        if got is None:
            return
        if not self._frame_started:
            self._start_frame(0, got[0] & 0x0F)
            self._frame_started = True
        data = got[1]
        self._msg_size += len(data)  # within the frame's length, checked from its header
        try:
            text = self._decoder.decode(data)  # type: ignore[union-attr]
        except UnicodeDecodeError:
            raise ProtocolError(1007, _INVALID_UTF8) from None
        if text:
            self._msg_parts.append(text)  # type: ignore[arg-type]

    def _on_data(self, fin: bool, rsv: int, opcode: int, payload: bytes) -> None:
        if self._frame_started:
            # The rest of a frame whose start _on_partial has seen.
            self._frame_started = False
        else:
            self._start_frame(rsv, opcode)
        if self._msg_compressed:
            self._msg_wire += len(payload)
            # RFC 7692 7.2.2; the codec raises 1009 past the remaining budget.
            payload = self.deflate.decompress(  # type: ignore[union-attr]
                payload, fin, self._max_size - self._msg_size
            )
        self._msg_size += len(payload)
        if self._msg_size > self._max_size:
            raise ProtocolError(1009, "message too big")
        if self._msg_opcode == OP_TEXT:
            try:
                # RFC 6455 8.1: fail as soon as the bytes cannot be UTF-8.
                text = self._decoder.decode(payload, fin)  # type: ignore[union-attr]
            except UnicodeDecodeError:
                raise ProtocolError(1007, _INVALID_UTF8) from None
            if text:
                self._msg_parts.append(text)  # type: ignore[arg-type]
        elif payload:
            self._msg_parts.append(payload)  # type: ignore[arg-type]
        if fin:
            parts = self._msg_parts
            if self._msg_opcode == OP_TEXT:
                self._events.append(TextMessage(parts[0] if len(parts) == 1 else "".join(parts)))  # type: ignore[arg-type]
            else:
                self._events.append(BinaryMessage(parts[0] if len(parts) == 1 else b"".join(parts)))  # type: ignore[arg-type]
            self._msg_opcode = 0
            self._msg_parts = ()
            self._limit = self._max_size
            self._rsv1_limit = self._max_wire
        else:
            # What is left of the budget caps the next frame's payload.
            if self._msg_compressed:
                self._limit = self._max_wire - self._msg_wire  # type: ignore[operator]
            else:
                self._limit = self._max_size - self._msg_size
            self._rsv1_limit = None

    def _start_frame(self, rsv: int, opcode: int) -> None:
        # The checks and bookkeeping of a data frame's header.
        if opcode == OP_CONT:
            # RFC 6455 5.4: a continuation frame needs a message in progress.
            if not self._msg_opcode:
                raise ProtocolError(1002, "Continuation sent with prior binary or text frame")  # Kitura's words
            if rsv:
                # RFC 7692 6.1: RSV1 only on the first frame of a message.
                raise ProtocolError(1002, _rsv_error(rsv))
        else:
            # RFC 6455 5.4: no new data message inside a fragmented one.
            if self._msg_opcode:
                raise ProtocolError(1002, "A text frame must be the first in the message" if opcode == OP_TEXT
                                    else "A binary frame must be the first in the message")
            if rsv:
                # RFC 6455 5.2: RSV bits need a negotiated extension;
                # RFC 7692 6: permessage-deflate defines RSV1 only.
                if rsv != RSV1 or self.deflate is None:
                    raise ProtocolError(1002, _rsv_error(rsv if self.deflate is None else rsv & ~RSV1))
            self._msg_opcode = opcode
            self._msg_compressed = bool(rsv)
            self._msg_parts = []
            self._msg_size = 0
            self._msg_wire = 0
            self._msg_frames = 0
            if opcode == OP_TEXT:
                if self._decoder is None:
                    self._decoder = Utf8Decoder()
                else:
                    self._decoder.reset()
        self._msg_frames += 1
        if self._msg_frames > self._max_frags:
            raise ProtocolError(1008, "too many fragments in one message")
