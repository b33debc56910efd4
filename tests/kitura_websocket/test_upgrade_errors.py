"""UpgradeErrors.swift of Kitura-WebSocket-NIO, case for case, and the handshake deviation."""

from __future__ import annotations

from kitura.websocket import WebSocket, WebSocketCloseReasonCode


def test_no_service(kitura_test):
    # WebSocket.factory.clear(): no service registered, so the path has none.
    WebSocket.unregister(path=kitura_test.service_path)
    client = kitura_test.client(uri=kitura_test.service_path)
    client.connect()
    assert client.status == 400      # WebSocketClientError.badRequest.code()
    assert not client.is_connected


def test_kituras_request_key_test_is_refused(kitura_test):
    # Not a Kitura case. Deviation (RFC 6455 4.2.1 item 5): Kitura's tests connect with
    # `Sec-WebSocket-Key: test`, which is not the base64 form of 16 bytes; the RFC has the
    # server answer such a handshake with 400, and the port's other cases send valid keys.
    kitura_test.register(close_reason=WebSocketCloseReasonCode.NO_REASON_CODE_SENT)
    client = kitura_test.client(request_key="test")
    client.connect()
    assert client.status == 400
