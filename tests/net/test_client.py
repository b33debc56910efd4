"""KituraNet's HTTP client (``HTTP.request``, ``ClientRequest``, ``ClientResponse``).

Against our own server (a delegate and a Router) and against one we did not write
(the standard library's ``http.server`` in a thread).
"""

from __future__ import annotations

import asyncio
import http.server
import os
import resource
import socket
import ssl
import threading
from typing import Iterator

import pytest
import trustme

from kitura.net import (HTTP, ClientRequest, ClientRequestError, ClientResponse, ClientTimeoutError,
                        HTTPStatusCode, ServerDelegate, SSLConfiguration)
from kitura.net.client_pool import POOL
from kitura.router import Router


class Echo(ServerDelegate):
    def handle(self, request, response):
        body = request.read_string() or ""
        response.headers["X-Method"] = request.method
        response.headers["X-Transfer-Encoding"] = (request.headers["Transfer-Encoding"] or ["-"])[0]
        response.write(from_=f"{request.method} {request.url.decode()} {body}")
        response.end()


# --- a server we did not write --------------------------------------------------------
class _StdlibHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    client_ports: list[int] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802
        type(self).client_ports.append(self.client_address[1])
        if self.path.startswith("/redirect/"):
            n = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/redirect/{n - 1}" if n > 1 else "/done")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/see-other":
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(303)
            self.send_header("Location", "/done")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"chunked ", b"body"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"read until the server closes")
            self.close_connection = True
        elif self.path == "/slow":
            self.server.release.wait(10)  # type: ignore[attr-defined]
            self._reply(200, b"slow")
        else:
            self._reply(200, f"GET {self.path}".encode())

    def do_POST(self):  # noqa: N802
        if self.path == "/see-other":
            self.do_GET()
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self._reply(200, f"POST {self.path} {body.decode()}".encode())

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def stdlib_server() -> Iterator[http.server.ThreadingHTTPServer]:
    _StdlibHandler.client_ports = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StdlibHandler)
    server.daemon_threads = True
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.release.set()  # type: ignore[attr-defined]
    POOL.clear()  # the idle keep-alive connections to it
    server.shutdown()
    server.server_close()
    thread.join(10)


def _url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_get_from_stdlib_server_runs_the_callback_before_returning(stdlib_server):
    responses: list[ClientResponse] = []
    request = HTTP.get(_url(stdlib_server, "/hello?x=1"), responses.append)
    assert isinstance(request, ClientRequest)
    assert len(responses) == 1
    response = responses[0]
    assert response.status_code == HTTPStatusCode.OK and response.http_status_code == HTTPStatusCode.OK
    assert response.status == 200
    assert response.headers["content-length"] == ["14"]
    assert response.read_string() == "GET /hello?x=1"
    assert response.read_string() is None  # used up, as Kitura's


def test_keep_alive_reuses_the_connection(stdlib_server):
    for _ in range(3):
        HTTP.get(_url(stdlib_server, "/again"), lambda r: None)
    ports = _StdlibHandler.client_ports
    assert len(ports) == 3 and len(set(ports)) == 1


def test_close_option_does_not_keep_the_connection(stdlib_server):
    for _ in range(2):
        HTTP.request(_url(stdlib_server, "/again"), lambda r: None).end(close=True)
    assert len(set(_StdlibHandler.client_ports)) == 2


def test_a_connection_the_server_closed_is_not_reused(serve):
    server = serve(Echo())
    url = f"http://127.0.0.1:{server.port}/x"
    HTTP.get(url, lambda r: None)
    assert POOL.idle_count() >= 1
    server.stop()  # closes the idle keep-alive connection
    server.listen(on=server.port, address="127.0.0.1")
    responses = []
    HTTP.get(url, responses.append)
    assert responses[0].read_string() == "GET /x "


def test_chunked_and_close_delimited_bodies(stdlib_server):
    responses = []
    HTTP.get(_url(stdlib_server, "/chunked"), responses.append)
    HTTP.get(_url(stdlib_server, "/until-close"), responses.append)
    assert [r.read_string() for r in responses] == ["chunked body", "read until the server closes"]


def test_chunked_request_body_to_our_server(serve):
    server = serve(Echo())
    responses = []
    request = HTTP.request(f"http://127.0.0.1:{server.port}/up", responses.append, method="POST",
                           headers={"Transfer-Encoding": "chunked"})
    request.write(from_="part one, ")
    request.end(b"part two")
    assert responses[0].headers["X-Transfer-Encoding"] == ["chunked"]
    assert responses[0].read_string() == "POST /up part one, part two"


def test_post_with_content_length_to_stdlib_server(stdlib_server):
    responses = []
    request = HTTP.request(_url(stdlib_server, "/form"), responses.append, method="post")
    request.write(from_=b"a=1")
    assert request.headers["Content-Length"] == "3"  # set eagerly, as Kitura's write
    request.end()
    assert responses[0].read_string() == "POST /form a=1"


