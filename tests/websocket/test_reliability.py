"""Issue 14 on the WebSocket side, on the wire: replies queued before a Close (or a
protocol error) that arrived in the same read all go out before it, whatever write_limit."""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import Recorder
from .rawclient import RawClient, client_frame, close_payload


def read_until_close(client: RawClient) -> tuple[list[bytes], int | None]:
    echoes = []
    while True:
        opcode, payload, _, _ = client.recv_frame()
        if opcode == 8:
            return echoes, int.from_bytes(payload[:2], "big") if payload else None
        echoes.append(payload)


@pytest.mark.parametrize("count,size", [(2, 20_000), (40, 5_000), (10, 20_000)])
def test_every_reply_queued_before_a_close_goes_out_before_it(ws_server, count, size):
    server, path = ws_server(Recorder(), write_limit=16 * 1024)
    client = RawClient(server.port, path)
    try:
        messages = [bytes([65 + i % 26]) * size for i in range(count)]
        client.send(b"".join(client_frame(1, m) for m in messages) + client_frame(8, close_payload(1000)))
        echoes, code = read_until_close(client)
        assert echoes == messages
        assert code == 1000
    finally:
        client.close()


def test_every_reply_before_a_protocol_error_goes_out_before_its_close(ws_server):
    server, path = ws_server(Recorder(), write_limit=16 * 1024)
    client = RawClient(server.port, path)
    try:
        messages = [b"x" * 20_000 for _ in range(5)]
        bad = client_frame(1, b"bad", masked=False)  # RFC 6455 5.1: client frames are masked
        client.send(b"".join(client_frame(1, m) for m in messages) + bad)
        echoes, code = read_until_close(client)
        assert echoes == messages
        assert code == 1002
    finally:
        client.close()


def test_close_after_a_bad_frame_is_not_turned_into_a_reset(ws_server):
    server, path = ws_server(Recorder())
    client = RawClient(server.port, path)
    try:
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        messages = [b"m" * 50_000 for _ in range(20)]
        bad = client_frame(1, b"bad", masked=False)
        # The echoes wait in the server's send buffer, the bytes after the bad frame stay
        # unread when it closes: a plain close would be a reset that erases both.
        client.send(b"".join(client_frame(2, m) for m in messages) + bad + b"y" * 200_000)
        time.sleep(0.3)
        echoes, code = read_until_close(client)
        assert echoes == messages
        assert code == 1002
        client.wait_closed()
    finally:
        client.close()
