"""Soak: keep-alive HTTP, WebSocket chat, slow, stalled and abrupt clients at once,
against the server in a subprocess (tests/soak/server.py).

Asserts that afterwards the server's RSS grew by less than a few MiB over its
warmed-up level, its fd count is back to the baseline, no connection is left
counted, and the chat's connected and disconnected counts are equal.

The short form (CI) runs 10 s; KITURA_SOAK_SECONDS=60 (or more) runs the long form.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

SERVER = Path(__file__).with_name("server.py")
SECONDS = float(os.environ.get("KITURA_SOAK_SECONDS", "10"))
#: RSS growth allowed between the warmed-up level and the end.
RSS_GROWTH_KIB = 4 * 1024


async def stats(session: aiohttp.ClientSession, url: str) -> dict:
    async with session.get(url + "/stats") as response:
        return json.loads(await response.text())


async def keep_alive_http(url: str, until: float, counts: dict) -> None:
    async with aiohttp.ClientSession() as session:  # one pooled keep-alive connection
        while time.monotonic() < until:
            async with session.post(url + "/echo", data=b"x" * random.randint(0, 5000)) as response:
                assert response.status == 200
                await response.read()
            async with session.get(url + "/") as response:
                assert await response.text() == "hello"
            counts["http"] += 2


async def chat(url: str, until: float, counts: dict) -> None:
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < until:
            async with session.ws_connect(url.replace("http", "ws") + "/chat") as ws:
                for i in range(20):
                    await ws.send_str(f"hello {i}")
                    msg = await asyncio.wait_for(ws.receive(), 5)
                    assert msg.type == aiohttp.WSMsgType.TEXT
                    counts["ws"] += 1
                if random.random() < 0.3:
                    ws._response.connection.transport.abort()  # vanish without a Close
                    continue
            await asyncio.sleep(0)


async def slow_and_abrupt(port: int, until: float, counts: dict) -> None:
    loop = asyncio.get_running_loop()
    while time.monotonic() < until:
        kind = random.choice(["trickle", "stalled-body", "rst", "half-request", "unread"])
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        try:
            if kind == "trickle":
                for piece in (b"GET / HT", b"TP/1.1\r\nHo", b"st: h\r\n"):
                    await loop.sock_sendall(sock, piece)
                    await asyncio.sleep(0.1)
            elif kind == "stalled-body":
                await loop.sock_sendall(sock, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nab")
                await asyncio.sleep(0.2)
            elif kind == "half-request":
                await loop.sock_sendall(sock, b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n")
            elif kind == "unread":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                await loop.sock_sendall(sock, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 200000\r\n\r\n"
                                        + b"y" * 200_000)
                await asyncio.sleep(0.1)
            if kind in ("rst", "half-request") or random.random() < 0.5:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        finally:
            sock.close()
        counts["odd"] += 1
        await asyncio.sleep(0.01)


async def soak(port: int) -> tuple[dict, dict, dict, dict]:
    url = f"http://127.0.0.1:{port}"
    counts = {"http": 0, "ws": 0, "odd": 0}
    async with aiohttp.ClientSession() as session:
        baseline = await stats(session, url)
    start = time.monotonic()
    warm_until = start + min(3.0, SECONDS / 3)
    until = start + SECONDS
    tasks = [asyncio.create_task(keep_alive_http(url, until, counts)) for _ in range(3)]
    tasks += [asyncio.create_task(chat(url, until, counts)) for _ in range(3)]
    tasks += [asyncio.create_task(slow_and_abrupt(port, until, counts)) for _ in range(2)]
    await asyncio.sleep(max(warm_until - time.monotonic(), 0))
    async with aiohttp.ClientSession() as session:
        warm = await stats(session, url)
    await asyncio.wait_for(asyncio.gather(*tasks), SECONDS + 30)
    # Let the server's timeouts (1-2 s) end what the odd clients left behind.
    deadline = time.monotonic() + 15
    while True:
        await asyncio.sleep(0.5)
        async with aiohttp.ClientSession() as session:
            end = await stats(session, url)
        settled = end["connections"] <= 1 and end["fds"] <= baseline["fds"] + 1 and \
            end["connected"] == end["disconnected"]
        if settled or time.monotonic() > deadline:
            return baseline, warm, end, counts


@pytest.mark.timeout(180)
def test_soak():
    server = subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        line = server.stdout.readline().decode().split()
        assert line[:1] == ["ready"], line
        baseline, warm, end, counts = asyncio.run(soak(int(line[1])))
    finally:
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
    print(f"soak {SECONDS:.0f} s: {counts}; baseline {baseline}; warm {warm}; end {end}")
    assert counts["http"] > 100 and counts["ws"] > 100 and counts["odd"] > 10
    # The /stats request's own connection is the only one open (it may be counted).
    assert end["connections"] <= 1
    assert end["fds"] <= baseline["fds"] + 1
    assert end["connected"] == end["disconnected"] > 0
    assert end["rss_kib"] - warm["rss_kib"] < RSS_GROWTH_KIB, (warm["rss_kib"], end["rss_kib"])
