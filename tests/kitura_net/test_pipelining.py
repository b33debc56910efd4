"""Port of KituraNet's PipeliningTests (Tests/KituraNetTests/PipeliningTests.swift).

Swift writes the requests with a raw NIO client channel; here a raw socket does, and
the responses are parsed with httptools (``tests.net.conftest.ResponseReader``).
"""

import random
import socket
import threading
import time

from kitura.net import HTTPServer, HTTPStatusCode, ServerDelegate

from tests.net.conftest import ResponseReader


class Delegate(ServerDelegate):
    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def handle(self, request, response):
        response.status_code = HTTPStatusCode.OK
        request.read_all_data(into=bytearray())
        with self._lock:
            count = self._count
            self._count += 1
        response.end(text=str(count))


EXPECTED_RESPONSES = ["0", "1", "2", "3", "4", "5"]


def _serve() -> HTTPServer:
    server = HTTPServer()
    server.delegate = Delegate()
    server.listen(on=0, address="127.0.0.1")
    return server


def test_pipelining():
    server = _serve()
    try:
        with socket.create_connection(("localhost", server.port), timeout=10) as sock:
            request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
            sock.sendall(request * 6)  # written together, as the Swift flushes once
            responses = [r.body.decode() for r in ResponseReader(sock).read(6, timeout=10)]
        assert len(responses) == len(EXPECTED_RESPONSES) and sorted(responses) == EXPECTED_RESPONSES
    finally:
        server.stop()


def test_pipelining_spanning_packets():
    server = _serve()
    try:
        with socket.create_connection(("localhost", server.port), timeout=10) as sock:
            for _ in range(6):
                body = bytes(random.randrange(8 * 1024))
                sock.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                time.sleep(0.0001)
            responses = [r.body.decode() for r in ResponseReader(sock).read(6, timeout=10)]
        assert len(responses) == len(EXPECTED_RESPONSES) and sorted(responses) == EXPECTED_RESPONSES
    finally:
        server.stop()
