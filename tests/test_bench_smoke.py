"""The benchmark harness (bench/) must not rot: its pieces work, its load
generators catch a wrong echo, and a short smoke run of a few cases passes.

The full smoke mode (every case, aiohttp and ours, ~1 s each) is
`python -m bench --smoke`; this file runs a small part of it so that a plain
`pytest` run covers the harness too. Needs the `bench` extra (picows, aiohttp);
skipped without it."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import zlib

import pytest

pytest.importorskip("picows")
pytest.importorskip("aiohttp")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import report, wsload  # noqa: E402
from bench.specs import CASES, SERVERS, SMOKE_PEER_CASES, SMOKE_SERVERS  # noqa: E402


def _env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def test_rings_are_distinct_and_sized():
    ring = wsload.make_ring(32, 64)
    assert len(ring) == 64 and len(set(ring)) == 64
    assert all(len(m) == 32 for m in ring)
    big = wsload.make_ring(65536, 4)
    assert all(len(m) == 65536 for m in big)
    # word-like text: compresses, but not to nothing
    ratio = len(zlib.compress(big[0])) / len(big[0])
    assert 0.2 < ratio < 0.6


def test_client_deflate_matches_rfc7692():
    d = wsload.Deflate("permessage-deflate; client_max_window_bits=12; server_no_context_takeover")
    assert d.client_bits == 12 and d.server_reset
    ring = [b"hello hello hello", b"another message, longer " * 20]
    out = d.compress_ring(ring)
    # a server inflater with context takeover reads the messages one after the other
    server = zlib.decompressobj(-15)
    for plain, comp in zip(ring, out):
        assert not comp.endswith(b"\x00\x00\xff\xff")
        assert server.decompress(comp + b"\x00\x00\xff\xff") == plain
    # and the client inflates what a server compressed with context takeover
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    d2 = wsload.Deflate("permessage-deflate")
    for plain in ring * 2:
        data = comp.compress(plain) + comp.flush(zlib.Z_SYNC_FLUSH)
        assert d2.decompress(data[:-4]) == plain


def test_specs_are_consistent():
    for case in CASES.values():
        assert any(case.role in s.roles for s in SERVERS.values()), case.name
    assert {"bare", "uvicorn", "aiohttp", "websockets", "picows", "kitura-async"} <= set(SERVERS)
    assert {"socketify", "granian", "node-ws"} <= set(SERVERS)       # issue 15's C-backed peers
    assert {"socketify", "granian", "node-ws"} <= set(SMOKE_SERVERS)
    for name, cases in SMOKE_PEER_CASES.items():
        assert all(SERVERS[name].roles >= {CASES[c].role} for c in cases), name


def test_a_peer_that_cannot_run_is_unavailable_not_a_failure(monkeypatch):
    """A peer not installed (import fails) or not preparable (no node) is
    skipped as unavailable, even with --require-ours; ours stay failures."""
    from bench import runner
    from bench.specs import ServerSpec

    monkeypatch.setattr(runner, "_AVAIL", {})
    missing = ServerSpec("gone", "not installed", "bench.servers.gone", frozenset({"ws"}),
                         needs=("no_such_peer_package:App",))
    no_node = ServerSpec("no-node", "prepare fails", "bench.servers.gone", frozenset({"ws"}),
                         prepare="tests.test_bench_smoke:_prepare_fails")
    case = CASES["ws-echo-32"]
    assert runner.availability(missing, case)[0] == "unavailable"
    status, reason = runner.availability(no_node, case)
    assert status == "unavailable" and "node not found" in reason
    monkeypatch.setitem(runner.SERVERS, "gone", missing)
    cfg = {"mode": "test-unavailable", "cases": ["ws-echo-32"], "servers": ["gone"], "reps": 1,
           "duration": 0.1, "warmup": 0, "idle_conns": 1, "wait_quiet": 0, "pre_sample": 0.05,
           "loadgen": "python", "require_ours": True, "profile": False}
    result = runner.run(cfg)
    pathlib.Path(result["path"]).unlink()
    (runner.RESULTS / "latest-test-unavailable.json").unlink()
    assert result["failures"] == [] and result["runs"] == []
    assert result["skipped"][0]["status"] == "unavailable"


def _prepare_fails():
    return "node not found (install Node.js)"


def test_node_peer_install_check_reads_the_lock_file(tmp_path, monkeypatch):
    from bench.servers import node_ws_server

    (tmp_path / "package-lock.json").write_text(json.dumps({"packages": {
        "": {"name": "x"}, "node_modules/ws": {"version": "8.0.0"}}}))
    monkeypatch.setattr(node_ws_server, "NODE_DIR", tmp_path)
    assert not node_ws_server._installed_as_locked()
    (tmp_path / "node_modules" / "ws").mkdir(parents=True)
    (tmp_path / "node_modules" / "ws" / "package.json").write_text('{"version": "7.0.0"}')
    assert not node_ws_server._installed_as_locked()
    (tmp_path / "node_modules" / "ws" / "package.json").write_text('{"version": "8.0.0"}')
    assert node_ws_server._installed_as_locked()


def test_report_from_synthetic_results(tmp_path):
    runs = []
    for rep in range(3):
        for server, rate in (("aiohttp", 100.0 + rep), ("picows", 150.0), ("kitura-async", 140.0 - rep)):
            runs.append({"case": "ws-echo-32", "server": server, "rep": rep, "unit": "msg/s", "ok": True,
                         "rate": rate, "cpu": {"server": 1.0, "client": 0.5, "other_load": {"cpu0": 0.0}},
                         "pre": {"busy_max": 0.01}, "noisy": False, "client_bound": False})
    runs.append({"case": "ws-echo-32", "server": "websockets", "rep": 0, "unit": "msg/s", "ok": False,
                 "errors": ["wrong echo"], "pre": {"busy_max": 0.0}})
    result = {"mode": "full", "started": "t0", "finished": "t1",
              "machine": {"cpu": "x", "cores": 2, "versions": {"picows": "1"}},
              "config": {"reps": 3, "duration": 5, "warmup": 2}, "runs": runs, "skipped": [], "failures": []}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(result))
    out = report.write(path, docs=tmp_path, with_plots=True)
    text = out.read_text()
    assert "| ws-echo-32 | kitura-async | aiohttp | 139 | 101 | 1.38x | ≥ 1.0x | yes |" in text
    assert "| ws-echo-32 | kitura-async | picows | 139 | 150 | 0.93x | ≥ 0.8x | yes |" in text
    assert "wrong echo" in text
    assert (tmp_path / "performance-websocket.png").stat().st_size > 1000


def _broken_echo_server():
    """A WebSocket server whose echo is wrong (one byte appended)."""
    from websockets.sync.server import serve

    def handler(ws):
        for message in ws:
            ws.send(message + ("x" if isinstance(message, str) else b"x"))

    server = serve(handler, "127.0.0.1", 0, compression=None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_wsload_catches_a_wrong_echo():
    server = _broken_echo_server()
    try:
        port = server.socket.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "bench.wsload", "--case", "echo", "--url",
                            f"ws://127.0.0.1:{port}/echo", "--conns", "2", "--duration", "0.3",
                            "--warmup", "0.1"], cwd=ROOT, env=_env(), capture_output=True, text=True,
                           timeout=60)
    finally:
        server.shutdown()
    assert r.returncode == 1, r.stdout + r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert not res["ok"] and "wrong echo" in res["errors"][0]


def test_smoke_subset():
    """aiohttp and ours (where importable) on three cases, ~1 s each."""
    r = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--cases",
                        "http-hello,ws-echo-32,ws-broadcast", "--servers", "aiohttp,kitura-async",
                        "--loadgen", "python"],
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "ws-echo-32      aiohttp" in r.stdout


def test_smoke_peers():
    """socketify, granian and Node's ws serve the hello and the chat (every
    delivery checked, the sender left out), or are reported unavailable."""
    peers = ("socketify", "granian", "node-ws")
    r = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--cases", "http-hello,ws-broadcast",
                        "--servers", ",".join(peers), "--loadgen", "python", "--duration", "0.5",
                        "--warmup", "0.1"],
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=100)
    unavailable = [p for p in peers if f"skip ws-broadcast / {p}: unavailable" in r.stderr]
    if len(unavailable) == len(peers):
        pytest.skip("none of the C-backed peers can run here: " + r.stderr[-500:])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for peer in peers:
        assert f"ws-broadcast    {peer}" in r.stdout or peer in unavailable, peer


def test_a_server_that_does_not_start_is_a_failure(tmp_path):
    from bench import runner
    from bench.specs import ServerSpec

    spec = ServerSpec("broken", "a server that dies", "bench.servers.no_such_module", frozenset({"ws"}))
    cfg = {"wait_quiet": 0, "pre_sample": 0.05, "duration": 0.3, "warmup": 0, "loadgen": "python",
           "idle_conns": 10}
    rec = runner.one(CASES["ws-echo-32"], spec, cfg, 0, tmp_path)
    assert rec["ok"] is False and rec.get("server_failed")
    assert "exited" in rec["errors"][0] and "no_such_module" in rec["errors"][0]
