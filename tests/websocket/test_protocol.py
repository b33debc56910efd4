"""Tests of kitura/websocket/protocol.py: bytes in, events and bytes out, fixed masks.

Test classes follow RFC 6455 (and RFC 7692 for compressed messages). Every
failure asserts the exact close code sent in the Close frame.
"""

from __future__ import annotations

import logging
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitura.websocket.deflate import PerMessageDeflate
from kitura.websocket.errors import ProtocolError
from kitura.websocket.events import BinaryMessage, CloseReceived, Ping, Pong, TextMessage
from kitura.websocket.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RSV1,
    RSV2,
    RSV3,
    Frame,
    FrameReader,
    encode_close_payload,
    encode_frame,
    encode_frame_head,
)
from kitura.websocket.protocol import ServerProtocol, State

MASK = b"\x37\xfa\x21\x3d"


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes | None = MASK) -> bytes:
    """A client frame built by hand (independent of encode_frame)."""
    b0 = opcode | (0x80 if fin else 0) | rsv
    n = len(payload)
    length = bytes([n]) if n < 126 else b"\x7e" + n.to_bytes(2, "big") if n < 65536 else b"\x7f" + n.to_bytes(8, "big")
    if mask is None:
        return bytes([b0, length[0]]) + length[1:] + payload
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([b0, 0x80 | length[0]]) + length[1:] + mask + body


def close(code: int | None = None, reason: bytes = b"") -> bytes:
    return frame(OP_CLOSE, b"" if code is None else code.to_bytes(2, "big") + reason)


def sent(p: ServerProtocol) -> list[Frame]:
    """Parse what the protocol wants to send (server frames are unmasked)."""
    out = p.data_to_send()
    assert all(type(chunk) is bytes for chunk in out)
    reader = FrameReader(require_mask=False)
    reader.feed(b"".join(out))
    frames = []
    while (f := reader.next_frame()) is not None:
        frames.append(f)
    assert reader.buffered == 0
    return frames


def assert_failed(p: ServerProtocol, code: int) -> None:
    """The protocol sent exactly one Close with ``code`` as its last frame and expects TCP to close."""
    frames = sent(p)
    assert frames, "no close frame sent"
    last = frames[-1]
    assert last.opcode == OP_CLOSE
    assert int.from_bytes(last.payload[:2], "big") == code
    assert [f.opcode for f in frames].count(OP_CLOSE) == 1
    assert p.state is State.CLOSED
    assert p.close_expected()
    assert p.local_close_code == code


def feed(p: ServerProtocol, *chunks: bytes) -> list[object]:
    for chunk in chunks:
        p.receive_data(chunk)
    return list(p.events_received())


