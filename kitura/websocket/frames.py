"""The WebSocket wire format (RFC 6455 section 5).

This module owns the opcodes, ``encode_frame`` (server frames: unmasked,
header and payload in one bytes object), the Close frame payload
(``encode_close_payload`` / ``parse_close_payload``) and ``FrameReader``, an
incremental parser. It imports only the standard library.

Theory of operation of ``FrameReader``: incoming bytes are kept in one buffer
that is walked by an offset. When the buffer is empty, a fed ``bytes`` object
is parsed in place (no copy); only an incomplete tail is moved into a
``bytearray``, which then grows by appending (amortised O(1)) and shrinks by
deleting its consumed prefix (O(1) in CPython). Each call of ``next_frame``
looks at the frame header only (O(1)), so bytes that trickle in one at a time
cost O(n) in total, never O(n²). The payload length is checked against the
caller's limit as soon as the header is complete, before the payload is
buffered, so a peer cannot make us buffer more than the limit.

``take_partial`` hands out, unmasked, the payload bytes of a frame that has
arrived only in part (the caller uses it to validate UTF-8 as text arrives).
The reader then remembers how many payload bytes of that frame were taken
(``_taken``); ``next_frame`` returns only the rest when the frame completes,
unmasked with the key rotated by ``_taken % 4`` (RFC 6455 5.3: octet ``i``
of the payload uses octet ``i % 4`` of the key). So each payload byte is
unmasked once however the frame is chopped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Container
from typing import NamedTuple

from .close_codes import is_valid_close_code
from .errors import ProtocolError
from .mask import NO_EXTENSIONS, apply_mask

__all__ = [
    "OP_CONT",
    "OP_TEXT",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "DATA_OPCODES",
    "CONTROL_OPCODES",
    "RSV1",
    "RSV2",
    "RSV3",
    "MAX_CONTROL_PAYLOAD",
    "Frame",
    "FrameReader",
    "encode_frame",
    "encode_frame_head",
    "encode_text_frame",
    "text_frame",
    "py_text_frame",
    "c_text_frame",
    "encode_close_payload",
    "parse_close_payload",
    "parse_message",
    "py_parse_message",
    "c_parse_message",
]

# RFC 6455 5.2 / 11.8: opcodes.
OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
DATA_OPCODES = frozenset({OP_CONT, OP_TEXT, OP_BINARY})
CONTROL_OPCODES = frozenset({OP_CLOSE, OP_PING, OP_PONG})
_KNOWN_OPCODES = DATA_OPCODES | CONTROL_OPCODES

# RFC 6455 5.2: the reserved bits, as they sit in the first header byte.
FIN = 0x80
RSV1 = 0x40
RSV2 = 0x20
RSV3 = 0x10

# RFC 6455 5.5: control frames carry at most 125 bytes of payload.
MAX_CONTROL_PAYLOAD = 125

_NO_LIMIT = 1 << 63

# Precompiled structs, bound once (about 2x faster than struct.pack(fmt, ...)).
_PACK_BB = struct.Struct("!BB").pack
_PACK_BBH = struct.Struct("!BBH").pack
_PACK_BBQ = struct.Struct("!BBQ").pack
_PACK_H = struct.Struct("!H").pack
_UNPACK_H = struct.Struct("!H").unpack_from
_UNPACK_Q = struct.Struct("!Q").unpack_from

# Above this size the masked payload is read through a memoryview instead of
# being sliced first, saving one copy of the payload.
_VIEW_AT = 2048


class Frame(NamedTuple):
    """One parsed frame. ``rsv`` holds the RSV bits as in the first header
    byte (``RSV1`` = 0x40, ``RSV2`` = 0x20, ``RSV3`` = 0x10); ``payload`` is
    already unmasked."""

    fin: bool
    rsv: int
    opcode: int
    payload: bytes


_new_frame = tuple.__new__  # builds a Frame without NamedTuple's Python-level __new__


def _payload_length(buf: bytes | bytearray, pos: int, avail: int) -> tuple[int, int] | None:
    """RFC 6455 5.2: the payload length of the frame header at ``pos`` (7 bits, or 16
    (126) or 64 (127) bits; non-minimal encodings are accepted) and the offset of what
    follows it (the mask or the payload); None while the header is incomplete."""
    length = buf[pos + 1] & 0x7F
    start = pos + 2
    if length == 126:
        if avail < 4:
            return None
        return _UNPACK_H(buf, start)[0], start + 2
    if length == 127:
        if avail < 10:
            return None
        length = _UNPACK_Q(buf, start)[0]
        # RFC 6455 5.2: the most significant bit of a 64-bit length must be 0.
        if length >> 63:
            raise ProtocolError(1002, "invalid 64-bit payload length")
        return length, start + 8
    return length, start


class FrameReader:
    """Incremental frame parser over one buffer (see the module docstring).

    ``feed(data)`` adds bytes; ``next_frame(limit)`` returns the next complete
    ``Frame`` or ``None`` when more bytes are needed, and raises
    ``ProtocolError`` on bad input (the reader is then unusable; call
    ``discard()``). ``require_mask=True`` (a server) rejects unmasked frames
    with 1002 (RFC 6455 5.1); ``False`` parses both (used to read server frames
    in tests and clients).
    """

    __slots__ = ("buf", "_pos", "_taken", "require_mask")

    def __init__(self, *, require_mask: bool = True) -> None:
        #: The buffer, walked by an offset; it is dropped whenever it is used up, so it is
        #: empty exactly when nothing is buffered (``if reader.buf:``). Read it, never assign.
        self.buf: bytes | bytearray = b""
        self._pos = 0
        self._taken = 0  # payload bytes of the frame at _pos already handed out by take_partial
        self.require_mask = require_mask

    @property
    def buffered(self) -> int:
        """How many bytes wait in the buffer (an incomplete frame)."""
        return len(self.buf) - self._pos


    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the buffer (a ``bytes`` object is not copied)."""
        if not data:
            return
        buf = self.buf
        if self._pos >= len(buf):
            self.buf = data if type(data) is bytes else bytes(data)
            self._pos = 0
        elif type(buf) is bytearray:
            buf += data
        else:
            grown = bytearray(memoryview(buf)[self._pos :])
            grown += data
            self.buf = grown
            self._pos = 0

    def discard(self) -> None:
        """Drop everything buffered (after a failure or a Close frame)."""
        self.buf = b""
        self._pos = 0
        self._taken = 0

    def _need_more(self, pos: int) -> None:
        buf = self.buf
        if pos >= len(buf):
            self.buf = b""
            self._pos = 0
        elif pos and type(buf) is bytearray:
            del buf[:pos]  # O(1) in CPython: the bytearray moves its start
            self._pos = 0
        else:
            self._pos = pos

    def next_frame(self, limit: int = _NO_LIMIT, rsv1_limit: int | None = None) -> Frame | None:
        """Parse the next frame, or return ``None`` when it is not complete yet.

        ``limit`` caps the payload length of data frames (checked from the
        header, before the payload is buffered): a longer one raises
        ``ProtocolError(1009)``. ``rsv1_limit``, when given, replaces
        ``limit`` for frames with RSV1 set (compressed data may be a little
        larger than its inflated size). Control frames are capped at 125.
        """
        buf = self.buf
        pos = self._pos
        avail = len(buf) - pos
        if avail < 2:
            self._need_more(pos)
            return None
        b0 = buf[pos]
        b1 = buf[pos + 1]
        opcode = b0 & 0x0F
        # RFC 6455 5.2: opcodes 3-7 and 0xB-0xF are reserved.
        if opcode not in _KNOWN_OPCODES:
            raise ProtocolError(1002, f"Parsed a frame with an invalid operation code of {opcode}")
        length = b1 & 0x7F
        if opcode >= 8:
            # RFC 6455 5.5: control frames are never fragmented, payload <= 125.
            if not b0 & FIN:
                raise ProtocolError(1002, "Control frames must not be fragmented")
            if length > MAX_CONTROL_PAYLOAD:
                raise ProtocolError(1002, "Control frames are only allowed to have payload up to and including 125 octets")
        masked = b1 & 0x80
        # RFC 6455 5.1: a server must fail on an unmasked client frame.
        if not masked and self.require_mask:
            raise ProtocolError(1002, "Received a frame from a client that wasn't masked")
        if length < 126:
            start = pos + 2
        else:
            header = _payload_length(buf, pos, avail)
            if header is None:
                self._need_more(pos)
                return None
            length, start = header
        if opcode < 8:
            cap = rsv1_limit if (rsv1_limit is not None and b0 & RSV1) else limit
            if length > cap:
                raise ProtocolError(1009, "message too big")
        if masked:
            end = start + 4 + length
            if len(buf) < end:
                self._need_more(pos)
                return None
            mask = buf[start : start + 4]
            start += 4
            taken = self._taken
            if taken:
                # take_partial handed out the first `taken` bytes: the rest only.
                self._taken = 0
                start += taken
                rot = taken & 3
                if rot:
                    mask = mask[rot:] + mask[:rot]
            # RFC 6455 5.3: unmask.
            if end - start < _VIEW_AT:
                payload = apply_mask(buf[start:end], mask)
            else:
                payload = apply_mask(memoryview(buf)[start:end], mask)
        else:
            end = start + length
            if len(buf) < end:
                self._need_more(pos)
                return None
            if self._taken:
                start += self._taken
                self._taken = 0
            payload = buf[start:end] if type(buf) is bytes else bytes(memoryview(buf)[start:end])
        if end >= len(buf):
            self.buf = b""
            self._pos = 0
        else:
            self._pos = end
        return _new_frame(Frame, (b0 >= 0x80, b0 & 0x70, opcode, payload))

    def take_partial(self, accept: Container[int] | None = None) -> tuple[int, bytes] | None:
        """Hand out the newly arrived payload bytes of an incomplete data frame.

        When the buffer holds the complete header of a data frame (opcode
        < 8) whose payload has not fully arrived, return ``(b0, data)``:
        ``b0`` is the first header byte (FIN, RSV bits, opcode) and ``data``
        the payload bytes that arrived since the last call for this frame,
        unmasked (never empty). Those bytes are not returned again: the
        ``Frame`` that ``next_frame`` returns once the frame is complete holds
        only the rest of the payload. ``accept``, when given, restricts the
        frames to those whose first header byte without FIN (RSV bits and
        opcode, ``b0 & 0x7F``) is in it. Returns ``None`` when there is no such
        frame (nothing buffered, an incomplete header, a control frame).
        Call it only after ``next_frame`` returned ``None`` (its checks of the
        header, limits included, have then passed).
        """
        buf = self.buf
        pos = self._pos
        avail = len(buf) - pos
        if avail < 2:
            return None
        b0 = buf[pos]
        if b0 & 0x0F >= 8 or (accept is not None and b0 & 0x7F not in accept):
            return None
        header = _payload_length(buf, pos, avail)
        if header is None:
            return None
        length, start = header
        mask = None
        if buf[pos + 1] & 0x80:
            if len(buf) < start + 4:
                return None
            mask = buf[start : start + 4]
            start += 4
        taken = self._taken
        have = len(buf) - start  # payload bytes present
        if have >= length:  # complete: next_frame's business
            return None
        if have <= taken:  # nothing new
            return None
        self._taken = have
        if mask is None:
            return b0, bytes(memoryview(buf)[start + taken :])
        rot = taken & 3
        if rot:
            mask = mask[rot:] + mask[:rot]
        return b0, apply_mask(memoryview(buf)[start + taken :], mask)