def test_read_into_appends_and_counts(serve):
    server = serve(Echo())
    responses = []
    HTTP.get(f"http://127.0.0.1:{server.port}/abc", responses.append)
    data = bytearray(b">")
    assert responses[0].read(into=data) == len("GET /abc ")
    assert data == b">GET /abc "
    assert responses[0].read_all_data(into=data) == 0


def test_redirects_are_followed_up_to_max_redirects(stdlib_server):
    responses = []
    HTTP.get(_url(stdlib_server, "/redirect/3"), responses.append)
    assert responses[-1].status_code == HTTPStatusCode.OK
    assert responses[-1].read_string() == "GET /done"
    HTTP.get(_url(stdlib_server, "/redirect/3"), responses.append, max_redirects=2)
    assert responses[-1].status_code == HTTPStatusCode.MOVED_TEMPORARILY
    assert responses[-1].headers["Location"] == ["/done"]  # /redirect/3 -> 2 -> 1, then no further


def test_see_other_after_post_becomes_get(stdlib_server):
    responses = []
    request = HTTP.request(_url(stdlib_server, "/see-other"), responses.append, method="POST")
    request.end("body")
    assert responses[0].read_string() == "GET /done"


def test_temporary_redirect_keeps_method_and_body(serve):
    class Redirecting(ServerDelegate):
        def handle(self, request, response):
            if request.url == b"/old":
                response.status_code = HTTPStatusCode.TEMPORARY_REDIRECT
                response.headers["Location"] = f"http://localhost:{request.url_url.port}/new"
                response.end()
            else:
                Echo().handle(request, response)

    server = serve(Redirecting())
    responses = []
    HTTP.request(f"http://127.0.0.1:{server.port}/old", responses.append, method="PUT").end("kept")
    assert responses[0].read_string() == "PUT /new kept"


def test_router_served_by_our_server(serve):
    router = Router()

    @router.get("/hello/:name")
    def hello(request, response, next):
        response.send(f"Hello, {request.parameters['name']}")
        next()

    server = serve(router)
    responses = []
    options = [ClientRequest.Options.method("GET"), ClientRequest.Options.hostname("localhost"),
               ClientRequest.Options.port(server.port), ClientRequest.Options.path("/hello/Kitura")]
    HTTP.request(options, responses.append).end()
    HTTP.request(hostname="localhost", port=server.port, path="/nothing/here", callback=responses.append).end()
    assert responses[0].read_string() == "Hello, Kitura"
    assert responses[1].status_code == HTTPStatusCode.NOT_FOUND


def test_refused_connection_gives_the_callback_none_and_says_why():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        responses = []
        request = HTTP.request(f"http://127.0.0.1:{port}/", responses.append)
        request.end()
    assert responses == [None]
    assert isinstance(request.error, ClientRequestError)
    assert "refused" in str(request.error).lower()


def test_timeout_gives_a_clear_error():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts, never answers
        responses = []
        request = HTTP.request(f"http://127.0.0.1:{listener.getsockname()[1]}/", responses.append, timeout=0.3)
        request.end()
    assert responses == [None]
    assert isinstance(request.error, ClientTimeoutError) and isinstance(request.error, TimeoutError)
    assert "0.3 s" in str(request.error) and "timeout" in str(request.error)


# --- TLS ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(serve, ca, tmp_path):
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return serve(Echo(), ssl_config=SSLConfiguration(certificate_file=str(cert_file), key_file=str(key_file)))


def test_tls_with_a_trusted_certificate(tls_server, ca):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    responses = []
    for _ in range(2):
        HTTP.get(f"https://localhost:{tls_server.port}/secure", responses.append, ssl_context=context)
    assert [r.read_string() for r in responses] == ["GET /secure "] * 2
    assert tls_server.connection_count == 1  # the second request reused the TLS connection


def test_tls_refuses_an_untrusted_certificate(tls_server):
    responses = []
    request = HTTP.get(f"https://localhost:{tls_server.port}/secure", responses.append)
    assert responses == [None]
    assert "certificate" in str(request.error)


def test_tls_hostname_is_checked(tls_server, ca):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    responses = []
    # the certificate names localhost and 127.0.0.1, not 127.0.0.2
    request = HTTP.get(f"https://127.0.0.2:{tls_server.port}/", responses.append, ssl_context=context)
    assert responses == [None] and request.error is not None


def test_disable_ssl_verification(tls_server):
    responses = []
    options = [ClientRequest.Options.schema("https"), ClientRequest.Options.hostname("localhost"),
               ClientRequest.Options.port(tls_server.port), ClientRequest.Options.disable_ssl_verification]
    HTTP.request(options, responses.append).end()
    assert responses[0].read_string() == "GET / "


