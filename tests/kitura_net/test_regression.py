"""Port of KituraNet's RegressionTests (Tests/KituraNetTests/RegressionTests.swift)."""

import asyncio
import socket
import ssl
import threading

import pytest

from kitura.net import HTTP, HTTPServer, HTTPStatusCode

from tests.net.conftest import ResponseReader

from .test_client_e2e import TestServerDelegate


def _connected_port(sock: socket.socket) -> int:
    return sock.getpeername()[1]


def test_issue1143(kitura_net_test):
    # A client that connects to a TLS port and never handshakes must not keep others out.
    server, server_port = kitura_net_test.start_ephemeral_server(TestServerDelegate(), use_ssl=True)
    bad_client = socket.create_connection(("localhost", server_port), timeout=10)
    try:
        assert _connected_port(bad_client) == server_port, "BadClient not connected to expected server port"
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with context.wrap_socket(socket.create_connection(("localhost", server_port), timeout=10),
                                 server_hostname="localhost") as good_client:
            assert _connected_port(good_client) == server_port, "GoodClient not connected to expected server port"
        responses = []
        HTTP.get(f"https://localhost:{server_port}/", responses.append, disable_ssl_verification=True)
        assert responses[0].status_code == HTTPStatusCode.OK
    finally:
        bad_client.close()


def test_servers_colliding_on_port(kitura_net_test):
    server, server_port = kitura_net_test.start_ephemeral_server(TestServerDelegate(), use_ssl=False)
    with pytest.raises(OSError):  # Swift: an IOError
        kitura_net_test.start_server(None, port=server_port, use_ssl=False)
        pytest.fail("Server unexpectedly succeeded in listening on a port already in use")


def test_servers_sharing_port(kitura_net_test):
    server = kitura_net_test.start_server(None, port=0, use_ssl=False, allow_port_reuse=True)
    server_port = server.port
    assert server_port, "Ephemeral server port not set"
    sharing_server = kitura_net_test.start_server(None, port=server_port, use_ssl=False, allow_port_reuse=True)
    sharing_server.stop()


def _bad_request_closes(sock: socket.socket, count: int) -> None:
    responses = ResponseReader(sock).read(count, timeout=10)
    last = responses[-1]
    assert last.status == HTTPStatusCode.BAD_REQUEST
    assert (last.header("Connection") or "").lower() == "close"


def test_bad_request(kitura_net_test):
    server = kitura_net_test.start_server(None, port=0, use_ssl=False)
    assert server.port, "Ephemeral server port not set"
    with socket.create_connection(("localhost", server.port), timeout=10) as sock:
        sock.sendall(b"GET #/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _bad_request_closes(sock, 1)


def test_bad_request_following_good_request(kitura_net_test):
    server = kitura_net_test.start_server(TestServerDelegate(), port=0, use_ssl=False)
    assert server.port, "Ephemeral server port not set"
    with socket.create_connection(("localhost", server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Keep-Alive\r\n\r\n")
        assert ResponseReader(sock).read_one(timeout=10).status == HTTPStatusCode.OK
        sock.sendall(b"GET #/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _bad_request_closes(sock, 1)


class _OwnLoop:
    """An asyncio loop the test runs itself: Python's counterpart of a custom EventLoopGroup."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_custom_event_loop_group():
    # Swift hands two servers one EventLoopGroup with setEventLoopGroup; here both serve
    # on one loop the test runs (listen_async), on free ports rather than 8091/8092.
    own = _OwnLoop()
    servers = [HTTPServer(), HTTPServer()]
    try:
        for server in servers:
            server.delegate = TestServerDelegate()
            own.run(server.listen_async(0, "127.0.0.1"))
            with socket.create_connection(("localhost", server.port), timeout=10) as good_client:
                assert _connected_port(good_client) == server.port, "GoodClient not connected to expected server port"
            responses = []
            HTTP.get(f"http://localhost:{server.port}/", responses.append)
            assert responses[0].status_code == HTTPStatusCode.OK
    finally:
        for server in servers:
            if server.port:
                own.run(server.stop_async())
        own.close()


def test_fail_event_loop_group_reinitialization():
    # Swift: setEventLoopGroup on a listening server throws eventLoopGroupAlreadyInitialized.
    # Python's counterpart: a listening server cannot be moved to another loop; it says so.
    server = HTTP.create_server()
    server.listen(on=0, address="127.0.0.1")
    own = _OwnLoop()
    try:
        with pytest.raises(RuntimeError, match="already listening"):
            own.run(server.listen_async(0, "127.0.0.1"))
    finally:
        server.stop()
        own.close()
