"""BasicTests.swift of Kitura-WebSocket-NIO, case for case."""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass

from kitura.websocket import WebSocket, WebSocketCloseReasonCode

from .client import OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT
from .conftest import TIME_SCALE

Code = WebSocketCloseReasonCode
BYTES = bytes(range(15))     # [0x00, 0x01, ..., 0x0e]


def grown_bytes(limit: int) -> bytes:
    data = BYTES
    while True:             # repeat { bytes.append(contentsOf: bytes) } while bytes.count < limit
        data += data
        if len(data) >= limit:
            return data


def echo_three_ways(kt, payload: str | bytes) -> None:
    """The three async tasks of the message tests: plain; compressed with compression
    negotiated; uncompressed with compression negotiated. Each gets its message back."""
    expected = payload.encode() if isinstance(payload, str) else payload
    opcode = OP_TEXT if isinstance(payload, str) else OP_BINARY
    client = kt.create_client()
    client.send_message(payload)
    assert client.next_message() == expected
    client = kt.create_client(negotiate_compression=True)
    client.send_raw(payload, opcode, compressed=True)
    assert client.next_message() == expected
    client = kt.create_client(negotiate_compression=True)
    client.send_message(payload)
    assert client.next_message() == expected


def test_binary_long_message(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    echo_three_ways(kitura_test, grown_bytes(100000))


def test_binary_medium_message(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    echo_three_ways(kitura_test, grown_bytes(1000))


def test_binary_short_message(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    echo_three_ways(kitura_test, BYTES)


def test_gracefull_close(kitura_test):
    service = kitura_test.register(close_reason=Code.NORMAL)
    client = kitura_test.create_client()
    payload = struct.pack("!H", Code.NORMAL.code())
    client.send_raw(payload, OP_CLOSE)
    assert client.next_close() == payload   # the code echoed
    client.wait_closed()
    assert service.disconnected_event.wait(5) and service.disconnect_reasons == [Code.NORMAL]


def test_ping(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client(negotiate_compression=True)
    client.ping()
    assert client.next_pong() == b""


def test_ping_with_text(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client()
    client.send_raw("Testing, testing 1,2,3", OP_PING)
    assert client.next_pong() == b"Testing, testing 1,2,3"


def test_server_request(kitura_test):
    # The service checks the ServerRequest of the upgrade in connected(), and again later.
    service = kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT, test_server_request=True)
    kitura_test.create_client()
    time.sleep(3 * TIME_SCALE)     # wait a bit for the WebSocketService to test the ServerRequest
    kitura_test.wait_for(lambda: service.connect_client_id)
    assert service.failures == []


def test_successful_remove(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    client1 = kitura_test.client(uri=kitura_test.service_path)
    client1.connect()
    assert client1.is_connected, "Client not connected"
    WebSocket.unregister(path=kitura_test.service_path)
    client2 = kitura_test.client(uri=kitura_test.service_path)
    client2.connect()
    assert client2.status == 400     # HTTPResponseStatus.badRequest
    assert client1.is_connected      # open connections stay open


def test_successful_upgrade(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    WebSocket.unregister(path=kitura_test.service_path_no_slash)
    kitura_test.register(on_path=kitura_test.service_path_no_slash, close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client(uri=kitura_test.service_path)
    assert client.is_connected, "WebSocket Upgrade failed"
    WebSocket.unregister(path=kitura_test.service_path)
    kitura_test.register(on_path=kitura_test.service_path, close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client(uri=kitura_test.service_path)
    assert client.is_connected, "WebSocket Upgrade failed"


def test_text_long_message(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    text = "Testing, testing 1, 2, 3."
    while True:
        text += " " + text
        if len(text) >= 100000:
            break
    echo_three_ways(kitura_test, text)


def test_text_medium_message(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    text = ""
    while True:
        text += "Testing, testing 1,2,3. "
        if len(text) >= 1000:
            break
    echo_three_ways(kitura_test, text)


def test_text_short_message(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    echo_three_ways(kitura_test, "Testing, testing 1,2,3")


def test_text_short_message_with_query_params(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT, test_query_params=True)
    client = kitura_test.create_client(uri="/wstester?p1=v1&p2=v2")
    client.send_message("Keys and Values: ")
    assert client.next_message() == b"Keys and Values: p1,p2 and v1,v2"


@dataclass
class Details:
    name: str = ""
    age: int = 0


def test_send_codable_type(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    text_payload = Details(name="Hello", age=12)
    client = kitura_test.create_client(uri="/wstester")
    client.send_model(text_payload)
    received = client.next_message()
    assert Details(**json.loads(received)) == text_payload


def test_user_defined_close_code(kitura_test):
    # Deviation (RFC 6455 7.4.2): 65535 is no close code an endpoint may send: the port
    # answers 1002 and reports PROTOCOL_ERROR. Kitura echoes it and reports userDefined(65535).
    service = kitura_test.register(close_reason=Code.PROTOCOL_ERROR)
    close_payload = struct.pack("!H", Code.user_defined(65535).code())
    client = kitura_test.create_client()
    client.send_raw(close_payload, OP_CLOSE)
    assert client.next_close() == struct.pack("!H", 1002)
    assert service.disconnected_event.wait(5) and service.disconnect_reasons == [Code.PROTOCOL_ERROR]


def test_user_close_message(kitura_test):
    service = kitura_test.register(close_reason=Code.NORMAL)
    payload = struct.pack("!H", Code.NORMAL.code()) + b"Testing, 1,2,3"
    client = kitura_test.create_client()
    client.send_raw(payload, OP_CLOSE)
    assert client.next_close() == payload     # code and reason echoed
    assert service.disconnected_event.wait(5) and service.disconnect_reasons == [Code.NORMAL]


def test_null_character(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client()
    client.send_message("\u0000")
    assert client.next_message().decode("utf-8") == "\u0000"