def deflate_message(data: bytes) -> bytes:
    """Compress like a client with no context takeover, tail stripped (RFC 7692 7.2.1)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate_message(payload: bytes) -> bytes:
    d = zlib.decompressobj(-15)
    return d.decompress(payload + b"\x00\x00\xff\xff")


# ------------------------------------------------------------------ messages


class TestDataFrames:
    """RFC 6455 5.6 data frames and 5.4 fragmentation."""

    def test_text(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, "héllo".encode())) == [TextMessage("héllo")]
        assert p.data_to_send() == []
        assert p.state is State.OPEN and not p.close_expected()

    def test_binary(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_BINARY, b"\x00\xff")) == [BinaryMessage(b"\x00\xff")]

    def test_empty_messages(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT), frame(OP_BINARY)) == [TextMessage(""), BinaryMessage(b"")]

    def test_several_messages_in_one_chunk(self) -> None:
        p = ServerProtocol()
        data = frame(OP_TEXT, b"a") + frame(OP_BINARY, b"b") + frame(OP_TEXT, b"c")
        assert feed(p, data) == [TextMessage("a"), BinaryMessage(b"b"), TextMessage("c")]

    def test_events_and_data_are_handed_out_once(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_PING, b"x"))
        assert p.events_received() == [Ping(b"x")]
        assert p.events_received() == []
        assert p.data_to_send() == [b"\x8a\x01x"]
        assert p.data_to_send() == []

    def test_fragmented_text_with_split_character(self) -> None:
        data = "añb€c".encode()  # € is 3 bytes: split it over two frames
        p = ServerProtocol()
        events = feed(
            p,
            frame(OP_TEXT, data[:2], fin=False),
            frame(OP_CONT, data[2:5], fin=False),
            frame(OP_CONT, b"", fin=False),
            frame(OP_CONT, data[5:]),
        )
        assert events == [TextMessage("añb€c")]

    def test_fragmented_binary(self) -> None:
        p = ServerProtocol()
        events = feed(p, frame(OP_BINARY, b"ab", fin=False), frame(OP_CONT, b"cd", fin=False), frame(OP_CONT, b"e"))
        assert events == [BinaryMessage(b"abcde")]
        assert type(events[0].data) is bytes  # type: ignore[attr-defined]

    def test_control_frames_between_fragments(self) -> None:
        p = ServerProtocol()
        events = feed(
            p,
            frame(OP_TEXT, b"ab", fin=False),
            frame(OP_PING, b"p1"),
            frame(OP_CONT, b"cd", fin=False),
            frame(OP_PONG, b"p2"),
            frame(OP_CONT, b"ef"),
        )
        assert events == [Ping(b"p1"), Pong(b"p2"), TextMessage("abcdef")]
        assert sent(p) == [Frame(True, 0, OP_PONG, b"p1")]

    def test_continuation_without_message_is_1002(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_CONT, b"x")) == []
        assert_failed(p, 1002)

    @pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
    def test_new_message_inside_fragmented_message_is_1002(self, opcode: int) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, b"a", fin=False), frame(opcode, b"b")) == []
        assert_failed(p, 1002)

    def test_continuation_after_finished_message_is_1002(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_BINARY, b"a", fin=False), frame(OP_CONT, b"b"), frame(OP_CONT, b"c")) == [
            BinaryMessage(b"ab")
        ]
        assert_failed(p, 1002)


class TestFraming:
    """RFC 6455 5.1-5.2: masking, opcodes, RSV bits, lengths."""

    def test_unmasked_client_frame_is_1002(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, b"hi", mask=None)) == []
        assert_failed(p, 1002)

    @pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    def test_reserved_opcode_is_1002(self, opcode: int) -> None:
        p = ServerProtocol()
        feed(p, frame(opcode, b"x"))
        assert_failed(p, 1002)

    @pytest.mark.parametrize("rsv", [RSV1, RSV2, RSV3, RSV1 | RSV2, RSV1 | RSV2 | RSV3])
    @pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY, OP_PING])
    def test_rsv_bits_without_extension_are_1002(self, rsv: int, opcode: int) -> None:
        p = ServerProtocol()
        assert feed(p, frame(opcode, b"x", rsv=rsv)) == []
        assert_failed(p, 1002)

    def test_64_bit_length_with_top_bit_is_1002(self) -> None:
        p = ServerProtocol()
        feed(p, b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00" + MASK)
        assert_failed(p, 1002)

    def test_non_minimal_lengths_are_accepted(self) -> None:
        p = ServerProtocol()
        body = bytes(b ^ MASK[i % 4] for i, b in enumerate(b"hello"))
        data16 = b"\x81\xfe\x00\x05" + MASK + body
        data64 = b"\x81\xff" + (5).to_bytes(8, "big") + MASK + body
        assert feed(p, data16, data64) == [TextMessage("hello"), TextMessage("hello")]

    def test_large_frames_with_16_and_64_bit_lengths(self) -> None:
        p = ServerProtocol()
        a, b = b"a" * 300, b"b" * 70000
        assert feed(p, frame(OP_BINARY, a), frame(OP_BINARY, b)) == [BinaryMessage(a), BinaryMessage(b)]


class TestControlFrames:
    """RFC 6455 5.5: control frames, ping/pong."""

    def test_ping_is_answered_with_same_payload(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_PING, b"hello")) == [Ping(b"hello")]
        assert p.data_to_send() == [b"\x8a\x05hello"]

    def test_empty_ping(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_PING)) == [Ping(b"")]
        assert p.data_to_send() == [b"\x8a\x00"]

    def test_125_byte_ping(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_PING, b"p" * 125)) == [Ping(b"p" * 125)]
        assert sent(p) == [Frame(True, 0, OP_PONG, b"p" * 125)]

    def test_unsolicited_pong_is_harmless(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_PONG, b"beat")) == [Pong(b"beat")]
        assert p.data_to_send() == []
        assert p.state is State.OPEN

    @pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
    def test_control_frame_over_125_bytes_is_1002(self, opcode: int) -> None:
        p = ServerProtocol()
        feed(p, frame(opcode, b"\x03\xe8" + b"x" * 124))
        assert_failed(p, 1002)

    @pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
    def test_fragmented_control_frame_is_1002(self, opcode: int) -> None:
        p = ServerProtocol()
        feed(p, frame(opcode, b"", fin=False))
        assert_failed(p, 1002)


class TestUtf8:
    """RFC 6455 8.1: text must be UTF-8, checked as it arrives."""

    @pytest.mark.parametrize(
        "payload", [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ok\xce", b"\xe2\x82"]
    )
    def test_invalid_utf8_is_1007(self, payload: bytes) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, payload)) == []
        assert_failed(p, 1007)

    @pytest.mark.parametrize("first", [b"ok\xff", b"\xed\xa0", b"\xf4\x90", b"\xc0"])
    def test_invalid_fragment_fails_at_once(self, first: bytes) -> None:
        p = ServerProtocol()
        feed(p, frame(OP_TEXT, first, fin=False))  # the message is not finished
        assert_failed(p, 1007)

    def test_surrogate_prefix_split_over_fragments_fails_at_once(self) -> None:
        p = ServerProtocol()
        feed(p, frame(OP_TEXT, b"a\xed", fin=False))
        assert p.state is State.OPEN  # ED may start a valid character
        feed(p, frame(OP_CONT, b"\xa0", fin=False))  # ED A0 can only be a surrogate
        assert_failed(p, 1007)

    def test_valid_ed_prefix_is_accepted(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, b"\xed\x9f", fin=False), frame(OP_CONT, b"\xbf")) == [TextMessage("\ud7ff")]

    def test_incomplete_character_at_end_is_1007(self) -> None:
        p = ServerProtocol()
        feed(p, frame(OP_TEXT, b"ab\xe2", fin=False))
        assert p.state is State.OPEN  # may still be completed
        feed(p, frame(OP_CONT, b"\x82"))
        assert_failed(p, 1007)

    def test_binary_is_not_validated(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_BINARY, b"\xff\xfe")) == [BinaryMessage(b"\xff\xfe")]

    def test_decoder_is_reset_between_messages(self) -> None:
        p = ServerProtocol()
        events = feed(
            p,
            frame(OP_TEXT, "é".encode(), fin=False),
            frame(OP_CONT, b""),
            frame(OP_TEXT, b"x", fin=False),
            frame(OP_CONT, b"y"),
        )
        assert events == [TextMessage("é"), TextMessage("xy")]


class TestLimits:
    """Message size (checked from the header, 1009) and fragment count (1008)."""

    @pytest.mark.parametrize("n", [101, 300, 70000])
    def test_too_big_frame_fails_before_the_payload_arrives(self, n: int) -> None:
        p = ServerProtocol(max_message_size=100)
        data = frame(OP_BINARY, b"x" * n)
        header_len = len(data) - n
        feed(p, data[:header_len])  # header and mask only
        assert_failed(p, 1009)

    def test_exact_limit_is_accepted(self) -> None:
        p = ServerProtocol(max_message_size=100)
        assert feed(p, frame(OP_BINARY, b"x" * 100)) == [BinaryMessage(b"x" * 100)]
        assert feed(p, frame(OP_TEXT, b"x" * 50, fin=False), frame(OP_CONT, b"y" * 50)) == [
            TextMessage("x" * 50 + "y" * 50)
        ]

    def test_fragmented_message_over_limit_is_1009(self) -> None:
        p = ServerProtocol(max_message_size=100)
        feed(p, frame(OP_BINARY, b"x" * 60, fin=False))
        assert p.state is State.OPEN
        data = frame(OP_CONT, b"y" * 41)
        feed(p, data[:8])  # header only: 60 + 41 > 100
        assert_failed(p, 1009)

    def test_control_frames_do_not_count(self) -> None:
        p = ServerProtocol(max_message_size=10)
        events = feed(p, frame(OP_BINARY, b"x" * 10, fin=False), frame(OP_PING, b"p" * 100), frame(OP_CONT, b""))
        assert events == [Ping(b"p" * 100), BinaryMessage(b"x" * 10)]

    def test_default_limit_is_16_mib(self) -> None:
        p = ServerProtocol()
        assert p.max_message_size == 16 * 1024 * 1024
        feed(p, b"\x82\xff" + (16 * 1024 * 1024 + 1).to_bytes(8, "big") + MASK)
        assert_failed(p, 1009)

    def test_no_limit(self) -> None:
        p = ServerProtocol(max_message_size=None, max_fragments=None)
        assert feed(p, frame(OP_BINARY, b"x" * 1000)) == [BinaryMessage(b"x" * 1000)]

    def test_too_many_fragments_is_1008(self) -> None:
        p = ServerProtocol(max_fragments=3)
        events = feed(p, frame(OP_BINARY, b"a", fin=False), frame(OP_CONT, b"b", fin=False), frame(OP_CONT, b"c"))
        assert events == [BinaryMessage(b"abc")]
        feed(p, frame(OP_TEXT, b"", fin=False), *[frame(OP_CONT, b"", fin=False)] * 3)
        assert_failed(p, 1008)
        assert p.local_close_reason


class TestCloseHandshake:
    """RFC 6455 5.5.1, 7.1: closing."""

    def test_peer_close_is_echoed(self) -> None:
        p = ServerProtocol()
        assert feed(p, close(1000, b"bye")) == [CloseReceived(1000, "bye")]
        assert p.data_to_send() == [b"\x88\x05\x03\xe8bye"]  # code and reason echoed, as Kitura
        assert (p.close_code, p.close_reason) == (1000, "bye")
        assert p.state is State.CLOSED and p.close_expected()
        assert p.local_close_code == 1000

    @pytest.mark.parametrize("code", [1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
    def test_echo_keeps_the_code(self, code: int) -> None:
        p = ServerProtocol()
        assert feed(p, close(code)) == [CloseReceived(code, "")]
        assert p.data_to_send() == [b"\x88\x02" + code.to_bytes(2, "big")]

    def test_empty_close_gets_empty_close(self) -> None:
        p = ServerProtocol()
        assert feed(p, close()) == [CloseReceived(1005, "")]
        assert p.data_to_send() == [b"\x88\x00"]
        assert p.close_code == 1005
        assert p.close_expected()

    def test_close_of_one_byte_is_1002(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_CLOSE, b"\x03")) == []
        assert_failed(p, 1002)

    @pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
    def test_invalid_close_code_is_1002(self, code: int) -> None:
        p = ServerProtocol()
        assert feed(p, close(code)) == []
        assert_failed(p, 1002)

    def test_close_reason_bad_utf8_is_1007(self) -> None:
        p = ServerProtocol()
        assert feed(p, close(1000, b"\xff")) == []
        assert_failed(p, 1007)

    def test_data_after_close_is_ignored(self) -> None:
        p = ServerProtocol()
        events = feed(p, close(1000) + frame(OP_TEXT, b"late") + frame(OP_PING), frame(OP_BINARY, b"later"))
        assert events == [CloseReceived(1000, "")]
        assert sent(p) == [Frame(True, 0, OP_CLOSE, b"\x03\xe8")]

    def test_close_inside_fragmented_message(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, b"a", fin=False), close(1001)) == [CloseReceived(1001, "")]
        assert p.close_expected()

    def test_server_initiated_close_waits_for_the_peer(self) -> None:
        p = ServerProtocol()
        p.send_close(1001, "going away")
        assert sent(p) == [Frame(True, 0, OP_CLOSE, b"\x03\xe9going away")]
        assert p.state is State.CLOSING
        assert not p.close_expected()
        # Data the peer sent before seeing our Close is still delivered; pings are not answered.
        assert feed(p, frame(OP_TEXT, b"still"), frame(OP_PING, b"x")) == [TextMessage("still"), Ping(b"x")]
        assert p.data_to_send() == []
        assert feed(p, close(1001)) == [CloseReceived(1001, "")]
        assert p.data_to_send() == []  # no second Close
        assert p.state is State.CLOSED and p.close_expected()
        assert (p.close_code, p.local_close_code) == (1001, 1001)

    def test_send_close_1005_is_empty(self) -> None:
        p = ServerProtocol()
        p.send_close(1005)
        assert p.data_to_send() == [b"\x88\x00"]

    @pytest.mark.parametrize("code", [999, 1004, 1006, 1015, 2000, 5000])
    def test_send_close_rejects_codes_that_may_not_be_sent(self, code: int) -> None:
        p = ServerProtocol()
        with pytest.raises(ValueError):
            p.send_close(code)
        assert p.state is State.OPEN

    def test_send_close_truncates_long_reason(self) -> None:
        p = ServerProtocol()
        p.send_close(1000, "é" * 100)
        (f,) = sent(p)
        assert len(f.payload) <= 125
        assert f.payload[2:].decode() == "é" * 61

    def test_nothing_is_sent_after_close(self) -> None:
        p = ServerProtocol()
        p.send_close()
        p.data_to_send()
        p.send_text("x")
        p.send_binary(b"x")
        p.send_ping(b"x")
        p.send_pong(b"x")
        p.send_frame(encode_frame(OP_TEXT, b"x"))
        p.send_close()
        p.fail(1002)
        assert p.data_to_send() == []

    def test_receive_eof_without_close_is_1006(self) -> None:
        p = ServerProtocol()
        feed(p, frame(OP_TEXT, b"partial", fin=False)[:5])
        p.receive_eof()
        assert (p.close_code, p.close_reason) == (1006, "")
        assert p.state is State.CLOSED and p.close_expected()
        assert p.data_to_send() == []
        assert feed(p, frame(OP_TEXT, b"x")) == []

    def test_receive_eof_after_close_keeps_the_code(self) -> None:
        p = ServerProtocol()
        feed(p, close(4000, b"x"))
        p.receive_eof()
        assert (p.close_code, p.close_reason) == (4000, "x")


class TestFail:
    """RFC 6455 7.1.7: failing the connection; the single error boundary."""

    def test_fail_sends_close_and_closes(self) -> None:
        p = ServerProtocol()
        p.fail(1008, "policy")
        assert sent(p) == [Frame(True, 0, OP_CLOSE, b"\x03\xf0policy")]
        assert p.state is State.CLOSED and p.close_expected()
        assert (p.local_close_code, p.local_close_reason) == (1008, "policy")
        assert p.close_code is None
        p.fail(1011)
        assert p.data_to_send() == []
        assert feed(p, frame(OP_TEXT, b"x")) == []

    def test_fail_with_unsendable_code_sends_nothing(self) -> None:
        p = ServerProtocol()
        p.fail(1006)
        assert p.data_to_send() == []
        assert p.close_expected()
        assert p.local_close_code == 1006

    def test_fail_after_send_close_sends_no_second_close(self) -> None:
        p = ServerProtocol()
        p.send_close(1000)
        p.data_to_send()
        feed(p, frame(OP_TEXT, b"x", mask=None))
        assert p.data_to_send() == []
        assert p.close_expected()

    def test_fail_truncates_long_reason(self) -> None:
        p = ServerProtocol()
        p.fail(1002, "x" * 500)
        (f,) = sent(p)
        assert len(f.payload) == 125

    def test_unexpected_exception_is_1011_and_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        class BrokenDeflate:
            min_size = 0

            def decompress(self, payload: bytes, fin: bool, max_length: int) -> bytes:
                raise RuntimeError("boom")

            def compress(self, data: bytes) -> bytes:
                return data

        p = ServerProtocol(deflate=BrokenDeflate())
        with caplog.at_level(logging.ERROR, logger="kitura.websocket"):
            feed(p, frame(OP_TEXT, b"x", rsv=RSV1))
        assert_failed(p, 1011)
        assert "boom" in caplog.text

    def test_protocol_error_from_deflate_keeps_its_code(self) -> None:
        class RejectingDeflate:
            def decompress(self, payload: bytes, fin: bool, max_length: int) -> bytes:
                raise ProtocolError(1007, "corrupt")

            def compress(self, data: bytes) -> bytes:
                return data

        p = ServerProtocol(deflate=RejectingDeflate())
        feed(p, frame(OP_BINARY, b"x", rsv=RSV1))
        assert_failed(p, 1007)


# ------------------------------------------------------- holding back a Close


def echo(p: ServerProtocol, events: list[object]) -> None:
    """The service of the glue's contract: answer each data message with a send."""
    for e in events:
        if isinstance(e, TextMessage):
            p.send_text(e.data)
        elif isinstance(e, BinaryMessage):
            p.send_binary(e.data)


