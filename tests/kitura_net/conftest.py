"""The port of KituraNet's test harness (``KituraNetTest`` in Tests/KituraNetTests/KituraNIOTest.swift).

``performServerTest`` starts a server (TLS by default, as Kitura's), on a Unix socket
and then on a TCP port, and runs the test's tasks one after the other (Swift runs them
on a serial queue); each task gets an ``Expectation`` that must be fulfilled, as
``waitForExpectations`` checks. ``performRequest`` makes the request with our
``HTTP.request`` and the same options the Swift harness passes. The servers bind
127.0.0.1 on a free port; the client asks for ``localhost`` as Kitura's does.
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import tempfile
from typing import Callable, Iterator, Optional

import pytest
import trustme

from kitura.net import HTTP, ClientRequest, HTTPServer, ServerOptions, SSLConfiguration


def _content_types_string() -> str:
    """A JSON map of content types to file extensions, ~33 KB like Kitura's ``contentTypesString``."""
    types: dict[str, list[str]] = {}
    for ext, ctype in sorted(mimetypes.types_map.items()):
        types.setdefault(ctype, []).append(ext.lstrip("."))
    n = 0
    while len(json.dumps(types, separators=(",", ":"))) < 33000:
        types[f"application/vnd.kitura.test-{n}+json"] = [f"kt{n}"]
        n += 1
    return json.dumps(types, separators=(",", ":"))


CONTENT_TYPES_STRING = _content_types_string()


class Expectation:
    """XCTestExpectation: ``fulfill()`` it; the harness checks it was."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.fulfilled = 0

    def fulfill(self) -> None:
        self.fulfilled += 1


@pytest.fixture(scope="session")
def kitura_ssl_config(tmp_path_factory) -> SSLConfiguration:
    """A server certificate for localhost and 127.0.0.1 (Kitura's tests use a self-signed one)."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    folder = tmp_path_factory.mktemp("kitura-net-tls")
    cert_file, key_file = folder / "certificate.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    return SSLConfiguration(certificate_file=str(cert_file), key_file=str(key_file))


class KituraNetTest:
    use_ssl_default = True

    def __init__(self, ssl_config: SSLConfiguration) -> None:
        self.ssl_config = ssl_config
        self.use_ssl = self.use_ssl_default
        self.port = 0
        self.unix_domain_socket_path: Optional[str] = None
        # AF_UNIX paths are short: a fresh folder under /tmp, as Kitura's doSetUp
        self._socket_dir = tempfile.mkdtemp(prefix="kn", dir="/tmp")
        self.socket_file_path = os.path.join(self._socket_dir, "s")
        self.servers: list[HTTPServer] = []

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        shutil.rmtree(self._socket_dir, ignore_errors=True)

    def start_server(self, delegate, unix_domain_socket_path: Optional[str] = None, port: int = 0,
                     use_ssl: bool = True, allow_port_reuse: bool = False,
                     server_config: Optional[ServerOptions] = None) -> HTTPServer:
        server = HTTP.create_server()
        server.options = server_config or ServerOptions()
        server.delegate = delegate
        if use_ssl:
            server.ssl_config = self.ssl_config
        if unix_domain_socket_path is not None:
            server.listen(unix_domain_socket_path=unix_domain_socket_path)
        else:
            server.allow_port_reuse = allow_port_reuse
            server.listen(on=port, address="127.0.0.1")
        self.servers.append(server)
        return server

    def start_ephemeral_server(self, delegate, use_ssl: bool = True, allow_port_reuse: bool = False,
                               server_config: Optional[ServerOptions] = None) -> tuple[HTTPServer, int]:
        server = self.start_server(delegate, port=0, use_ssl=use_ssl, allow_port_reuse=allow_port_reuse,
                                   server_config=server_config)
        assert server.port, "Ephemeral server port not set (was zero)"
        return server, server.port

    def perform_server_test(self, delegate, *async_tasks: Callable[[Expectation], None],
                            server_config: Optional[ServerOptions] = None, socket_type: str = "both",
                            use_ssl: bool = True, allow_port_reuse: bool = False) -> None:
        if socket_type != "tcp":
            self.use_ssl = use_ssl
            self.unix_domain_socket_path = self.socket_file_path
            server = self.start_server(delegate, unix_domain_socket_path=self.socket_file_path,
                                       use_ssl=use_ssl, server_config=server_config)
            try:
                self._run(async_tasks)
            finally:
                server.stop()
        if socket_type != "unix":
            self.use_ssl = use_ssl
            server, self.port = self.start_ephemeral_server(delegate, use_ssl=use_ssl,
                                                            allow_port_reuse=allow_port_reuse,
                                                            server_config=server_config)
            self.unix_domain_socket_path = None
            try:
                self._run(async_tasks)
            finally:
                server.stop()

    @staticmethod
    def _run(async_tasks) -> None:
        for index, task in enumerate(async_tasks):
            expectation = Expectation(f"task {index}")
            task(expectation)
            assert expectation.fulfilled, f"expectation of {expectation.description} was not fulfilled"

    def perform_request(self, method: str, path: str, callback, hostname: str = "localhost",
                        close: bool = True, headers: Optional[dict[str, str]] = None,
                        request_modifier: Optional[Callable[[ClientRequest], None]] = None) -> None:
        all_headers = dict(headers or {})
        all_headers["Content-Type"] = "text/plain"
        schema = "https" if self.use_ssl else "http"
        options = [ClientRequest.Options.method(method), ClientRequest.Options.schema(schema),
                   ClientRequest.Options.hostname(hostname), ClientRequest.Options.path(path),
                   ClientRequest.Options.headers(all_headers)]
        if self.use_ssl:
            options.append(ClientRequest.Options.disable_ssl_verification)
        if self.unix_domain_socket_path is not None:
            req = HTTP.request(options, unix_domain_socket_path=self.unix_domain_socket_path, callback=callback)
        else:
            options.append(ClientRequest.Options.port(self.port))
            req = HTTP.request(options, callback=callback)
        if request_modifier is not None:
            request_modifier(req)
        req.end(close=close)


@pytest.fixture
def kitura_net_test(kitura_ssl_config) -> Iterator[KituraNetTest]:
    test = KituraNetTest(kitura_ssl_config)
    try:
        yield test
    finally:
        test.close()
