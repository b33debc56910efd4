"""WebSocket load generator: picows' Cython client on uvloop, verifying every message.

    python -m bench.wsload --case echo --url ws://127.0.0.1:PORT/echo --conns 50 --size 32
    python -m bench.wsload --case echo --size 65536 --binary [--deflate] ...
    python -m bench.wsload --case connect --url ws://127.0.0.1:PORT/echo --conns 50
    python -m bench.wsload --case broadcast --url ws://127.0.0.1:PORT/chat --conns 200
    python -m bench.wsload --case idle --url ws://127.0.0.1:PORT/echo --conns 10000

Prints one JSON object on stdout (last line). ``ok`` is false when any echo or
broadcast message was wrong, lost, out of order, or a connection failed.
For ``idle`` it prints ``{"event": "ready", ...}`` once every connection is
open, then holds them until a line (or EOF) arrives on stdin.

Echo cases are ping-pong: each connection sends one message, waits for its
echo, compares it byte for byte, sends the next. permessage-deflate (offered
as a browser does: ``permessage-deflate; client_max_window_bits``) is
implemented here with zlib, since picows works on frames.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import zlib

import uvloop
from picows import WSCloseCode, WSListener, WSMsgType, ws_connect

from bench.sysinfo import CpuWindow, raise_nofile

TAIL = b"\x00\x00\xff\xff"
WORDS = None


def text_like(n: int, seed: int) -> bytes:
    """n bytes of word-like ASCII (compresses about 3:1, as chat or JSON does)."""
    global WORDS
    rnd = random.Random(seed)
    if WORDS is None:
        r0 = random.Random(1)
        WORDS = ["".join(r0.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r0.randint(2, 9)))
                 for _ in range(2000)]
    parts, size = [], 0
    while size < n:
        w = rnd.choice(WORDS)
        parts.append(w)
        size += len(w) + 1
    return " ".join(parts).encode()[:n]


def make_ring(size: int, count: int) -> list[bytes]:
    ring = []
    for i in range(count):
        head = b"%08d " % i
        ring.append((head + text_like(size, i))[:size] if size >= len(head) else head[:size])
    return ring


class Deflate:
    """Client side of RFC 7692 as negotiated. The client compresses each
    message on its own (as a client without context takeover does, which is
    always allowed), so the ring of messages is compressed once, up front,
    and the load generator's CPU goes to inflating and checking the echoes;
    the server's side keeps whatever context takeover it negotiated."""

    _cache: dict = {}

    def __init__(self, response_ext: str):
        params = {}
        for item in response_ext.split(";")[1:]:
            k, _, v = item.strip().partition("=")
            params[k.strip().lower()] = v.strip().strip('"')
        self.client_bits = int(params.get("client_max_window_bits") or 15)
        self.server_reset = "server_no_context_takeover" in params
        self.d = zlib.decompressobj(-15)

    def compress_ring(self, ring: list[bytes]) -> list[bytes]:
        key = (id(ring), self.client_bits)
        if key not in self._cache:
            out = []
            for m in ring:
                c = zlib.compressobj(6, zlib.DEFLATED, -max(9, self.client_bits))
                data = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
                out.append(data[:-4] if data.endswith(TAIL) else data)
            self._cache[key] = out
        return self._cache[key]

    def decompress(self, data: bytes) -> bytes:
        if self.server_reset:
            self.d = zlib.decompressobj(-15)
        return self.d.decompress(data + TAIL)


def negotiated_deflate(transport) -> Deflate | None:
    resp = transport.response
    headers = resp.headers if resp is not None else {}
    for k, v in headers.items():
        if k.lower() == "sec-websocket-extensions" and "permessage-deflate" in v:
            return Deflate(v)
    return None


