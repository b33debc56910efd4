"""Turns a results JSON into docs/performance.md and PNG plots under docs/."""
from __future__ import annotations

import json
import pathlib
import statistics
import time

from bench.specs import CASES, CEILINGS, ISSUE_PEER_NUMBERS, SERVERS, TARGET_SETS, TARGETS

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTES = ROOT / "bench" / "notes.md"


def summarize(result: dict) -> dict:
    """{(case, server): {median, min, max, n, noisy, client_bound, values}}"""
    groups: dict = {}
    for r in result["runs"]:
        if r.get("superseded"):
            continue
        key = (r["case"], r["server"])
        g = groups.setdefault(key, {"values": [], "n_failed": 0, "noisy": 0, "client_bound": 0,
                                    "server_cpu": [], "client_cpu": []})
        if r.get("ok") and r.get("rate") is not None:
            g["values"].append(r["rate"])
            g["noisy"] += bool(r.get("noisy"))
            g["client_bound"] += bool(r.get("client_bound"))
            cpu = r.get("cpu") or {}
            if "server" in cpu:
                g["server_cpu"].append(cpu["server"])
                if cpu["server"] > 0.05:
                    g.setdefault("per_cpu", []).append(r["rate"] / cpu["server"])
            if "client" in cpu:
                g["client_cpu"].append(cpu["client"])
        else:
            g["n_failed"] += 1
            g.setdefault("errors", []).extend(r.get("errors", [])[:2])
    for g in groups.values():
        v = g["values"]
        g["n"] = len(v)
        if v:
            g["median"] = statistics.median(v)
            g["min"], g["max"] = min(v), max(v)
        if g["server_cpu"]:
            g["server_cpu_median"] = round(statistics.median(g["server_cpu"]), 3)
        if g.get("per_cpu"):
            g["per_cpu_median"] = statistics.median(g["per_cpu"])
        if g["client_cpu"]:
            g["client_cpu_median"] = round(statistics.median(g["client_cpu"]), 3)
    return groups


def fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "–"
    if unit == "GB/s":
        return f"{v:.2f}"
    if unit in ("KiB/conn", "MB/s"):
        return f"{v:.1f}"
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


def targets_table(groups: dict, targets: list = TARGETS, ceilings: list = CEILINGS) -> tuple[list[str], list[dict]]:
    rows, out = [], []
    rows.append("| case | ours | peer | ours (median) | peer (median) | ratio | target | met | ratio per server CPU-second |")
    rows.append("|---|---|---|---:|---:|---:|---:|:---:|---:|")
    for case, ours, peer, need in targets:
        unit = CASES[case].unit
        a, b = groups.get((case, ours), {}), groups.get((case, peer), {})
        ma, mb = a.get("median"), b.get("median")
        ratio = ma / mb if ma and mb else None
        met = None if ratio is None else ratio >= need
        pa, pb = a.get("per_cpu_median"), b.get("per_cpu_median")
        pratio = pa / pb if pa and pb else None
        out.append({"case": case, "ours": ours, "peer": peer, "ratio": ratio, "need": need, "met": met,
                    "ratio_per_cpu": pratio})
        rows.append(f"| {case} | {ours} | {peer} | {fmt(ma, unit)} | {fmt(mb, unit)} | "
                    f"{'–' if ratio is None else f'{ratio:.2f}x'} | ≥ {need:.1f}x | "
                    f"{'–' if met is None else ('yes' if met else '**no**')} | "
                    f"{'–' if pratio is None else f'{pratio:.2f}x'} |")
    for case, ours, ceiling in ceilings:
        a = groups.get((case, ours), {})
        ma = a.get("median")
        met = None if ma is None else ma <= ceiling
        out.append({"case": case, "ours": ours, "value": ma, "ceiling": ceiling, "met": met})
        rows.append(f"| {case} | {ours} | – | {fmt(ma, 'KiB/conn')} KiB | – | – | ≤ {ceiling:.0f} KiB | "
                    f"{'–' if met is None else ('yes' if met else '**no**')} | – |")
    return rows, out


