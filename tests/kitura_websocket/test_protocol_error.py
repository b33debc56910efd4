"""ProtocolError.swift (ProtocolErrorTests) of Kitura-WebSocket-NIO, case for case: the exact
Close frame Kitura sends for each protocol error (code and description)."""

from __future__ import annotations

import struct

from kitura.websocket import WebSocketCloseReasonCode

from .client import OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_TEXT

Code = WebSocketCloseReasonCode
BYTES = bytes(range(15))


def close_payload(code: WebSocketCloseReasonCode, description: str = "") -> bytes:
    return struct.pack("!H", code.code()) + description.encode("utf-8")


def utf16(text: str) -> bytes:
    """Swift's ``text.data(using: .utf16)``: a byte order mark, then UTF-16."""
    return text.encode("utf-16")


def expect_close(kitura_test, service, client, code: WebSocketCloseReasonCode, description: str = "") -> None:
    assert client.next_close() == close_payload(code, description)
    assert service.disconnected_event.wait(5)
    assert service.disconnect_reasons == [code]


def test_binary_and_text_frames(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(BYTES, OP_BINARY, final_frame=False, compressed=False)
    client.send_raw("testing 1 2 3", OP_TEXT, final_frame=True, compressed=False)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "A text frame must be the first in the message")


def test_ping_with_oversized_payload(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(bytes(126), OP_PING, final_frame=True, compressed=False)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR,
                 "Control frames are only allowed to have payload up to and including 125 octets")


def test_fragmented_ping(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    text = "Testing, testing 1, 2, 3. "
    client = kitura_test.create_client()
    client.send_raw(text, OP_PING, final_frame=False, compressed=False)
    client.send_raw(text, OP_CONTINUATION, final_frame=False, compressed=False)
    client.send_raw(text, OP_CONTINUATION, final_frame=True, compressed=False)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "Control frames must not be fragmented")


def test_invalid_op_code(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(bytes([0x00, 0x01]), 15, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "Parsed a frame with an invalid operation code of 15")


def test_invalid_user_close_code(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(struct.pack("!H", Code.user_defined(2999).code()), OP_CLOSE, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR)     # the code, no description


def test_close_with_oversized_payload(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(bytes(126), OP_CLOSE, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR,
                 "Control frames are only allowed to have payload up to and including 125 octets")


def test_just_continuation_frame(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(BYTES, OP_CONTINUATION, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "Continuation sent with prior binary or text frame")


def test_just_final_continuation_frame(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(BYTES, OP_CONTINUATION, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "Continuation sent with prior binary or text frame")


def test_invalid_utf(kitura_test):
    service = kitura_test.register(close_reason=Code.INVALID_DATA_CONTENTS)
    payload = struct.pack("!H", Code.NORMAL.code()) + utf16("Testing, 1,2,3")
    client = kitura_test.create_client()
    client.send_raw(payload, OP_TEXT, final_frame=True)
    expect_close(kitura_test, service, client, Code.INVALID_DATA_CONTENTS,
                 "Failed to convert received payload to UTF-8 String")


def test_invalid_utf_close_message(kitura_test):
    service = kitura_test.register(close_reason=Code.INVALID_DATA_CONTENTS)
    payload = struct.pack("!H", Code.NORMAL.code()) + utf16("Testing, 1,2,3")
    client = kitura_test.create_client()
    client.send_raw(payload, OP_CLOSE, final_frame=True)
    expect_close(kitura_test, service, client, Code.INVALID_DATA_CONTENTS,
                 "Failed to convert received close message to UTF-8 String")


def test_text_and_binary_frames(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw("testing 1 2 3", OP_TEXT, final_frame=False)
    client.send_raw(BYTES, OP_BINARY, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "A binary frame must be the first in the message")


def test_unmasked_frame(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.mask_frame = False
    client.send_raw(bytes([0x00, 0x01]), OP_BINARY, final_frame=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR, "Received a frame from a client that wasn't masked")


def test_invalid_rsv_code(kitura_test):
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    client = kitura_test.create_client()
    client.send_raw(bytes([0x00, 0x01]), OP_BINARY, final_frame=True, compressed=True)
    expect_close(kitura_test, service, client, Code.PROTOCOL_ERROR,
                 "RSV1 must be 0 unless negotiated to define meaning for non-zero values")