class Run:
    def __init__(self):
        self.running = True
        self.count = 0
        self.bytes = 0
        self.errors: list[str] = []
        self.idle_event = asyncio.Event()
        self.in_flight = 0

    def fail(self, msg: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(msg)
        self.running = False


# ---------------------------------------------------------------- echo
class EchoClient(WSListener):
    def __init__(self, run: Run, ring: list[bytes], mtype, start: int):
        self.run, self.ring, self.mtype = run, ring, mtype
        self.i = start
        self.parts = None
        self.deflate: Deflate | None = None
        self.expected = None
        self.transport = None
        self.closed_by_us = False

    def on_ws_connected(self, transport):
        self.transport = transport

    def send_next(self):
        msg = self.ring[self.i % len(self.ring)]
        self.i += 1
        self.expected = msg
        self.run.in_flight += 1
        if self.deflate is not None:
            self.transport.send(self.mtype, self.compressed[(self.i - 1) % len(self.ring)], True, True)
        else:
            self.transport.send(self.mtype, msg)

    def on_ws_frame(self, transport, frame):
        mt = frame.msg_type
        if mt == WSMsgType.TEXT or mt == WSMsgType.BINARY:
            if not frame.fin:
                self.parts = [frame.get_payload_as_bytes()]
                self.rsv1, self.first = frame.rsv1, mt
                return
            data, rsv1 = frame.get_payload_as_bytes(), frame.rsv1
        elif mt == WSMsgType.CONTINUATION:
            if self.parts is None:
                self.run.fail("continuation frame without a first frame")
                return
            self.parts.append(frame.get_payload_as_bytes())
            if not frame.fin:
                return
            data, rsv1, mt = b"".join(self.parts), self.rsv1, self.first
            self.parts = None
        elif mt == WSMsgType.CLOSE:
            if not self.closed_by_us:
                self.run.fail(f"server closed the connection: {frame.get_close_code()} "
                              f"{frame.get_close_reason()!r}")
            return
        else:
            return
        if rsv1:
            if self.deflate is None:
                self.run.fail("compressed frame without permessage-deflate")
                return
            data = self.deflate.decompress(data)
        run = self.run
        run.in_flight -= 1
        if data != self.expected or mt != self.mtype:
            run.fail(f"wrong echo: sent {len(self.expected or b'')} bytes {(self.expected or b'')[:20]!r}, "
                     f"got {len(data)} bytes {data[:20]!r} ({mt})")
            return
        run.count += 1
        run.bytes += len(data)
        if run.running:
            self.send_next()
        elif run.in_flight == 0:
            run.idle_event.set()

    def on_ws_disconnected(self, transport):
        if not self.closed_by_us and self.run.running:
            self.run.fail("connection lost")


async def open_many(factory, url, n, concurrency=256, extra_headers=None, timeout=20.0):
    sem = asyncio.Semaphore(concurrency)

    async def one(i):
        async with sem:
            return await ws_connect(lambda: factory(i), url, extra_headers=extra_headers,
                                    websocket_handshake_timeout=timeout,
                                    max_frame_size=32 * 1024 * 1024)

    return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout + n / 200)


async def close_all(transports, timeout=10.0):
    for t in transports:
        if not t.is_disconnected:
            try:
                t.send_close(WSCloseCode.OK)
            except Exception:
                pass

    async def wait(t):
        try:
            await t.wait_disconnected()
        except Exception:
            pass
    try:
        await asyncio.wait_for(asyncio.gather(*(wait(t) for t in transports)), timeout)
    except asyncio.TimeoutError:
        for t in transports:
            if not t.is_disconnected:
                t.disconnect(graceful=False)


async def measure(run: Run, args, counter=None) -> dict:
    await asyncio.sleep(args.warmup)
    if run.errors:
        return {}
    cpu = CpuWindow(args.server_pid, os.getpid())
    get = counter or (lambda: run.count)
    c0, b0 = get(), run.bytes
    cpu.start()
    t0 = time.perf_counter()
    await asyncio.sleep(args.duration)
    c1, b1 = get(), run.bytes
    dt = time.perf_counter() - t0
    usage = cpu.stop()
    out = {"count": c1 - c0, "seconds": round(dt, 4), "rate": (c1 - c0) / dt,
           "bytes_rate": (b1 - b0) / dt, "cpu": usage}
    return out


async def case_echo(args) -> dict:
    run = Run()
    mtype = WSMsgType.BINARY if args.binary else WSMsgType.TEXT
    ring = make_ring(args.size, 64 if args.size <= 4096 else 4)
    headers = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"} if args.deflate else None
    clients = []

    def factory(i):
        c = EchoClient(run, ring, mtype, i)
        clients.append(c)
        return c

    pairs = await open_many(factory, args.url, args.conns, extra_headers=headers)
    transports = [t for t, _ in pairs]
    if args.deflate:
        for t, c in pairs:
            c.deflate = negotiated_deflate(t)
            if c.deflate is None:
                run.fail("the server did not accept permessage-deflate")
                break
            c.compressed = c.deflate.compress_ring(ring)
    result: dict = {}
    if not run.errors:
        for c in clients:
            c.send_next()
        result = await measure(run, args)
        run.running = False
        try:
            await asyncio.wait_for(run.idle_event.wait() if run.in_flight else asyncio.sleep(0), 10)
        except asyncio.TimeoutError:
            run.fail(f"{run.in_flight} echoes never came back")
    for c in clients:
        c.closed_by_us = True
    await close_all(transports)
    if args.deflate:
        result["deflate"] = pairs[0][0].response.headers.get("Sec-WebSocket-Extensions") if pairs else None
    return result | {"errors": run.errors, "unit": "msg/s"}


