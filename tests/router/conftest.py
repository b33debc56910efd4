"""Fixtures: a Router served on 127.0.0.1 on a free port, and small HTTP clients."""
from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from email.message import Message
from typing import Callable, Iterator

import pytest

from kitura.net import HTTP, HTTPServer
from kitura.router import Router

TIMEOUT = 10


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Client:
    """One request per connection, every wait bounded."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, resp.headers, data)
        finally:
            conn.close()

    def get(self, path: str, **kw: object) -> Reply:
        return self.request("GET", path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, body: bytes | str | None = None, **kw: object) -> Reply:
        return self.request("POST", path, body=body, **kw)  # type: ignore[arg-type]

    def raw(self, data: bytes) -> bytes:
        """Send raw bytes (e.g. a path no client library would send); return the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)


@pytest.fixture
def serve() -> Iterator[Callable[[Router], Client]]:
    servers: list[HTTPServer] = []

    def start(router: Router) -> Client:
        server = HTTP.create_server()
        server.delegate = router
        server.listen(on=0, address="127.0.0.1")
        servers.append(server)
        assert server.port
        return Client(server.port)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True, params=["auto", "loop", "worker"])
def walk_mode(request, monkeypatch):
    """Every test runs three times: with the walk the Router picks, and with each walk forced
    (the event-loop coroutine, and the worker-thread generator): see kitura/router/walker.py."""
    if request.param != "auto":
        on_loop = request.param == "loop"
        monkeypatch.setattr(Router, "_runs_on_loop", lambda self: on_loop)
    return request.param
