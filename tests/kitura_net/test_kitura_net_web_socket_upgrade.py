"""Port of KituraNet's KituraNetWebSocketUpgradeTest (Tests/KituraNetTests/KituraNetWebSocketUpgrade.swift).

Swift registers a stub upgrade factory on ``/wstester``; the service behind the path
here is kitura.websocket's own (registered with ``WebSocket.register``), which is what
plugs into ``ConnectionUpgrader`` in this port.

Deviation (RFC 6455 4.2.1 / 4.2.2): Kitura answers 101 to ``Sec-WebSocket-Key: test``.
RFC 6455 requires the key to be 16 bytes, base64-encoded, and a server to answer 400
to a handshake that breaks the rules; we keep the RFC, so the 101 case sends a valid
key and the key "test" is checked to get 400.
"""

import socket

import pytest

from kitura.net import HTTPStatusCode, ServerDelegate
from kitura.websocket import WebSocket, WebSocketService

VALID_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


class WebSocketUpgradeDelegate(ServerDelegate):
    def handle(self, request, response):
        response.end()


@pytest.fixture
def wstester():
    WebSocket.register(service=WebSocketService(), on_path="/wstester")
    try:
        yield
    finally:
        WebSocket.unregister(path="/wstester")


def send_upgrade_request(port: int, to_path: str, using_key: str, ws_version: str) -> int:
    with socket.create_connection(("localhost", port), timeout=10) as channel:
        channel.sendall(
            f"GET {to_path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Version: {ws_version}\r\nSec-WebSocket-Key: {using_key}\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head:  # the status line is all the Swift handler looks at
            chunk = channel.recv(4096)
            assert chunk, "the server closed the connection without an answer"
            head += chunk
        return int(head.split(b" ", 2)[1])


def test_web_socket_upgrade(kitura_net_test, wstester):
    t = kitura_net_test

    def upgrade(path, key, version, expected):
        def task(expectation):
            status = send_upgrade_request(t.port, path, key, version)
            assert status == expected, f"Protocol upgrade to {path} (key {key!r}, version {version}) gave {status}"
            expectation.fulfill()
        return task

    t.perform_server_test(
        WebSocketUpgradeDelegate(),
        upgrade("/wstester", VALID_KEY, "13", HTTPStatusCode.SWITCHING_PROTOCOLS),
        upgrade("/wstester", "test", "13", HTTPStatusCode.BAD_REQUEST),  # RFC 6455: not a 16-byte key
        upgrade("/wstester", "test", "12", HTTPStatusCode.BAD_REQUEST),
        upgrade("/", "test", "13", HTTPStatusCode.BAD_REQUEST),
        upgrade("/", "test", "1", HTTPStatusCode.BAD_REQUEST),
        socket_type="tcp", use_ssl=False, allow_port_reuse=True)
