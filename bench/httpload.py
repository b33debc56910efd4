"""HTTP load in Python (uvloop + httptools), verifying every response.

    python -m bench.httpload --case hello --url http://127.0.0.1:PORT/ --conns 50
    python -m bench.httpload --case idle  --url http://127.0.0.1:PORT/ --conns 10000

``hello`` is the fallback when ``wrk`` is not installed (and the smoke mode's
check that bodies are right): keep-alive, one request in flight per
connection. It is a slower load generator than wrk, so its numbers are marked
as such. ``idle`` opens the connections, makes one request on each, prints
``{"event": "ready"}`` and holds them (keep-alive) until a line on stdin.
Prints one JSON object on stdout (last line)."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from urllib.parse import urlsplit

import httptools
import uvloop

from bench.sysinfo import CpuWindow, raise_nofile

EXPECTED_BODY = b"Hello, World!"


class State:
    def __init__(self):
        self.running = True
        self.count = 0
        self.errors: list[str] = []
        self.lost = 0

    def fail(self, msg):
        if len(self.errors) < 20:
            self.errors.append(msg)
        self.running = False


class Client(asyncio.Protocol):
    def __init__(self, st: State, request: bytes, repeat: bool, ready: asyncio.Future | None = None):
        self.st, self.request, self.repeat, self.ready = st, request, repeat, ready
        self.parser = httptools.HttpResponseParser(self)
        self.body = []
        self.closing = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self.st.fail(f"bad HTTP response: {e}")
            self.transport.close()

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        st = self.st
        status = self.parser.get_status_code()
        body = b"".join(self.body)
        self.body = []
        if status != 200 or body != EXPECTED_BODY:
            st.fail(f"unexpected response: {status} {body[:40]!r}")
            return
        st.count += 1
        if not self.parser.should_keep_alive():
            st.fail("the server did not keep the connection alive")
            return
        if self.ready is not None and not self.ready.done():
            self.ready.set_result(True)
        if self.repeat and st.running:
            self.transport.write(self.request)

    def connection_lost(self, exc):
        if not self.closing:
            self.st.lost += 1
            if self.repeat and self.st.running:
                self.st.fail("connection lost")
        if self.ready is not None and not self.ready.done():
            self.ready.set_result(False)


def request_for(url: str) -> tuple[str, int, bytes]:
    u = urlsplit(url)
    host, port = u.hostname, u.port or 80
    req = f"GET {u.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    return host, port, req


async def case_hello(args) -> dict:
    st = State()
    host, port, req = request_for(args.url)
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(args.conns):
        t, p = await asyncio.wait_for(loop.create_connection(lambda: Client(st, req, True), host, port), 5)
        conns.append((t, p))
    await asyncio.sleep(args.warmup)
    result = {}
    if not st.errors:
        cpu = CpuWindow(args.server_pid, os.getpid())
        c0 = st.count
        cpu.start()
        t0 = time.perf_counter()
        await asyncio.sleep(args.duration)
        c1 = st.count
        dt = time.perf_counter() - t0
        result = {"count": c1 - c0, "seconds": round(dt, 4), "rate": (c1 - c0) / dt, "cpu": cpu.stop()}
    st.running = False
    await asyncio.sleep(0.05)
    for t, p in conns:
        p.closing = True
        t.close()
    return result | {"errors": st.errors, "unit": "req/s", "loadgen": "python"}


async def case_idle(args) -> dict:
    st = State()
    host, port, req = request_for(args.url)
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(200)
    protos = []

    async def one():
        async with sem:
            ready = loop.create_future()
            t, p = await loop.create_connection(lambda: Client(st, req, False, ready), host, port)
            protos.append((t, p))
            if not await asyncio.wait_for(ready, 10):
                st.fail("connection closed before its response")

    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(args.conns))), 30 + args.conns / 200)
    except Exception as e:  # noqa: BLE001
        st.fail(f"opening connections failed: {type(e).__name__}: {e}")
    opened = time.perf_counter() - t0
    print(json.dumps({"event": "ready", "open": len(protos), "seconds": round(opened, 2)}), flush=True)
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), args.hold)
    except asyncio.TimeoutError:
        pass
    lost = st.lost
    if lost:
        st.fail(f"{lost} idle keep-alive connections were closed by the server")
    for t, p in protos:
        p.closing = True
        t.close()
    await asyncio.sleep(0.2)
    return {"errors": st.errors, "open": len(protos), "lost": lost, "open_seconds": round(opened, 2)}


async def main(args):
    fn = {"hello": case_hello, "idle": case_idle}[args.case]
    try:
        result = await fn(args)
    except Exception as e:  # noqa: BLE001
        result = {"errors": [f"{type(e).__name__}: {e}"]}
    result["ok"] = not result.get("errors")
    return result


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.httpload")
    p.add_argument("--case", choices=("hello", "idle"), required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--hold", type=float, default=120.0)
    p.add_argument("--server-pid", type=int, default=None)
    return p.parse_args(argv)


if __name__ == "__main__":
    raise_nofile()
    a = parse()
    res = uvloop.run(main(a))
    print(json.dumps(res), flush=True)
    sys.exit(0 if res["ok"] else 1)
