"""Fixtures for WebSocket integration tests: a server on 127.0.0.1 with services on paths."""

from __future__ import annotations

import itertools
import threading
from typing import Iterator

import pytest

from kitura.net import HTTP, HTTPServer, ServerDelegate
from kitura.websocket import WebSocket, WebSocketService

_ids = itertools.count()


class Recorder(WebSocketService):
    """Echoes, and records every callback with the thread it ran on."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.connections: dict[str, object] = {}
        self.threads: set[str] = set()
        self.disconnected_event = threading.Event()

    def connected(self, connection):
        self.threads.add(threading.current_thread().name)
        self.connections[connection.id] = connection
        self.events.append(("connected", connection.id))

    def disconnected(self, connection, reason):
        self.threads.add(threading.current_thread().name)
        self.connections.pop(connection.id, None)
        self.events.append(("disconnected", connection.id, reason))
        self.disconnected_event.set()

    def received_text(self, message, from_):
        self.threads.add(threading.current_thread().name)
        self.events.append(("text", message))
        from_.send(message=message)

    def received_binary(self, message, from_):
        self.threads.add(threading.current_thread().name)
        self.events.append(("binary", message))
        from_.send(message=message)

    def reasons(self) -> list:
        return [e[2] for e in self.events if e[0] == "disconnected"]


class Hello(ServerDelegate):
    async def handle(self, request, response):
        response.end("http " + request.url.decode())


@pytest.fixture
def ws_server() -> Iterator:
    """ws_server(service, **register_kwargs) -> (server, path)"""
    servers: list[HTTPServer] = []
    paths: list[str] = []

    def start(service: WebSocketService, ssl_config=None, **kwargs) -> tuple[HTTPServer, str]:
        path = f"/ws{next(_ids)}"
        WebSocket.register(service=service, on_path=path, **kwargs)
        paths.append(path)
        if not servers:
            server = HTTP.create_server()
            server.delegate = Hello()
            server.ssl_config = ssl_config
            server.listen(on=0, address="127.0.0.1")
            servers.append(server)
        return servers[0], path

    yield start
    for server in servers:
        server.stop()
    for path in paths:
        WebSocket.unregister(path=path)
