"""The WebSocket layer over real sockets, with the `websockets` library as an independent client."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
import zlib

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from kitura.websocket import WebSocket, WebSocketCloseReasonCode, WebSocketService

from .conftest import Recorder
from .rawclient import RawClient, client_frame, close_payload


def url(server, path, scheme="ws"):
    return f"{scheme}://127.0.0.1:{server.port}{path}"


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.01)


@pytest.mark.parametrize("compression", ["deflate", None])
def test_echo_text_and_binary_with_and_without_compression(ws_server, compression):
    service = Recorder()
    server, path = ws_server(service)

    async def main():
        async with websockets.connect(url(server, path), compression=compression) as ws:
            await ws.send("héllo")
            assert await ws.recv() == "héllo"
            big = bytes(range(256)) * 1000
            await ws.send(big)
            assert await ws.recv() == big
            return [type(e).__name__ for e in ws.protocol.extensions]

    extensions = run(main())
    assert extensions == (["PerMessageDeflate"] if compression else [])
    wait_for(lambda: service.reasons())
    assert service.reasons() == [WebSocketCloseReasonCode.NORMAL]
    assert service.threads == {"kitura-event-loop"}


def test_http_and_websocket_share_the_port_and_query_string_is_ignored(ws_server):
    service = Recorder()
    server, path = ws_server(service)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(1000):
            data += chunk
    assert data.endswith(b"http /plain")

    async def main():
        async with websockets.connect(url(server, path + "/?token=abc")) as ws:
            await ws.send("q")
            return await ws.recv()

    assert run(main()) == "q"
    conn_request = None
    # the request of the connection carries the query
    wait_for(lambda: service.reasons())


def test_path_without_leading_slash_is_the_same_path(ws_server):
    service = Recorder()
    server, path = ws_server(service)
    WebSocket.register(service=service, on_path=path.lstrip("/") + "x")
    try:
        client = RawClient(server.port, path + "x")
        client.send_frame(1, b"hi")
        assert client.recv_frame()[:2] == (1, b"hi")
        client.close()
    finally:
        WebSocket.unregister(path=path + "x")


def raw_upgrade(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(1000):
            data += chunk
    return data


BASE = ("GET {path} HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}\r\n")
KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
VERSION = "Sec-WebSocket-Version: 13\r\n"


@pytest.mark.parametrize("extra,body,header", [
    (VERSION, b"Sec-WebSocket-Key header missing in the upgrade request", None),
    (KEY, b"Sec-WebSocket-Version header missing in the upgrade request", None),
    (KEY + "Sec-WebSocket-Version: 8\r\n", b"Only WebSocket protocol version 13 is supported",
     b"Sec-WebSocket-Version: 13"),
])
def test_handshake_rejections_have_kituras_bodies(ws_server, extra, body, header):
    server, path = ws_server(Recorder())
    data = raw_upgrade(server.port, BASE.format(path=path, extra=extra).encode())
    assert data.startswith(b"HTTP/1.1 400 Bad Request")
    assert data.endswith(body)
    if header:
        assert header in data


def test_unregistered_path_gets_400_with_kituras_body(ws_server):
    server, _ = ws_server(Recorder())
    data = raw_upgrade(server.port, BASE.format(path="/x?y=1", extra=KEY + VERSION).encode())
    assert data.startswith(b"HTTP/1.1 400") and data.endswith(b"No service has been registered for the path /x")


def test_101_carries_the_accept_key(ws_server):
    server, path = ws_server(Recorder())
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(BASE.format(path=path, extra=KEY + VERSION).encode())
        head = sock.recv(1000)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head


def test_origin_check_answers_403(ws_server):
    server, path = ws_server(Recorder(), allowed_origins=["https://good.example"])
    bad = raw_upgrade(server.port, BASE.format(path=path, extra=KEY + VERSION + "Origin: https://evil.example\r\n").encode())
    assert bad.startswith(b"HTTP/1.1 403")
    client = RawClient(server.port, path, headers="Origin: https://good.example\r\n")
    client.close()


def test_subprotocol_negotiation(ws_server):
    service = Recorder()
    server, path = ws_server(service, subprotocols=["chat.v2", "chat.v1"])

    async def main():
        async with websockets.connect(url(server, path), subprotocols=["chat.v1", "chat.v2"]) as ws:
            return ws.subprotocol

    assert run(main()) == "chat.v2"


def test_without_configured_subprotocols_the_first_offer_is_accepted_as_kitura_does(ws_server):
    server, path = ws_server(Recorder())

    async def main():
        async with websockets.connect(url(server, path), subprotocols=["chat", "other"]) as ws:
            return ws.subprotocol

    assert run(main()) == "chat"


@pytest.mark.parametrize("name,frames,code", [
    ("unmasked frame", [client_frame(1, b"hi", masked=False)], 1002),
    ("reserved bit", [client_frame(1, b"hi", rsv=2)], 1002),
    ("rsv1 without deflate", [client_frame(1, b"hi", rsv=4)], 1002),
    ("reserved opcode", [client_frame(3, b"")], 1002),
    ("reserved control opcode", [client_frame(11, b"")], 1002),
    ("fragmented ping", [client_frame(9, b"x", fin=False)], 1002),
    ("control frame over 125 bytes", [client_frame(9, b"x" * 126)], 1002),
    ("continuation without start", [client_frame(0, b"x")], 1002),
    ("new message inside a fragmented one", [client_frame(1, b"a", fin=False), client_frame(1, b"b")], 1002),
    ("invalid utf-8", [client_frame(1, b"\xff\xfe")], 1007),
    ("invalid utf-8 in first fragment", [client_frame(1, b"ok\xc0", fin=False)], 1007),
    ("close with 1-byte payload", [client_frame(8, b"\x03")], 1002),
    ("close with invalid code", [client_frame(8, close_payload(1005))], 1002),
    ("close with code 999", [client_frame(8, close_payload(999))], 1002),
    ("close with invalid utf-8 reason", [client_frame(8, close_payload(1000, b"\xff"))], 1007),
])
def test_protocol_errors_close_with_the_exact_code(ws_server, name, frames, code):
    service = Recorder()
    server, path = ws_server(service, compression=False)
    client = RawClient(server.port, path)
    try:
        client.send(b"".join(frames))
        got, _ = client.recv_close()
        assert got == code, name
        client.wait_closed()  # the server closes TCP after the close handshake
    finally:
        client.close()
    wait_for(lambda: service.reasons())
    assert service.reasons()[0].code() == code


def test_message_over_the_limit_gets_1009_before_it_is_buffered(ws_server):
    service = Recorder()
    server, path = ws_server(service, max_message_size=1000, compression=False)
    client = RawClient(server.port, path)
    # only the header of a 1 GiB frame is sent: the answer must not wait for the payload
    client.send(bytes([0x82, 0xFF]) + (1 << 30).to_bytes(8, "big") + b"\x00\x00\x00\x00")
    assert client.recv_close()[0] == 1009
    client.close()


def test_fragmented_message_over_the_limit_gets_1009(ws_server):
    server, path = ws_server(Recorder(), max_message_size=1000, compression=False)
    client = RawClient(server.port, path)
    client.send(client_frame(2, b"x" * 600, fin=False) + client_frame(0, b"x" * 600, fin=False))
    assert client.recv_close()[0] == 1009
    client.close()


def test_decompression_bomb_gets_1009_and_memory_stays_bounded(ws_server):
    import resource

    service = Recorder()
    server, path = ws_server(service, max_message_size=1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\x00" * (1024 * 1024)
    pieces = [compressor.compress(chunk) for _ in range(1024)]  # 1 GiB of zeros
    pieces.append(compressor.flush(zlib.Z_SYNC_FLUSH))
    bomb = b"".join(pieces)[:-4]
    assert len(bomb) < 2 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    client = RawClient(server.port, path, headers="Sec-WebSocket-Extensions: permessage-deflate\r\n")
    assert b"permessage-deflate" in client.response_head
    try:
        client.send(client_frame(2, bomb, rsv=4))
    except OSError:
        pass  # the server may close before it read everything
    assert client.recv_close()[0] == 1009
    client.close()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024  # far below the 1 GiB the bomb inflates to


def test_fifty_clients_each_echo_100_messages_in_order(ws_server):
    server, path = ws_server(Recorder())

    async def client(n):
        async with websockets.connect(url(server, path)) as ws:
            for i in range(100):
                await ws.send(f"{n}:{i}")
            return [await ws.recv() for _ in range(100)]

    async def main():
        return await asyncio.gather(*(client(n) for n in range(50)))

    results = run(main(), timeout=60)
    for n, got in enumerate(results):
        assert got == [f"{n}:{i}" for i in range(100)]


def test_send_from_a_foreign_thread_and_model_json(ws_server):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    class Pusher(WebSocketService):
        def connected(self, connection):
            def push():
                connection.send(message="from a thread")
                connection.send(model=Point(1, 2))
                connection.send(message=b"\x01\x02")
                connection.send(message="as bytes", as_binary=True)
                connection.ping(with_message="p")
            threading.Thread(target=push).start()

    server, path = ws_server(Pusher())

    async def main():
        async with websockets.connect(url(server, path)) as ws:
            return [await ws.recv() for _ in range(4)]

    got = run(main())
    assert got[0] == "from a thread"
    assert json.loads(got[1]) == {"x": 1, "y": 2}
    assert got[2] == b"\x01\x02" and got[3] == b"as bytes"


@pytest.mark.parametrize("kind", ["close", "drop"])
def test_server_close_and_drop_send_the_reason(ws_server, kind):
    class Closer(Recorder):
        def received_text(self, message, from_):
            getattr(from_, kind)(reason=WebSocketCloseReasonCode.user_defined(4001), description="bye " + message)

    service = Closer()
    server, path = ws_server(service)

    async def main():
        async with websockets.connect(url(server, path)) as ws:
            await ws.send("now")
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            return info.value.rcvd

    rcvd = run(main())
    assert rcvd.code == 4001 and rcvd.reason == "bye now"
    wait_for(lambda: service.reasons())
    assert service.reasons() == [WebSocketCloseReasonCode.user_defined(4001)]


def test_disconnected_reasons_peer_code_empty_close_and_lost_tcp(ws_server):
    service = Recorder()
    server, path = ws_server(service)
    c1 = RawClient(server.port, path)
    c1.send_frame(8, close_payload(4000, b"x"))
    assert c1.recv_close()[0] == 4000
    c1.close()
    c2 = RawClient(server.port, path)
    c2.send_frame(8, b"")
    assert c2.recv_close()[0] is None
    c2.close()
    c3 = RawClient(server.port, path)
    c3.close()
    wait_for(lambda: len(service.reasons()) == 3)
    assert sorted(r.code() for r in service.reasons()) == [1005, 1006, 4000]
    ids = [e[1] for e in service.events if e[0] == "disconnected"]
    assert len(ids) == len(set(ids)) == 3  # exactly once per connection


def test_exception_in_a_callback_closes_with_1011(ws_server, caplog):
    class Broken(WebSocketService):
        def received_text(self, message, from_):
            raise RuntimeError("service bug")

    server, path = ws_server(Broken())
    client = RawClient(server.port, path)
    client.send_frame(1, b"x")
    assert client.recv_close()[0] == 1011
    client.close()


def test_async_callbacks_keep_order_per_connection(ws_server):
    class Slow(WebSocketService):
        def __init__(self):
            self.seen = []

        async def received_text(self, message, from_):
            if message == "0":
                await asyncio.sleep(0.1)
            self.seen.append(message)
            from_.send(message=message)

    service = Slow()
    server, path = ws_server(service)

    async def main():
        async with websockets.connect(url(server, path)) as ws:
            for i in range(5):
                await ws.send(str(i))
            return [await ws.recv() for _ in range(5)]

    assert run(main()) == ["0", "1", "2", "3", "4"]
    assert service.seen == ["0", "1", "2", "3", "4"]


def test_slow_reader_plain_send_closes_with_1008_and_asend_waits(ws_server):
    class Flood(WebSocketService):
        def __init__(self):
            self.result = None

        def received_text(self, message, from_):
            if message == "flood":
                for _ in range(200):
                    from_.send(message=b"x" * 65536)

        async def received_binary(self, message, from_):
            for _ in range(100):
                await from_.asend(message=b"y" * 65536)
            self.result = "all sent"

    service = Flood()
    server, path = ws_server(service, compression=False, max_send_buffer=1024 * 1024, close_timeout=60)
    client = RawClient(server.port, path)
    client.send_frame(1, b"flood")
    time.sleep(0.5)  # do not read: the server's buffer fills
    assert client.recv_close(timeout=10)[0] == 1008
    client.close()

    # asend waits for a slow reader instead, and everything arrives
    client = RawClient(server.port, path)
    client.send_frame(2, b"go")
    time.sleep(0.3)
    received = 0
    while received < 100:
        opcode, payload, _, _ = client.recv_frame(timeout=10)
        assert opcode == 2 and len(payload) == 65536
        received += 1
    wait_for(lambda: service.result == "all sent")
    client.close()


def test_ping_flood_from_a_peer_that_never_reads_does_not_grow_memory(ws_server):
    service = Recorder()
    server, path = ws_server(service, compression=False, write_limit=64 * 1024)
    client = RawClient(server.port, path)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ping = client_frame(9, b"p" * 125)
    client.sock.settimeout(0.5)
    sent = 0
    try:
        for _ in range(100_000):  # 13 MB of pings, never reading the pongs
            client.sock.sendall(ping)
            sent += 1
    except (socket.timeout, OSError):
        pass  # the server stopped reading: TCP pushes back on the flooder
    assert sent < 100_000
    conns = WebSocket.connections(path)
    assert conns and all(c._transport.get_write_buffer_size() < 1024 * 1024 for c in conns)
    client.close()


def test_connection_timeout_pings_idle_peers_and_drops_silent_ones(ws_server):
    class Timed(Recorder):
        connection_timeout = 0.3

    service = Timed()
    server, path = ws_server(service)
    client = RawClient(server.port, path)
    opcode, _, _, _ = client.recv_frame(timeout=3)
    assert opcode == 9  # the server pings the idle peer
    client.wait_closed(timeout=5)  # no pong: dropped
    wait_for(lambda: service.reasons())
    assert service.reasons() == [WebSocketCloseReasonCode.CLOSED_ABNORMALLY]


def test_connection_timeout_keeps_peers_that_answer(ws_server):
    class Timed(Recorder):
        connection_timeout = 0.3

    service = Timed()
    server, path = ws_server(service)

    async def main():
        async with websockets.connect(url(server, path)) as ws:  # answers pings by itself
            await asyncio.sleep(1.2)
            await ws.send("still here")
            return await ws.recv()

    assert run(main()) == "still here"


def test_server_stop_closes_with_going_away(ws_server):
    service = Recorder()
    server, path = ws_server(service)
    client = RawClient(server.port, path)
    threading.Timer(0.1, server.stop).start()
    assert client.recv_close()[0] == 1001
    client.close()


def test_wss_with_trustme(ws_server, tmp_path):
    import ssl

    import trustme

    from kitura.net import SSLConfiguration

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    chain = tmp_path / "chain.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    server, path = ws_server(Recorder(), ssl_config=SSLConfiguration(certificate_chain_file=str(chain)))
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)

    async def main():
        async with websockets.connect(url(server, path, "wss"), ssl=ctx) as ws:
            await ws.send("secure")
            return await ws.recv()

    assert run(main()) == "secure"
