"""Flow control of responses streamed from a worker thread: a plain ``def`` handler that
writes faster than the client reads waits (bounded memory), and a client that reads
nothing for ``write_timeout`` seconds is dropped with ``write()`` raising."""

from __future__ import annotations

import socket
import threading
import time

from kitura.net import ServerDelegate, ServerOptions

import httptools

from .conftest import connect

CHUNK = 64 * 1024
CHUNKS = 512  # 32 MiB in all


class CountingReader:
    """Reads one response off a socket, counting the body instead of keeping it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.status = 0
        self.headers: dict[str, str] = {}
        self.length = 0
        self.only_x = True
        self.complete = False
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.length += len(body)
        self.only_x = self.only_x and body.count(b"x") == len(body)

    def on_message_complete(self) -> None:
        self.complete = True

    def read(self, timeout: float) -> "CountingReader":
        deadline = time.monotonic() + timeout
        while not self.complete:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the response did not complete ({self.length} body bytes)")
            self.sock.settimeout(remaining)
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError(f"closed after {self.length} body bytes")
            self.parser.feed_data(data)
        return self


class Streamer(ServerDelegate):
    def __init__(self) -> None:
        self.written = 0
        self.error: BaseException | None = None
        self.done = threading.Event()

    def handle(self, request, response):
        part = b"x" * CHUNK
        try:
            for i in range(CHUNKS):
                response.write(from_=part)
                self.written = i + 1
            response.end()
        except BaseException as exc:  # what the test looks at
            self.error = exc
        finally:
            self.done.set()


def start_streaming(serve, options: ServerOptions | None = None):
    """A Streamer server and a client with a small receive buffer that asked for the stream."""
    delegate = Streamer()
    server = serve(delegate, options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    return delegate, server, sock


def test_a_handler_streaming_to_a_client_that_does_not_read_waits(serve):
    delegate, server, sock = start_streaming(serve)
    try:
        time.sleep(1.0)  # the client reads nothing
        # Kernel buffers, the transport's high-water mark and MAX_POSTED_BYTES hold a few
        # MiB at most: the handler must be blocked far before its 32 MiB are out.
        assert not delegate.done.is_set()
        assert delegate.written * CHUNK < 16 * 1024 * 1024
        # Now read everything: every byte arrives, in order, and the handler finishes.
        resp = CountingReader(sock).read(timeout=30)
    finally:
        sock.close()
    assert delegate.done.wait(10) and delegate.error is None
    assert resp.status == 200 and resp.headers.get("transfer-encoding") == "chunked"
    assert resp.length == CHUNK * CHUNKS and resp.only_x


def test_a_client_that_reads_nothing_for_write_timeout_is_dropped_and_write_raises(serve):
    delegate, server, sock = start_streaming(serve, ServerOptions(write_timeout=0.5))
    try:
        assert delegate.done.wait(10)
        assert isinstance(delegate.error, ConnectionError)
        assert "write_timeout" in str(delegate.error)
        # The connection was dropped: reading drains what was sent, then ends.
        sock.settimeout(10)
        total = 0
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            total += len(chunk)
        assert total < CHUNK * CHUNKS
    finally:
        sock.close()
    deadline = time.monotonic() + 5
    while server.connection_count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.connection_count == 0


def test_other_connections_are_served_while_a_writer_waits(serve):
    delegate, server, stalled = start_streaming(serve)
    try:
        time.sleep(0.3)
        assert not delegate.done.is_set()  # the first handler waits for its client
        with connect(server) as sock:      # another request gets its own worker
            sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            resp = CountingReader(sock).read(timeout=30)
            assert resp.length == CHUNK * CHUNKS
    finally:
        stalled.close()