def encode_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    fin: bool = True,
    rsv1: bool = False,
    *,
    mask: bytes | None = None,
) -> bytes:
    """Serialize one frame: header and payload in one ``bytes`` object.

    Server frames are never masked (RFC 6455 5.1); ``mask`` (4 bytes) is for
    clients and tests. The result does not depend on the connection, so one
    call can frame a message for many receivers (broadcast): pass it to each
    ``ServerProtocol.send_frame``. ``rsv1`` marks a compressed message
    (RFC 7692 6).
    """
    b0 = opcode
    if fin:
        b0 |= FIN
    if rsv1:
        b0 |= RSV1
    n = len(payload)
    if mask is None:
        # RFC 6455 5.2: the shortest length encoding.
        if n < 126:
            return _PACK_BB(b0, n) + payload
        if n < 0x10000:
            return _PACK_BBH(b0, 126, n) + payload
        return _PACK_BBQ(b0, 127, n) + payload
    if n < 126:
        head = _PACK_BB(b0, 0x80 | n)
    elif n < 0x10000:
        head = _PACK_BBH(b0, 0xFE, n)
    else:
        head = _PACK_BBQ(b0, 0xFF, n)
    return head + mask + apply_mask(payload, mask)


def encode_frame_head(opcode: int, length: int, rsv1: bool = False) -> bytes:
    """The header of a final unmasked (server) frame of ``length`` payload bytes:
    ``encode_frame(opcode, payload, True, rsv1)`` is this followed by ``payload``.
    For a large payload written after its header as a second chunk, not copied."""
    b0 = opcode | FIN
    if rsv1:
        b0 |= RSV1
    if length < 126:
        return _PACK_BB(b0, length)
    if length < 0x10000:
        return _PACK_BBH(b0, 126, length)
    return _PACK_BBQ(b0, 127, length)


