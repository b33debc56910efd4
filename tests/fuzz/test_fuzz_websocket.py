"""WebSocket frames, the handshake and permessage-deflate, fuzzed.

Property: ``ServerProtocol.receive_data`` never raises, memory stays within
``max_message_size``, a failure is one of the documented close codes (never 1011,
which means an unexpected error inside the core); the handshake answers a
``HandshakeError`` with a 4xx or returns a valid key; negotiation answers
(None, None) or a response the codec was built from; inflate stops at its limit.
"""

from __future__ import annotations

import logging
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.net.headers import HeadersContainer
from kitura.websocket.deflate import DeflateSettings, PerMessageDeflate, negotiate, parse_extensions
from kitura.websocket.errors import ProtocolError
from kitura.websocket.events import BinaryMessage, CloseReceived, Ping, Pong, TextMessage
from kitura.websocket.handshake import HandshakeError, check_request
from kitura.websocket.protocol import ServerProtocol, State

from .conftest import FUZZ

LIMIT = 4096
#: What a failed input may close with (docs/websocket.md): protocol error, bad data, policy, too big.
FAIL_CODES = {1002, 1007, 1008, 1009}


def frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0, masked: bool = True,
          length: int | None = None) -> bytes:
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = b"\x11\x22\x33\x44"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def deflated(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


FRAMES = st.builds(
    frame,
    opcode=st.sampled_from([0, 1, 2, 3, 8, 9, 10, 11, 15]),
    payload=st.one_of(st.binary(max_size=200), st.text(max_size=50).map(str.encode),
                      st.binary(max_size=50).map(deflated),
                      st.just(deflated(b"\0" * 100_000)),  # a small bomb
                      st.integers(0, 5000).map(lambda c: struct.pack("!H", c))),
    fin=st.booleans(),
    rsv=st.sampled_from([0, 0, 0, 4, 2, 1]),
    masked=st.sampled_from([True, True, True, False]),
    length=st.one_of(st.none(), st.none(), st.sampled_from([0, 126, 70_000, 2**63 - 1])),
)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def run(data: bytes, cuts: list[int], deflate: bool) -> ServerProtocol:
    codec = PerMessageDeflate() if deflate else None
    proto = ServerProtocol(max_message_size=LIMIT, max_fragments=50, deflate=codec)
    points = sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]
    start = 0
    errors = _Errors()
    logger = logging.getLogger("kitura.websocket")
    logger.addHandler(errors)
    try:
        for p in points:
            proto.receive_data(data[start:p])
            start = p
            for event in proto.events_received():
                assert type(event) in (TextMessage, BinaryMessage, Ping, Pong, CloseReceived)
                if type(event) in (TextMessage, BinaryMessage):
                    size = len(event.data.encode() if isinstance(event.data, str) else event.data)
                    assert size <= LIMIT
                if type(event) is TextMessage:
                    proto.send_text(event.data)  # echo, as a service would
            proto.data_to_send()
        proto.receive_eof()
        proto.data_to_send()
    finally:
        logger.removeHandler(errors)
    assert not errors.records, "unexpected error in the core"
    assert proto.state is State.CLOSED
    if proto.local_close_code is not None and proto.close_code in (None, 1006):
        assert proto.local_close_code in FAIL_CODES
    return proto


@FUZZ
@given(st.lists(FRAMES, max_size=6), st.lists(st.integers(0, 10_000), max_size=5), st.booleans())
def test_frames_fuzzed(frames, cuts, deflate):
    run(b"".join(frames), cuts, deflate)


@FUZZ
@given(st.binary(max_size=400), st.lists(st.integers(0, 1000), max_size=4), st.booleans())
def test_random_bytes(data, cuts, deflate):
    run(data, cuts, deflate)


@FUZZ
@given(st.binary(max_size=300), st.integers(1, 2000))
def test_inflate_stops_at_its_limit(data, limit):
    codec = PerMessageDeflate()
    try:
        out = codec.decompress(data, True, limit)
    except ProtocolError as exc:
        assert exc.code in (1007, 1009)
    else:
        assert len(out) <= limit


HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
    st.sampled_from(["dGhlIHNhbXBsZSBub25jZQ==", "13", "8", "permessage-deflate", "websocket", "Upgrade"]),
)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["Sec-WebSocket-Key", "Sec-WebSocket-Version", "Upgrade",
                                           "Connection", "Origin", "Sec-WebSocket-Extensions"]),
                          HEADER_VALUES), max_size=6),
       st.sampled_from(["GET", "POST", "get", None]))
def test_handshake_fuzzed(pairs, method):
    headers = HeadersContainer()
    for name, value in pairs:
        headers.append(name, value)
    try:
        key = check_request(headers, method)
    except HandshakeError as exc:
        assert 400 <= exc.status < 500
    else:
        assert isinstance(key, str) and len(key) == 24


EXTENSION_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    st.lists(st.sampled_from(["permessage-deflate", "x-webkit-deflate-frame", ";", ",", " ",
                              "server_no_context_takeover", "client_no_context_takeover",
                              "server_max_window_bits", "client_max_window_bits", "=", "8", "15", "16",
                              "7", '"10"', '"', "\t"]), max_size=12).map("".join),
)


@FUZZ
@given(st.lists(EXTENSION_TEXT, min_size=1, max_size=3),
       st.sampled_from([DeflateSettings(), DeflateSettings(server_max_window_bits=10, client_max_window_bits=9,
                                                           server_no_context_takeover=True)]))
def test_deflate_negotiation_fuzzed(offers, settings):
    for offer in offers:
        try:
            parse_extensions(offer)
        except ValueError:
            pass
    response, codec = negotiate(offers, settings)
    assert (response is None) == (codec is None)
    if response is not None:
        (name, params), = parse_extensions(response)
        assert name == "permessage-deflate"
        assert 8 <= codec.server_max_window_bits <= 15 and 8 <= codec.client_max_window_bits <= 15


@pytest.mark.parametrize("deflate", [False, True])
def test_a_64_mib_bomb_is_1009(deflate):
    bomb = frame(1 if not deflate else 2, deflated(b"\0" * (64 * 1024 * 1024)), rsv=4 if deflate else 0)
    proto = run(bomb, [], deflate)
    assert proto.local_close_code in ((1009,) if deflate else (1002, 1009))
