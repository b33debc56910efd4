"""The fast path for a read that is one whole message: frames.parse_message (C and pure
Python) and ServerProtocol.receive_message, checked against the general parser."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.websocket import frames as frames_module
from kitura.websocket.events import BinaryMessage, TextMessage
from kitura.websocket.frames import FrameReader, c_parse_message, py_parse_message
from kitura.websocket.protocol import ServerProtocol

from .rawclient import client_frame

IMPLEMENTATIONS = [
    pytest.param(py_parse_message, id="python"),
    pytest.param(
        c_parse_message,
        id="c",
        marks=pytest.mark.skipif(c_parse_message is None, reason="_speedups not built"),
    ),
]

UNLIMITED = 1 << 63


def test_the_c_version_is_chosen_when_built():
    expected = c_parse_message if c_parse_message is not None else py_parse_message
    assert frames_module.parse_message is expected


def sixteen_bit(opcode: int, payload: bytes, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    # a non-minimal 16-bit length (accepted, RFC 6455 5.2 does not require minimal)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0xFE]) + struct.pack("!H", len(payload)) + mask + masked


def sixty_four_bit(opcode: int, payload: bytes, mask: bytes = b"\x01\x02\x03\x04", length: int | None = None) -> bytes:
    # a 64-bit length, minimal or not (``length`` overrides the one written)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload) if length is None else length
    return bytes([0x80 | opcode, 0xFF]) + struct.pack("!Q", n) + mask + masked


@pytest.mark.parametrize("parse", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "data, expected",
    [
        (client_frame(1, b"hello"), "hello"),
        (client_frame(1, b""), ""),
        (client_frame(2, b""), b""),
        (client_frame(2, b"\x00\xff" * 10), b"\x00\xff" * 10),
        (client_frame(1, "h\u00e9llo \u20ac \U0001f600".encode()), "h\u00e9llo \u20ac \U0001f600"),
        (client_frame(1, b"x" * 125), "x" * 125),
        (client_frame(1, b"y" * 126), "y" * 126),  # 16-bit length
        (client_frame(2, b"z" * 1000), b"z" * 1000),
        (client_frame(1, b"w" * 65535), "w" * 65535),
        (sixteen_bit(1, b"short"), "short"),
        (sixteen_bit(2, b""), b""),
        (client_frame(2, b"x" * 70000), b"x" * 70000),  # 64-bit length
        (client_frame(2, bytes(range(256)) * 256), bytes(range(256)) * 256),  # 64 KiB, the bench's size
        (client_frame(1, "\u00e9".encode() * 40000), "\u00e9" * 40000),
        (sixty_four_bit(1, b"tiny"), "tiny"),  # a non-minimal 64-bit length
        (sixty_four_bit(2, b""), b""),
    ],
)
def test_one_whole_message(parse, data, expected):
    got = parse(data, UNLIMITED)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("parse", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x81",
        b"\x81\x85\x01\x02",
        client_frame(1, b"hello")[:-1],  # incomplete
        client_frame(1, b"hello") + b"\x81",  # something after it
        client_frame(1, b"a") + client_frame(1, b"b"),  # two frames
        client_frame(1, b"hello", fin=False),  # a fragment
        client_frame(0, b"hello"),  # a continuation
        client_frame(1, b"hello", rsv=4),  # compressed
        client_frame(1, b"hello", rsv=2),
        client_frame(2, b"hello", rsv=1),
        client_frame(1, b"hello", masked=False),  # unmasked: the general path fails it
        client_frame(9, b"ping"),
        client_frame(8, b"\x03\xe8"),
        client_frame(10, b""),
        client_frame(3, b"reserved"),
        client_frame(2, b"x" * 70000)[:-1],  # incomplete, 64-bit length
        sixty_four_bit(2, b"abc", length=3 | (1 << 63)),  # the top bit set (RFC 6455 5.2)
        sixty_four_bit(2, b"abc", length=2),
        sixty_four_bit(2, b"abc", length=4),
        sixty_four_bit(2, b"abc")[:13],  # the header cut short
        client_frame(1, b"\xff\xfe"),  # invalid UTF-8
        client_frame(1, b"\xed\xa0\x80"),  # a surrogate
        client_frame(1, b"\xe2\x82"),  # truncated
        client_frame(1, b"x" * 600 + b"\xc0\xaf"),  # invalid, past the C stack buffer
        sixteen_bit(1, b"abc")[:-1],
    ],
)
def test_anything_else_is_none(parse, data):
    assert parse(data, UNLIMITED) is None


@pytest.mark.parametrize("parse", IMPLEMENTATIONS)
def test_the_limit(parse):
    data = client_frame(2, b"x" * 200)
    assert parse(data, 200) == b"x" * 200
    assert parse(data, 199) is None
    assert parse(client_frame(1, b""), 0) == ""
    assert parse(client_frame(1, b"a"), 0) is None
    big = client_frame(2, b"x" * 70000)
    assert parse(big, 70000) == b"x" * 70000
    assert parse(big, 69999) is None


@pytest.mark.parametrize("parse", IMPLEMENTATIONS)
def test_only_exact_bytes(parse):
    data = client_frame(1, b"hello")
    assert parse(bytearray(data), UNLIMITED) is None
    assert parse(memoryview(data), UNLIMITED) is None


def general(data: bytes):
    """What FrameReader says about data, as parse_message should report it (or None)."""
    reader = FrameReader(require_mask=True)
    reader.feed(data)
    try:
        frame = reader.next_frame()
    except Exception:
        return None
    if frame is None or reader.buffered or not frame.fin or frame.rsv or frame.opcode not in (1, 2):
        return None
    if frame.opcode == 2:
        return frame.payload
    try:
        return frame.payload.decode("utf-8")
    except UnicodeDecodeError:
        return None


@given(
    opcode=st.sampled_from([0, 1, 2, 8, 9, 10]),
    payload=st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    fin=st.booleans(),
    rsv=st.sampled_from([0, 0, 0, 1, 4]),
    mask=st.binary(min_size=4, max_size=4),
    tail=st.binary(max_size=3),
    cut=st.integers(min_value=0, max_value=3),
    wide=st.booleans(),
)
def test_both_agree_with_the_general_parser(opcode, payload, fin, rsv, mask, tail, cut, wide):
    if opcode >= 8:
        payload = payload[:125]
        fin = True
    data = client_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask)
    if wide:  # the same frame with a (non-minimal) 64-bit length
        head = data[0] & 0x7F | (0x80 if fin else 0)
        data = bytes([head, 0xFF]) + struct.pack("!Q", len(payload)) + data[-len(payload) - 4:] if payload \
            else bytes([head, 0xFF]) + struct.pack("!Q", 0) + mask
    if cut:
        data = data[:-cut]
    data += tail
    expected = general(data)
    assert py_parse_message(data, UNLIMITED) == expected
    if c_parse_message is not None:
        assert c_parse_message(data, UNLIMITED) == expected


@pytest.fixture(autouse=False, params=IMPLEMENTATIONS)
def core_parse(request, monkeypatch):
    """Run a ServerProtocol test with each parse_message."""
    monkeypatch.setattr("kitura.websocket.protocol.parse_message", request.param)
    return request.param


def test_receive_message_hands_out_a_lone_message(core_parse):
    proto = ServerProtocol()
    assert proto.receive_message(client_frame(1, b"hi")) == "hi"
    assert proto.receive_message(client_frame(2, b"\x00")) == b"\x00"
    assert proto.events_received() == []
    # two frames in one read: the events, in order
    assert proto.receive_message(client_frame(1, b"a") + client_frame(2, b"b")) is None
    assert proto.events_received() == [TextMessage("a"), BinaryMessage(b"b")]


def test_receive_message_keeps_order_with_pending_events(core_parse):
    proto = ServerProtocol()
    proto.receive_data(client_frame(1, b"first"))
    # an event waits: the lone message must queue behind it
    assert proto.receive_message(client_frame(1, b"second")) is None
    assert proto.events_received() == [TextMessage("first"), TextMessage("second")]


def test_receive_message_during_a_fragmented_message_or_a_partial_frame(core_parse):
    proto = ServerProtocol()
    assert proto.receive_message(client_frame(1, b"frag", fin=False)) is None
    assert proto.receive_message(client_frame(1, b"x")) is None  # a new message inside a fragmented one
    assert proto.events_received() == []
    assert proto.close_expected()
    assert proto.local_close_code == 1002

    proto = ServerProtocol()
    whole = client_frame(1, b"split")
    assert proto.receive_message(whole[:3]) is None
    assert proto.receive_message(whole[3:]) is None
    assert proto.events_received() == [TextMessage("split")]


def test_receive_message_respects_the_size_limit_and_utf8(core_parse):
    proto = ServerProtocol(max_message_size=4)
    assert proto.receive_message(client_frame(1, b"hello")) is None
    assert proto.local_close_code == 1009

    proto = ServerProtocol()
    assert proto.receive_message(client_frame(1, b"\xff")) is None
    assert proto.local_close_code == 1007
    assert proto.receive_message(client_frame(1, b"ignored")) is None  # CLOSED: ignored
    assert proto.events_received() == []


def test_receive_message_after_a_held_close_is_ignored(core_parse):
    proto = ServerProtocol()
    proto.receive_data(client_frame(1, b"m") + client_frame(8, b"\x03\xe8"))
    # the Close is held behind the message: further input is ignored
    assert proto.receive_message(client_frame(1, b"late")) is None
    events = proto.events_received()
    assert events[0] == TextMessage("m")
    assert TextMessage("late") not in events


def test_receive_data_fast_path_gives_the_same_events(core_parse):
    proto = ServerProtocol()
    proto.receive_data(client_frame(1, "\u00e9t\u00e9".encode()))
    proto.receive_data(client_frame(2, b"\x01\x02"))
    proto.receive_data(client_frame(1, b"y" * 300))
    assert proto.events_received() == [TextMessage("\u00e9t\u00e9"), BinaryMessage(b"\x01\x02"), TextMessage("y" * 300)]
