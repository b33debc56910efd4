"""Runs the cases: one fresh server per measurement, pinned to core 0, the load
generator pinned to core 1, repetitions interleaved (the server order rotates
from one repetition to the next), CPU accounting and noise flags."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from bench import sysinfo
from bench.specs import CASES, SERVERS, WS_NEEDS, CaseSpec, ServerSpec

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SERVER_CORE, CLIENT_CORE = "0", "1"
NOISY_PRE_BUSY = 0.15       # a core busier than this before a measurement: the machine is busy
NOISY_OTHER = 0.10          # others' share of our two cores during a measurement


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pinned(core: str, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", core] + argv
    return argv


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONUNBUFFERED"] = "1"
    return e


# ------------------------------------------------------------- availability
def _check_import(need: str) -> tuple[str, str]:
    """'ok', or 'absent' (not written yet: the name appears nowhere in the
    package's __init__.py), or 'broken' (announced but does not import)."""
    mod, _, attr = need.partition(":")
    code = f"import importlib; m = importlib.import_module({mod!r}); getattr(m, {attr!r})" if attr else \
        f"import importlib; importlib.import_module({mod!r})"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(),
                       cwd=ROOT, timeout=60)
    if r.returncode == 0:
        return "ok", ""
    reason = (r.stderr.strip().splitlines() or ["?"])[-1]
    init = ROOT / pathlib.Path(*mod.split(".")) / "__init__.py"
    text = init.read_text() if init.exists() else ""
    if attr and not re.search(rf"\b{re.escape(attr)}\b", text):
        return "absent", reason
    if not attr and not init.exists():
        return "absent", reason
    return "broken", reason


_AVAIL: dict[str, tuple[str, str]] = {}


def _prepare(target: str) -> tuple[str, str]:
    """Runs a peer's prepare function ("module:function"): 'ok' or 'unavailable'."""
    mod, _, fn = target.partition(":")
    try:
        import importlib
        reason = getattr(importlib.import_module(mod), fn)()
    except Exception as e:  # noqa: BLE001
        reason = f"{type(e).__name__}: {e}"
    return ("unavailable", reason) if reason else ("ok", "")


def availability(spec: ServerSpec, case: CaseSpec) -> tuple[str, str]:
    """'ok'; for our servers 'absent' or 'broken' (see _check_import); for a
    peer that is not installed or cannot be prepared, 'unavailable' (skipped,
    never a failure: the peers are optional)."""
    needs = list(spec.needs)
    if spec.ours and case.role in ("ws", "deflate"):
        needs += list(WS_NEEDS)
    for need in needs:
        if need not in _AVAIL:
            _AVAIL[need] = _check_import(need)
        status, reason = _AVAIL[need]
        if status != "ok":
            return (status if spec.ours else "unavailable"), f"{need}: {reason}"
    if spec.prepare:
        if spec.prepare not in _AVAIL:
            _AVAIL[spec.prepare] = _prepare(spec.prepare)
        status, reason = _AVAIL[spec.prepare]
        if status != "ok":
            return status, f"{spec.name}: {reason}"
    return "ok", ""


# ------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerFailed(Exception):
    pass


@contextlib.contextmanager
def running_server(spec: ServerSpec, log_dir: pathlib.Path, timeout: float = 20.0):
    port = free_port()
    argv = [sys.executable, "-m", spec.module, "--port", str(port)]
    if spec.mode:
        argv += ["--mode", spec.mode]
    log_dir.mkdir(parents=True, exist_ok=True)
    errf = open(log_dir / f"server-{spec.name}.log", "w+")
    proc = subprocess.Popen(pinned(SERVER_CORE, argv), cwd=ROOT, env=env(), stdout=subprocess.DEVNULL,
                            stderr=errf, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                errf.seek(0)
                raise ServerFailed(f"{spec.name} exited with {proc.returncode} before listening: "
                                   + errf.read()[-1500:])
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerFailed(f"{spec.name} did not listen on 127.0.0.1:{port} within {timeout} s")
                time.sleep(0.05)
        yield proc, port
        if proc.poll() is not None:
            errf.seek(0)
            raise ServerFailed(f"{spec.name} died during the measurement (exit {proc.returncode}): "
                               + errf.read()[-1500:])
    finally:
        stop(proc)
        errf.close()


def stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)   # the group we created for it (start_new_session)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)