def case_tables(result: dict, groups: dict) -> list[str]:
    lines = []
    servers_in_order = list(SERVERS)
    for name, case in CASES.items():
        present = [s for s in servers_in_order if (name, s) in groups]
        if not present:
            continue
        ours = [s for s in present if SERVERS[s].ours and groups[(name, s)].get("median")]
        better = "higher is better" if case.higher_is_better else "lower is better"
        lines.append(f"### {case.title}")
        lines.append("")
        lines.append(f"`{name}`, in {case.unit} ({better}).")
        lines.append("")
        head = "| server | median | min – max | runs | server CPU | client CPU | per server CPU-s |"
        sep = "|---|---:|---:|---:|---:|---:|---:|"
        for o in ours:
            head += f" {o} ÷ this |"
            sep += "---:|"
        head += " issue's number |"
        sep += "---:|"
        lines += [head, sep]
        for s in present:
            g = groups[(name, s)]
            med = g.get("median")
            flags = []
            if g["n_failed"]:
                flags.append(f"{g['n_failed']} failed")
            if g["noisy"]:
                flags.append(f"{g['noisy']} noisy")
            if g["client_bound"]:
                flags.append(f"{g['client_bound']} load-bound")
            label = f"**{s}**" if SERVERS[s].ours else s
            spread = (f"{fmt(g['min'], case.unit)} – {fmt(g['max'], case.unit)}" if med is not None else "–")
            row = (f"| {label} | {fmt(med, case.unit)} | {spread} | {g['n']}"
                   f"{' (' + ', '.join(flags) + ')' if flags else ''} | "
                   f"{g.get('server_cpu_median', '–')} | {g.get('client_cpu_median', '–')} | "
                   f"{fmt(g.get('per_cpu_median'), case.unit)} |")
            for o in ours:
                mo = groups[(name, o)].get("median")
                row += f" {mo / med:.2f}x |" if med and mo and o != s else " – |"
            issue = ISSUE_PEER_NUMBERS.get((name, s))
            row += f" {fmt(issue, case.unit) if issue is not None else '–'} |"
            lines.append(row)
        errs = [e for s in present for e in groups[(name, s)].get("errors", [])]
        if errs:
            lines.append("")
            lines.append("Failures: " + "; ".join(f"`{e[:160]}`" for e in errs[:4]))
        lines.append("")
    return lines


