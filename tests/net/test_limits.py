"""Bad input gets an answer and a closed connection: never a crash or a hang."""

from __future__ import annotations

import socket
import time

import pytest

from kitura.net import HTTPStatusCode, ServerDelegate, ServerOptions

from .conftest import ResponseReader, connect, wait_closed


class Hello(ServerDelegate):
    async def handle(self, request, response):
        response.end("hello")


def status_and_close(server, payload: bytes) -> bytes:
    with connect(server) as sock:
        sock.sendall(payload)
        return wait_closed(sock)


def assert_answer(data: bytes, status: int) -> None:
    assert data.startswith(b"HTTP/1.1 %d " % status), data[:80]
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Connection: close" in head
    assert body == b""


@pytest.mark.parametrize("payload", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: \x01\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_malformed_requests_get_400_and_close(serve, payload):
    assert_answer(status_and_close(serve(Hello()), payload), 400)


@pytest.mark.parametrize("payload", [
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
])
def test_request_smuggling_shapes_get_400(serve, payload):
    assert_answer(status_and_close(serve(Hello()), payload), 400)


def test_error_after_good_pipelined_request_comes_in_order(serve):
    data = status_and_close(serve(Hello()), b"GET / HTTP/1.1\r\nHost: h\r\n\r\nNOT HTTP\r\n\r\n")
    first, _, rest = data.partition(b"hello")
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert_answer(rest, 400)


def test_request_line_over_8k_gets_414(serve):
    assert_answer(status_and_close(serve(Hello()), b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n"), 414)


def test_request_line_trickled_over_8k_gets_414(serve):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(b"GET /")
        for _ in range(10):
            sock.sendall(b"a" * 1000)
            time.sleep(0.01)
        assert_answer(wait_closed(sock), 414)


def test_header_block_over_16k_gets_431(serve):
    headers = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(20))
    assert_answer(status_and_close(serve(Hello()), b"GET / HTTP/1.1\r\n" + headers + b"\r\n"), 431)


def test_one_endless_header_line_gets_431(serve):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX-Long: ")
        try:  # the bound is the head limit plus at most one read of the socket
            for _ in range(512):
                sock.sendall(b"v" * 1024)
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            return  # cut off before all was sent: the server closed on us
        data = wait_closed(sock)
        assert data == b"" or data.startswith(b"HTTP/1.1 431")


def test_more_than_100_fields_gets_431(serve):
    headers = b"".join(b"X-%d: v\r\n" % i for i in range(101))
    assert_answer(status_and_close(serve(Hello()), b"GET / HTTP/1.1\r\n" + headers + b"\r\n"), 431)


def test_100_fields_are_fine(serve):
    server = serve(Hello())
    headers = b"".join(b"X-%d: v\r\n" % i for i in range(99))
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")
        assert ResponseReader(sock).read_one().status == 200


def test_body_over_limit_by_content_length_gets_413(serve):
    server = serve(Hello(), ServerOptions(request_size_limit=1000))
    assert_answer(status_and_close(server, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n"), 413)


def test_chunked_body_over_limit_gets_413(serve):
    server = serve(Hello(), ServerOptions(request_size_limit=1000))
    chunk = b"200\r\n" + b"x" * 0x200 + b"\r\n"
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3)
        assert_answer(wait_closed(sock), 413)


def test_expect_100_continue_over_limit_gets_413_without_continue(serve):
    server = serve(Hello(), ServerOptions(request_size_limit=10))
    data = status_and_close(server, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
    assert b"100 Continue" not in data
    assert_answer(data, 413)


def test_unknown_expectation_gets_417(serve):
    data = status_and_close(serve(Hello()), b"GET / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n")
    assert_answer(data, 417)


def test_request_size_response_generator_is_replaceable(serve):
    options = ServerOptions(
        request_size_limit=5,
        request_size_response_generator=lambda limit, client: (HTTPStatusCode.REQUEST_TOO_LONG, f"max {limit}"),
    )
    data = status_and_close(serve(Hello(), options), b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 413") and data.endswith(b"max 5")


def test_size_generator_returning_none_closes_without_answer(serve):
    options = ServerOptions(request_size_limit=5, request_size_response_generator=lambda limit, client: None)
    data = status_and_close(serve(Hello(), options), b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\n")
    assert data == b""


def test_connections_over_the_limit_get_503_and_slots_are_freed(serve):
    server = serve(Hello(), ServerOptions(connection_limit=2))
    a = socket.create_connection(("127.0.0.1", server.port))
    b = socket.create_connection(("127.0.0.1", server.port))
    try:
        a.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        ResponseReader(a).read_one()
        b.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        ResponseReader(b).read_one()
        with connect(server) as third:
            data = wait_closed(third)
        assert data.startswith(b"HTTP/1.1 503") and b"Connection: close" in data
    finally:
        a.close()
        b.close()
    # every close path frees its slot: client close, server close after errors, Connection: close
    deadline = time.monotonic() + 5
    while server.connection_count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.connection_count == 0
    for payload in (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", b"BAD\r\n\r\n"):
        status_and_close(server, payload)
    for _ in range(3):
        with connect(server) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            assert ResponseReader(sock).read_one().status == 200


def test_slowloris_head_deadline_gets_408_and_close(serve):
    server = serve(Hello(), ServerOptions(header_timeout=0.5))
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        start = time.monotonic()
        for _ in range(3):
            try:
                sock.sendall(b"X: y\r\n")
            except OSError:
                break
            time.sleep(0.1)
        data = wait_closed(sock, timeout=5)
        assert time.monotonic() - start < 4
    assert_answer(data, 408)


def test_silent_client_is_dropped_after_header_timeout(serve):
    server = serve(Hello(), ServerOptions(header_timeout=0.3))
    with connect(server) as sock:
        assert wait_closed(sock, timeout=5).startswith(b"HTTP/1.1 408")


def test_idle_keep_alive_connection_is_closed_after_timeout(serve):
    server = serve(Hello(), ServerOptions(keep_alive_timeout=0.4))
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        reader = ResponseReader(sock)
        assert reader.read_one().status == 200
        start = time.monotonic()
        assert wait_closed(sock, timeout=5) == b""
        assert time.monotonic() - start >= 0.3


def test_server_survives_abrupt_disconnects(serve):
    server = serve(Hello())
    for payload in (b"GET / HT", b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nab", b""):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(payload)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # RST
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        assert ResponseReader(sock).read_one().status == 200