# The headers of unmasked final text frames of 0..125 bytes.
_TEXT_HEADS = tuple(bytes((FIN | OP_TEXT, n)) for n in range(126))


def encode_text_frame(data: bytes) -> bytes:
    """``encode_frame(OP_TEXT, data)`` for a server's final uncompressed text frame,
    a small one without packing a header (the broadcast path frames every message)."""
    if len(data) < 126:
        return _TEXT_HEADS[len(data)] + data
    return encode_frame(OP_TEXT, data)


def py_text_frame(text: str) -> bytes:
    """``encode_text_frame(text.encode("utf-8"))``: a str framed as a server's final
    uncompressed text frame, in pure Python. ``text_frame`` is the C version from
    ``_speedups`` when it was built (one copy of an ASCII str), else this one."""
    return encode_text_frame(text.encode("utf-8"))


def py_parse_message(data: bytes, limit: int) -> str | bytes | None:
    """The fast path for a read that is exactly one whole message, in pure Python.

    When ``data`` (exactly a ``bytes`` object) is one whole masked frame with FIN
    set, no RSV bits, opcode text or binary, any payload length encoding,
    nothing after it, and a payload of at most ``limit`` bytes: the unmasked
    payload, decoded (``str``) for text, ``bytes`` for binary. ``None`` for
    anything else, invalid UTF-8 included (the caller's general path then
    parses ``data`` and reports it). ``parse_message`` is the C version from
    ``_speedups`` when it was built, else this one.
    """
    if data.__class__ is not bytes:
        return None
    n = len(data)
    if n < 6:
        return None
    b0 = data[0]
    if b0 != 0x81 and b0 != 0x82:
        return None
    b1 = data[1]
    if b1 < 0xFE:
        if b1 < 0x80 or n != (b1 & 0x7F) + 6:
            return None
        start = 6
    elif b1 == 0xFE:
        if n < 8 or n != _UNPACK_H(data, 2)[0] + 8:
            return None
        start = 8
    else:  # a 64-bit length (one with its top bit set, RFC 6455 5.2, cannot match n)
        if n < 14 or n != _UNPACK_Q(data, 2)[0] + 14:
            return None
        start = 14
    if n - start > limit:
        return None
    payload = apply_mask(data[start:], data[start - 4 : start])
    if b0 == 0x82:
        return payload
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return None