# ---------------------------------------------------------------- connect
# A raw client (picows' ws_connect costs more Python per connection than most
# servers do): a fixed handshake request, the 101 and its Sec-WebSocket-Accept
# checked, a masked close frame sent, the server's close frame and its TCP
# close awaited.
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
CLOSE_FRAME = bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])   # 1000, masked


class ConnectProtocol(asyncio.Protocol):
    __slots__ = ("request", "done", "buf", "state", "transport", "error")

    def __init__(self, request: bytes, done: asyncio.Future):
        self.request, self.done = request, done
        self.buf = b""
        self.state = 0          # 0 handshake, 1 waiting for the close frame, 2 got it
        self.error = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        buf = self.buf + data
        if self.state == 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head = buf[:end]
            if not head.startswith(b"HTTP/1.1 101") or WS_ACCEPT not in head:
                self.error = f"bad handshake response: {head[:60]!r}"
                self.transport.close()
                return
            self.state = 1
            self.transport.write(CLOSE_FRAME)
            buf = buf[end + 4:]
        if self.state == 1 and buf:
            if buf[0] != 0x88:
                self.error = f"expected a close frame, got {buf[:8]!r}"
                self.transport.close()
                return
            self.state = 2
        self.buf = b""

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        if not self.done.done():
            if self.error is None and self.state != 2:
                self.error = f"connection closed in state {self.state} ({exc})"
            self.done.set_result(self.error)


async def case_connect(args) -> dict:
    from urllib.parse import urlsplit
    run = Run()
    u = urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    request = (f"GET {u.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n").encode()
    loop = asyncio.get_running_loop()

    async def worker():
        while run.running:
            done = loop.create_future()
            try:
                transport, _ = await asyncio.wait_for(
                    loop.create_connection(lambda: ConnectProtocol(request, done), host, port), 5)
            except Exception as e:  # noqa: BLE001
                run.fail(f"connect failed: {type(e).__name__}: {e}")
                return
            try:
                err = await asyncio.wait_for(done, 5)
            except asyncio.TimeoutError:
                transport.abort()
                run.fail("no 101 + close frame + TCP close within 5 s")
                return
            if err:
                run.fail(err)
                return
            run.count += 1

    tasks = [asyncio.ensure_future(worker()) for _ in range(args.conns)]
    result = await measure(run, args)
    run.running = False
    done, pending = await asyncio.wait(tasks, timeout=15)
    for p in pending:
        p.cancel()
    if pending:
        run.fail(f"{len(pending)} connect workers hung")
    return result | {"errors": run.errors, "unit": "conn/s"}


# ---------------------------------------------------------------- broadcast
class Receiver(WSListener):
    def __init__(self, run, ring, state):
        self.run, self.ring, self.state = run, ring, state
        self.mask = len(ring) - 1          # ring length is a power of two
        self.i = 0
        self.closed_by_us = False

    def on_ws_frame(self, transport, frame):
        if frame.msg_type == WSMsgType.TEXT:
            st = self.state
            if not st.started:
                st.synced.add(self)
                if len(st.synced) == st.receivers:
                    st.sync_event.set()
                return
            if frame.get_payload_as_bytes() != self.ring[self.i & self.mask]:
                self.run.fail(f"broadcast message {self.i} wrong or out of order: "
                              f"{frame.get_payload_as_bytes()[:20]!r}")
                return
            self.i += 1
            st.delivered += 1
            if st.delivered >= st.threshold:
                if self.run.running:
                    st.pump()
                elif st.delivered == st.sent * st.receivers:
                    self.run.idle_event.set()
        elif frame.msg_type == WSMsgType.CLOSE and not self.closed_by_us:
            self.run.fail(f"server closed a receiver: {frame.get_close_code()}")

    def on_ws_disconnected(self, transport):
        if not self.closed_by_us and self.run.running:
            self.run.fail("receiver connection lost")


class Sender(WSListener):
    def __init__(self, run):
        self.run = run
        self.closed_by_us = False

    def on_ws_frame(self, transport, frame):
        if frame.msg_type == WSMsgType.TEXT:
            self.run.fail("the sender received its own message (ChatService relays to the others)")
        elif frame.msg_type == WSMsgType.CLOSE and not self.closed_by_us:
            self.run.fail(f"server closed the sender: {frame.get_close_code()}")


class BroadcastState:
    def __init__(self, receivers, window, ring):
        self.receivers, self.window, self.ring = receivers, window, ring
        self.sent = 0
        self.delivered = 0
        self.started = False
        self.synced: set = set()
        self.sync_event = asyncio.Event()
        self.sender = None
        self.threshold = 0

    def pump(self):
        # At most `window` messages in flight (a message is done when every
        # receiver has it): send while sent * r - delivered < window * r.
        r, ring, mask = self.receivers, self.ring, len(self.ring) - 1
        send = self.sender.send
        while self.sent * r - self.delivered < self.window * r:
            send(WSMsgType.TEXT, ring[self.sent & mask])
            self.sent += 1
        # the next delivery that allows another send
        self.threshold = (self.sent - self.window) * r + 1


