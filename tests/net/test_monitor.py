"""``Monitor.delegate``: KituraNet's started/finished events, for every kind of delegate."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from kitura.net import HTTPStatusCode, Monitor, ServerDelegate, ServerMonitor
from kitura.router import Router

from .conftest import ResponseReader, connect


class Recorder(ServerMonitor):
    """Records (event, path, status, request, response) and wakes a waiter per event."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.changed = threading.Condition()

    def _record(self, event, request, response):
        with self.changed:
            self.events.append((event, request.url.decode(), response.status, request, response))
            self.changed.notify_all()

    def started(self, request, response):
        self._record("started", request, response)

    def finished(self, request, response):
        self._record("finished", request, response)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.events) >= count, timeout), self.events
            return list(self.events)


@pytest.fixture
def recorder():
    monitor = Recorder()
    Monitor.delegate = monitor
    yield monitor
    Monitor.delegate = None


class SyncDelegate(ServerDelegate):
    def handle(self, request, response):
        response.status_code = HTTPStatusCode.CREATED
        response.end(f"sync {request.url.decode()}")


class AsyncDelegate(ServerDelegate):
    async def handle(self, request, response):
        await asyncio.sleep(0)
        response.status_code = HTTPStatusCode.CREATED
        response.end(f"async {request.url.decode()}")


def _router() -> Router:
    router = Router()

    def created(request, response, next):
        response.status(HTTPStatusCode.CREATED).send("router")
        next()

    router.get("/:n", created)
    return router


@pytest.mark.parametrize("make_delegate", [SyncDelegate, AsyncDelegate, _router], ids=["def", "async-def", "router"])
def test_started_then_finished_for_every_request_in_order(serve, recorder, make_delegate):
    server = serve(make_delegate())
    with connect(server) as sock:
        sock.sendall(b"".join(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % n for n in range(3)))
        responses = ResponseReader(sock).read(3)
    assert [r.status for r in responses] == [201] * 3
    events = recorder.wait_for(6)
    # Pipelined requests are answered one at a time: each finishes before the next starts.
    assert [(e[0], e[1]) for e in events] == [(kind, f"/{n}") for n in range(3) for kind in ("started", "finished")]
    for started, finished in zip(events[::2], events[1::2]):
        assert started[3] is finished[3] and started[4] is finished[4]  # the same request and response
        assert started[2] == 200 and finished[2] == 201  # finished sees the answer as sent


def test_the_404_of_a_server_without_delegate_and_a_failed_handler_are_monitored(serve, recorder):
    class Failing(ServerDelegate):
        def handle(self, request, response):
            raise ValueError("boom")

    for delegate, status in ((None, 404), (Failing(), 500)):
        server = serve(delegate)
        with connect(server) as sock:
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
            assert ResponseReader(sock).read_one().status == status
    events = recorder.wait_for(4)
    assert [(e[0], e[2]) for e in events] == [("started", 200), ("finished", 404), ("started", 200), ("finished", 500)]


def test_a_failing_monitor_is_logged_and_the_request_still_answered(serve, caplog):
    finished = threading.Event()

    class Failing(ServerMonitor):
        def started(self, request, response):
            raise RuntimeError("started broke")

        async def finished(self, request, response):  # a monitor's events may be coroutines
            await asyncio.sleep(0)
            finished.set()
            raise RuntimeError("finished broke")

    Monitor.delegate = Failing()
    try:
        server = serve(SyncDelegate())
        with caplog.at_level(logging.ERROR, logger="kitura.net"), connect(server) as sock:
            sock.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
            assert ResponseReader(sock).read_one().body == b"sync /a"
            assert finished.wait(5)
            deadline = time.monotonic() + 5
            while "finished broke" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        Monitor.delegate = None
    assert "started broke" in caplog.text and "finished broke" in caplog.text


def test_no_events_once_the_monitor_is_unset(serve, recorder):
    server = serve(SyncDelegate())
    Monitor.delegate = None
    with connect(server) as sock:
        sock.sendall(b"GET /quiet HTTP/1.1\r\nHost: h\r\n\r\n")
        assert ResponseReader(sock).read_one().status == 201
    assert recorder.events == []
