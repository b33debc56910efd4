"""ServerResponse's two cores: the C ``_speedups.ResponseCore`` and its pure-Python
reference ``PyResponseCore`` do the same to the same calls.

Each scenario drives a response through a recording connection and returns the
transcript (what reached the connection, what was scheduled on the loop, what was
raised); both cores must give the same transcript, and a few scenarios also check the
bytes themselves."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from kitura.net import HTTPStatusCode, ServerRequest
from kitura.net import response as response_module
from kitura.net.response import FLUSH_AT, PyResponseCore, ResponseMethods

C_CORE = response_module.ResponseCore if response_module.ResponseCore is not PyResponseCore else None
needs_c = pytest.mark.skipif(C_CORE is None, reason="kitura.net._speedups not built (or KITURA_NO_EXTENSIONS=1)")

PyServerResponse = type("PyServerResponse", (ResponseMethods, PyResponseCore), {"__slots__": ()})
CServerResponse = type("CServerResponse", (ResponseMethods, C_CORE), {"__slots__": ()}) if C_CORE else None


class Loop:
    def __init__(self) -> None:
        self.soon: list = []
        self.closed = False

    def call_soon(self, fn, *args):
        self.soon.append(("call_soon", fn, args))

    def call_soon_threadsafe(self, fn, *args):
        if self.closed:
            raise RuntimeError("Event loop is closed")
        self.soon.append(("call_soon_threadsafe", fn, args))

    def run(self) -> None:
        while self.soon:
            _, fn, args = self.soon.pop(0)
            fn(*args)


class Conn:
    """A ResponseConnection that records what it is given."""

    def __init__(self, on_loop: bool = True) -> None:
        self.loop = Loop()
        self.loop_thread = threading.get_ident() if on_loop else -1 & 0xFFFFFFFF
        self.log: list = []

    def write_response(self, response, data):
        self.log.append(("write", _no_date(data)))

    def post_response(self, response, data):
        self.log.append(("post", _no_date(data)))

    def complete_response(self, response, data, keep_alive):
        self.log.append(("complete", _no_date(data), keep_alive))

    def abort_response(self, response):
        self.log.append(("abort",))


def _no_date(data: bytes) -> bytes:
    return b"\r\n".join(line for line in data.split(b"\r\n") if not line.startswith(b"Date: "))


def request(method="GET", version=(1, 1), keep_alive=True):
    req = ServerRequest(method, b"/", [(b"Host", b"x")], b"", "127.0.0.1", version)
    req.keep_alive = keep_alive
    return req


def run(cls, scenario):
    """The transcript of ``scenario(response, conn)`` on a response of ``cls``."""
    conn = Conn(on_loop=scenario.__dict__.get("on_loop", True))
    response = cls(conn, request(**scenario.__dict__.get("request", {})))
    transcript = []
    try:
        scenario(response, conn, transcript)
    except Exception as exc:  # noqa: BLE001 - part of the transcript
        transcript.append(("raised", type(exc).__name__, str(exc)))
    response.finish_step()
    transcript.append(("scheduled", [(kind, getattr(fn, "__name__", "?")) for kind, fn, _ in conn.loop.soon]))
    conn.loop.run()
    transcript.append(("log", conn.log))
    transcript.append(("state", response.status, response.headers_sent, response.ended))
    return transcript


def scenario(**options):
    def mark(fn):
        fn.__dict__.update(options)
        return fn
    return mark


def try_(transcript, fn, *args, **kwargs):
    try:
        transcript.append(("ok", fn(*args, **kwargs)))
    except Exception as exc:  # noqa: BLE001 - part of the transcript
        transcript.append(("raised", type(exc).__name__, str(exc)))


@scenario()
def hello(r, conn, t):
    r.status_code = HTTPStatusCode.OK
    r.headers["Content-Type"] = "text/plain"
    r.write(from_="Hello, World!")
    r.end()


@scenario()
def end_with_text_and_bytes_like(r, conn, t):
    r.write(bytearray(b"ab"))
    r.write(memoryview(b"cd"))
    r.end(b"ef")
    r.end("ignored: the response is complete")


@scenario(request={"method": "HEAD"})
def head_request(r, conn, t):
    r.end("body not sent")


def try_call_shape(transcript, fn, *args, **kwargs):
    """As try_, keeping only the exception's type: Python and C word wrong calls apart."""
    try:
        transcript.append(("ok", fn(*args, **kwargs)))
    except TypeError as exc:
        transcript.append(("raised", type(exc).__name__))