async def case_broadcast(args) -> dict:
    run = Run()
    ring = make_ring(args.size, 1024)
    st = BroadcastState(args.conns, args.window, ring)
    receivers = []

    def factory(i):
        r = Receiver(run, ring, st)
        receivers.append(r)
        return r

    # --receiver-urls spreads the receivers over several servers (bench/scaling.py: two
    # servers sharing Redis); the sender is on --url.
    urls = args.receiver_urls.split(",") if args.receiver_urls else [args.url]
    pairs = []
    for k, url in enumerate(urls):
        pairs += await open_many(factory, url, args.conns // len(urls) + (k < args.conns % len(urls)))
    st.sender, sender = await ws_connect(lambda: Sender(run), args.url)
    # The server's connected() callbacks may trail the handshakes: send sync
    # messages until every receiver got one.
    deadline = time.monotonic() + 10
    while not st.sync_event.is_set() and time.monotonic() < deadline:
        st.sender.send(WSMsgType.TEXT, b"sync")
        try:
            await asyncio.wait_for(st.sync_event.wait(), 0.2)
        except asyncio.TimeoutError:
            pass
    result: dict = {}
    if not st.sync_event.is_set():
        run.fail(f"only {len(st.synced)} of {args.conns} receivers got the sync message")
    else:
        await asyncio.sleep(0.3)           # let late sync copies drain
        st.started = True
        st.pump()
        result = await measure(run, args, counter=lambda: st.delivered)
        run.running = False
        st.threshold = st.sent * st.receivers
        try:
            await asyncio.wait_for(run.idle_event.wait() if st.delivered < st.sent * st.receivers
                                   else asyncio.sleep(0), 10)
        except asyncio.TimeoutError:
            run.fail(f"{st.sent * st.receivers - st.delivered} deliveries never arrived")
    for r in receivers:
        r.closed_by_us = True
    sender.closed_by_us = True
    await close_all([t for t, _ in pairs] + [st.sender])
    return result | {"errors": run.errors, "unit": "msg/s", "sent": st.sent}


# ---------------------------------------------------------------- idle
class IdleClient(WSListener):
    def __init__(self, run):
        self.run = run
        self.closed_by_us = False
        self.lost = False

    def on_ws_frame(self, transport, frame):
        if frame.msg_type == WSMsgType.CLOSE and not self.closed_by_us:
            self.run.fail(f"server closed an idle connection: {frame.get_close_code()}")

    def on_ws_disconnected(self, transport):
        if not self.closed_by_us:
            self.lost = True


async def case_idle(args) -> dict:
    run = Run()
    clients = []

    def factory(i):
        c = IdleClient(run)
        clients.append(c)
        return c

    t0 = time.perf_counter()
    pairs = await open_many(factory, args.url, args.conns, concurrency=200, timeout=30)
    opened = time.perf_counter() - t0
    print(json.dumps({"event": "ready", "open": len(pairs), "seconds": round(opened, 2)}), flush=True)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), args.hold)
    except asyncio.TimeoutError:
        pass
    lost = sum(1 for c in clients if c.lost)
    if lost:
        run.fail(f"{lost} idle connections were dropped by the server")
    for c in clients:
        c.closed_by_us = True
    await close_all([t for t, _ in pairs], timeout=20)
    return {"errors": run.errors, "open": len(pairs), "lost": lost, "open_seconds": round(opened, 2)}


async def main(args) -> dict:
    fn = {"echo": case_echo, "connect": case_connect, "broadcast": case_broadcast,
          "idle": case_idle}[args.case]
    try:
        result = await fn(args)
    except Exception as e:  # noqa: BLE001
        result = {"errors": [f"{type(e).__name__}: {e}"]}
    result["ok"] = not result.get("errors")
    return result


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.wsload")
    p.add_argument("--case", choices=("echo", "connect", "broadcast", "idle"), required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--binary", action="store_true")
    p.add_argument("--deflate", action="store_true")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--window", type=int, default=16, help="broadcast: messages in flight")
    p.add_argument("--receiver-urls", default=None, help="broadcast: comma-separated URLs the receivers use")
    p.add_argument("--hold", type=float, default=120.0, help="idle: hold at most this long")
    p.add_argument("--server-pid", type=int, default=None)
    return p.parse_args(argv)


if __name__ == "__main__":
    raise_nofile()
    a = parse()
    res = uvloop.run(main(a))
    print(json.dumps(res), flush=True)
    sys.exit(0 if res["ok"] else 1)