# --- async ----------------------------------------------------------------------------
def test_async_handler_awaits_the_client_without_blocking_the_loop(serve, stdlib_server):
    upstream = _url(stdlib_server, "/slow")

    class Proxy(ServerDelegate):
        async def handle(self, request, response):
            if request.url == b"/fast":
                response.end("fast")
                return
            callbacks = []
            upstream_response = await HTTP.request(upstream, callbacks.append).end_async()
            assert callbacks == [upstream_response]  # the callback ran, on the loop
            response.end("proxied " + (upstream_response.read_string() or ""))

    server = serve(Proxy())
    results: dict[str, str] = {}

    def fetch(path: str, timeout: float = 10) -> None:
        HTTP.get(f"http://127.0.0.1:{server.port}{path}",
                 lambda r: results.__setitem__(path, r and r.read_string()), timeout=timeout)

    slow = threading.Thread(target=fetch, args=("/slow",))
    slow.start()
    # The slow handler waits on the upstream, which answers only once released; the loop
    # must still serve /fast meanwhile (a blocking client would deadlock here until timeout).
    fetch("/fast", timeout=3)
    assert results == {"/fast": "fast"}
    stdlib_server.release.set()
    slow.join(10)
    assert results["/slow"] == "proxied slow"


def test_end_async_raises_where_the_callback_gets_none():
    async def main():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            request = HTTP.request(f"http://127.0.0.1:{sock.getsockname()[1]}/")
            with pytest.raises(ClientRequestError):
                await request.end_async()

    asyncio.run(main())


def test_get_async(stdlib_server):
    async def main():
        return await HTTP.get_async(_url(stdlib_server, "/a"))

    assert asyncio.run(main()).read_string() == "GET /a"


def test_url_parts_cannot_be_set_after_creation():
    request = HTTP.request("http://localhost:8080/x")
    with pytest.raises(ValueError, match="URL"):
        request.set(ClientRequest.Options.hostname("elsewhere"))
    with pytest.raises(TypeError, match="unknown ClientRequest option"):
        HTTP.request("http://localhost/", maximum_redirect=3)


def test_end_on_a_running_loop_warns(stdlib_server, caplog):
    async def main():
        responses = []
        HTTP.get(_url(stdlib_server, "/blocking"), responses.append)
        return responses

    with caplog.at_level("WARNING", logger="kitura.net.client"):
        responses = asyncio.run(main())
    assert responses[0].read_string() == "GET /blocking"
    assert "end_async" in caplog.text


def test_ipv6_literal_host():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = HTTP.create_server()
    server.delegate = Echo()
    try:
        server.listen(on=0, address="::1")
    except OSError:
        pytest.skip("::1 is not available here")
    try:
        responses = []
        HTTP.get(f"http://[::1]:{server.port}/six", responses.append)
        assert responses[0].read_string() == "GET /six "
    finally:
        server.stop()


# --- the KituraTest harness of Kitura's generated projects, ported line for line ------
def test_kitura_test_harness_ports_literally():
    from kitura import Kitura

    router = Router()

    @router.post("/echo")
    def echo(request, response, next):
        response.send(f"{request.headers['Content-Type']}: {request.read_string()}")
        next()

    server = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=router)
    Kitura.start()
    port = server.port
    fulfilled = []

    def perform_request(method, path, expectation, headers=None, request_modifier=None, callback=None):
        all_headers = {}
        if headers is not None:
            for header_name, header_value in headers.items():
                all_headers[header_name] = header_value
        if all_headers.get("Content-Type") is None:
            all_headers["Content-Type"] = "text/plain"
        options = [ClientRequest.Options.method(method), ClientRequest.Options.hostname("localhost"),
                   ClientRequest.Options.port(port), ClientRequest.Options.path(path),
                   ClientRequest.Options.headers(all_headers)]

        def on_response(response):
            if response is None:
                expectation.append("response object was nil")
                return
            callback(response)

        req = HTTP.request(options, on_response)
        if request_modifier is not None:
            request_modifier(req)
        req.end()

    try:
        def check(response):
            assert response.status_code == HTTPStatusCode.OK
            data = bytearray()
            count = response.read_all_data(into=data)
            assert data.decode() == "text/plain: ported" and count == len(data)
            fulfilled.append(True)

        perform_request("post", "/echo", fulfilled, request_modifier=lambda req: req.write(from_="ported"),
                        callback=check)
        assert fulfilled == [True]  # the callback ran before req.end() returned
    finally:
        Kitura.stop()


