"""Port of KituraNet's ConnectionLimitTests (Tests/KituraNetTests/ConnectionLimitTests.swift)."""

import socket

from kitura.net import HTTPStatusCode, ServerDelegate, ServerOptions

from tests.net.conftest import ResponseReader


class TestConnectionLimitDelegate(ServerDelegate):
    __test__ = False

    def handle(self, request, response):
        response.end()


def test_connection_limit(kitura_net_test):
    t = kitura_net_test
    channels: list[socket.socket] = []

    def establish_connection(expectation, expected_status: int):
        channel = socket.create_connection(("localhost", t.port), timeout=10)
        channels.append(channel)  # kept open, as the Swift channel is
        channel.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert ResponseReader(channel).read_one(timeout=10).status == expected_status
        expectation.fulfill()

    try:
        t.perform_server_test(
            TestConnectionLimitDelegate(),
            lambda expectation: establish_connection(expectation, HTTPStatusCode.OK),
            lambda expectation: establish_connection(expectation, HTTPStatusCode.SERVICE_UNAVAILABLE),
            server_config=ServerOptions(request_size_limit=10000, connection_limit=1), socket_type="tcp", use_ssl=False)
    finally:
        for channel in channels:
            channel.close()
