"""KituraTest and TestWebSocketService of Kitura-WebSocket-NIO's test suite, ported.

``kitura_test`` is the XCTest base class: ``register(close_reason=...)`` registers a
``TestWebSocketService`` on ``/wstester``, ``create_client(...)`` connects a
``WebSocketClient``, and the server listens on 127.0.0.1 on a free port (Kitura's
tests use 8080). Everything is stopped and unregistered after the test.

Times: Kitura's tests sleep whole seconds (a 2 s connection timeout checked after 4 s);
the port keeps the ratios at ``TIME_SCALE`` of them, so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qsl

import pytest

from kitura.net import HTTP, HTTPServer
from kitura.websocket import WebSocket, WebSocketCloseReasonCode, WebSocketConnection, WebSocketService

from .client import ContextTakeover, WebSocketClient

TIME_SCALE = 0.5

# Deviation (RFC 6455 7.1.5): a connection that ends without a Close frame has the close
# code 1006; Kitura reports noReasonCodeSent (1005) to disconnected() then.
RFC_REASON = {WebSocketCloseReasonCode.NO_REASON_CODE_SENT: WebSocketCloseReasonCode.CLOSED_ABNORMALLY}
SERVICE_PATH = "/wstester"
SERVICE_PATH_NO_SLASH = "wstester"


class TestWebSocketService(WebSocketService):
    """Kitura's TestWebSocketService: echoes, closes on "close", drops on "drop", pings on "ping".

    The Swift asserts inside the callbacks; here a failed check is recorded in ``failures``,
    which the fixture checks after each test.
    """

    __test__ = False    # not a pytest class

    def __init__(self, close_reason: WebSocketCloseReasonCode, test_server_request: bool, ping_message: Optional[str],
                 test_query_params: bool = False, connection_timeout: Optional[float] = None) -> None:
        self.close_reason = close_reason
        self.test_server_request = test_server_request
        self.ping_message = ping_message
        self.test_query_params = test_query_params
        self.connection_timeout = connection_timeout
        self.query_params: dict[str, str] = {}
        self.queue = threading.Lock()
        self.connect_client_id: list[str] = []
        self.disconnect_client_id: list[str] = []
        self.disconnect_reasons: list[WebSocketCloseReasonCode] = []
        self.failures: list[str] = []
        self.disconnected_event = threading.Event()
        # Set by a case where the port reports another reason than Kitura (a listed deviation).
        self.expected_reason: Optional[WebSocketCloseReasonCode] = None

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.failures.append(message)

    async def connected(self, connection: WebSocketConnection) -> None:
        with self.queue:
            self.connect_client_id.append(connection.id)
        if self.ping_message is not None:
            if self.ping_message:
                connection.ping(with_message=self.ping_message)
            else:
                connection.ping()
        if self.test_server_request:
            self.perform_server_request_tests(connection.request)
            await asyncio.sleep(2 * TIME_SCALE)
            self.perform_server_request_tests(connection.request)
        if self.test_query_params:
            self.query_params = dict(parse_qsl(connection.request.url_url.query))

    def perform_server_request_tests(self, request: Any) -> None:
        self.check(request.method == "GET", f"The method of the request should be GET, it was {request.method}")
        self.check(request.http_version_major == 1, "HTTP version major should be 1")
        self.check(request.http_version_minor == 1, "HTTP version minor should be 1")
        self.check(request.url_url.path.split("/")[1] == "wstester", "Path of the request should be /wstester")
        self.check(request.url == b"/wstester", f"Path of the request should be /wstester, it was {request.url!r}")
        protocol_version = request.headers["Sec-WebSocket-Version"]
        self.check(protocol_version is not None, "The Sec-WebSocket-Version header wasn't in the headers")
        self.check(protocol_version == ["13"], f"The Sec-WebSocket-Version header value should be 13: {protocol_version}")
        body_string = request.read_string()
        self.check(body_string is None, f"Read of body should have returned None, it returned {body_string!r}")
        body = bytearray()
        count = request.read(into=body)
        self.check(count == 0, f"Read of body into a bytearray should have returned 0, it returned {count}")
        count = request.read_all_data(into=body)
        self.check(count == 0, f"Read of entire body should have returned 0, it returned {count}")

    def disconnected(self, connection: WebSocketConnection, reason: WebSocketCloseReasonCode) -> None:
        with self.queue:
            self.disconnect_client_id.append(connection.id)
            self.disconnect_reasons.append(reason)
        expected = self.expected_reason or RFC_REASON.get(self.close_reason, self.close_reason)
        self.check(expected.code() == reason.code(), f"Expected close reason code of {expected} received {reason}")
        self.disconnected_event.set()

    def received_binary(self, message: bytes, from_: WebSocketConnection) -> None:
        from_.send(message=message)

    def received_text(self, message: str, from_: WebSocketConnection) -> None:
        if self.test_query_params:
            keys = ",".join(sorted(self.query_params))
            values = ",".join(sorted(self.query_params.values()))
            from_.send(message=f"{message}{keys} and {values}")
        else:
            from_.send(message=message)
        if message == "close":
            from_.close(reason=WebSocketCloseReasonCode.GOING_AWAY, description="Going away...")
        elif message == "drop":
            from_.drop(reason=WebSocketCloseReasonCode.POLICY_VIOLATION, description="Droping...")
        elif message == "ping":
            from_.ping(with_message="Hello")

    def __repr__(self) -> str:
        return f"TestWebSocketService(close_reason: {self.close_reason})"


class KituraTest:
    """The XCTest base class of the suite: a server, the service registry, clients."""

    service_path = SERVICE_PATH
    service_path_no_slash = SERVICE_PATH_NO_SLASH

    def __init__(self) -> None:
        self.server: HTTPServer | None = None
        self.services: list[TestWebSocketService] = []
        self.clients: list[WebSocketClient] = []
        self.paths: set[str] = set()

    @property
    def port(self) -> int:
        if self.server is None:
            self.server = HTTP.create_server()
            self.server.allow_port_reuse = True
            self.server.listen(on=0, address="127.0.0.1")
        return self.server.port

    def register(self, close_reason: WebSocketCloseReasonCode, on_path: str | None = None,
                 test_server_request: bool = False, ping_message: str | None = None,
                 test_query_params: bool = False, connection_timeout: float | None = None) -> TestWebSocketService:
        service = TestWebSocketService(close_reason, test_server_request, ping_message, test_query_params,
                                       connection_timeout)
        path = on_path or self.service_path
        WebSocket.register(service=service, on_path=path)
        self.services.append(service)
        self.paths.add(path)
        return service

    def register_service(self, service: TestWebSocketService, on_path: str | None = None) -> None:
        """``WebSocket.register(service:onPath:)`` of a service the test made."""
        path = on_path or self.service_path
        WebSocket.register(service=service, on_path=path)
        self.services.append(service)
        self.paths.add(path)

    def client(self, uri: str = SERVICE_PATH, request_key: str | None = None, negotiate_compression: bool = False,
               context_takeover: str = ContextTakeover.BOTH) -> WebSocketClient:
        """``WebSocketClient(host:port:uri:requestKey:...)``, not connected yet."""
        client = WebSocketClient(port=self.port, uri=uri, request_key=request_key,
                                 negotiate_compression=negotiate_compression, context_takeover=context_takeover)
        self.clients.append(client)
        return client

    def create_client(self, negotiate_compression: bool = False, uri: str = SERVICE_PATH,
                      context_takeover: str = ContextTakeover.BOTH, request_key: str | None = None) -> WebSocketClient:
        """``createClient(...)``: a connected client (upgraded: asserted)."""
        client = self.client(uri, request_key, negotiate_compression, context_takeover)
        client.connect()
        assert client.status == 101, client.response_head
        return client

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(0.01)

    def stop(self) -> None:
        for client in self.clients:
            client.disconnect()
        # The service's disconnected() checks run as the connections go.
        for service in self.services:
            self.wait_for(lambda s=service: len(s.disconnect_client_id) >= len(s.connect_client_id))
        if self.server is not None:
            self.server.stop()
        for path in self.paths:
            WebSocket.unregister(path=path)


@pytest.fixture
def kitura_test() -> Iterator[KituraTest]:
    test = KituraTest()
    try:
        yield test
    finally:
        test.stop()
    failures = [f for service in test.services for f in service.failures]
    assert not failures, failures