def plots(result: dict, groups: dict, docs: pathlib.Path = DOCS) -> list[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:  # noqa: BLE001
        return [f"(no plots: matplotlib unavailable: {e})"]
    figs = {
        "performance-http.png": ["http-hello"],
        "performance-websocket.png": ["ws-echo-32", "ws-echo-64k", "ws-connect", "ws-broadcast",
                                      "ws-deflate-32", "ws-deflate-64k"],
        "performance-memory.png": ["mem-ws-idle", "mem-http-idle"],
    }
    written = []
    for fname, cases in figs.items():
        cases = [c for c in cases if any(k[0] == c for k in groups)]
        if not cases:
            continue
        cols = min(3, len(cases))
        rows = (len(cases) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(max(7.5, 5.2 * cols), 3.6 * rows), squeeze=False)
        for ax in axes.flat[len(cases):]:
            ax.axis("off")
        for ax, cname in zip(axes.flat, cases):
            case = CASES[cname]
            names = [s for s in SERVERS if (cname, s) in groups and groups[(cname, s)].get("median")]
            meds = [groups[(cname, s)]["median"] for s in names]
            lo = [m - groups[(cname, s)]["min"] for s, m in zip(names, meds)]
            hi = [groups[(cname, s)]["max"] - m for s, m in zip(names, meds)]
            colors = ["#d62728" if SERVERS[s].ours else "#1f77b4" for s in names]
            ax.barh(range(len(names)), meds, xerr=[lo, hi], color=colors, capsize=3)
            ax.set_yticks(range(len(names)))
            ax.set_yticklabels(names, fontsize=8)
            ax.invert_yaxis()
            ax.set_title(cname, fontsize=10)
            ax.set_xlabel(case.unit + ("" if case.higher_is_better else " (lower is better)"), fontsize=8)
            ax.tick_params(axis="x", labelsize=8)
            for i, (s, m) in enumerate(zip(names, meds)):
                ax.text(groups[(cname, s)]["max"], i, "  " + fmt(m, case.unit), va="center", fontsize=7)
            ax.margins(x=0.25)
        fig.suptitle(f"Kitura for Python vs peers: medians, min-max bars ({result['started']})", fontsize=9)
        fig.tight_layout()
        fig.savefig(docs / fname, dpi=90)
        plt.close(fig)
        written.append(fname)
    return written


def machine_section(result: dict) -> list[str]:
    m = result["machine"]
    v = m.get("versions", {})
    lines = [
        f"- CPU: {m.get('cpu')}, {m.get('cores')} cores, {m.get('mem_gib')} GiB; Linux {m.get('kernel')}",
        f"- {m.get('implementation')} {m.get('python')}; load: {m.get('wrk') or 'no wrk (Python HTTP generator)'}",
        "- " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
    ]
    return lines


def noise_section(result: dict) -> list[str]:
    runs = [r for r in result["runs"] if not r.get("superseded")]
    retried = sum(1 for r in result["runs"] if r.get("superseded"))
    if not runs:
        return []
    noisy = sum(1 for r in runs if r.get("noisy"))
    pre = [r["pre"]["busy_max"] for r in runs if "pre" in r]
    others = [max((r.get("cpu") or {}).get("other_load", {}).values() or [0]) for r in runs]
    return [f"{noisy} of {len(runs)} measurements were flagged noisy (a core more than 15 % busy "
            f"before the measurement, or other processes taking more than 10 % of the server's or the "
            f"load generator's core during it). Busiest core before measurements: median "
            f"{statistics.median(pre):.0%}, max {max(pre):.0%}; others' share during them: median "
            f"{statistics.median(others):.0%}, max {max(others):.0%}."
            + (f" {retried} noisy measurements were measured again and the quieter one kept "
               f"(`--retry-noisy`)." if retried else "")]


def write(result_path: pathlib.Path, docs: pathlib.Path = DOCS, with_plots: bool = True) -> pathlib.Path:
    result = json.loads(result_path.read_text())
    groups = summarize(result)
    cfg = result["config"]
    pngs = plots(result, groups, docs) if with_plots else []
    L = ["# Performance", "",
         "<!-- Generated by `python -m bench --report` from "
         f"{result_path.relative_to(ROOT) if result_path.is_relative_to(ROOT) else result_path}; "
         "edit bench/notes.md, not this file. -->", "",
         f"One run of `python -m bench` ({result['mode']}), {result['started']} – {result['finished']}"
         f"{', commit ' + result['commit'] if result.get('commit') else ''}: "
         f"{cfg['reps']} interleaved repetitions, {cfg['duration']} s measured after {cfg['warmup']} s of "
         f"warm-up per measurement, a fresh server process for each, the server pinned to core 0 and the "
         f"load generator to core 1. Medians, with the min – max of the repetitions.", ""]
    L += noise_section(result)
    for title, targets, ceilings in TARGET_SETS:
        tgt_rows, _ = targets_table(groups, targets, ceilings)
        L += ["", f"## Targets ({title})", ""] + tgt_rows
    L += [""]
    if result.get("skipped"):
        L.append("Not measured: " + "; ".join(sorted({f"{s['server']} ({s['status']})" for s in result['skipped']}))
                 + ".")
        L.append("")
    if NOTES.exists():
        L += ["## Analysis", "", NOTES.read_text().strip(), ""]
    L += ["## Results", ""]
    for p in pngs:
        if p.endswith(".png"):
            L += [f"![{p}]({p})", ""]
    L += case_tables(result, groups)
    L += ["## What is measured", "",
          "- **Servers** (`bench/servers/`): each serves HTTP hello on `/`, WebSocket echo on `/echo` and the "
          "tutorial's chat on `/chat` where the library can. `bare` is a bare uvloop + httptools "
          "`asyncio.Protocol` answering a fixed response (the Python ceiling); uvicorn runs a minimal ASGI app "
          "(httptools, uvloop); aiohttp, websockets and picows run on uvloop. The C-backed peers (issue 15): "
          "socketify (uWebSockets, C++, on its own libuv loop; the chat is uWebSockets' publish to a topic, "
          "which frames a message once and leaves the sender out), granian (Rust) with an RSGI app, one "
          "worker embedded in the server process on uvloop, and Node.js (`bench/node/`: `node:http` for HTTP, "
          "`ws` with its native `bufferutil` for WebSocket, one process, compression off; installed from "
          "`bench/node/package-lock.json` with `npm ci` by the harness). Ours (`kitura_server.py`) uses the "
          "public API only: `HTTP.create_server()` with an `async def` delegate (`kitura-async`), a plain `def` "
          "delegate on the worker threads (`kitura-sync`), or a `Router` (`kitura-router`), "
          "`WebSocket.register(service=EchoService(), on_path=\"echo\")` and the tutorial's `ChatService` "
          "(`examples/chat/chat_service.py`). Every server keeps its defaults, except: websockets without "
          "keepalive pings (no other server pings), larger message limits where 64 KiB needs it, our "
          "`connection_limit` raised above 10,000 for the memory case, socketify's idle timeout off and its "
          "back-pressure limit raised (uWebSockets drops a publish to a receiver past it).",
          "- **HTTP load**: `wrk -t1 -c50` (keep-alive), after a warm-up run; every server's answer is checked "
          "first. Without wrk, `bench/httpload.py` (uvloop + httptools, every body checked) stands in.",
          "- **WebSocket load** (`bench/wsload.py`): picows' Cython client on uvloop. Echo: 50 connections, "
          "each sends one message, waits for its echo, compares it byte for byte, sends the next; 64 KiB "
          "throughput counts echoed payload bytes (one direction). permessage-deflate: the client offers "
          "`permessage-deflate; client_max_window_bits` as browsers do and compresses with zlib (context "
          "takeover); the 64 KiB payload is word-like text (about 3:1). Connect: 50 concurrent loops of TCP "
          "connect, upgrade request, 101 checked (Sec-WebSocket-Accept), masked close frame, server's close "
          "frame and TCP close awaited. Broadcast: 200 receivers and 1 sender on `/chat`; the sender keeps "
          "16 messages in flight, every receiver checks every message and its order; the rate counts "
          "deliveries.",
          "- **Memory**: the server's resident set (VmRSS) after a short warm-up, then with 10,000 idle "
          "connections open (WebSocket: after the handshake; HTTP: after one keep-alive request each); the "
          "difference divided by the connections.",
          "- **Noise**: before each measurement the per-core CPU use is sampled; during it, the CPU time of "
          "the server and the load generator is compared with their cores' total use, so that other processes' "
          "share shows. *load-bound* marks a measurement whose load generator used ≥ 95 % of its core while "
          "the server used < 90 %: that number is a lower bound for the server. *per server CPU-s* divides "
          "each measurement's rate by the share of a core the server process got during it: on a shared "
          "machine it estimates what a whole core would give (it overstates a server that was not the "
          "bottleneck); the targets table gives the ratio of these too.",
          "", "## Machine", ""] + machine_section(result)
    L += ["", "## How to reproduce", "", "```sh",
          "python -m venv /tmp/venv-bench && /tmp/venv-bench/bin/pip install -e '.[bench,test]'",
          "apt-get install -y wrk            # optional: HTTP load (else a Python generator is used)",
          "/tmp/venv-bench/bin/python -m bench            # full run: results in bench/results/latest.json",
          "/tmp/venv-bench/bin/python -m bench --report   # this page and its plots",
          "/tmp/venv-bench/bin/python -m bench --smoke    # about 1 s a case, exits non-zero on any failure",
          "```", "",
          "Options: `--cases ws-echo-32,http-hello`, `--servers picows,kitura-async`, `--reps 5`, "
          "`--duration 10`, `--warmup 2`, `--idle-conns 10000`, `--wait-quiet 60` (wait up to 60 s for an "
          "idle machine before each measurement), `--loadgen python`. `python -m bench --list` shows the "
          "cases and servers.", ""]
    out = docs / "performance.md"
    out.write_text("\n".join(L))
    return out


def summary_text(result: dict) -> str:
    groups = summarize(result)
    lines = []
    for name, case in CASES.items():
        for s in SERVERS:
            g = groups.get((name, s))
            if g:
                spread = f"{fmt(g.get('min'), case.unit)}–{fmt(g.get('max'), case.unit)}" if g.get("median") else ""
                lines.append(f"{name:15s} {s:14s} {fmt(g.get('median'), case.unit):>8s} {case.unit:8s} "
                             f"{spread:>16s}  n={g['n']}{' failed=' + str(g['n_failed']) if g['n_failed'] else ''}"
                             f"{' noisy=' + str(g['noisy']) if g['noisy'] else ''}"
                             f"{' load-bound=' + str(g['client_bound']) if g['client_bound'] else ''}")
    for title, targets, ceilings in TARGET_SETS:
        rows, _ = targets_table(groups, targets, ceilings)
        lines += ["", f"Targets ({title}):"] + rows
    return "\n".join(lines)
