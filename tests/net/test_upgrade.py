"""The upgrade hook: a factory takes the connection or rejects; other requests reach the delegate."""

from __future__ import annotations

import asyncio

import pytest

from kitura.net import ConnectionUpgrader, ServerDelegate, UpgradeRejection

from .conftest import ResponseReader, connect, wait_closed


class EchoProtocol(asyncio.Protocol):
    def __init__(self, handover):
        self.handover = handover
        self.transport = handover.transport

    def data_received(self, data):
        self.transport.write(data.upper())

    def connection_lost(self, exc):
        self.handover.release()

    def shutdown(self):
        self.transport.write(b"BYE")
        self.transport.close()


class ShoutFactory:
    name = "shout"

    def upgrade(self, handover):
        if handover.request.url == b"/reject":
            return UpgradeRejection(400, [("X-Why", "rejected")], b"no thanks")
        handover.take(EchoProtocol(handover), b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: shout\r\n\r\n")
        return None


class Hello(ServerDelegate):
    async def handle(self, request, response):
        response.end("delegate " + request.url.decode())


@pytest.fixture
def factory():
    f = ShoutFactory()
    ConnectionUpgrader.register(f)
    yield f
    ConnectionUpgrader.unregister("shout")


UPGRADE = b"GET %s HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n"


def test_factory_takes_connection_with_leftover_bytes(serve, factory):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(UPGRADE % (b"/x", b"Shout") + b"early bytes")
        sock.settimeout(5)
        data = b""
        while b"EARLY BYTES" not in data:
            data += sock.recv(1000)
        assert data.startswith(b"HTTP/1.1 101")
        assert server.connection_count == 1
        sock.sendall(b"more")
        assert sock.recv(100) == b"MORE"
        server.stop()
        assert wait_closed(sock).endswith(b"BYE")


def test_upgrade_after_pipelined_request_waits_its_turn(serve, factory):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(b"GET /first HTTP/1.1\r\nHost: h\r\n\r\n" + UPGRADE % (b"/x", b"shout") + b"abc")
        sock.settimeout(5)
        data = b""
        while b"ABC" not in data:
            data += sock.recv(1000)
        assert data.index(b"delegate /first") < data.index(b"101 Switching") < data.index(b"ABC")


def test_factory_rejection_is_answered_and_connection_closed(serve, factory):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(UPGRADE % (b"/reject", b"shout"))
        data = wait_closed(sock)
    assert data.startswith(b"HTTP/1.1 400") and b"X-Why: rejected" in data and data.endswith(b"no thanks")


def test_unknown_upgrade_token_goes_to_the_delegate(serve, factory):
    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(UPGRADE % (b"/plain", b"h2c") + b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        responses = ResponseReader(sock).read(2)
    assert [r.body for r in responses] == [b"delegate /plain", b"delegate /next"]


def test_upgraded_connection_frees_its_slot_on_close(serve, factory):
    import time

    server = serve(Hello())
    with connect(server) as sock:
        sock.sendall(UPGRADE % (b"/x", b"shout"))
        sock.settimeout(5)
        sock.recv(1000)
    deadline = time.monotonic() + 5
    while server.connection_count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.connection_count == 0


def test_upgrade_tokens_merge_repeated_fields_as_headers_do() -> None:
    from kitura.net.headers import HeadersContainer
    from kitura.net.upgrade import upgrade_tokens

    pairs = [(b"Host", b"h"), (b"Upgrade", b"h2c"), (b"upgrade", b"websocket"), (b"Upgrades", b"x")]
    assert upgrade_tokens(pairs) == "h2c, websocket"
    assert upgrade_tokens(pairs) == HeadersContainer.from_raw(pairs).first("Upgrade")
    assert upgrade_tokens([(b"Host", b"h")]) == ""
    # Blank values are kept as HeadersContainer keeps them.
    for pairs in ([(b"Upgrade", b""), (b"upgrade", b"ws")], [(b"Upgrade", b"")],
                  [(b"Upgrade", b"a"), (b"Upgrade", b"")]):
        assert upgrade_tokens(pairs) == HeadersContainer.from_raw(pairs).first("Upgrade")


def test_the_handover_carries_the_header_pairs_and_the_request_keeps_its_headers(serve):
    seen = []

    class PairsFactory(ShoutFactory):
        name = "pairs"

        def upgrade(self, handover):
            seen.append((handover.header_pairs, handover.request.headers.first("X-Mine")))
            return super().upgrade(handover)

    ConnectionUpgrader.register(PairsFactory())
    try:
        server = serve(Hello())
        with connect(server) as sock:
            sock.sendall(b"GET /p HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: pairs\r\nX-Mine: a\r\n"
                         b"X-Mine: b\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(1000).startswith(b"HTTP/1.1 101")
    finally:
        ConnectionUpgrader.unregister("pairs")
    (pairs, mine), = seen
    assert (b"X-Mine", b"a") in pairs and (b"Upgrade", b"pairs") in pairs
    assert mine == "a, b"
