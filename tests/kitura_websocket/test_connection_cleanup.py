"""ConnectionCleanupTests.swift of Kitura-WebSocket-NIO, case for case: connectionTimeout.

Times are Kitura's times scaled by TIME_SCALE (a 2 s timeout checked after 4 s becomes
1 s checked after 2 s)."""

from __future__ import annotations

import time

from kitura.websocket import WebSocketCloseReasonCode

from .conftest import TIME_SCALE

Code = WebSocketCloseReasonCode


class ClientDelegate:
    """The Swift ClientDelegate: answers each ping with a pong of the same payload."""

    def __init__(self, client) -> None:
        self.client = client

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                kind, data = self.client.next_event(timeout=left)
            except TimeoutError:
                return
            if kind == "ping":
                self.client.pong(data)      # pingRecieved(data:) -> client.pong(data:)


def test_nil_connection_time_out(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT)
    client = kitura_test.create_client()
    time.sleep(2 * TIME_SCALE)
    assert client.is_connected


def test_single_connection_time_out(kitura_test):
    # The silent client is dropped without a Close frame: disconnected() gets 1006 (the
    # port's RFC_REASON for Kitura's noReasonCodeSent).
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT, connection_timeout=2 * TIME_SCALE)
    client = kitura_test.create_client()
    time.sleep(4 * TIME_SCALE)
    assert not client.is_connected


def test_ping_keeps_connection_alive(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT, connection_timeout=2 * TIME_SCALE)
    client = kitura_test.client(uri="/wstester")
    delegate = ClientDelegate(client)
    client.connect()
    delegate.run_for(4 * TIME_SCALE)
    assert client.is_connected
    assert client.pings, "the server pinged the idle client"


def test_multi_connection_time_out(kitura_test):
    kitura_test.register(close_reason=Code.NO_REASON_CODE_SENT, connection_timeout=2 * TIME_SCALE)
    client1 = kitura_test.client(uri="/wstester")
    client1.connect()
    client2 = kitura_test.client(uri="/wstester")
    delegate = ClientDelegate(client2)
    client2.connect()
    delegate.run_for(4 * TIME_SCALE)
    assert not client1.is_connected
    assert client2.is_connected
