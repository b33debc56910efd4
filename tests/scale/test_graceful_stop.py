"""SIGTERM stops a server gracefully (issue 14 defect 5): the listener closes, a request
in progress finishes, WebSocket clients get 1001 Going Away, the process exits 0."""

from __future__ import annotations

import http.client
import signal
import socket
import threading

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.scale.helpers import AppProcess


@pytest.fixture
def app():
    app = AppProcess()
    try:
        yield app
    finally:
        app.close()


def test_sigterm_drains_a_single_process(app: AppProcess) -> None:
    with connect(f"ws://127.0.0.1:{app.port}/echo", open_timeout=10) as ws:
        ws.send("hi")
        assert ws.recv(timeout=10).endswith(":hi")
        answers: list[tuple[str, str | None]] = []
        slow = threading.Thread(target=lambda: answers.append(_get_with_connection_header(app, "/slow?s=1.0")))
        slow.start()
        app.wait_output("slow started")  # the request is in its handler
        app.proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 1001
    slow.join(15)
    assert answers == [("slow done", "close")]  # finished, and told not to come back on it
    assert app.wait(20) == 0
    assert "main returned" in app.wait_output("main returned")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", app.port), timeout=2).close()


def _get_with_connection_header(app: AppProcess, path: str) -> tuple[str, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    try:
        conn.request("GET", path)
        reply = conn.getresponse()
        return reply.read().decode(), reply.getheader("Connection")
    finally:
        conn.close()


def test_sigint_drains_the_same_way(app: AppProcess) -> None:
    answers: list[str] = []
    slow = threading.Thread(target=lambda: answers.append(app.get("/slow?s=0.5")))
    slow.start()
    app.wait_output("slow started")
    app.proc.send_signal(signal.SIGINT)
    slow.join(15)
    assert answers == ["slow done"]
    assert app.wait(20) == 0