@scenario()
def statuses(r, conn, t):
    for code in (None, -1, 404, "201", 99, 1000, 2**70, 599, 3.0, object()):
        try_(t, setattr, r, "status_code", code)
        t.append(("status", r.status, int(r.status_code)))
    r.status_code = HTTPStatusCode.CREATED
    t.append(("status_code", r.status_code, type(r.status_code).__name__))
    r.end()
    try_(t, setattr, r, "status_code", 200)


@scenario()
def wrong_bodies(r, conn, t):
    try_(t, r.write, 5)
    try_(t, r.end, 5.0)
    try_call_shape(t, r.write)
    try_call_shape(t, r.write, "a", "b")
    try_call_shape(t, r.write, text="a")
    try_call_shape(t, r.end, "a", "b")
    try_(t, r.end, text="last")
    try_(t, r.write, from_="after end")


@scenario()
def streamed_chunked(r, conn, t):
    r.write(from_="part one")  # held back, flushed after the step
    t.append(("after first write", list(conn.log)))


@scenario()
def streamed_then_ended_later(r, conn, t):
    r.write(from_="a")
    r.finish_step()
    conn.loop.run()
    r.write(from_="b")
    r.write(from_="")
    r.end("c")


@scenario(request={"version": (1, 0)})
def streamed_on_http_1_0(r, conn, t):
    r.write(from_="a")
    r.finish_step()
    conn.loop.run()
    r.end("b")


@scenario()
def large_write_flushes_at_once(r, conn, t):
    r.write(from_=b"x" * (FLUSH_AT - 1))
    r.write(from_=b"y" * 2)
    r.end()


@scenario(on_loop=False)
def from_a_worker_thread(r, conn, t):
    r.status_code = 202
    r.write(from_="w")
    r.end("x")


@scenario(on_loop=False)
def worker_streams_past_the_head(r, conn, t):
    r.write(from_=b"z" * FLUSH_AT)  # the head and the body go out at once: posted
    r.write(from_="more")
    r.end()


@scenario(on_loop=False)
def closed_loop_is_not_an_error(r, conn, t):
    conn.loop.closed = True
    r.write(from_="w")
    r.end("x")


@scenario()
def headers_reset_and_close_after(r, conn, t):
    r.headers["X-Gone"] = "1"
    r.write(from_="dropped")
    r.status_code = 404
    r.reset()
    t.append(("after reset", r.status, list(r.headers)))
    r.headers.append("Set-Cookie", "a=1")
    r.headers.append("Set-Cookie", "b=2")
    r.close_after()
    r.end("kept")
    r.close_after()
    try_(t, r.reset)


@scenario()
def application_framing_and_text_beyond_latin1(r, conn, t):
    r.headers["Connection"] = "close"
    r.headers["Transfer-Encoding"] = "gzip"
    r.headers["X-Snow"] = "☃"
    r.status_code = 799  # no prebuilt status line
    r.end("é")


@scenario()
def no_body_statuses(r, conn, t):
    r.status_code = 304
    r.write(from_="not sent")
    r.end()


@scenario(request={"keep_alive": False})
def request_closes(r, conn, t):
    r.headers = r.headers  # assignable, as in the Python core
    r.end()


@scenario()
def head_encoded_directly(r, conn, t):
    t.append(("head", _no_date(r._head(5))))
    try_(t, r._head, 1)
    try_(t, r.write, from_="x")
    r.end()


SCENARIOS = [hello, end_with_text_and_bytes_like, head_request, statuses, wrong_bodies, streamed_chunked,
             streamed_then_ended_later, streamed_on_http_1_0, large_write_flushes_at_once, from_a_worker_thread,
             worker_streams_past_the_head, closed_loop_is_not_an_error, headers_reset_and_close_after,
             application_framing_and_text_beyond_latin1, no_body_statuses, request_closes, head_encoded_directly]