# --- a keep-alive connection the server drops after reading a request ------------------
class _DropsSecondRequest:
    """Raw HTTP/1.1 server: on each connection, answers the first request and, if the
    connection's second request is a ``drop_method`` one, reads it and closes without an answer.

    ``requests`` records every request head's first line with its connection number.
    """

    def __init__(self, drop_method: str) -> None:
        self.drop_method = drop_method
        self.requests: list[tuple[int, str]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for number in range(2):
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.settimeout(5)
            with conn, conn.makefile("rb") as reader:  # both closed: the socket's fd is shut then
                try:
                    for index in range(2):
                        line = reader.readline().decode().strip()
                        if not line:
                            break
                        length = 0
                        while (header := reader.readline()) not in (b"\r\n", b""):
                            name, _, value = header.decode().partition(":")
                            if name.lower() == "content-length":
                                length = int(value)
                        reader.read(length)
                        self.requests.append((number, line))
                        if index == 1 and line.startswith(self.drop_method + " "):
                            break  # read it whole, then close without an answer
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                except OSError:
                    pass

    def close(self) -> None:
        POOL.clear()  # ends a kept-alive connection the thread may be reading
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes a waiting accept()
        except OSError:
            pass
        self.listener.close()
        self.thread.join(10)


def test_a_post_the_server_dropped_is_not_sent_again():
    server = _DropsSecondRequest("POST")
    try:
        url = f"http://127.0.0.1:{server.port}/orders"
        HTTP.get(url, lambda r: None)  # leaves a keep-alive connection in the pool
        responses = []
        request = HTTP.request(url, responses.append, method="POST", timeout=5)
        request.end("one order")
    finally:
        server.close()
    assert [line for _, line in server.requests] == ["GET /orders HTTP/1.1", "POST /orders HTTP/1.1"]
    assert responses == [None]
    assert isinstance(request.error, ClientRequestError)
    message = str(request.error)
    assert "POST" in message and "closed" in message and "not sent again" in message


def test_an_idempotent_request_the_server_dropped_is_retried_on_a_fresh_connection():
    server = _DropsSecondRequest("PUT")
    try:
        url = f"http://127.0.0.1:{server.port}/orders/1"
        HTTP.get(url, lambda r: None)
        responses = []
        HTTP.request(url, responses.append, method="PUT", timeout=5).end("the order")
    finally:
        server.close()
    assert server.requests == [(0, "GET /orders/1 HTTP/1.1"), (0, "PUT /orders/1 HTTP/1.1"),
                               (1, "PUT /orders/1 HTTP/1.1")]
    assert responses[0].read_string() == "ok"


def test_keep_alive_reuses_a_connection_whose_fd_is_above_1024(stdlib_server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    fillers: list[int] = [os.open(os.devnull, os.O_RDONLY)]
    try:
        while len(fillers) < wanted - 100:  # bounded: fill the fds below 1030
            fd = os.dup(fillers[0])
            fillers.append(fd)
            if fd >= 1030:
                break
        assert fillers[-1] >= 1030
        for _ in range(2):
            HTTP.get(_url(stdlib_server, "/again"), lambda r: None)
        ports = _StdlibHandler.client_ports
        assert len(ports) == 2 and len(set(ports)) == 1  # one TCP connection for both
    finally:
        POOL.clear()
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class _Sized(ServerDelegate):
    """``/length/N``: N bytes with a Content-Length; ``/chunked/N``: N bytes written in
    pieces, which go out chunked past the server's FLUSH_AT (16 KiB)."""

    def handle(self, request, response):
        kind, size = request.url.decode().strip("/").split("/")
        body = b"x" * int(size)
        if kind == "chunked":
            for start in range(0, len(body), 1000):
                response.write(from_=body[start:start + 1000])
            response.end()
        else:
            response.end(body)


@pytest.mark.parametrize("kind", ["length", "chunked"])
def test_a_response_past_max_response_size_gives_a_clear_error(serve, kind):
    server = serve(_Sized())
    base = f"http://127.0.0.1:{server.port}/{kind}"
    responses = []
    HTTP.get(f"{base}/50000", responses.append, max_response_size=50000)  # at the limit: read
    assert responses[0].read_string() == "x" * 50000
    chunked = responses[0].headers["Transfer-Encoding"] == ["chunked"]
    assert chunked == (kind == "chunked")
    request = HTTP.request(f"{base}/50001", responses.append)
    request.set(ClientRequest.Options.max_response_size(50000))
    request.end()
    assert responses[1] is None
    assert isinstance(request.error, ClientRequestError)
    assert "larger than max_response_size (50000 bytes" in str(request.error)
    HTTP.get(f"{base}/50001", responses.append, max_response_size=None)  # None: no limit
    assert len(responses[2].read_string()) == 50001


def test_the_default_max_response_size_is_100_mib():
    assert ClientRequest("http://localhost/").max_response_size == 100 * 1024 * 1024
