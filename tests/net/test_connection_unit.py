"""``HTTPConnection`` on its own, as uvicorn tests its protocol: a fake transport and a
fake loop, a ``ServingState`` made by hand, no socket and no server. What it pins is the
connection's contract: it reads only the ``ServingState``, answers requests in order
through ``ServerResponse``, and acts on deadlines when the sweep says so."""

from __future__ import annotations

import threading
from typing import Any

from kitura.net import ServerOptions
from kitura.net.connection import HTTPConnection
from kitura.net.serving import ServingState


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False
        self.reading = True

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return False  # so a lingering close is a plain close here

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("10.0.0.7", 50000), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    @property
    def data(self) -> bytes:
        return b"".join(self.written)


class FakeLoop:
    """Time stands still unless a test moves it; call_soon callbacks run on run_once()."""

    def __init__(self) -> None:
        self.now = 100.0
        self.soon: list[tuple[Any, tuple[Any, ...]]] = []

    def time(self) -> float:
        return self.now

    def call_soon(self, fn: Any, *args: Any) -> None:
        self.soon.append((fn, args))

    call_soon_threadsafe = call_soon

    def is_closed(self) -> bool:
        return False

    def run_once(self) -> None:
        soon, self.soon = self.soon, []
        for fn, args in soon:
            fn(*args)


def make(dispatch: Any, transport: FakeTransport | None = None,
         **options: Any) -> tuple[HTTPConnection, FakeTransport, FakeLoop, ServingState]:
    loop = FakeLoop()
    serving = ServingState(options=ServerOptions(**options), loop=loop,  # type: ignore[arg-type]
                           loop_thread=threading.get_ident(), dispatch=dispatch,
                           client_connection_failed=lambda exc: None)
    conn = HTTPConnection(serving)
    transport = transport if transport is not None else FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport, loop, serving


def hello(request, response) -> None:
    response.headers["Content-Type"] = "text/plain"
    response.end(f"hello {request.url.decode()}")


def test_a_request_is_dispatched_and_answered_with_content_length():
    conn, transport, _, serving = make(hello)
    assert conn in serving.connections and conn.remote_address == "10.0.0.7"
    conn.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = transport.data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 8\r\n" in head + b"\r\n"
    assert body == b"hello /a"
    assert not transport.closed


def test_pipelined_requests_are_answered_in_order_one_at_a_time():
    pending = []
    conn, transport, _, _ = make(lambda request, response: pending.append((request, response)))
    conn.data_received(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [r.url for r, _ in pending] == [b"/1"]          # the second waits for the first answer
    pending[0][1].end("one")
    assert [r.url for r, _ in pending] == [b"/1", b"/2"]
    pending[1][1].end("two")
    assert transport.data.count(b"HTTP/1.1 200 OK") == 2
    assert transport.data.index(b"one") < transport.data.index(b"two")


def test_a_write_in_the_first_step_goes_out_after_the_step_only_if_the_response_is_still_open():
    responses = []

    def streams(request, response):
        response.write("part")
        responses.append(response)

    conn, transport, loop, _ = make(streams)
    conn.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert transport.data == b"" and len(loop.soon) == 1   # one flush, on the next turn
    loop.run_once()
    assert b"Transfer-Encoding: chunked" in transport.data and transport.data.endswith(b"4\r\npart\r\n")
    responses[0].end()
    assert transport.data.endswith(b"0\r\n\r\n")


def test_a_handler_that_raises_gets_500():
    def broken(request, response):
        raise ValueError("bug")

    conn, transport, _, _ = make(broken)
    conn.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert transport.data.startswith(b"HTTP/1.1 500 ")


def test_a_malformed_request_gets_400_and_the_connection_closes():
    conn, transport, _, serving = make(hello)
    conn.data_received(b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
    assert transport.data.startswith(b"HTTP/1.1 400 ")
    assert transport.closed
    conn.connection_lost(None)                               # counted until the transport is gone
    assert conn not in serving.connections


def test_the_head_deadline_answers_408_and_the_idle_deadline_closes():
    conn, transport, loop, _ = make(hello, header_timeout=5, keep_alive_timeout=7)
    conn.data_received(b"GET / HT")                          # a head that stalls
    conn.check_deadline(loop.now + 4.9)
    assert transport.data == b""
    conn.check_deadline(loop.now + 5)
    assert transport.data.startswith(b"HTTP/1.1 408 ") and transport.closed

    conn, transport, loop, _ = make(hello, header_timeout=5, keep_alive_timeout=7)
    conn.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    answered = transport.data
    conn.check_deadline(loop.now + 6.9)
    assert not transport.closed
    conn.check_deadline(loop.now + 7)
    assert transport.closed and transport.data == answered  # idle: closed without an answer


def test_the_connection_limit_is_counted_on_the_serving_state():
    conn, transport, loop, serving = make(hello, connection_limit=1)
    second = HTTPConnection(serving)
    other = FakeTransport()
    second.connection_made(other)  # type: ignore[arg-type]
    assert other.data.startswith(b"HTTP/1.1 503 ") and other.closed
    assert serving.connections == {conn}
    conn.connection_lost(None)
    assert serving.connections == set()
