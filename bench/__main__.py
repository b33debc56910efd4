"""python -m bench: the benchmark harness of issue 6.

    python -m bench              full run (3 interleaved repetitions), results in bench/results/
    python -m bench --smoke      every case for about a second, aiohttp, ours and (some cases) the C-backed
                                 peers; non-zero exit on failure
    python -m bench --report     docs/performance.md and docs/performance-*.png from bench/results/latest.json
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
import time

from bench.specs import CASES, SERVERS, SMOKE_PEER_CASES, SMOKE_SERVERS


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="quick check that every case and server works")
    p.add_argument("--report", nargs="?", const="latest", metavar="RESULTS_JSON",
                   help="write docs/performance.md from a results file (default: bench/results/latest.json)")
    p.add_argument("--list", action="store_true", help="list cases and servers")
    p.add_argument("--scaling", action="store_true",
                   help="the scale-out figures (workers 1 and 2, rooms through Redis, connection spread): "
                        "bench/scaling.py; --duration and --warmup apply")
    p.add_argument("--cases", help="comma-separated case names (default: all)")
    p.add_argument("--servers", help="comma-separated server names (default: all; smoke: aiohttp, ours, socketify, "
                                      "granian, node-ws)")
    p.add_argument("--reps", type=int, help="repetitions (default 3; smoke 1)")
    p.add_argument("--duration", type=float, help="measured seconds per measurement (default 5; smoke 1)")
    p.add_argument("--warmup", type=float, help="warm-up seconds (default 2; smoke 0.3)")
    p.add_argument("--idle-conns", type=int, help="connections in the memory cases (default 10000; smoke 200)")
    p.add_argument("--wait-quiet", type=float, default=None,
                   help="wait up to this many seconds for an idle machine before each measurement (default 0)")
    p.add_argument("--retry-noisy", type=int, default=None,
                   help="measure a noisy measurement again up to N times, keep the quietest (default: full 1, smoke 0)")
    p.add_argument("--loadgen", choices=("wrk", "python"), help="HTTP load generator (default: wrk if installed)")
    p.add_argument("--require-ours", action="store_true",
                   help="fail when one of our servers cannot be imported (otherwise: skipped while absent)")
    p.add_argument("--profile", action="store_true",
                   help="sample our servers with py-spy during each measurement (slower; for reading, not for tables)")
    a = p.parse_args(argv)

    if a.scaling:
        from bench import scaling
        extra = [f"--duration={a.duration}"] if a.duration else []
        extra += [f"--warmup={a.warmup}"] if a.warmup is not None else []
        return scaling.main(extra)

    if a.list:
        for c in CASES.values():
            print(f"case   {c.name:15s} {c.unit:9s} {c.title}")
        for s in SERVERS.values():
            print(f"server {s.name:15s} {','.join(sorted(s.roles)):24s} {s.label}")
        return 0

    if a.report:
        from bench import report
        path = (pathlib.Path(__file__).parent / "results" / "latest.json" if a.report == "latest"
                else pathlib.Path(a.report).resolve())
        if not path.exists():
            print(f"no results at {path}: run `python -m bench` first", file=sys.stderr)
            return 2
        out = report.write(path)
        print(f"wrote {out}")
        return 0

    smoke = a.smoke
    cfg = {
        "mode": "smoke" if smoke else "full",
        "cases": a.cases.split(",") if a.cases else list(CASES),
        "servers": a.servers.split(",") if a.servers else (list(SMOKE_SERVERS) if smoke else list(SERVERS)),
        "reps": a.reps or (1 if smoke else 3),
        "duration": a.duration or (1.0 if smoke else 5.0),
        "warmup": a.warmup if a.warmup is not None else (0.3 if smoke else 2.0),
        "idle_conns": a.idle_conns or (200 if smoke else 10000),
        "wait_quiet": a.wait_quiet if a.wait_quiet is not None else 0.0,
        "pre_sample": 0.2 if smoke else 1.0,
        "loadgen": a.loadgen or ("wrk" if shutil.which("wrk") else "python"),
        "require_ours": a.require_ours,
        "profile": a.profile,
        "retry_noisy": a.retry_noisy if a.retry_noisy is not None else (0 if smoke else 1),
        # a plain smoke run takes the C-backed peers through a few cases only
        "only_cases": SMOKE_PEER_CASES if smoke and not a.cases and not a.servers else {},
    }
    if a.profile:
        cfg["mode"] = "profile"
    for c in cfg["cases"]:
        if c not in CASES:
            p.error(f"unknown case {c!r} (see --list)")
    for s in cfg["servers"]:
        if s not in SERVERS:
            p.error(f"unknown server {s!r} (see --list)")
    if cfg["loadgen"] == "python":
        print("[bench] wrk not found: HTTP load from bench/httpload.py (Python; slower than wrk)", file=sys.stderr)

    from bench import report, runner
    t0 = time.monotonic()
    result = runner.run(cfg)
    print(report.summary_text(result))
    print(f"\nresults: {result['path']}  ({time.monotonic() - t0:.0f} s)")
    if result["failures"]:
        print("\nFAILURES:\n  " + "\n  ".join(result["failures"]), file=sys.stderr)
        return 1
    if not result["runs"]:
        print("nothing was measured", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
