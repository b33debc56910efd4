"""TestConnections.swift (ConnectionTests) of Kitura-WebSocket-NIO, case for case."""

from __future__ import annotations

from kitura.websocket import WebSocketCloseReasonCode

from .conftest import TestWebSocketService


def test_disconnect_callback(kitura_test):
    service = TestWebSocketService(close_reason=WebSocketCloseReasonCode.NORMAL, test_server_request=False,
                                   ping_message=None, test_query_params=False, connection_timeout=None)
    # Deviation (RFC 6455 7.1.5): the client's Close has no status code, so the close code
    # is 1005 (NO_REASON_CODE_SENT); Kitura reports normal (1000) for an empty Close.
    service.expected_reason = WebSocketCloseReasonCode.NO_REASON_CODE_SENT
    kitura_test.register_service(service)
    for _ in range(101):            # for _ in 0...100
        client = kitura_test.client(uri=kitura_test.service_path)
        client.connect()
        client.close()
        client.next_close()         # onClose
    kitura_test.wait_for(lambda: len(service.disconnect_client_id) == 101)
    with service.queue:
        assert sorted(service.connect_client_id) == sorted(service.disconnect_client_id), \
            "Client IDs from connect weren't client IDs from disconnect"
