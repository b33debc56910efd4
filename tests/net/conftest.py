"""Fixtures for the HTTP layer: a server on 127.0.0.1 and a raw-socket client."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from typing import Iterator

import httptools
import pytest

from kitura.net import HTTP, HTTPServer, ServerOptions


class ParsedResponse:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.body = b""

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


class ResponseReader:
    """Parses responses off a socket with httptools, one at a time, every wait bounded."""

    def __init__(self, sock: socket.socket, head_requests: int = 0) -> None:
        self.sock = sock
        self.done: list[ParsedResponse] = []
        self.current: ParsedResponse | None = None
        self.closed = False
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.current = ParsedResponse()

    def on_status(self, status: bytes) -> None:
        pass

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name.decode(), value.decode()))

    def on_headers_complete(self) -> None:
        self.current.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.current.body += body

    def on_message_complete(self) -> None:
        self.done.append(self.current)

    def read(self, count: int = 1, timeout: float = 5.0) -> list[ParsedResponse]:
        deadline = time.monotonic() + timeout
        while len(self.done) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"got {len(self.done)} of {count} responses")
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                self.closed = True
                try:
                    self.parser.feed_data(b"")
                except Exception:
                    pass
                if len(self.done) < count:
                    raise ConnectionError(f"closed after {len(self.done)} of {count} responses")
                break
            self.parser.feed_data(data)
        out, self.done = self.done[:count], self.done[count:]
        return out

    def read_one(self, timeout: float = 5.0) -> ParsedResponse:
        return self.read(1, timeout)[0]


def wait_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Read until the server closes the connection; returns what came."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the server did not close the connection")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.fixture
def serve() -> Iterator:
    servers: list[HTTPServer] = []

    def start(delegate, options: ServerOptions | None = None, **attrs) -> HTTPServer:
        server = HTTP.create_server()
        server.delegate = delegate
        if options is not None:
            server.options = options
        for name, value in attrs.items():
            setattr(server, name, value)
        server.listen(on=0, address="127.0.0.1")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@contextmanager
def connect(server: HTTPServer, timeout: float = 5.0) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        yield sock
    finally:
        sock.close()
