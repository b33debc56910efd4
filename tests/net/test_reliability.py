"""Issue 14: stalled bodies, head deadline from accept, Host checks, header hygiene,
lingering close and unread responses, each reproduced on the wire."""

from __future__ import annotations

import socket
import time

import pytest

from kitura.net import ServerDelegate, ServerOptions

from .conftest import ResponseReader, connect, wait_closed


class Hello(ServerDelegate):
    async def handle(self, request, response):
        response.end("hello")


def assert_408_and_closed(sock: socket.socket, started: float, limit: float) -> None:
    data = wait_closed(sock, timeout=5)
    assert data.startswith(b"HTTP/1.1 408 "), data[:80]
    assert time.monotonic() - started < limit


# --- defect 1: a stalled body is timed out -------------------------------------------
@pytest.mark.parametrize("payload", [
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
])
def test_stalled_body_gets_408_and_close(serve, payload):
    server = serve(Hello(), ServerOptions(body_timeout=0.4, header_timeout=5))
    with connect(server) as sock:
        sock.sendall(payload)
        assert_408_and_closed(sock, time.monotonic(), 3)
    assert server.connection_count == 0 or _settles(lambda: server.connection_count == 0)


def test_stalled_body_after_a_keep_alive_request_gets_408(serve):
    server = serve(Hello(), ServerOptions(body_timeout=0.4, keep_alive_timeout=30))
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        assert ResponseReader(sock).read_one().status == 200
        sock.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab")
        assert_408_and_closed(sock, time.monotonic(), 3)


def test_a_body_that_keeps_coming_is_not_cut(serve):
    server = serve(Hello(), ServerOptions(body_timeout=0.5))
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n")
        for _ in range(8):  # 8 x 0.15 s: longer than body_timeout in all, never idle that long
            time.sleep(0.15)
            sock.sendall(b"x")
        assert ResponseReader(sock).read_one().status == 200


def _settles(check, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


# --- defect 6: the head deadline starts at accept ----------------------------------------
def test_head_deadline_starts_at_accept(serve):
    server = serve(Hello(), ServerOptions(header_timeout=0.6))
    with connect(server) as sock:
        started = time.monotonic()
        time.sleep(0.45)
        sock.sendall(b"GET / HTTP/1.1\r\n")
        for _ in range(20):
            time.sleep(0.05)
            try:
                sock.sendall(b"X: y\r\n")
            except OSError:
                break
        data = wait_closed(sock, timeout=5)
        assert data.startswith(b"HTTP/1.1 408 ")
        # header_timeout plus the sweep's granularity; from the first byte it would be >= 1.05 s
        assert time.monotonic() - started < 1.0
