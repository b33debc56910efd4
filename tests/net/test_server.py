"""The HTTP/1.1 server over real sockets: answers, keep-alive, pipelining, handlers."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from kitura.net import HTTP, HTTPServer, HTTPStatusCode, ListenerGroup, ServerDelegate, ServerState

from .conftest import ResponseReader, connect, wait_closed


class AsyncHello(ServerDelegate):
    async def handle(self, request, response):
        response.status_code = HTTPStatusCode.OK
        response.headers["Content-Type"] = "text/plain"
        response.end(f"Hello {request.method} {request.url.decode()}")


class SyncEcho(ServerDelegate):
    def handle(self, request, response):
        body = bytearray()
        request.read_all_data(into=body)
        response.headers["Content-Type"] = "application/octet-stream"
        response.write(from_=b"got:")
        response.end(bytes(body))


def test_async_delegate_answers_with_content_length_and_date(serve):
    server = serve(AsyncHello())
    with connect(server) as sock:
        sock.sendall(b"GET /hi?x=1 HTTP/1.1\r\nHost: example\r\n\r\n")
        resp = ResponseReader(sock).read_one()
    assert resp.status == 200
    assert resp.body == b"Hello GET /hi?x=1"
    assert resp.header("Content-Length") == str(len(resp.body))
    assert resp.header("Date") and resp.header("Date").endswith("GMT")
    assert resp.header("Transfer-Encoding") is None


def test_sync_delegate_reads_whole_body_and_write_then_end_is_one_response(serve):
    server = serve(SyncEcho())
    body = b"x" * 100_000
    with connect(server) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        resp = ResponseReader(sock).read_one()
    assert resp.status == 200
    # write("got:") then end(body) at once: buffered as Kitura does, sent with Content-Length
    assert resp.header("Content-Length") == str(len(body) + 4)
    assert resp.header("Transfer-Encoding") is None
    assert resp.body == b"got:" + body


def test_async_write_then_end_in_one_step_is_one_response_with_content_length(serve):
    class AsyncParts(ServerDelegate):
        async def handle(self, request, response):
            response.write(from_="a")
            response.write(from_=b"b")
            response.end("c")

    server = serve(AsyncParts())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        reader = ResponseReader(sock)
        answers = [reader.read_one(), reader.read_one()]
    for resp in answers:
        assert resp.body == b"abc"
        assert resp.header("Content-Length") == "3" and resp.header("Transfer-Encoding") is None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_body_still_open_is_streamed_chunked(serve, mode):
    gate = threading.Event()

    def stream(request, response):
        response.write(from_="first part ")
        gate.wait(5)  # the first part must reach the client before the rest is written
        response.write(from_="x" * 20_000)
        response.end("last")

    async def astream(request, response):
        response.write(from_="first part ")
        await asyncio.get_running_loop().run_in_executor(None, gate.wait, 5)
        response.write(from_="x" * 20_000)
        response.end("last")

    delegate = type("D", (), {"handle": staticmethod(stream if mode == "sync" else astream)})()
    server = serve(delegate)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        sock.settimeout(5)
        first = b""
        while b"first part " not in first:
            first += sock.recv(65536)
        assert b"Transfer-Encoding: chunked" in first
        gate.set()
        reader = ResponseReader(sock)
        reader.parser.feed_data(first)
        resp = reader.read_one()
    assert resp.body == b"first part " + b"x" * 20_000 + b"last"


def test_a_large_write_goes_out_before_end(serve):
    class Big(ServerDelegate):
        def handle(self, request, response):
            response.write(from_=b"y" * 40_000)  # past FLUSH_AT: sent now, chunked
            assert response.headers_sent
            response.end()

    server = serve(Big())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        resp = ResponseReader(sock).read_one()
    assert resp.header("Transfer-Encoding") == "chunked" and resp.body == b"y" * 40_000


def test_pipelined_requests_in_one_packet_are_answered_in_order(serve):
    class Slow(ServerDelegate):
        def handle(self, request, response):
            if request.url == b"/1":
                time.sleep(0.2)  # the first takes longest; answers must still come in order
            response.end(request.url)

    server = serve(Slow())
    with connect(server) as sock:
        sock.sendall(b"".join(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % i for i in range(1, 6)))
        responses = ResponseReader(sock).read(5)
    assert [r.body for r in responses] == [b"/1", b"/2", b"/3", b"/4", b"/5"]


def test_keep_alive_serves_several_requests_on_one_connection(serve):
    server = serve(AsyncHello())
    with connect(server) as sock:
        reader = ResponseReader(sock)
        for i in range(3):
            sock.sendall(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
            assert reader.read_one().body == b"Hello GET /%d" % i


def test_connection_close_is_honoured(serve):
    server = serve(AsyncHello())
    with connect(server) as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        data = wait_closed(sock)
    assert data.count(b"HTTP/1.1 200") == 1
    assert b"Connection: close" in data


def test_http_10_closes_by_default_and_keeps_alive_on_request(serve):
    server = serve(AsyncHello())
    with connect(server) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\n\r\n")
        data = wait_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"Hello GET /a")
    with connect(server) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        reader = ResponseReader(sock)
        resp = reader.read_one()
        assert resp.header("Connection") == "keep-alive"
        sock.sendall(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert reader.read_one().body == b"Hello GET /b"


def test_http_10_streamed_body_is_delimited_by_close(serve):
    class Streaming(ServerDelegate):
        def handle(self, request, response):
            response.write(from_=b"got:" + b"z" * 20_000)  # past FLUSH_AT: streamed
            response.end(request.read_string())

    server = serve(Streaming())
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab")
        data = wait_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head and b"Content-Length" not in head
    assert body == b"got:" + b"z" * 20_000 + b"ab"


def test_head_answers_without_body(serve):
    server = serve(AsyncHello())
    with connect(server) as sock:
        sock.sendall(b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n")
        sock.settimeout(5)
        time.sleep(0.3)
        data = sock.recv(65536)
    first, _, rest = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 13" in first  # the length of the GET body, none sent
    assert rest.startswith(b"HTTP/1.1 200 OK")


def test_expect_100_continue(serve):
    server = serve(SyncEcho())
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        sock.settimeout(5)
        interim = sock.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        assert ResponseReader(sock).read_one().body == b"got:hello"


def test_chunked_request_body(serve):
    server = serve(SyncEcho())
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        assert ResponseReader(sock).read_one().body == b"got:hello world"


def test_blocking_sync_handler_does_not_stall_other_connections(serve):
    release = threading.Event()

    class Blocking(ServerDelegate):
        def handle(self, request, response):
            if request.url == b"/block":
                release.wait(10)
            response.end("done")

    server = serve(Blocking())
    with connect(server) as blocked, connect(server) as other:
        blocked.sendall(b"GET /block HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(0.1)
        other.sendall(b"GET /fast HTTP/1.1\r\nHost: h\r\n\r\n")
        assert ResponseReader(other).read_one(timeout=3).body == b"done"
        release.set()
        assert ResponseReader(blocked).read_one().body == b"done"


def test_end_from_another_thread_after_handle_returned(serve):
    class Later(ServerDelegate):
        def handle(self, request, response):
            def finish():
                time.sleep(0.2)
                response.headers["X-Thread"] = threading.current_thread().name
                response.end("late")

            threading.Thread(target=finish, name="finisher").start()

    server = serve(Later())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        resp = ResponseReader(sock).read_one()
    assert resp.body == b"late" and resp.header("X-Thread") == "finisher"


def test_async_handler_that_awaits(serve):
    class Awaiting(ServerDelegate):
        async def handle(self, request, response):
            await asyncio.sleep(0.05)
            response.end("awaited")

    server = serve(Awaiting())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n" * 2)
        assert [r.body for r in ResponseReader(sock).read(2)] == [b"awaited", b"awaited"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_exception_in_handler_gives_500_and_is_logged(serve, caplog, mode):
    def boom(request, response):
        raise ValueError("kaboom")

    async def aboom(request, response):
        raise ValueError("kaboom")

    delegate = type("D", (), {"handle": staticmethod(boom if mode == "sync" else aboom)})()
    server = serve(delegate)
    with caplog.at_level(logging.ERROR, logger="kitura.net"):
        with connect(server) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
            responses = ResponseReader(sock).read(2)
    assert [r.status for r in responses] == [500, 500]
    assert responses[0].body == b""
    assert any("kaboom" in (r.exc_text or "") or (r.exc_info and "kaboom" in str(r.exc_info[1]))
               for r in caplog.records)


def test_request_fields(serve):
    seen = {}

    class Inspect(ServerDelegate):
        async def handle(self, request, response):
            seen["method"] = request.method
            seen["url"] = request.url
            seen["url_url"] = request.url_url
            seen["host"] = request.headers["host"]
            seen["multi"] = request.headers["X-Multi"]
            seen["cookies"] = request.headers["Set-Cookie"]
            seen["version"] = (request.http_version_major, request.http_version_minor)
            seen["remote"] = request.remote_address
            seen["body"] = request.read_string()
            seen["again"] = request.read_string()
            response.end()

    server = serve(Inspect())
    with connect(server) as sock:
        sock.sendall(b"PUT /p/a%20b?q=1&r=2 HTTP/1.1\r\nHost: example.com:8080\r\nX-Multi: a\r\nx-multi: b\r\n"
                     b"Set-Cookie: c=1\r\nSet-Cookie: d=2\r\nContent-Length: 4\r\n\r\nbody")
        ResponseReader(sock).read_one()
    assert seen["method"] == "PUT"
    assert seen["url"] == b"/p/a%20b?q=1&r=2"
    assert seen["url_url"].scheme == "http" and seen["url_url"].netloc == "example.com:8080"
    assert seen["url_url"].path == "/p/a%20b" and seen["url_url"].query == "q=1&r=2"
    assert seen["host"] == ["example.com:8080"]
    assert seen["multi"] == ["a, b"]
    assert seen["cookies"] == ["c=1", "d=2"]
    assert seen["version"] == (1, 1)
    assert seen["remote"] == "127.0.0.1"
    assert seen["body"] == "body" and seen["again"] is None


def test_no_body_statuses_carry_no_body(serve):
    class NoContent(ServerDelegate):
        async def handle(self, request, response):
            response.status_code = HTTPStatusCode.NO_CONTENT
            response.end("ignored")

    server = serve(NoContent())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(0.3)
        data = sock.recv(65536)
    assert data.count(b"HTTP/1.1 204 No Content") == 2
    assert b"ignored" not in data and b"Content-Length" not in data


def test_listen_on_zero_reports_port_and_stop_releases_it():
    server = HTTP.create_server()
    server.delegate = AsyncHello()
    events = []
    server.started(lambda: events.append("started")).stopped(lambda: events.append("stopped"))
    server.listen(on=0, address="127.0.0.1")
    port = server.port
    assert port and server.state is ServerState.STARTED
    server.stop()
    assert server.state is ServerState.STOPPED
    assert events == ["started", "stopped"]
    probe = socket.socket()
    probe.bind(("127.0.0.1", port))  # the port is free again
    probe.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_stop_closes_open_connections(serve):
    server = serve(AsyncHello())
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        ResponseReader(sock).read_one()
        server.stop()
        assert wait_closed(sock) == b""
    assert server.connection_count == 0


def test_failed_callback_and_exception_on_bind_error(serve):
    first = serve(AsyncHello())
    second = HTTP.create_server()
    errors = []
    second.failed(errors.append)
    with pytest.raises(OSError):
        second.listen(on=first.port, address="127.0.0.1")
    assert second.state is ServerState.FAILED
    assert len(errors) == 1 and isinstance(errors[0], OSError)


def test_callbacks_registered_after_start_run_at_once(serve):
    server = serve(AsyncHello())
    events = []
    assert server.started(lambda: events.append("late")) is server
    assert events == ["late"]


def test_wait_for_listeners_returns_when_all_stopped():
    server = HTTP.create_server()
    server.delegate = AsyncHello()
    server.listen(on=0, address="127.0.0.1")
    assert ListenerGroup.wait_for_listeners(timeout=0.2) is False
    threading.Timer(0.2, server.stop).start()
    assert ListenerGroup.wait_for_listeners(timeout=10) is True


def test_listen_async_on_a_loop_the_user_runs():
    async def main():
        server = HTTP.create_server()
        server.delegate = AsyncHello()
        await server.listen_async(on=0, address="127.0.0.1")
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /own HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        await server.stop_async()
        return data

    data = asyncio.run(main())
    assert data.endswith(b"Hello GET /own")


def test_keep_alive_state_limited_closes_after_n_requests(serve):
    from kitura.net import KeepAliveState

    server = serve(AsyncHello(), keep_alive_state=KeepAliveState.limited(max_requests=2))
    with connect(server) as sock:
        sock.sendall(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\n\r\n")
        data = wait_closed(sock)
    assert data.count(b"HTTP/1.1 200") == 2 and data.count(b"Connection: close") == 1


def test_no_delegate_gives_404(serve):
    server = serve(None)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        assert ResponseReader(sock).read_one().status == 404


class _StreamThenWait(ServerDelegate):
    """/stream: the head and a first chunk go out at once, the end waits for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def handle(self, request, response):
        if request.url != b"/stream":
            response.end("other")
            return
        response.write(from_=b"part")

        def finish():
            self.release.wait(5)
            response.end("done")

        threading.Thread(target=finish).start()


