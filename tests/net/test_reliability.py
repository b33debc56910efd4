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
    server = serve(Hello(), ServerOptions(header_timeout=1.0))
    with connect(server) as sock:
        started = time.monotonic()
        time.sleep(0.8)
        sock.sendall(b"GET / HTTP/1.1\r\n")
        data = b""
        while not data and time.monotonic() - started < 3:
            sock.sendall(b"X: y\r\n")
            sock.settimeout(0.05)
            try:
                data = sock.recv(100)
            except TimeoutError:
                pass
        assert data.startswith(b"HTTP/1.1 408 ")
        # header_timeout plus the sweep's granularity (0.25 s); from the first byte it would be >= 1.8 s
        assert time.monotonic() - started < 1.6


# --- defect 4: lingering close -----------------------------------------------------------
class Big(ServerDelegate):
    async def handle(self, request, response):
        response.end(b"b" * (1024 * 1024))


def read_all(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Everything until EOF; a reset is a failure (it erased what was not yet read)."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        chunk = sock.recv(1 << 20)
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("bad,status", [
    (b"NOT HTTP\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999\r\n\r\n", 413),
])
def test_pipelined_big_answer_and_the_error_after_it_arrive_whole(serve, bad, status):
    server = serve(Big())
    with connect(server) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        # The client keeps sending after the bad request: unread bytes at close.
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n" + bad + b"x" * 200_000)
        time.sleep(0.3)  # the server has answered and closed by now
        data = read_all(sock)
    reader = ResponseReader(socket.socket())  # a parser only
    reader.parser.feed_data(data)
    assert [r.status for r in reader.done] == [200, status]
    assert len(reader.done[0].body) == 1024 * 1024


def test_lingering_connection_is_closed_after_the_client_reads_nothing_more(serve):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(b"NOT HTTP\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400 ")  # EOF (half-close) after the answer
        sock.sendall(b"more")  # still drained, no reset
        assert _settles(lambda: server.connection_count == 1)
    assert _settles(lambda: server.connection_count == 0)


# --- defect 2: a response the client never reads is not kept forever ------------------------
class Huge(ServerDelegate):
    async def handle(self, request, response):
        response.end(b"h" * (16 * 1024 * 1024))


def test_unread_response_is_aborted_after_write_timeout_and_counted_until_then(serve):
    server = serve(Huge(), ServerOptions(keep_alive_timeout=0.2, write_timeout=1.0))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", server.port))
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(0.7)  # past the keep-alive timeout: the server closes, 16 MiB still unread
        assert server.connection_count == 1  # still holds an fd and the buffer: counted
        assert _settles(lambda: server.connection_count == 0, timeout=5)  # aborted after write_timeout
        got, ended = 0, False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            sock.settimeout(1)
            try:
                chunk = sock.recv(1 << 20)
            except ConnectionResetError:
                ended = True
                break
            if not chunk:
                ended = True
                break
            got += len(chunk)
        assert ended and got < 16 * 1024 * 1024
    finally:
        sock.close()


# --- defect 7: Host is checked (RFC 9112 3.2) ---------------------------------------------------
@pytest.mark.parametrize("payload", [
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
])
def test_missing_or_repeated_host_gets_400(serve, payload):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(payload)
        assert wait_closed(sock).startswith(b"HTTP/1.1 400 ")


def test_http_10_without_host_is_fine(serve):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert wait_closed(sock).startswith(b"HTTP/1.1 200 ")


# --- defect 8: header names set by the application must be tokens ------------------------------
class Injects(ServerDelegate):
    def __init__(self, name: str) -> None:
        self.name = name
        self.error: Exception | None = None

    async def handle(self, request, response):
        try:
            response.headers[self.name] = "v"
        except ValueError as exc:
            self.error = exc
        response.end("ok")


@pytest.mark.parametrize("name", ["Injected: yes, X-Probe", "X Y", "X:Y", "", "X\tY", "Ünï"])
def test_non_token_header_names_are_refused(serve, name):
    delegate = Injects(name)
    server = serve(delegate)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        response = ResponseReader(sock).read_one()
    assert response.status == 200
    assert isinstance(delegate.error, ValueError) and "token" in str(delegate.error)
    assert response.header("Injected") is None


# --- defect 9: trailing whitespace of header values is stripped (RFC 9110 5.5) ----------------
class Shows(ServerDelegate):
    async def handle(self, request, response):
        response.end(repr(request.headers["X-V"]))


def test_trailing_whitespace_of_request_header_values_is_stripped(serve):
    server = serve(Shows())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nX-V: v \t \r\n\r\n")
        assert ResponseReader(sock).read_one().body == b"['v']"


# --- found by tests/fuzz: targets and Host values the URL code cannot take are a 400 --------------
@pytest.mark.parametrize("payload", [
    b"GET [ HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET http://[/ HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: [\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n",
])
def test_invalid_target_or_host_gets_400(serve, payload):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(payload)
        assert wait_closed(sock).startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("host", [b"h", b"h:8080", b"[::1]:80", b"127.0.0.1", b""])
def test_valid_host_values_are_served(serve, host):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert ResponseReader(sock).read_one().status == 200


def test_an_application_transfer_encoding_does_not_frame_the_body_twice():
    """A handler that sets Transfer-Encoding: chunked and writes a short body: the server
    frames it once (Content-Length here), never Content-Length beside Transfer-Encoding."""
    import socket as _socket

    from kitura.net import HTTP, ServerDelegate

    class Handler(ServerDelegate):
        def handle(self, request, response):
            response.headers["Transfer-Encoding"] = "chunked"
            response.write(from_="hello")
            response.end()

    server = HTTP.create_server()
    server.delegate = Handler()
    server.listen(on=0, address="127.0.0.1")
    try:
        with _socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.lower().split(b"\r\n")
        framing = [line for line in lines if line.startswith((b"content-length:", b"transfer-encoding:"))]
        assert len(framing) == 1, head
        if framing[0].startswith(b"content-length:"):
            assert body == b"hello"
        else:
            assert body == b"5\r\nhello\r\n0\r\n\r\n"
    finally:
        server.stop()
