"""Tests of kitura/websocket/frames.py: wire format (RFC 6455 5), close payload (5.5.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.websocket.errors import ProtocolError
from kitura.websocket.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RSV1,
    Frame,
    FrameReader,
    encode_close_payload,
    encode_frame,
    parse_close_payload,
)

MASK = b"\x37\xfa\x21\x3d"


def masked(payload: bytes, mask: bytes = MASK) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, length: bytes | None = None) -> bytes:
    """A masked frame built by hand; ``length`` forces the length bytes (b1 & 0x7f + extension)."""
    b0 = opcode | (0x80 if fin else 0) | rsv
    if length is None:
        n = len(payload)
        length = bytes([n]) if n < 126 else b"\x7e" + n.to_bytes(2, "big") if n < 65536 else b"\x7f" + n.to_bytes(8, "big")
    return bytes([b0, 0x80 | length[0]]) + length[1:] + MASK + masked(payload)


def parse_all(data: bytes, **kw: object) -> list[Frame]:
    reader = FrameReader(**kw)  # type: ignore[arg-type]
    reader.feed(data)
    frames = []
    while (frame := reader.next_frame()) is not None:
        frames.append(frame)
    assert reader.buffered == 0
    return frames


# ---------------------------------------------------------------- encode_frame


@pytest.mark.parametrize(
    "n, header",
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_encode_frame_length_forms(n: int, header: bytes) -> None:
    payload = b"x" * n
    out = encode_frame(OP_TEXT, payload)
    assert type(out) is bytes
    assert out == header + payload


def test_encode_frame_bits() -> None:
    assert encode_frame(OP_BINARY, b"ab", fin=False) == b"\x02\x02ab"
    assert encode_frame(OP_TEXT, b"ab", rsv1=True) == b"\xc1\x02ab"
    assert encode_frame(OP_CONT, b"", fin=True) == b"\x80\x00"
    assert encode_frame(OP_CLOSE, b"\x03\xe8") == b"\x88\x02\x03\xe8"
    assert encode_frame(OP_PING, b"") == b"\x89\x00"
    assert encode_frame(OP_PONG, b"hi") == b"\x8a\x02hi"


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_encode_frame_accepts_buffers(wrap: type) -> None:
    assert encode_frame(OP_BINARY, wrap(b"abc")) == b"\x82\x03abc"


@pytest.mark.parametrize("n", [0, 5, 125, 126, 70000])
def test_encode_frame_masked_matches_hand_built(n: int) -> None:
    payload = bytes(range(256)) * (n // 256) + bytes(range(n % 256))
    assert encode_frame(OP_BINARY, payload, mask=MASK) == client_frame(OP_BINARY, payload)


# ----------------------------------------------------------------- FrameReader


def test_reader_parses_and_unmasks() -> None:
    data = client_frame(OP_TEXT, b"Hello") + client_frame(OP_BINARY, b"\x00\x01", fin=False, rsv=RSV1)
    assert parse_all(data) == [
        Frame(True, 0, OP_TEXT, b"Hello"),
        Frame(False, RSV1, OP_BINARY, b"\x00\x01"),
    ]


@pytest.mark.parametrize("n", [0, 125, 126, 65535, 65536])
def test_reader_length_forms(n: int) -> None:
    payload = b"\xab" * n
    (frame,) = parse_all(client_frame(OP_BINARY, payload))
    assert frame.payload == payload
    assert type(frame.payload) is bytes


@pytest.mark.parametrize(
    "length", [b"\x7e\x00\x05", b"\x7f\x00\x00\x00\x00\x00\x00\x00\x05"], ids=["16-bit", "64-bit"]
)
def test_reader_accepts_non_minimal_lengths(length: bytes) -> None:
    (frame,) = parse_all(client_frame(OP_TEXT, b"hello", length=length))
    assert frame.payload == b"hello"


def test_reader_rejects_64_bit_length_with_top_bit() -> None:
    reader = FrameReader()
    reader.feed(b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01")
    with pytest.raises(ProtocolError) as exc:
        reader.next_frame()
    assert exc.value.code == 1002


def test_reader_rejects_unmasked_frames_unless_told() -> None:
    reader = FrameReader()
    reader.feed(b"\x81\x02hi")
    with pytest.raises(ProtocolError) as exc:
        reader.next_frame()
    assert exc.value.code == 1002
    assert parse_all(b"\x81\x02hi", require_mask=False) == [Frame(True, 0, OP_TEXT, b"hi")]


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reader_rejects_reserved_opcodes(opcode: int) -> None:
    reader = FrameReader()
    reader.feed(client_frame(opcode, b""))
    with pytest.raises(ProtocolError) as exc:
        reader.next_frame()
    assert exc.value.code == 1002


@pytest.mark.parametrize("opcode", [OP_CLOSE, OP_PING, OP_PONG])
def test_reader_rejects_bad_control_frames(opcode: int) -> None:
    for data in (client_frame(opcode, b"", fin=False), client_frame(opcode, b"x" * 126)):
        reader = FrameReader()
        reader.feed(data[:4])  # the header alone is enough to reject it
        with pytest.raises(ProtocolError) as exc:
            reader.next_frame()
        assert exc.value.code == 1002


def test_reader_accepts_125_byte_control_frame() -> None:
    assert parse_all(client_frame(OP_PING, b"p" * 125)) == [Frame(True, 0, OP_PING, b"p" * 125)]


def test_reader_limit_is_checked_from_the_header() -> None:
    reader = FrameReader()
    reader.feed(client_frame(OP_BINARY, b"x" * 1000)[:4])  # header only, no payload
    with pytest.raises(ProtocolError) as exc:
        reader.next_frame(limit=999)
    assert exc.value.code == 1009
    reader = FrameReader()
    reader.feed(client_frame(OP_BINARY, b"x" * 1000))
    assert reader.next_frame(limit=1000) is not None


def test_reader_rsv1_limit_applies_to_rsv1_frames_only() -> None:
    frame = client_frame(OP_BINARY, b"x" * 200, rsv=RSV1)
    reader = FrameReader()
    reader.feed(frame)
    assert reader.next_frame(limit=100, rsv1_limit=200) is not None
    reader = FrameReader()
    reader.feed(client_frame(OP_BINARY, b"x" * 200))
    with pytest.raises(ProtocolError):
        reader.next_frame(limit=100, rsv1_limit=200)


def test_reader_limit_ignores_control_frames() -> None:
    reader = FrameReader()
    reader.feed(client_frame(OP_PING, b"x" * 100))
    assert reader.next_frame(limit=10) == Frame(True, 0, OP_PING, b"x" * 100)


def test_reader_byte_by_byte() -> None:
    frames = [
        client_frame(OP_TEXT, b"first"),
        client_frame(OP_BINARY, b"\x00" * 70000),  # 64-bit length
        client_frame(OP_PING, b""),
        client_frame(OP_TEXT, b"y" * 300),
    ]
    data = b"".join(frames)
    reader = FrameReader()
    parsed = []
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
        while (frame := reader.next_frame()) is not None:
            parsed.append(frame)
    assert parsed == parse_all(data)
    assert len(parsed) == 4
    assert reader.buffered == 0


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_reader_copies_mutable_input(wrap: type) -> None:
    raw = bytearray(client_frame(OP_TEXT, b"abc") + client_frame(OP_TEXT, b"def")[:3])
    reader = FrameReader()
    reader.feed(wrap(raw))
    raw[:] = b"\x00" * len(raw)  # the caller reuses its buffer
    assert reader.next_frame() == Frame(True, 0, OP_TEXT, b"abc")
    assert reader.next_frame() is None
    assert reader.buffered == 3
    reader.feed(client_frame(OP_TEXT, b"def")[3:])
    assert reader.next_frame() == Frame(True, 0, OP_TEXT, b"def")


def test_reader_discard() -> None:
    reader = FrameReader()
    reader.feed(client_frame(OP_TEXT, b"abc")[:4])
    assert reader.next_frame() is None
    reader.discard()
    assert reader.buffered == 0


@given(
    frames=st.lists(
        st.tuples(
            st.sampled_from([OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG]),
            st.binary(max_size=300),
            st.booleans(),
            st.booleans(),
            st.binary(min_size=4, max_size=4),
        ),
        max_size=6,
    ),
    chunk=st.integers(min_value=1, max_value=400),
)
def test_serialize_then_parse_round_trip(frames: list[tuple[int, bytes, bool, bool, bytes]], chunk: int) -> None:
    expected = []
    data = b""
    for opcode, payload, fin, rsv1, mask in frames:
        if opcode >= 8:
            payload, fin = payload[:125], True
        expected.append(Frame(fin, RSV1 if rsv1 else 0, opcode, payload))
        data += encode_frame(opcode, payload, fin, rsv1, mask=mask)
    reader = FrameReader()
    parsed = []
    for i in range(0, len(data), chunk):
        reader.feed(data[i : i + chunk])
        while (frame := reader.next_frame()) is not None:
            parsed.append(frame)
    assert parsed == expected
    unmasked = b"".join(encode_frame(f.opcode, f.payload, f.fin, bool(f.rsv)) for f in expected)
    assert parse_all(unmasked, require_mask=False) == expected


# --------------------------------------------------------------- close payload


# ------------------------------------------------------------ take_partial


def feed_in_cuts(data: bytes, cuts: list[int]) -> tuple[FrameReader, Frame | None, list[tuple[int, bytes]], list]:
    """Feed ``data`` to a FrameReader cut at ``cuts`` (ascending), taking the partial payload
    after each piece until a frame completes: (the reader, the frame, the parts taken,
    what a second take_partial right after each part gave)."""
    reader = FrameReader()
    pos = 0
    parts: list[tuple[int, bytes]] = []
    second_takes = []
    frame = None
    for cut in cuts:
        if cut <= pos:
            continue
        reader.feed(data[pos:cut])
        pos = cut
        frame = reader.next_frame()
        if frame is not None:
            break
        part = reader.take_partial()
        if part is not None:
            parts.append(part)
        second_takes.append(reader.take_partial())
    return reader, frame, parts, second_takes


def test_take_partial_hands_out_each_payload_byte_once() -> None:
    payload = bytes(range(200))
    data = client_frame(OP_TEXT, payload, fin=False) + client_frame(OP_PING, b"p")
    # header 4 + mask 4, then payload
    reader, frame, parts, second_takes = feed_in_cuts(data, [3, 4, 9, 10, 11, 17, 60, 61, 150, len(data)])
    for opcode, piece in parts:
        assert opcode == OP_TEXT  # b0 without FIN
        assert piece
    assert all(take is None for take in second_takes)  # nothing new
    assert frame is not None
    assert (frame.fin, frame.opcode) == (False, OP_TEXT)
    assert len(parts) >= 5
    assert b"".join(p for _, p in parts) + frame.payload == payload  # the rest only, unmasked with the rotated key
    assert reader.next_frame() == Frame(True, 0, OP_PING, b"p")


@given(payload=st.binary(min_size=1, max_size=300), cuts=st.lists(st.integers(min_value=1, max_value=310), max_size=12))
def test_take_partial_any_cuts(payload: bytes, cuts: list[int]) -> None:
    data = client_frame(OP_CONT, payload)
    reader, frame, parts, _ = feed_in_cuts(data, sorted(set(cuts)) + [len(data)])
    assert frame is not None
    assert b"".join(p for _, p in parts) + frame.payload == payload
    assert reader.buffered == 0


def test_take_partial_unmasked_frames() -> None:
    data = encode_frame(OP_TEXT, b"hello world")
    reader = FrameReader(require_mask=False)
    reader.feed(data[:5])
    assert reader.next_frame() is None
    assert reader.take_partial() == (0x80 | OP_TEXT, b"hel")
    reader.feed(data[5:])
    assert reader.next_frame() == Frame(True, 0, OP_TEXT, b"lo world")


def test_take_partial_skips_what_it_should() -> None:
    reader = FrameReader()
    reader.feed(client_frame(OP_TEXT, b"abcdef")[:5])  # mask incomplete
    assert reader.take_partial() is None
    reader = FrameReader()
    reader.feed(client_frame(OP_PING, b"abcdef")[:8])  # control frame
    assert reader.take_partial() is None
    reader = FrameReader()
    reader.feed(client_frame(OP_TEXT, b"abcdef", rsv=RSV1)[:8])
    assert reader.take_partial(frozenset({OP_TEXT, OP_CONT})) is None  # RSV1 not accepted
    assert reader.take_partial(frozenset({RSV1 | OP_TEXT})) == (0x80 | RSV1 | OP_TEXT, b"ab")
    reader = FrameReader()
    reader.feed(client_frame(OP_BINARY, b"abcdef")[:8])
    assert reader.take_partial(frozenset({OP_TEXT})) is None
    reader.discard()
    assert reader.take_partial() is None


def test_discard_forgets_the_taken_part() -> None:
    reader = FrameReader()
    reader.feed(client_frame(OP_TEXT, b"abcdef")[:7])  # header 2 + mask 4 + "a"
    assert reader.take_partial() == (0x80 | OP_TEXT, b"a")
    reader.discard()
    reader.feed(client_frame(OP_TEXT, b"xyz"))
    assert reader.next_frame() == Frame(True, 0, OP_TEXT, b"xyz")


def test_close_payload_round_trip() -> None:
    assert encode_close_payload(1000) == b"\x03\xe8"
    assert encode_close_payload(4000, "bye é") == b"\x0f\xa0" + "bye é".encode()
    assert parse_close_payload(b"\x0f\xa0" + "bye é".encode()) == (4000, "bye é")
    assert parse_close_payload(b"\x03\xe8") == (1000, "")


def test_empty_close_payload_is_1005() -> None:
    assert parse_close_payload(b"") == (1005, "")
    assert encode_close_payload(1005) == b""


def test_close_payload_of_one_byte_is_1002() -> None:
    with pytest.raises(ProtocolError) as exc:
        parse_close_payload(b"\x03")
    assert exc.value.code == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_close_payload_invalid_code_is_1002(code: int) -> None:
    with pytest.raises(ProtocolError) as exc:
        parse_close_payload(code.to_bytes(2, "big") + b"reason")
    assert exc.value.code == 1002


def test_close_payload_bad_utf8_is_1007() -> None:
    with pytest.raises(ProtocolError) as exc:
        parse_close_payload(b"\x03\xe8\xff\xfe")
    assert exc.value.code == 1007


def test_close_payload_too_long() -> None:
    assert len(encode_close_payload(1000, "x" * 123)) == 125
    with pytest.raises(ValueError):
        encode_close_payload(1000, "x" * 124)


def test_reader_with_python_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    from kitura.websocket import frames
    from kitura.websocket.mask import py_apply_mask

    monkeypatch.setattr(frames, "apply_mask", py_apply_mask)
    payloads = [b"", b"abc", b"x" * 3000]  # the last one is read through a memoryview
    data = b"".join(client_frame(OP_BINARY, p) for p in payloads)
    assert [f.payload for f in parse_all(data)] == payloads
    assert encode_frame(OP_BINARY, b"abc", mask=MASK) == client_frame(OP_BINARY, b"abc")