def http_check(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            body = r.read()
            if r.status != 200 or body != b"Hello, World!":
                return f"GET / answered {r.status} {body[:60]!r}"
    except Exception as e:  # noqa: BLE001
        return f"GET / failed: {type(e).__name__}: {e}"
    return None


# ------------------------------------------------------------- load generators
def run_json(argv: list[str], timeout: float) -> dict:
    proc = subprocess.Popen(argv, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc)
        out, err = proc.communicate()
        return {"ok": False, "errors": [f"load generator timed out after {timeout:.0f} s"]}
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            res = json.loads(line)
            if not res.get("ok") and err.strip():
                res.setdefault("stderr", err[-800:])
            return res
    return {"ok": False, "errors": [f"load generator printed no result (exit {proc.returncode}): {err[-800:]}"]}


def wrk(port: int, conns: int, seconds: float, server_pid: int) -> dict:
    argv = pinned(CLIENT_CORE, ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
                                f"http://127.0.0.1:{port}/"])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    cpu = sysinfo.CpuWindow(server_pid, None)
    cpu.start()
    t0 = time.monotonic()
    timer = threading.Timer(seconds + 30, lambda: stop(proc))
    timer.start()
    try:
        out = proc.stdout.read()
        err = proc.stderr.read()
        usage = cpu.stop()
        # wrk's own CPU time, from its rusage (it has exited: /proc no longer has it)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
    wall = time.monotonic() - t0
    usage["client"] = round((ru.ru_utime + ru.ru_stime) / wall, 3) if wall > 0 else None
    if usage.get("core_busy", {}).get("cpu1") is not None and usage["client"] is not None:
        usage.setdefault("other_load", {})["cpu1"] = round(max(0.0, usage["core_busy"]["cpu1"] - usage["client"]), 3)
    if proc.returncode and proc.returncode < 0:
        return {"ok": False, "errors": ["wrk timed out"]}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    errors = []
    if not m:
        errors.append(f"wrk printed no rate: {out[-300:]} {err[-300:]}")
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock and any(int(x) for x in sock.groups()):
        errors.append(f"wrk socket errors: {sock.group(0)}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors.append(f"wrk: {non2xx.group(1)} non-2xx responses")
    return {"ok": not errors, "errors": errors, "rate": float(m.group(1)) if m else None,
            "count": int(total.group(1)) if total else None, "cpu": usage, "loadgen": "wrk",
            "unit": "req/s"}


def measure_http(port, pid, case, duration, warmup, loadgen):
    bad = http_check(port)
    if bad:
        return {"ok": False, "errors": [bad]}
    conns = case.args["conns"]
    if loadgen == "wrk":
        if warmup > 0:
            wrk(port, conns, warmup, pid)
        res = wrk(port, conns, duration, pid)
        if res.get("ok") and duration <= 2:
            # smoke: the Python generator checks every body too
            chk = run_json(pinned(CLIENT_CORE, [sys.executable, "-m", "bench.httpload", "--case", "hello",
                                                "--url", f"http://127.0.0.1:{port}/", "--conns", "10",
                                                "--duration", "0.3", "--warmup", "0"]), 30)
            if not chk.get("ok"):
                res["ok"] = False
                res["errors"] = chk.get("errors", ["python check failed"])
        return res
    return run_json(pinned(CLIENT_CORE, [sys.executable, "-m", "bench.httpload", "--case", "hello",
                                         "--url", f"http://127.0.0.1:{port}/", "--conns", str(conns),
                                         "--duration", str(duration), "--warmup", str(warmup),
                                         "--server-pid", str(pid)]), duration + warmup + 60)


def wsload_argv(port, pid, a: dict, duration, warmup) -> list[str]:
    argv = [sys.executable, "-m", "bench.wsload", "--case", a["case"], "--url",
            f"ws://127.0.0.1:{port}{a['path']}", "--conns", str(a["conns"]), "--duration", str(duration),
            "--warmup", str(warmup), "--server-pid", str(pid)]
    if "size" in a:
        argv += ["--size", str(a["size"])]
    if a.get("binary"):
        argv.append("--binary")
    if a.get("deflate"):
        argv.append("--deflate")
    return pinned(CLIENT_CORE, argv)


def measure_ws(port, pid, case, duration, warmup):
    res = run_json(wsload_argv(port, pid, case.args, duration, warmup), duration + warmup + 90)
    if res.get("ok") and case.unit in ("GB/s", "MB/s"):
        res["msg_rate"] = res.get("rate")
        res["rate"] = res["bytes_rate"] / (1e9 if case.unit == "GB/s" else 1e6)
    return res


def measure_memory(port, pid, case, conns, warmup):
    """RSS growth of the server process while `conns` idle connections are open."""
    ws = case.kind == "mem-ws"
    # warm-up: some traffic first, so that code paths and caches are in place
    if ws:
        pre = run_json(wsload_argv(port, pid, {"case": "echo", "path": "/echo", "conns": 50, "size": 32},
                                   max(0.3, warmup), 0), 60)
    else:
        bad = http_check(port)
        if bad:
            return {"ok": False, "errors": [bad]}
        pre = run_json(pinned(CLIENT_CORE, [sys.executable, "-m", "bench.httpload", "--case", "hello", "--url",
                                            f"http://127.0.0.1:{port}/", "--conns", "50", "--duration",
                                            str(max(0.3, warmup)), "--warmup", "0"]), 60)
    if not pre.get("ok"):
        return {"ok": False, "errors": ["warm-up failed: " + "; ".join(pre.get("errors", []))]}
    time.sleep(0.5)
    rss0 = sysinfo.proc_rss_kib(pid)
    if ws:
        argv = [sys.executable, "-m", "bench.wsload", "--case", "idle", "--url",
                f"ws://127.0.0.1:{port}/echo", "--conns", str(conns), "--hold", "120"]
    else:
        argv = [sys.executable, "-m", "bench.httpload", "--case", "idle", "--url",
                f"http://127.0.0.1:{port}/", "--conns", str(conns), "--hold", "120"]
    proc = subprocess.Popen(pinned(CLIENT_CORE, argv), cwd=ROOT, env=env(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    rss1 = None
    ready = None
    try:
        deadline = time.monotonic() + 60 + conns / 100
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("{") and '"event"' in line:
                ready = json.loads(line)
                break
        if ready:
            time.sleep(1.0)
            samples = []
            for _ in range(3):
                samples.append(sysinfo.proc_rss_kib(pid) or 0)
                time.sleep(0.2)
            rss1 = max(samples)
        proc.stdin.write("done\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    except Exception as e:  # noqa: BLE001
        stop(proc)
        return {"ok": False, "errors": [f"idle client: {type(e).__name__}: {e}"]}
    res = None
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{") and '"ok"' in line:
            res = json.loads(line)
            break
    if res is None:
        return {"ok": False, "errors": [f"idle client printed no result: {err[-600:]}"]}
    if not ready or rss0 is None or rss1 is None:
        res["ok"] = False
        res.setdefault("errors", []).append("never got all connections open")
        return res
    opened = ready["open"]
    if opened < conns:
        res["ok"] = False
        res.setdefault("errors", []).append(f"only {opened} of {conns} connections opened")
    res.update({"rss_before_kib": rss0, "rss_after_kib": rss1, "rate": (rss1 - rss0) / max(1, opened),
                "unit": "KiB/conn"})
    return res


# ------------------------------------------------------------- the run
def pre_check(wait_quiet: float, sample: float) -> dict:
    """Busy fraction of every core before a measurement; waits up to
    `wait_quiet` seconds for the machine to calm down."""
    deadline = time.monotonic() + wait_quiet
    while True:
        s = sysinfo.sample_idle(sample)
        busiest = max(s["busy"].values() or [0])
        s["busy_max"] = busiest
        if busiest <= NOISY_PRE_BUSY or time.monotonic() >= deadline:
            return s
        time.sleep(1.0)


def one(case: CaseSpec, spec: ServerSpec, cfg: dict, rep: int, log_dir: pathlib.Path) -> dict:
    rec = {"case": case.name, "server": spec.name, "rep": rep, "unit": case.unit}
    pre = pre_check(cfg["wait_quiet"], cfg["pre_sample"])
    rec["pre"] = pre
    t0 = time.monotonic()
    try:
        with running_server(spec, log_dir) as (proc, port):
            spy = None
            if cfg.get("profile") and spec.ours and case.kind in ("http", "ws"):
                from bench import profile
                folded = RESULTS / f"profile-{case.name}-{spec.name}-rep{rep + 1}.folded"
                spy = profile.start(proc.pid, cfg["warmup"] + cfg["duration"] + 1, folded)
                if spy is None:
                    log("[bench] --profile: py-spy not found (pip install py-spy)")
            if case.kind == "http":
                res = measure_http(port, proc.pid, case, cfg["duration"], cfg["warmup"], cfg["loadgen"])
            elif case.kind == "ws":
                res = measure_ws(port, proc.pid, case, cfg["duration"], cfg["warmup"])
            else:
                res = measure_memory(port, proc.pid, case, cfg["idle_conns"], cfg["warmup"])
            if spy is not None:
                try:
                    spy.wait(30)
                except subprocess.TimeoutExpired:
                    stop(spy)
                if folded.exists():
                    txt = folded.with_suffix(".txt")
                    txt.write_text(profile.top(folded))
                    res["profile"] = str(txt.relative_to(ROOT))
                    log(f"[bench] profile: {txt}")
    except ServerFailed as e:
        res = {"ok": False, "errors": [str(e)], "server_failed": True}
    rec.update(res)
    rec["wall"] = round(time.monotonic() - t0, 2)
    cpu = rec.get("cpu") or {}
    other = cpu.get("other_load") or {}
    # resident memory does not depend on CPU contention: the memory cases are never "noisy"
    rec["noisy"] = case.kind in ("http", "ws") and bool(
        pre["busy_max"] > NOISY_PRE_BUSY or any(v > NOISY_OTHER for v in other.values()))
    rec["client_bound"] = bool(cpu.get("client", 0) >= 0.95 and cpu.get("server", 1) < 0.9)
    return rec


def noise_score(rec: dict) -> float:
    other = (rec.get("cpu") or {}).get("other_load") or {}
    return max(list(other.values()) + [rec.get("pre", {}).get("busy_max", 0) * 0.5])


def run(cfg: dict) -> dict:
    sysinfo.raise_nofile()
    cases = [CASES[c] for c in cfg["cases"]]
    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    log_dir = RESULTS / f"logs-{stamp}"
    plan = []                 # (case, [servers that apply])
    skipped = []
    failures = []
    for case in cases:
        servers = []
        for name in cfg["servers"]:
            spec = SERVERS[name]
            if case.role not in spec.roles:
                continue
            only = cfg.get("only_cases", {}).get(name)
            if only and case.name not in only:
                continue
            status, reason = availability(spec, case)
            if status == "ok":
                servers.append(spec)
            else:
                skipped.append({"case": case.name, "server": name, "status": status, "reason": reason})
                log(f"[bench] skip {case.name} / {name}: {status} ({reason})")
                if status == "broken" or (cfg["require_ours"] and spec.ours):
                    failures.append(f"{case.name} / {name}: {status}: {reason}")
        if servers:
            plan.append((case, servers))
    runs = []
    total = sum(len(s) for _, s in plan) * cfg["reps"]
    n = 0
    for rep in range(cfg["reps"]):
        for case, servers in plan:
            k = rep % len(servers)
            order = servers[k:] + servers[:k]      # interleaved: the order rotates every repetition
            for spec in order:
                n += 1
                tries = []
                for attempt in range(1 + cfg.get("retry_noisy", 0)):
                    rec = one(case, spec, cfg, rep, log_dir)
                    rec["attempt"] = attempt + 1
                    tries.append(rec)
                    if not rec.get("ok") or not rec.get("noisy"):
                        break
                    if attempt < cfg.get("retry_noisy", 0):
                        log(f"[bench]   noisy ({noise_score(rec):.2f} of a core taken by others): measuring again")
                if len(tries) > 1:
                    keep = min(tries, key=noise_score) if all(t.get("ok") for t in tries) else tries[-1]
                    for t in tries:
                        t["superseded"] = t is not keep
                    rec = keep
                runs.extend(tries)
                val = rec.get("rate")
                flag = ("" if rec.get("ok") else " FAILED: " + "; ".join(rec.get("errors", [])[:3])) + \
                    (" [noisy]" if rec.get("noisy") else "") + (" [client-bound]" if rec.get("client_bound") else "")
                cpu = rec.get("cpu") or {}
                log(f"[bench] {n}/{total} rep {rep + 1} {case.name:15s} {spec.name:14s} "
                    f"{(f'{val:,.3f}' if isinstance(val, float) and val < 100 else f'{val:,.0f}') if val is not None else '-':>12} "
                    f"{case.unit:8s} cpu server {cpu.get('server', '-')} client {cpu.get('client', '-')}"
                    f" other {cpu.get('other_load', '-')} pre {rec['pre']['busy_max']:.2f} ({rec['wall']} s){flag}")
                if not rec.get("ok"):
                    failures.append(f"{case.name} / {spec.name} rep {rep + 1}: " + "; ".join(rec.get("errors", [])[:3]))
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except Exception:  # noqa: BLE001
        commit = None
    result = {
        "mode": cfg["mode"], "commit": commit, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": sysinfo.machine_info(), "config": {k: v for k, v in cfg.items()},
        "runs": runs, "skipped": skipped, "failures": failures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}-{cfg['mode']}.json"
    path.write_text(json.dumps(result, indent=1))
    latest = RESULTS / ("latest.json" if cfg["mode"] == "full" else f"latest-{cfg['mode']}.json")
    latest.write_text(json.dumps(result, indent=1))
    result["path"] = str(path)
    return result
