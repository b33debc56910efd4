"""permessage-deflate (RFC 7692): negotiation and a bounded per-message codec.

This module owns the Sec-WebSocket-Extensions negotiation of
``permessage-deflate`` and the zlib state of one connection. It is part of the
websocket core: no I/O, no asyncio, nothing from other kitura layers, and it is
the only module of the project that imports :mod:`zlib`.

Theory of operation
-------------------
* :func:`negotiate` parses the client's offers (RFC 7692 section 5, RFC 6455
  section 9.1, RFC 7230 section 3.2.6 for quoted strings), declines every offer
  with a bad, unknown or repeated parameter, and answers the first acceptable
  ``permessage-deflate`` offer, combining it with the server's
  :class:`DeflateSettings`. It returns the response header value and a
  :class:`PerMessageDeflate` configured with what was agreed.
* :meth:`PerMessageDeflate.decompress` inflates one frame at a time and never
  produces more than the caller's ``max_length`` (+1 byte to detect overflow):
  it asks zlib for at most 256 KiB of output per call (zlib keeps the rest of
  the input in ``unconsumed_tail``) and feeds at most 64 KiB of input per
  call, so a compression bomb costs ``max_length`` plus about 0.4 MiB of
  memory (measured) before it is rejected with close code 1009.
* :meth:`PerMessageDeflate.compress` compresses one whole message.

zlib and 8-bit windows: zlib refuses ``wbits=8`` for raw deflate
(madler/zlib#171), so our compressor uses 9 when 8 was negotiated. This stays
within an 8-bit (256 byte) window: zlib's deflate never emits a distance larger
than ``window size - 262`` (MIN_LOOKAHEAD), i.e. 250 bytes for ``wbits=9``,
which any 8-bit inflater decodes. The test suite checks this.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from .errors import ProtocolError

# zlib documents compressobj() and decompressobj(), not the names of the classes they return.
_Compressor = type(zlib.compressobj())
_Decompressor = type(zlib.decompressobj())

__all__ = [
    "EXTENSION_NAME",
    "DeflateSettings",
    "PerMessageDeflate",
    "negotiate",
    "parse_extensions",
]

EXTENSION_NAME = "permessage-deflate"

# RFC 7692 section 7.2.1: the sender strips, and section 7.2.2: the receiver
# appends, the 4 octets of an empty stored block that ends a sync flush.
_TAIL = b"\x00\x00\xff\xff"

# Output produced per zlib call when inflating: bounds the transient copy
# CPython makes of its output blocks (see PerMessageDeflate.decompress).
_INFLATE_STEP = 256 * 1024
# Input fed to zlib per call when inflating: bounds the unconsumed_tail copy.
_INFLATE_INPUT_STEP = 64 * 1024

# RFC 7692 section 7.1.2.1: a window bits value is "8" .. "15", no leading zero.
_WINDOW_BITS_VALUES = {str(n): n for n in range(8, 16)}

_SERVER_NO_CONTEXT_TAKEOVER = "server_no_context_takeover"
_CLIENT_NO_CONTEXT_TAKEOVER = "client_no_context_takeover"
_SERVER_MAX_WINDOW_BITS = "server_max_window_bits"
_CLIENT_MAX_WINDOW_BITS = "client_max_window_bits"


@dataclass
class DeflateSettings:
    """What the server is willing to do for permessage-deflate.

    ``server_no_context_takeover`` / ``client_no_context_takeover``: when True
    the server always asks for them in its response (RFC 7692 sections 7.1.1.1
    and 7.1.1.2), whatever the client offered. The window bits cap the window
    (8..15; our compressor uses 9 for 8, see the module docstring).
    ``client_max_window_bits`` can only be applied when the client's offer
    carries that parameter (RFC 7692 section 7.1.2.2); otherwise the offer is
    still accepted and the server inflates with a 32 KiB window.
    ``min_size``: the caller sends messages shorter than this uncompressed.
    """

    enabled: bool = True
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None
    compression_level: int = 6
    min_size: int = 0

    def __post_init__(self) -> None:
        for name in (_SERVER_MAX_WINDOW_BITS, _CLIENT_MAX_WINDOW_BITS):
            bits = getattr(self, name)
            if bits is not None and not (isinstance(bits, int) and 8 <= bits <= 15):
                raise ValueError(f"{name} must be None or an int from 8 to 15, got {bits!r}")
        if not -1 <= self.compression_level <= 9:
            raise ValueError(f"compression_level must be -1..9, got {self.compression_level!r}")
        if self.min_size < 0:
            raise ValueError(f"min_size must be >= 0, got {self.min_size!r}")


class PerMessageDeflate:
    """The negotiated permessage-deflate state of one connection (server side).

    Not thread-safe: one instance per connection, used from one thread.
    """

    __slots__ = (
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
        "compression_level",
        "min_size",
        "_deflate_wbits",
        "_inflate_wbits",
        "_flush_mode",
        "_deflater",
        "_inflater",
    )

    def __init__(
        self,
        *,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int = 15,
        client_max_window_bits: int = 15,
        compression_level: int = 6,
        min_size: int = 0,
    ) -> None:
        if not (8 <= server_max_window_bits <= 15 and 8 <= client_max_window_bits <= 15):
            raise ValueError("window bits must be from 8 to 15")
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.compression_level = compression_level
        self.min_size = min_size
        # zlib rejects wbits=8 for raw deflate; 9 stays within 250-byte
        # distances, so it honours an 8-bit window (module docstring).
        self._deflate_wbits = max(9, server_max_window_bits)
        # Inflating with a larger window than the peer uses is always safe;
        # 9 instead of 8 also tolerates peers that promote 8 to 9 like zlib.
        self._inflate_wbits = max(9, client_max_window_bits)
        # RFC 7692 section 7.1.1.1: without context takeover no message may
        # refer to an earlier one. Z_FULL_FLUSH ends the message like
        # Z_SYNC_FLUSH (same 00 00 ff ff tail) and also clears zlib's match
        # history, so one compressor serves every message: measured 2.3 us
        # per small message against 11 us for a fresh compressobj each time.
        self._flush_mode = zlib.Z_FULL_FLUSH if server_no_context_takeover else zlib.Z_SYNC_FLUSH
        self._deflater: _Compressor | None = None
        self._inflater: _Decompressor | None = None

    def __repr__(self) -> str:
        return (
            "PerMessageDeflate("
            f"server_no_context_takeover={self.server_no_context_takeover}, "
            f"client_no_context_takeover={self.client_no_context_takeover}, "
            f"server_max_window_bits={self.server_max_window_bits}, "
            f"client_max_window_bits={self.client_max_window_bits})"
        )

    def decompress(self, payload: bytes | bytearray | memoryview, fin: bool, max_length: int) -> bytes:
        """Inflate one frame of a compressed message.

        ``max_length`` is how many bytes the rest of the message may still
        inflate to (the caller passes its limit minus what it already holds).
        Raises ProtocolError(1009) past that, having held at most
        ``max_length + 1`` inflated bytes plus a few hundred KiB of working
        buffers, and ProtocolError(1007) on data that is not valid DEFLATE.
        An accepted frame whose output took several zlib calls is joined
        once at the end (a transient copy of its inflated size).
        """
        inflater = self._inflater
        if inflater is None:
            inflater = self._inflater = zlib.decompressobj(-self._inflate_wbits)
        if max_length < 0:
            max_length = 0
        # RFC 7692 section 7.2.2: append 00 00 ff ff to the last frame. Small
        # payloads are copied with the tail; large ones get the tail in a
        # later call, so a big frame is never copied.
        join_tail = fin and len(payload) < 2048
        src = memoryview(bytes(payload) + _TAIL if join_tail else payload)
        pending_tail = fin and not join_tail
        n = len(src)
        pos = 0
        data: bytes | memoryview = b""
        held_back = False
        parts: list[bytes] = []
        total = 0
        too_big = False
        try:
            while True:
                if not data:
                    if pos < n:
                        # Feed slices (no copy): zlib copies what it leaves in
                        # unconsumed_tail, so this bounds that copy too.
                        data = src[pos:pos + _INFLATE_INPUT_STEP]
                        pos += len(data)
                    elif pending_tail:
                        data = _TAIL
                        pending_tail = False
                    elif not held_back:
                        break
                # Never ask zlib for more than what is left + 1 (the +1 tells
                # an exact fit from an overflow, and 0 would mean "no limit"
                # to zlib), nor more than _INFLATE_STEP per call: CPython
                # joins its output blocks at the end of each call, so one
                # big call would double the peak memory of a rejected bomb.
                want = min(max_length - total + 1, _INFLATE_STEP)
                chunk = inflater.decompress(data, want)
                total += len(chunk)
                if total > max_length:
                    too_big = True
                    break
                if chunk:
                    parts.append(chunk)
                data = inflater.unconsumed_tail
                # A full output step: zlib may hold more even without input.
                held_back = len(chunk) == want
        except zlib.error as exc:
            self._inflater = None
            raise ProtocolError(1007, "invalid compressed data") from exc
        if too_big:
            self._inflater = None
            raise ProtocolError(1009, "message too big after decompression")
        out = b"".join(parts)  # no copy when there is one part
        if inflater.eof:
            # RFC 7692 section 7.2.3.3: the sender may end the message with a
            # BFINAL block; then only our appended tail may follow it.
            if fin and inflater.unused_data not in (b"", _TAIL):
                self._inflater = None
                raise ProtocolError(1007, "data after the end of the compressed stream")
            if fin:
                # zlib cannot continue an ended stream: restart with an empty
                # window (a peer ending its stream keeps no context anyway).
                self._inflater = None
        if fin and self.client_no_context_takeover:
            # RFC 7692 section 7.1.1.2: the client resets its compressor for
            # every message, so we may drop the window between messages.
            self._inflater = None
        return out

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """Compress one whole message (RFC 7692 section 7.2.1).

        Returns the payload to send with RSV1 set. Context is kept across
        messages unless server_no_context_takeover was negotiated.
        """
        if not data:
            # RFC 7692 section 7.2.3.6: an empty message may be the single
            # octet 0x00 (with the receiver's tail: an empty stored block).
            return b"\x00"
        deflater = self._deflater
        if deflater is None:
            deflater = self._deflater = zlib.compressobj(
                self.compression_level, zlib.DEFLATED, -self._deflate_wbits
            )
        out = deflater.compress(data) + deflater.flush(self._flush_mode)
        # RFC 7692 section 7.2.1: remove the 4-octet 00 00 ff ff tail.
        if out[-4:] != _TAIL:  # pragma: no cover - zlib guarantees it
            raise AssertionError("zlib sync flush did not end with 00 00 ff ff")
        return out[:-4]


# --- Sec-WebSocket-Extensions parsing (RFC 6455 section 9.1, RFC 7230 3.2.6) ---

_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = " \t"

ExtensionParams = list[tuple[str, "str | None"]]


def _skip_ows(s: str, pos: int) -> int:
    n = len(s)
    while pos < n and s[pos] in _OWS:
        pos += 1
    return pos


def _token(s: str, pos: int) -> tuple[str, int]:
    start = pos
    n = len(s)
    while pos < n and s[pos] in _TCHARS:
        pos += 1
    if pos == start:
        raise ValueError(f"expected a token at {start}")
    return s[start:pos], pos


def _quoted_string(s: str, pos: int) -> tuple[str, int]:
    # RFC 7230 section 3.2.6: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    chars: list[str] = []
    pos += 1
    n = len(s)
    while pos < n:
        c = s[pos]
        if c == '"':
            return "".join(chars), pos + 1
        if c == "\\":
            pos += 1
            if pos == n:
                break
            c = s[pos]
        if c != "\t" and (ord(c) < 0x20 or ord(c) == 0x7F):
            raise ValueError(f"control character in quoted-string at {pos}")
        chars.append(c)
        pos += 1
    raise ValueError("unterminated quoted-string")


def parse_extensions(value: str) -> list[tuple[str, ExtensionParams]]:
    """Parse one Sec-WebSocket-Extensions header value.

    Returns ``[(extension_name, [(param_name, value_or_None), ...]), ...]``
    with quoted values unescaped. Empty list elements are skipped (RFC 7230
    section 7). Raises ValueError when the value is not well-formed.
    """
    result: list[tuple[str, ExtensionParams]] = []
    n = len(value)
    pos = 0
    while True:
        # 1#extension, allowing empty elements ("a, , b").
        while pos < n and value[pos] in " \t,":
            pos += 1
        if pos >= n:
            return result
        name, pos = _token(value, pos)
        params: ExtensionParams = []
        pos = _skip_ows(value, pos)
        while pos < n and value[pos] == ";":
            pos = _skip_ows(value, pos + 1)
            pname, pos = _token(value, pos)
            pos = _skip_ows(value, pos)
            pvalue: str | None = None
            if pos < n and value[pos] == "=":
                pos = _skip_ows(value, pos + 1)
                if pos < n and value[pos] == '"':
                    pvalue, pos = _quoted_string(value, pos)
                    # RFC 6455 section 9.1: the unescaped value must be a token.
                    if not pvalue or not all(c in _TCHARS for c in pvalue):
                        raise ValueError(f"quoted value of {pname!r} is not a token")
                else:
                    pvalue, pos = _token(value, pos)
                pos = _skip_ows(value, pos)
            params.append((pname, pvalue))
        if pos < n and value[pos] != ",":
            raise ValueError(f"unexpected character {value[pos]!r} at {pos}")
        result.append((name, params))


# --- Negotiation (RFC 7692 section 7.1) ---


def _accept_offer(params: ExtensionParams, settings: DeflateSettings) -> tuple[str, PerMessageDeflate] | None:
    """The response and codec for one permessage-deflate offer, or None to decline it."""
    seen: set[str] = set()
    server_nct = client_nct = False
    server_bits: int | None = None
    client_bits_offered = False
    client_bits: int | None = None
    for raw_name, value in params:
        name = raw_name.lower()
        # RFC 7692 section 7: decline an offer with a repeated parameter.
        if name in seen:
            return None
        seen.add(name)
        if name == _SERVER_NO_CONTEXT_TAKEOVER or name == _CLIENT_NO_CONTEXT_TAKEOVER:
            # Sections 7.1.1.1 / 7.1.1.2: these parameters have no value.
            if value is not None:
                return None
            if name == _SERVER_NO_CONTEXT_TAKEOVER:
                server_nct = True
            else:
                client_nct = True
        elif name == _SERVER_MAX_WINDOW_BITS:
            # Section 7.1.2.1: a value is required.
            if value is None or value not in _WINDOW_BITS_VALUES:
                return None
            server_bits = _WINDOW_BITS_VALUES[value]
        elif name == _CLIENT_MAX_WINDOW_BITS:
            # Section 7.1.2.2: the value is optional.
            client_bits_offered = True
            if value is not None:
                if value not in _WINDOW_BITS_VALUES:
                    return None
                client_bits = _WINDOW_BITS_VALUES[value]
        else:
            # Section 7: decline an offer with an unknown parameter.
            return None

    response = [EXTENSION_NAME]
    # Section 7.1.1.1: accepting server_no_context_takeover means echoing it;
    # the server may also ask for it on its own.
    server_nct = server_nct or settings.server_no_context_takeover
    if server_nct:
        response.append(_SERVER_NO_CONTEXT_TAKEOVER)
    # Section 7.1.1.2: the server may always send client_no_context_takeover;
    # echoing the client's hint lets us drop the inflater between messages.
    client_nct = client_nct or settings.client_no_context_takeover
    if client_nct:
        response.append(_CLIENT_NO_CONTEXT_TAKEOVER)
    # Section 7.1.2.1: an offered limit must be answered with the same or a
    # smaller value; without one, the server may still announce its own.
    if server_bits is not None:
        if settings.server_max_window_bits is not None:
            server_bits = min(server_bits, settings.server_max_window_bits)
    else:
        server_bits = settings.server_max_window_bits
    if server_bits is not None:
        response.append(f"{_SERVER_MAX_WINDOW_BITS}={server_bits}")
    # Section 7.1.2.2: client_max_window_bits only in answer to an offer that
    # has it, with a value no larger than the offered one.
    if client_bits_offered:
        if settings.client_max_window_bits is not None:
            client_bits = (
                settings.client_max_window_bits
                if client_bits is None
                else min(client_bits, settings.client_max_window_bits)
            )
        if client_bits is not None:
            response.append(f"{_CLIENT_MAX_WINDOW_BITS}={client_bits}")
    else:
        client_bits = None

    codec = PerMessageDeflate(
        server_no_context_takeover=server_nct,
        client_no_context_takeover=client_nct,
        server_max_window_bits=15 if server_bits is None else server_bits,
        client_max_window_bits=15 if client_bits is None else client_bits,
        compression_level=settings.compression_level,
        min_size=settings.min_size,
    )
    return "; ".join(response), codec


def negotiate(
    offers: list[str] | str | None, settings: DeflateSettings
) -> tuple[str | None, PerMessageDeflate | None]:
    """Answer the client's Sec-WebSocket-Extensions header values.

    ``offers`` is the list of header values (each may hold several
    comma-separated extensions), a single value, or None. Returns the
    response header value and the codec for the first acceptable
    permessage-deflate offer, or ``(None, None)`` when none is acceptable or
    ``settings.enabled`` is False. Other extensions are ignored; a header
    value that is not well-formed contributes no offers.
    """
    if not settings.enabled or not offers:
        return None, None
    if isinstance(offers, str):
        offers = [offers]
    for header_value in offers:
        try:
            extensions = parse_extensions(header_value)
        except ValueError:
            continue
        for name, params in extensions:
            if name.lower() != EXTENSION_NAME:
                continue
            # RFC 7692 section 5: several offers are in order of preference;
            # decline a bad one and consider the next.
            accepted = _accept_offer(params, settings)
            if accepted is not None:
                return accepted
    return None, None
