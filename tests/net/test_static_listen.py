"""Kitura's static ``HTTPServer.listen(on:address:delegate:)`` beside the instance ``listen``."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile

import pytest

from kitura.net import HTTP, HTTPServer, ServerDelegate, ServerState

from .conftest import ResponseReader, connect


class Hello(ServerDelegate):
    async def handle(self, request, response):
        response.end(f"hello {request.url.decode()}")


def _get(server: HTTPServer, path: bytes = b"/") -> bytes:
    with connect(server) as sock:
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: h\r\n\r\n")
        return ResponseReader(sock).read_one().body


def test_static_listen_creates_starts_and_returns_a_server():
    delegate = Hello()
    server = HTTPServer.listen(on=0, address="127.0.0.1", delegate=delegate)
    try:
        assert isinstance(server, HTTPServer) and server.state is ServerState.STARTED
        assert server.delegate is delegate and server.port and server.address == "127.0.0.1"
        assert _get(server, b"/static") == b"hello /static"
    finally:
        server.stop()


def test_instance_listen_is_unchanged_and_returns_none():
    server = HTTP.create_server()
    server.delegate = Hello()
    try:
        assert server.listen(on=0, address="127.0.0.1") is None
        assert _get(server) == b"hello /"
    finally:
        server.stop()


def test_static_listen_on_a_unix_socket_and_its_bind_error():
    with tempfile.TemporaryDirectory(prefix="kn", dir="/tmp") as folder:
        path = os.path.join(folder, "s")
        server = HTTPServer.listen(unix_domain_socket_path=path, delegate=Hello())
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(5)
                sock.connect(path)
                sock.sendall(b"GET /uds HTTP/1.1\r\nHost: h\r\n\r\n")
                assert ResponseReader(sock).read_one().body == b"hello /uds"
        finally:
            server.stop()
    first = HTTPServer.listen(on=0, address="127.0.0.1", delegate=Hello())
    try:
        with pytest.raises(OSError):  # as Swift's static listen throws
            HTTPServer.listen(on=first.port, address="127.0.0.1", delegate=Hello())
    finally:
        first.stop()


def test_static_listen_of_a_subclass_gives_that_class():
    class NamedServer(HTTPServer):
        name = "api"

    server = NamedServer.listen(on=0, address="127.0.0.1", delegate=Hello())
    try:
        assert type(server) is NamedServer and server.name == "api"
        assert _get(server) == b"hello /"
    finally:
        server.stop()


def test_static_listen_async_on_a_loop_the_user_runs():
    async def main():
        server = await HTTPServer.listen_async(on=0, address="127.0.0.1", delegate=Hello())
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /own HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        await server.stop_async()
        return data

    assert asyncio.run(main()).endswith(b"hello /own")
