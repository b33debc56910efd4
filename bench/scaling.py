"""Scale-out figures (issue 12): ``python -m bench --scaling``.

- HTTP hello (wrk, 50 connections) and the 1-to-200 chat broadcast (bench/wsload.py,
  the tutorial's chat on a Room) from one server process with workers 1 and 2;
- delivered messages/s through Redis across two servers (one process each), the 200
  receivers split between them, the sender on the first;
- how evenly 200 WebSocket connections spread over 2 workers with the shared listening
  socket and with SO_REUSEPORT (``allow_port_reuse``), three rounds each.

Nothing is pinned: the workers need the cores the load generator also uses, so on a
small machine the figures show what the cores allow, not what the workers could do.
A real redis-server (Debian's package) is started on a free port and stopped.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

from bench.runner import ROOT, RESULTS, env, free_port, log, run_json, stop
from bench.sysinfo import machine_info

SERVER = "bench.servers.kitura_scaled"


@contextlib.contextmanager
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench --scaling needs redis-server (apt-get install redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port} after {timeout} s")
            time.sleep(0.05)


@contextlib.contextmanager
def server(workers: int = 1, redis: str | None = None, reuse_port: bool = False):
    port = free_port()
    argv = [sys.executable, "-m", SERVER, "--port", str(port), "--workers", str(workers)]
    if redis:
        argv += ["--redis", redis]
    if reuse_port:
        argv.append("--reuse-port")
    errf = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=errf,
                            start_new_session=True)
    try:
        _wait_port(port, proc)
        time.sleep(1.0 if workers > 1 else 0.2)  # the workers are forked after the bind
        yield port
    finally:
        stop(proc, timeout=10)
        errf.close()


def wrk_rate(port: int, seconds: float) -> dict:
    done = subprocess.run(["wrk", "-t1", "-c50", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
                           f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=seconds + 60)
    rate = re.search(r"Requests/sec:\s*([\d.]+)", done.stdout)
    errors = re.search(r"Socket errors: .*|Non-2xx.*", done.stdout)
    return {"rate": float(rate.group(1)) if rate else None, "errors": errors.group(0) if errors else None}


def broadcast(port: int, seconds: float, warmup: float, receiver_ports: list[int] | None = None) -> dict:
    argv = [sys.executable, "-m", "bench.wsload", "--case", "broadcast", "--url", f"ws://127.0.0.1:{port}/chat",
            "--conns", "200", "--size", "32", "--duration", str(seconds), "--warmup", str(warmup)]
    if receiver_ports:
        argv += ["--receiver-urls", ",".join(f"ws://127.0.0.1:{p}/chat" for p in receiver_ports)]
    res = run_json(argv, seconds + warmup + 90)
    return {"rate": res.get("rate"), "errors": res.get("errors") or None}


async def _spread(port: int, conns: int) -> Counter:
    from websockets.asyncio.client import connect
    opened = []
    counts: Counter = Counter()
    try:
        for _ in range(conns):
            ws = await connect(f"ws://127.0.0.1:{port}/pid", open_timeout=10)
            opened.append(ws)
            counts[await asyncio.wait_for(ws.recv(), 10)] += 1
    finally:
        await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    return counts


def spread(reuse_port: bool, rounds: int = 3, conns: int = 200) -> list[list[int]]:
    out = []
    with server(workers=2, reuse_port=reuse_port) as port:
        for _ in range(rounds):
            counts = asyncio.run(_spread(port, conns))
            out.append(sorted(counts.values(), reverse=True))
    return out


def run(duration: float = 3.0, warmup: float = 1.0, workers: tuple[int, ...] = (1, 2)) -> dict:
    load1 = os.getloadavg()[0]
    results: dict = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_info(),
                     "loadavg_before": round(load1, 2), "duration": duration, "http": {}, "broadcast": {}}
    with redis_server() as redis:
        for n in workers:
            with server(workers=n) as port:
                results["http"][n] = wrk_rate(port, duration)
                log(f"http-hello workers={n}: {results['http'][n]}")
            # One worker: in-process rooms; more: rooms through Redis (each worker its own members).
            with server(workers=n, redis=redis if n > 1 else None) as port:
                results["broadcast"][n] = broadcast(port, duration, warmup)
                log(f"broadcast 1->200 workers={n}: {results['broadcast'][n]}")
        with server(redis=redis) as port1, server(redis=redis) as port2:
            results["redis_two_servers"] = broadcast(port1, duration, warmup, receiver_ports=[port1, port2])
            log(f"broadcast 1->200 across two servers through Redis: {results['redis_two_servers']}")
    results["spread_shared"] = spread(reuse_port=False)
    results["spread_reuse_port"] = spread(reuse_port=True)
    log(f"spread of 200 WebSocket connections over 2 workers, shared socket: {results['spread_shared']}, "
        f"SO_REUSEPORT: {results['spread_reuse_port']}")
    results["loadavg_after"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "scaling.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"wrote {out}")
    return results


def main(argv: list[str] | None = None) -> int:
    import argparse
    p = argparse.ArgumentParser(prog="python -m bench --scaling")
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    a = p.parse_args(argv)
    res = run(a.duration, a.warmup, tuple(int(n) for n in a.workers.split(",")))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
