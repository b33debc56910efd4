"""TLS with real certificates made by trustme."""

from __future__ import annotations

import socket
import ssl

import pytest
import trustme

from kitura.net import ServerDelegate, SSLConfiguration

from .conftest import ResponseReader


class Scheme(ServerDelegate):
    async def handle(self, request, response):
        response.end(request.url_url.scheme)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls_config(ca, tmp_path):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    return SSLConfiguration(certificate_file=str(cert_file), key_file=str(key_file))


def test_https_request_with_verified_certificate(serve, ca, tls_config):
    server = serve(Scheme(), ssl_config=tls_config)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * 2)
            responses = ResponseReader(sock).read(2)
    assert [r.body for r in responses] == [b"https", b"https"]


def test_failed_handshake_calls_client_connection_failed(serve, tls_config):
    import threading

    failures = []
    event = threading.Event()
    server = serve(Scheme(), ssl_config=tls_config)
    server.client_connection_failed(lambda exc: (failures.append(exc), event.set()))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: plain-text-to-a-tls-port\r\n\r\n")
        try:
            sock.recv(100)
        except OSError:
            pass
    assert event.wait(5)
    assert failures and isinstance(failures[0], Exception)
    # the server still serves TLS clients afterwards, and the slot was freed
    assert server.connection_count == 0


def test_ssl_configuration_needs_a_certificate():
    with pytest.raises(ValueError, match="certificate_file"):
        SSLConfiguration().ssl_context()