@needs_c
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_c_core_does_what_the_python_core_does(scenario):
    assert run(CServerResponse, scenario) == run(PyServerResponse, scenario)


@pytest.mark.parametrize("cls", [PyServerResponse, pytest.param(CServerResponse, marks=needs_c)], ids=["py", "c"])
def test_a_hello_is_one_complete_write(cls):
    log = run(cls, hello)[-2][1]
    assert log == [("complete", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
                                b"Hello, World!", True)]


@pytest.mark.parametrize("cls", [PyServerResponse, pytest.param(CServerResponse, marks=needs_c)], ids=["py", "c"])
def test_a_body_open_past_the_step_is_chunked(cls):
    log = run(cls, streamed_then_ended_later)[-2][1]
    assert log == [("write", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"),
                   ("write", b"1\r\nb\r\n"), ("complete", b"1\r\nc\r\n0\r\n\r\n", True)]
    log = run(cls, streamed_on_http_1_0)[-2][1]
    assert log == [("write", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\na"), ("complete", b"b", False)]


@pytest.mark.parametrize("cls", [PyServerResponse, pytest.param(CServerResponse, marks=needs_c)], ids=["py", "c"])
def test_a_worker_hands_the_end_to_the_loop(cls):
    transcript = run(cls, from_a_worker_thread)
    scheduled = transcript[-3][1]
    assert ("call_soon_threadsafe", "complete_response") in scheduled
    assert transcript[-2][1][-1] == ("complete", b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nwx", True)


@pytest.mark.parametrize("cls", [PyServerResponse, pytest.param(CServerResponse, marks=needs_c)], ids=["py", "c"])
def test_a_response_is_freed_by_reference_counts_and_weakly_referable(cls):
    conn = Conn()
    response = cls(conn, request())
    response.headers["X"] = "1"
    ref = weakref.ref(response)
    response.end()
    gc.disable()
    try:
        del response
        assert ref() is None
    finally:
        gc.enable()
    orphan = cls(None, request())
    orphan.write(from_="nobody listens")
    orphan.end()
    assert orphan.ended and orphan.headers_sent and not orphan.on_loop_thread
    assert repr(orphan) == "<ServerResponse 200 for <ServerRequest GET b'/' from 127.0.0.1>>"


@needs_c
def test_concurrent_writers_on_the_c_core_lose_nothing():
    conn = Conn(on_loop=False)
    response = CServerResponse(conn, request())
    response.write(from_=b"h" * FLUSH_AT)  # the head is out: what follows is chunked, each part posted
    parts = 200

    def writer(tag: bytes) -> None:
        for _ in range(parts):
            response.write(from_=tag)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in (b"a", b"b", b"c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    response.end()
    conn.loop.run()
    body = b"".join(entry[1] for entry in conn.log if entry[0] == "post")
    assert body.count(b"1\r\na\r\n") == body.count(b"1\r\nb\r\n") == body.count(b"1\r\nc\r\n") == parts


@pytest.mark.parametrize("cls", [PyServerResponse, pytest.param(CServerResponse, marks=needs_c)], ids=["py", "c"])
def test_a_writer_waits_for_an_end_that_released_the_gil_inside(cls):
    """end() runs Python code while it holds the response (here a headers container whose
    entry_map sleeps): a write from another thread waits for it, then finds it ended."""
    import time

    from kitura.net.headers import HeadersContainer

    inside = threading.Event()

    class SlowHeaders(HeadersContainer):
        __slots__ = ()

        def entry_map(self):
            inside.set()
            time.sleep(0.2)  # releases the GIL while end() holds the response
            return super().entry_map()

    conn = Conn(on_loop=False)
    response = cls(conn, request())
    response.headers = SlowHeaders()
    outcome = []

    def writer() -> None:
        inside.wait(5)
        try:
            response.write(from_="late")
            outcome.append("written")
        except RuntimeError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=writer)
    thread.start()
    response.end("body")
    thread.join(5)
    assert outcome == ["write() after end(): the response is complete"]
    conn.loop.run()
    assert conn.log == [("complete", b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", True)]
