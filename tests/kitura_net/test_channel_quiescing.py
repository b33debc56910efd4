"""Port of KituraNet's ChannelQuiescingTests (Tests/KituraNetTests/ChannelQuiescingTests.swift).

Swift: two connections with a request each in a handler that sleeps; ``server.stop()``
closes both connections. The sleeps are shorter here (0.5 s handler, stop after 0.2 s).
"""

import socket
import time

from kitura.net import HTTP, ServerDelegate

from tests.net.conftest import wait_closed


class SleepingDelegate(ServerDelegate):
    def handle(self, request, response):
        time.sleep(0.5)
        response.end()


def test_channel_quiescing():
    server = HTTP.create_server()
    server.listen(on=0, address="127.0.0.1")
    port = server.port
    server.delegate = SleepingDelegate()
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    channel1 = socket.create_connection(("localhost", port), timeout=10)
    channel2 = socket.create_connection(("localhost", port), timeout=10)
    try:
        channel1.sendall(request)
        channel2.sendall(request)
        time.sleep(0.2)
        server.stop()
        # each connection is closed by the server (channelInactive in Swift), within the wait
        wait_closed(channel1, timeout=10)
        wait_closed(channel2, timeout=10)
    finally:
        channel1.close()
        channel2.close()
        server.stop()