def _start_graceful_stop(server: HTTPServer) -> threading.Thread:
    stopper = threading.Thread(target=server.stop, kwargs={"graceful": True})
    stopper.start()
    deadline = time.monotonic() + 5
    while server._server is not None:  # the drain has begun once the listener is gone
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)
    return stopper


def test_a_draining_keep_alive_connection_reads_no_new_request(serve):
    """The head of the answer in progress went out keep-alive before the drain: the
    connection still reads nothing more, and closes once that answer is done."""
    delegate = _StreamThenWait()
    server = serve(delegate)
    with connect(server) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        head = b""
        while b"part" not in head:
            head += sock.recv(65536)
        stopper = _start_graceful_stop(server)
        sock.sendall(b"GET /other HTTP/1.1\r\nHost: h\r\n\r\n")  # after the drain began
        delegate.release.set()
        rest = wait_closed(sock)
    stopper.join(10)
    assert b"done" in rest and b"other" not in rest


def test_requests_queued_when_the_drain_begins_are_answered_with_connection_close(serve):
    delegate = _StreamThenWait()
    server = serve(delegate)
    with connect(server) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\nGET /other HTTP/1.1\r\nHost: h\r\n\r\n")
        head = b""
        while b"part" not in head:
            head += sock.recv(65536)
        stopper = _start_graceful_stop(server)
        delegate.release.set()
        rest = wait_closed(sock)
    stopper.join(10)
    assert b"done" in rest
    if b"other" in rest:  # answered: then it said so
        second = rest[rest.index(b"HTTP/1.1", 1):].lower()
        assert b"connection: close" in second
