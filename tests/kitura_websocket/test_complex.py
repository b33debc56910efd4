"""ComplexTests.swift of Kitura-WebSocket-NIO, case for case: fragmented messages, pings
between fragments, and permessage-deflate context takeover."""

from __future__ import annotations

from kitura.websocket import WebSocketCloseReasonCode

from .client import OP_BINARY, OP_CONTINUATION, OP_PING, OP_TEXT, ContextTakeover

Code = WebSocketCloseReasonCode
BYTES = bytes(range(15))

# Deviation (RFC 7692 6.1): the Swift tests send `compressed: true` on the continuation
# frames too, which sets RSV1 on them; RSV1 belongs to the first frame of a compressed
# message only, and the port's client sends it there only (one deflate stream per message).


def two_frames_three_ways(kt, first: str | bytes, second: str | bytes, opcode: int, first_client_compressed: bool = False) -> None:
    """The three async tasks: plain; both frames compressed with compression negotiated;
    uncompressed with compression negotiated (ComplexTests' frame cases)."""
    expected = (first + second).encode() if isinstance(first, str) else first + second
    for negotiate, compressed in ((first_client_compressed, False), (True, True), (True, False)):
        client = kt.create_client(negotiate_compression=negotiate)
        client.send_raw(first, opcode, final_frame=False, compressed=compressed)
        client.send_raw(second, OP_CONTINUATION, final_frame=True, compressed=compressed)
        assert client.next_message() == expected


def test_binary_short_and_medium_frames(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    medium = BYTES
    while True:
        medium += medium
        if len(medium) >= 1000:
            break
    two_frames_three_ways(kitura_test, BYTES, medium, OP_BINARY)


def test_binary_two_short_frames(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    two_frames_three_ways(kitura_test, BYTES, BYTES, OP_BINARY)


def test_ping_between_binary_frames(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client()
    client.send_raw(BYTES, OP_BINARY, final_frame=False)
    client.send_raw("Testing, testing 1,2,3", OP_PING, final_frame=True)
    client.send_raw(BYTES, OP_CONTINUATION, final_frame=True)
    assert client.next_message() == BYTES + BYTES
    assert client.pongs == [b"Testing, testing 1,2,3"]     # the pong came first


def test_ping_between_text_frames(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    text = "Testing, testing 1, 2, 3. "
    client = kitura_test.create_client()
    client.send_raw(text, OP_TEXT, final_frame=False)
    client.send_raw("Testing, testing 1,2,3", OP_PING, final_frame=True)
    client.send_raw(text, OP_CONTINUATION, final_frame=True)
    assert client.next_message().decode() == text + text
    assert client.pongs == [b"Testing, testing 1,2,3"]


def test_text_short_and_medium_frames(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    medium = ""
    while True:
        medium += "Testing, testing 1,2,3. "
        if len(medium) >= 1000:
            break
    two_frames_three_ways(kitura_test, "Testing, testing 1, 2, 3. ", medium, OP_TEXT)


def test_text_two_short_frames(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    # All three tasks of this Swift case negotiate compression.
    two_frames_three_ways(kitura_test, "Testing, testing 1, 2, 3. ", "Testing, testing 1, 2, 3. ", OP_TEXT,
                          first_client_compressed=True)


def two_messages(kt, context_takeover: str) -> None:
    kt.register(close_reason=Code.NO_REASON_CODE_SENT)
    text = "RFC7692 specifies a framework for adding compression functionality to the WebSocket Protocol"
    client = kt.create_client(negotiate_compression=True, context_takeover=context_takeover)
    client.send_raw(text, OP_TEXT, final_frame=True)
    client.send_raw(text, OP_TEXT, final_frame=True)
    # Both answers arrive compressed, the second one with (or without) the first's context.
    assert [client.next_message().decode(), client.next_message().decode()] == [text, text]


def test_two_messages_with_context_takeover(kitura_test):
    two_messages(kitura_test, ContextTakeover.BOTH)


def test_two_messages_with_client_context_takeover(kitura_test):
    two_messages(kitura_test, ContextTakeover.CLIENT)


def test_two_messages_with_server_context_takeover(kitura_test):
    two_messages(kitura_test, ContextTakeover.SERVER)


def test_two_messages_with_no_context_takeover(kitura_test):
    two_messages(kitura_test, ContextTakeover.NONE)