def answers_then_close(p: ServerProtocol, *expected: bytes, code: int) -> None:
    """data_to_send() gives the ``expected`` frames, then one Close with ``code``; then CLOSED."""
    out = p.data_to_send()
    assert out[:-1] == list(expected)
    reader = FrameReader(require_mask=False)
    reader.feed(out[-1])
    last = reader.next_frame()
    assert last is not None and last.opcode == OP_CLOSE and reader.buffered == 0
    assert int.from_bytes(last.payload[:2], "big") == code
    assert p.state is State.CLOSED and p.close_expected() and p.local_close_code == code


BAD_FRAMES = {
    "rsv2": frame(OP_TEXT, b"x", rsv=RSV2),
    "reserved opcode": frame(5, b"x"),
    "unmasked": frame(OP_TEXT, b"x", mask=None),
    "continuation without message": frame(OP_CONT, b"x"),
    "bad utf-8": frame(OP_TEXT, b"\xff"),
    "fragmented ping": frame(OP_PING, b"", fin=False),
}


class TestHoldingBack:
    """A Close (failure or echo) and pongs go out after the answers to the
    data messages that preceded them in the same chunk (Autobahn 3.x, 4.x, 5.15)."""

    @pytest.mark.parametrize("bad", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
    def test_text_then_bad_frame_in_one_chunk(self, bad: bytes) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"Hello") + bad + frame(OP_PING, b"late"))
        events = p.events_received()
        assert events == [TextMessage("Hello")]
        assert p.state is State.OPEN and not p.close_expected()  # the echo can still be sent
        echo(p, events)
        assert not p.close_expected()
        frames = sent(p)
        assert [(f.opcode, f.payload) for f in frames[:1]] == [(OP_TEXT, b"Hello")]
        assert len(frames) == 2
        assert frames[1].opcode == OP_CLOSE
        assert int.from_bytes(frames[1].payload[:2], "big") == (1007 if bad == BAD_FRAMES["bad utf-8"] else 1002)
        assert p.state is State.CLOSED and p.close_expected()
        assert p.data_to_send() == []

    def test_fragmented_message_then_bad_continuation_5_15(self) -> None:
        p = ServerProtocol()
        data = (
            frame(OP_TEXT, b"frag1", fin=False)
            + frame(OP_CONT, b"frag2")
            + frame(OP_CONT, b"frag3", fin=False)
            + frame(OP_TEXT, b"frag4")
        )
        p.receive_data(data)
        events = p.events_received()
        assert events == [TextMessage("frag1frag2")]
        echo(p, events)
        answers_then_close(p, b"\x81\x0afrag1frag2", code=1002)
        assert p.close_expected() and p.local_close_code == 1002

    def test_binary_then_bad_frame(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_BINARY, b"\x00\x01") + frame(OP_BINARY, b"x", rsv=RSV3))
        events = p.events_received()
        echo(p, events)
        answers_then_close(p, b"\x82\x02\x00\x01", code=1002)

    def test_text_then_close_in_one_chunk(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"bye") + close(1000, b"done") + frame(OP_TEXT, b"ignored"))
        assert (p.close_code, p.close_reason) == (1000, "done")  # set as soon as parsed
        events = p.events_received()
        assert events == [TextMessage("bye"), CloseReceived(1000, "done")]
        assert p.state is State.OPEN and not p.close_expected()
        assert p.local_close_code is None
        echo(p, events)
        assert p.data_to_send() == [b"\x81\x03bye", b"\x88\x06\x03\xe8done"]
        assert p.state is State.CLOSED and p.close_expected()
        assert p.local_close_code == 1000

    def test_text_then_empty_close(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a") + close())
        echo(p, p.events_received())
        assert p.data_to_send() == [b"\x81\x01a", b"\x88\x00"]
        assert p.close_code == 1005

    def test_text_then_ping_in_one_chunk(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"hi") + frame(OP_PING, b"p1") + frame(OP_PING, b"p2"))
        events = p.events_received()
        assert events == [TextMessage("hi"), Ping(b"p1"), Ping(b"p2")]
        echo(p, events)
        assert p.data_to_send() == [b"\x81\x02hi", b"\x8a\x02p1", b"\x8a\x02p2"]
        assert p.state is State.OPEN and not p.close_expected()
        # The next ping, with no message waiting, is answered at once.
        p.receive_data(frame(OP_PING, b"p3"))
        assert p.data_to_send() == [b"\x8a\x02p3"]

    def test_ping_before_the_message_is_answered_first(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_PING, b"p") + frame(OP_TEXT, b"hi"))
        echo(p, p.events_received())
        assert p.data_to_send() == [b"\x8a\x01p", b"\x81\x02hi"]

    def test_text_ping_then_bad_frame(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"hi") + frame(OP_PING, b"p") + frame(5))
        echo(p, p.events_received())
        answers_then_close(p, b"\x81\x02hi", b"\x8a\x01p", code=1002)
        assert p.close_expected()

    def test_held_pong_waits_for_the_next_data_to_send(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a") + frame(OP_PING, b"1"))
        p.receive_data(frame(OP_PING, b"2"))  # events not taken yet: keeps the order
        echo(p, p.events_received())
        assert p.data_to_send() == [b"\x81\x01a", b"\x8a\x011", b"\x8a\x012"]

    def test_input_is_ignored_while_a_close_is_held(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a") + frame(5))
        p.receive_data(frame(OP_TEXT, b"more") + frame(OP_PING, b"x"))
        assert p.events_received() == [TextMessage("a")]
        answers_then_close(p, code=1002)

    def test_no_data_waiting_fails_at_once(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a"))
        assert p.events_received() == [TextMessage("a")]
        p.receive_data(frame(5))  # the message was handed out already
        assert p.state is State.CLOSED and p.close_expected()
        assert_failed(p, 1002)

    def test_control_events_alone_do_not_hold(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_PING, b"p") + frame(OP_PONG) + close(1001))
        assert p.state is State.CLOSED and p.close_expected()
        assert p.data_to_send() == [b"\x8a\x01p", b"\x88\x02\x03\xe9"]

    def test_send_close_while_held_sends_one_close(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a") + frame(OP_PING, b"p") + close(1000))
        p.events_received()
        p.send_close(1001, "away")
        assert p.state is State.CLOSING
        assert p.data_to_send() == [b"\x8a\x01p", b"\x88\x06\x03\xe9away"]
        assert p.state is State.CLOSED and p.close_expected()
        assert (p.close_code, p.local_close_code) == (1000, 1001)

    def test_fail_while_held_replaces_the_held_close(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a") + frame(5))
        p.events_received()
        p.fail(1011)
        assert p.close_expected()
        assert [f.payload for f in sent(p)] == [b"\x03\xf3"]

    def test_eof_while_held_queues_the_close(self) -> None:
        p = ServerProtocol()
        p.receive_data(frame(OP_TEXT, b"a") + frame(5))
        p.receive_eof()
        assert p.close_code == 1006
        answers_then_close(p, code=1002)

    def test_closing_state_does_not_hold(self) -> None:
        p = ServerProtocol()
        p.send_close(1000)
        p.data_to_send()
        p.receive_data(frame(OP_TEXT, b"a") + close(1000))
        assert p.close_expected()
        assert p.data_to_send() == []

    def test_unexpected_error_is_held_too(self) -> None:
        class BrokenDeflate:
            min_size = 1000  # the echo goes out uncompressed

            def decompress(self, payload: bytes, fin: bool, max_length: int) -> bytes:
                raise RuntimeError("boom")

            def compress(self, data: bytes) -> bytes:
                return data

        p = ServerProtocol(deflate=BrokenDeflate())
        p.receive_data(frame(OP_TEXT, b"a") + frame(OP_TEXT, b"x", rsv=RSV1))
        echo(p, p.events_received())
        answers_then_close(p, b"\x81\x01a", code=1011)

    def test_many_pings_after_many_messages_stay_linear(self) -> None:
        p = ServerProtocol()
        n = 2000
        p.receive_data(frame(OP_TEXT, b"m") * n + frame(OP_PING, b"p") * n)
        events = p.events_received()
        assert len(events) == 2 * n
        echo(p, events)
        out = p.data_to_send()
        assert out == [b"\x81\x01m"] * n + [b"\x8a\x01p"] * n


# ------------------------------------------------- UTF-8 of a frame in pieces


class TestPartialFrameUtf8:
    """RFC 6455 8.1: an uncompressed text frame sent in pieces fails with the
    piece that carries the invalid byte (Autobahn 6.4.3, 6.4.4)."""

    def test_invalid_byte_in_second_chop_fails_there(self) -> None:
        payload = "κόσμε".encode() + b"\xf4\x90\x80\x80" + b"edited"
        data = frame(OP_TEXT, payload)
        head = len(data) - len(payload)
        p = ServerProtocol()
        assert feed(p, data[: head + 10]) == []
        assert p.state is State.OPEN and p.data_to_send() == []
        assert feed(p, data[head + 10 : head + 12]) == []  # F4 90: already invalid
        assert_failed(p, 1007)

    def test_invalid_continuation_frame_fails_in_its_chop(self) -> None:
        p = ServerProtocol()
        assert feed(p, frame(OP_TEXT, b"abc", fin=False)) == []
        data = frame(OP_CONT, b"def\xffghi")
        assert feed(p, data[:8]) == []  # header, mask, "de"
        assert p.state is State.OPEN
        feed(p, data[8:11])
        assert_failed(p, 1007)

    def test_surrogate_prefix_split_over_chops(self) -> None:
        data = frame(OP_TEXT, b"ab\xed\xa0\x80cd")
        p = ServerProtocol()
        feed(p, data[:9])  # header (2) + mask (4) + "ab\xed"
        assert p.state is State.OPEN
        feed(p, data[9:10])
        assert_failed(p, 1007)

    def test_incomplete_character_at_chop_end_is_fine(self) -> None:
        text = "a€b😀c"
        data = frame(OP_TEXT, text.encode())
        p = ServerProtocol()
        events = feed(p, *[data[i : i + 1] for i in range(len(data))])
        assert events == [TextMessage(text)]

    @pytest.mark.parametrize("sizes", [[1], [2], [3], [5], [7, 1, 2], [9, 4]])
    def test_chops_give_the_same_text_whatever_the_mask_offset(self, sizes: list[int]) -> None:
        text = "Grüße, κόσμε, 😀 " * 20
        stream = frame(OP_TEXT, text.encode()[:50], fin=False) + frame(OP_CONT, text.encode()[50:])
        events, out, p = run_chunked(stream + frame(OP_TEXT, b"next"), sizes)
        assert events == [TextMessage(text), TextMessage("next")]
        assert p.state is State.OPEN and out == b""

    def test_each_byte_is_unmasked_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import kitura.websocket.frames as frames_module

        unmasked = []
        real = frames_module.apply_mask

        def counting(data: bytes, mask: bytes) -> bytes:
            unmasked.append(len(data))
            return real(data, mask)

        monkeypatch.setattr(frames_module, "apply_mask", counting)
        payload = ("é" * 1500).encode()
        data = frame(OP_TEXT, payload)
        p = ServerProtocol()
        events = feed(p, *[data[i : i + 7] for i in range(0, len(data), 7)])
        assert events == [TextMessage("é" * 1500)]
        assert sum(unmasked) == len(payload)

    def test_binary_frame_in_pieces_is_not_validated(self) -> None:
        data = frame(OP_BINARY, b"\xff" * 20)
        p = ServerProtocol()
        assert feed(p, data[:10], data[10:]) == [BinaryMessage(b"\xff" * 20)]

    def test_compressed_frame_in_pieces_is_left_whole(self) -> None:
        payload = deflate_message("héllo wörld ".encode() * 20)
        data = frame(OP_TEXT, payload, rsv=RSV1)
        p = ServerProtocol(deflate=PerMessageDeflate())
        events = feed(p, *[data[i : i + 3] for i in range(0, len(data), 3)])
        assert events == [TextMessage("héllo wörld " * 20)]

    def test_size_limit_still_counts_the_whole_message(self) -> None:
        p = ServerProtocol(max_message_size=10)
        data = frame(OP_TEXT, b"x" * 6, fin=False)
        feed(p, data[:9], data[9:])
        assert p.state is State.OPEN
        feed(p, frame(OP_CONT, b"y" * 5)[:6])  # header only: 6 + 5 > 10
        assert_failed(p, 1009)

    def test_text_then_partial_bad_frame_is_held(self) -> None:
        p = ServerProtocol()
        bad = frame(OP_TEXT, b"ok\xffmore")
        p.receive_data(frame(OP_TEXT, b"hi") + bad[:9])
        events = p.events_received()
        assert events == [TextMessage("hi")]
        echo(p, events)
        answers_then_close(p, b"\x81\x02hi", code=1007)


# ------------------------------------------------------------------ deflate


class TestPerMessageDeflate:
    """RFC 7692 6: RSV1 marks the first frame of a compressed message."""

    def test_compressed_text(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        assert feed(p, frame(OP_TEXT, deflate_message("héllo".encode() * 10), rsv=RSV1)) == [
            TextMessage("héllo" * 10)
        ]

    def test_compressed_fragmented_binary(self) -> None:
        data = bytes(range(256)) * 40
        payload = deflate_message(data)
        third = len(payload) // 3
        p = ServerProtocol(deflate=PerMessageDeflate())
        events = feed(
            p,
            frame(OP_BINARY, payload[:third], fin=False, rsv=RSV1),
            frame(OP_PING, b"between"),
            frame(OP_CONT, payload[third : 2 * third], fin=False),
            frame(OP_CONT, payload[2 * third :]),
        )
        assert events == [Ping(b"between"), BinaryMessage(data)]

    def test_uncompressed_message_with_deflate_on(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        assert feed(p, frame(OP_TEXT, b"plain")) == [TextMessage("plain")]

    def test_rsv1_on_continuation_is_1002(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        payload = deflate_message(b"abcdef")
        feed(p, frame(OP_TEXT, payload[:2], fin=False, rsv=RSV1), frame(OP_CONT, payload[2:], rsv=RSV1))
        assert_failed(p, 1002)

    def test_rsv1_on_continuation_of_uncompressed_message_is_1002(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        feed(p, frame(OP_TEXT, b"ab", fin=False), frame(OP_CONT, b"cd", rsv=RSV1))
        assert_failed(p, 1002)

    @pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
    def test_rsv1_on_control_frame_is_1002(self, opcode: int) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        feed(p, frame(opcode, b"", rsv=RSV1))
        assert_failed(p, 1002)

    @pytest.mark.parametrize("rsv", [RSV2, RSV3, RSV1 | RSV2])
    def test_other_rsv_bits_with_deflate_are_1002(self, rsv: int) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        feed(p, frame(OP_TEXT, deflate_message(b"x"), rsv=rsv))
        assert_failed(p, 1002)

    def test_compressed_bad_utf8_is_1007(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        feed(p, frame(OP_TEXT, deflate_message(b"ok\xff\xfe"), rsv=RSV1))
        assert_failed(p, 1007)

    def test_compressed_bad_utf8_fails_at_first_fragment(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        first = c.compress(b"abc\xff") + c.flush(zlib.Z_SYNC_FLUSH)
        feed(p, frame(OP_TEXT, first, fin=False, rsv=RSV1))
        assert_failed(p, 1007)

    def test_inflated_size_over_limit_is_1009(self) -> None:
        p = ServerProtocol(max_message_size=1000, deflate=PerMessageDeflate())
        payload = deflate_message(b"\x00" * 1001)
        assert len(payload) < 100
        feed(p, frame(OP_BINARY, payload, rsv=RSV1))
        assert_failed(p, 1009)

    def test_inflated_size_over_limit_across_fragments_is_1009(self) -> None:
        p = ServerProtocol(max_message_size=1000, deflate=PerMessageDeflate())
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        first = c.compress(b"\x00" * 600) + c.flush(zlib.Z_SYNC_FLUSH)
        second = c.compress(b"\x00" * 600) + c.flush(zlib.Z_SYNC_FLUSH)
        feed(p, frame(OP_BINARY, first, fin=False, rsv=RSV1))
        assert p.state is State.OPEN
        feed(p, frame(OP_CONT, second[:-4]))
        assert_failed(p, 1009)

    def test_inflated_size_at_limit_is_accepted(self) -> None:
        p = ServerProtocol(max_message_size=1000, deflate=PerMessageDeflate())
        assert feed(p, frame(OP_BINARY, deflate_message(b"\x01" * 1000), rsv=RSV1)) == [BinaryMessage(b"\x01" * 1000)]

    def test_compressed_frame_over_wire_limit_fails_from_header(self) -> None:
        p = ServerProtocol(max_message_size=1000, deflate=PerMessageDeflate())
        feed(p, b"\xc2\xfe" + (3000).to_bytes(2, "big") + MASK)
        assert_failed(p, 1009)

    def test_send_compresses_with_rsv1(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate())
        p.send_text("hello hello hello")
        p.send_binary(b"\x00" * 100)
        text, binary = sent(p)
        assert (text.rsv, text.opcode, text.fin) == (RSV1, OP_TEXT, True)
        assert (binary.rsv, binary.opcode) == (RSV1, OP_BINARY)
        d = zlib.decompressobj(-15)  # server keeps context: one inflater for both
        assert d.decompress(text.payload + b"\x00\x00\xff\xff") == b"hello hello hello"
        assert d.decompress(binary.payload + b"\x00\x00\xff\xff") == b"\x00" * 100

    def test_send_below_min_size_is_uncompressed(self) -> None:
        p = ServerProtocol(deflate=PerMessageDeflate(min_size=10))
        p.send_text("short")
        p.send_text("long enough text")
        short, long = sent(p)
        assert (short.rsv, short.payload) == (0, b"short")
        assert long.rsv == RSV1
        assert inflate_message(long.payload) == b"long enough text"

    def test_round_trip_between_two_codecs(self) -> None:
        server = ServerProtocol(deflate=PerMessageDeflate())
        peer = ServerProtocol(deflate=PerMessageDeflate())
        for text in ["one", "two two", "", "three " * 50]:
            server.send_text(text)
        for f in sent(server):
            peer.receive_data(encode_frame(f.opcode, f.payload, f.fin, bool(f.rsv), mask=MASK))
        assert peer.events_received() == [TextMessage(t) for t in ["one", "two two", "", "three " * 50]]


# ------------------------------------------------------------------ sending


class TestSending:
    def test_send_text_and_binary(self) -> None:
        p = ServerProtocol()
        p.send_text("héllo")
        p.send_text(b"raw")
        p.send_binary(b"\x01\x02")
        p.send_binary(bytearray(b"\x03"))
        assert p.data_to_send() == [b"\x81\x06h\xc3\xa9llo", b"\x81\x03raw", b"\x82\x02\x01\x02", b"\x82\x01\x03"]

    def test_send_large_binary(self) -> None:
        p = ServerProtocol()
        p.send_binary(b"z" * 70000)
        (f,) = sent(p)
        assert f.payload == b"z" * 70000

    def test_send_ping_pong(self) -> None:
        p = ServerProtocol()
        p.send_ping(b"a")
        p.send_pong()
        assert p.data_to_send() == [b"\x89\x01a", b"\x8a\x00"]
        with pytest.raises(ValueError):
            p.send_ping(b"x" * 126)
        with pytest.raises(ValueError):
            p.send_pong(b"x" * 126)

    def test_broadcast_frame_once(self) -> None:
        data = encode_frame(OP_TEXT, b"to all")
        receivers = [ServerProtocol(), ServerProtocol(deflate=PerMessageDeflate())]
        for p in receivers:
            p.send_frame(data)
        assert [p.data_to_send() for p in receivers] == [[data], [data]]
        assert receivers[0].data_to_send()[0:] == []


# ---------------------------------------------------------- chunking, fuzzing

MIXED_STREAM = b"".join(
    [
        frame(OP_TEXT, "héllo wörld".encode()),
        frame(OP_BINARY, b"\x00" * 300),
        frame(OP_TEXT, "a€".encode()[:2], fin=False),
        frame(OP_PING, b"ping"),
        frame(OP_CONT, "a€".encode()[2:], fin=False),
        frame(OP_CONT, b"!"),
        frame(OP_PONG, b""),
        frame(OP_BINARY, b"x" * 70000),
        close(1000, b"done"),
        frame(OP_TEXT, b"ignored"),
    ]
)


def run_chunked(
    data: bytes, sizes: list[int], *, answer: bool = False, **kw: object
) -> tuple[list[object], bytes, ServerProtocol]:
    """Feed ``data`` in chunks of ``sizes`` (cycled; [] = all at once) as the glue
    does: receive_data, events_received, (``answer``: echo each data message),
    data_to_send."""
    p = ServerProtocol(**kw)  # type: ignore[arg-type]
    events: list[object] = []
    out: list[bytes] = []
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        i += 1
        p.receive_data(data[pos : pos + size])
        pos += size
        new = p.events_received()
        if answer:
            echo(p, new)
        events += new
        out += p.data_to_send()
    return events, b"".join(out), p


def split_out(out: bytes) -> tuple[list[Frame], list[Frame]]:
    """Server frames -> (data frames, control frames), each in order; a Close is last."""
    reader = FrameReader(require_mask=False)
    reader.feed(out)
    frames = []
    while (f := reader.next_frame()) is not None:
        frames.append(f)
    assert reader.buffered == 0
    closes = [i for i, f in enumerate(frames) if f.opcode == OP_CLOSE]
    assert closes in ([], [len(frames) - 1])
    return [f for f in frames if f.opcode < 8], [f for f in frames if f.opcode >= 8]


def test_byte_by_byte_equals_all_at_once() -> None:
    whole = run_chunked(MIXED_STREAM, [])
    one_by_one = run_chunked(MIXED_STREAM, [1])
    assert whole[0] == one_by_one[0]
    assert whole[1] == one_by_one[1]
    assert len(whole[0]) == 7
    assert whole[0][-1] == CloseReceived(1000, "done")
    assert whole[1] == b"\x8a\x04ping\x88\x06\x03\xe8done"


@given(sizes=st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_any_chunking_gives_the_same_result(sizes: list[int]) -> None:
    whole = run_chunked(MIXED_STREAM, [])
    chunked = run_chunked(MIXED_STREAM, sizes)
    assert chunked[0] == whole[0]
    assert chunked[1] == whole[1]


def test_byte_by_byte_equals_all_at_once_with_echo() -> None:
    whole = run_chunked(MIXED_STREAM, [], answer=True)
    one_by_one = run_chunked(MIXED_STREAM, [1], answer=True)
    assert whole[0] == one_by_one[0]
    assert split_out(whole[1]) == split_out(one_by_one[1])
    # All at once, the pong and the Close wait for the four echoes.
    data, control = split_out(whole[1])
    assert [f.opcode for f in data] == [OP_TEXT, OP_BINARY, OP_TEXT, OP_BINARY]
    assert whole[1].endswith(b"\x8a\x04ping\x88\x06\x03\xe8done")
    assert whole[2].close_expected() and one_by_one[2].close_expected()


@given(sizes=st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_any_chunking_gives_the_same_result_with_echo(sizes: list[int]) -> None:
    whole = run_chunked(MIXED_STREAM, [], answer=True)
    chunked = run_chunked(MIXED_STREAM, sizes, answer=True)
    assert chunked[0] == whole[0]
    assert split_out(chunked[1]) == split_out(whole[1])


def _check_failure_invariants(p: ServerProtocol, out: bytes) -> None:
    reader = FrameReader(require_mask=False)
    reader.feed(out)
    frames = []
    while (f := reader.next_frame()) is not None:
        frames.append(f)
    closes = [f for f in frames if f.opcode == OP_CLOSE]
    assert len(closes) <= 1
    if closes:
        assert frames[-1] is closes[-1]
    if p.state is State.CLOSED:
        assert p.close_expected()
        assert closes, "closed without sending a Close frame"


@given(
    data=st.binary(max_size=400),
    sizes=st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=10),
    compressed=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_never_raise(data: bytes, sizes: list[int], compressed: bool) -> None:
    kw = {"max_message_size": 200, "deflate": PerMessageDeflate() if compressed else None}
    events, out, p = run_chunked(data, sizes, **kw)
    _check_failure_invariants(p, out)
    whole_events, whole_out, whole = run_chunked(data, [], **{**kw, "deflate": PerMessageDeflate() if compressed else None})
    assert events == whole_events
    assert out == whole_out
    assert p.local_close_code == whole.local_close_code


@st.composite
def frame_streams(draw: st.DrawFn) -> bytes:
    """Streams of plausible frames (valid and invalid) to reach deeper states."""
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        opcode = draw(st.sampled_from([OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, 3, 0xB]))
        payload = draw(st.one_of(st.binary(max_size=140), st.text(max_size=40).map(str.encode)))
        fin = draw(st.booleans())
        rsv = draw(st.sampled_from([0, 0, 0, RSV1, RSV2]))
        mask = draw(st.sampled_from([MASK, MASK, b"\x00\x00\x00\x00", None]))
        parts.append(frame(opcode, payload, fin=fin, rsv=rsv, mask=mask))
    return b"".join(parts)


@given(data=frame_streams(), sizes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_plausible_frames_never_raise(data: bytes, sizes: list[int]) -> None:
    events, out, p = run_chunked(data, sizes, max_message_size=150, max_fragments=4)
    _check_failure_invariants(p, out)
    assert (events, out) == run_chunked(data, [], max_message_size=150, max_fragments=4)[:2]


@given(data=frame_streams(), sizes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_plausible_frames_with_echo(data: bytes, sizes: list[int]) -> None:
    events, out, p = run_chunked(data, sizes, answer=True, max_message_size=150, max_fragments=4)
    _check_failure_invariants(p, out)
    whole_events, whole_out, whole = run_chunked(data, [], answer=True, max_message_size=150, max_fragments=4)
    assert events == whole_events
    assert split_out(out) == split_out(whole_out)
    assert (p.state, p.local_close_code) == (whole.state, whole.local_close_code)
    # Every data message was answered before any Close.
    assert len(split_out(out)[0]) == sum(isinstance(e, (TextMessage, BinaryMessage)) for e in events)


@given(
    messages=st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(st.text(max_size=200).map(str.encode), st.binary(max_size=200)),
            st.integers(min_value=1, max_value=5),
            st.binary(min_size=4, max_size=4),
        ),
        max_size=8,
    ),
    pings=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_round_trip_of_fragmented_messages(
    messages: list[tuple[bool, bytes, int, bytes]], pings: bool
) -> None:
    data = b""
    expected: list[object] = []
    for is_text, payload, pieces, mask in messages:
        message: object
        if is_text:
            try:
                message = TextMessage(payload.decode())
            except UnicodeDecodeError:
                continue
        else:
            message = BinaryMessage(payload)
        step = max(1, -(-len(payload) // pieces))
        chunks = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
        for i, chunk in enumerate(chunks):
            opcode = (OP_TEXT if is_text else OP_BINARY) if i == 0 else OP_CONT
            data += encode_frame(opcode, chunk, fin=i == len(chunks) - 1, mask=mask)
            if pings and i == 0:
                # A Ping after the first frame: inside the message when it is fragmented.
                data += encode_frame(OP_PING, b"p", mask=mask)
                expected += [Ping(b"p"), message] if len(chunks) > 1 else [message, Ping(b"p")]
        if not pings:
            expected.append(message)
    events, out, p = run_chunked(data, [7])
    assert events == expected
    assert p.state is State.OPEN
    assert out == b"\x8a\x01p" * sum(isinstance(e, Ping) for e in expected)


def test_debug_logging_of_frames(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kitura.websocket.test")
    logger.setLevel(logging.DEBUG)
    p = ServerProtocol(logger=logger)
    with caplog.at_level(logging.DEBUG, logger="kitura.websocket.test"):
        feed(p, frame(OP_TEXT, b"hi"), frame(OP_CONT))
    assert "< opcode=0x1" in caplog.text
    assert "failing the connection: 1002" in caplog.text
    assert_failed(p, 1002)


def test_receive_data_never_raises_on_misuse() -> None:
    p = ServerProtocol()
    p.receive_data("not bytes")  # type: ignore[arg-type]
    assert_failed(p, 1011)


# --- a lone Close frame (ServerProtocol._parse's shortcut) ----------------------

_CLOSES = [
    close(), close(1000), close(1001, b"bye"), close(4000, "é".encode() * 40), close(1000, b"x" * 123),
    frame(OP_CLOSE, b"\x03"),                       # a 1-byte payload: 1002
    close(1005), close(999), close(1000, b"\xff"),  # invalid code, invalid UTF-8 reason
    frame(OP_CLOSE, b"\x03\xe8" + b"x" * 124),      # 126 bytes: over the control-frame limit
    frame(OP_CLOSE, b"\x03\xe8", mask=None),        # unmasked
    frame(OP_CLOSE, b"\x03\xe8", rsv=0x40),
    frame(OP_CLOSE, b"\x03\xe8", fin=False),
    close(1000) + b"\x81",                          # a byte after it
]


def _outcome(p: ServerProtocol, events: list[object]) -> tuple:
    return (events, p.data_to_send(), p.state, p.close_code, p.close_reason, p.local_close_code,
            p.local_close_reason, p.close_expected())


@pytest.mark.parametrize("data", _CLOSES)
@pytest.mark.parametrize("before", [b"", frame(OP_TEXT, b"hi", fin=False), frame(OP_PING, b"p")])
def test_a_lone_close_frame_in_one_read_is_handled_as_when_split(data, before) -> None:
    whole, split = ServerProtocol(), ServerProtocol()
    got_whole = feed(whole, before, data) if before else feed(whole, data)
    got_split = feed(split, before, data[:1], data[1:]) if before else feed(split, data[:1], data[1:])
    assert _outcome(whole, got_whole) == _outcome(split, got_split)
    assert whole.state is State.CLOSED or data[0] != 0x88 or data[1] & 0x7F > 125


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 3000, 4999])
@pytest.mark.parametrize("reason", ["", "bye", "é" * 70])
def test_our_close_frame_is_its_code_and_reason_encoded(code, reason) -> None:
    # (The frames without a reason of the common codes are made once, the others per close.)
    hows = ("send_close", "fail", "echo") if len(reason.encode()) <= 123 else ("send_close", "fail")
    for how in hows:  # a peer's Close carries at most 123 bytes of reason
        p = ServerProtocol()
        if how == "echo":
            p.receive_data(close(code, reason.encode()))
        else:
            getattr(p, how)(code, reason)
        cut = reason.encode()[:123].decode("utf-8", "ignore")
        assert b"".join(p.data_to_send()) == encode_frame(OP_CLOSE, encode_close_payload(code, cut))
        assert (p.local_close_code, p.local_close_reason) == (code, cut)


class TestLargeFramesAreNotCopied:
    """A data frame with a payload of 16 KiB or more (bytes) is queued as two chunks,
    its header and the payload object itself; the chunks joined are the frame."""

    @pytest.mark.parametrize("size", [16 * 1024, 65535, 65536, 200_000])
    def test_binary_bytes_is_header_then_the_same_payload(self, size: int) -> None:
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        p = ServerProtocol()
        p.send_binary(data)
        out = p.data_to_send()
        assert len(out) == 2 and out[1] is data
        assert b"".join(out) == encode_frame(OP_BINARY, data)
        assert encode_frame_head(OP_BINARY, size) == out[0]

    def test_text_bytes_and_str(self) -> None:
        p = ServerProtocol()
        p.send_text("é" * 10_000)  # 20,000 bytes of UTF-8
        p.send_text(b"t" * 20_000)
        out = p.data_to_send()
        assert len(out) == 4
        assert b"".join(out) == encode_frame(OP_TEXT, "é".encode() * 10_000) + encode_frame(OP_TEXT, b"t" * 20_000)

    def test_below_the_size_or_a_mutable_buffer_is_one_copied_frame(self) -> None:
        p = ServerProtocol()
        small = b"s" * (16 * 1024 - 1)
        buffer = bytearray(b"b" * 20_000)
        p.send_binary(small)
        p.send_binary(buffer)
        p.send_binary(memoryview(b"m" * 20_000))
        buffer[:] = b"changed" * 10  # after the send: what was queued stays as it was
        assert p.data_to_send() == [encode_frame(OP_BINARY, small), encode_frame(OP_BINARY, b"b" * 20_000),
                                    encode_frame(OP_BINARY, b"m" * 20_000)]

    def test_compressed_large_frame(self) -> None:
        data = random.Random(1).randbytes(40_000)  # incompressible: the compressed payload is > 16 KiB
        p = ServerProtocol(deflate=PerMessageDeflate())
        p.send_binary(data)
        out = p.data_to_send()
        reader = FrameReader(require_mask=False)
        reader.feed(b"".join(out))
        sent = reader.next_frame()
        assert sent is not None and sent.rsv == RSV1 and sent.fin and reader.next_frame() is None
        assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(sent.payload + b"\x00\x00\xff\xff") == data
        assert len(sent.payload) >= 16 * 1024 and len(out) == 2

    @pytest.mark.parametrize("length", [0, 125, 126, 65535, 65536, 1 << 40])
    @pytest.mark.parametrize("rsv1", [False, True])
    def test_encode_frame_head_is_encode_frames_header(self, length: int, rsv1: bool) -> None:
        head = encode_frame_head(OP_BINARY, length, rsv1)
        if length <= 65536:
            assert encode_frame(OP_BINARY, b"\0" * length, True, rsv1) == head + b"\0" * length
        reader = FrameReader(require_mask=False)
        reader.feed(head)
        with pytest.raises(ProtocolError):  # the cap says how long the header says the payload is
            reader.next_frame(limit=length - 1 if length else -1)