c_parse_message: Callable[[bytes, int], str | bytes | None] | None = None
c_text_frame: Callable[[str], bytes] | None = None
if not NO_EXTENSIONS:  # (mask.py)
    try:
        from ._speedups import parse_message as c_parse_message  # type: ignore[import-not-found,no-redef,unused-ignore]
        from ._speedups import text_frame as c_text_frame  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass

parse_message: Callable[[bytes, int], str | bytes | None] = (
    c_parse_message if c_parse_message is not None else py_parse_message
)
text_frame: Callable[[str], bytes] = c_text_frame if c_text_frame is not None else py_text_frame


def encode_close_payload(code: int, reason: str = "") -> bytes:
    """The payload of a Close frame (RFC 6455 5.5.1): 2-byte code + UTF-8 reason.

    Code 1005 without a reason gives the empty payload (RFC 6455 7.1.5).
    Raises ``ValueError`` when the payload would exceed 125 bytes.
    """
    if code == 1005 and not reason:
        return b""
    data = _PACK_H(code) + reason.encode("utf-8")
    if len(data) > MAX_CONTROL_PAYLOAD:
        raise ValueError("close reason longer than 123 bytes")
    return data


def parse_close_payload(payload: bytes | bytearray | memoryview) -> tuple[int, str]:
    """Parse a Close frame payload into ``(code, reason)`` (RFC 6455 5.5.1).

    The empty payload gives ``(1005, "")`` (RFC 6455 7.1.5). Raises
    ``ProtocolError(1002)`` for a 1-byte payload or a code that may not be
    sent (RFC 6455 7.4), ``ProtocolError(1007)`` for a reason that is not UTF-8.
    """
    n = len(payload)
    if n == 0:
        return 1005, ""
    if n == 1:
        raise ProtocolError(1002, "Close frames, that have a payload, must be between 2 and 125 octets inclusive")
    code = _UNPACK_H(payload)[0]
    try:
        reason = bytes(payload[2:]).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(1007, "Failed to convert received close message to UTF-8 String") from None
    if not is_valid_close_code(code):
        # Kitura answers a code that may not be sent with 1002 and the peer's own reason.
        raise ProtocolError(1002, reason)
    return code, reason
