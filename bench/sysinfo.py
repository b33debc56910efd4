"""Machine facts, versions and CPU accounting (Linux /proc; stdlib only)."""
from __future__ import annotations

import json
import os
import pathlib
import platform
import resource
import shutil
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def core_times() -> dict[str, tuple[int, int]]:
    """{'cpu0': (busy, total), ...} in jiffies, from /proc/stat."""
    out = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *vals = line.split()
                    vals = [int(v) for v in vals[:8]]
                    # user nice system idle iowait irq softirq steal: "busy" leaves out
                    # idle and iowait, and irq/softirq too (loopback traffic's own
                    # packet processing, which the kernel may not charge to our processes)
                    total = sum(vals)
                    busy = vals[0] + vals[1] + vals[2] + vals[7]
                    out[name] = (busy, total)
    except OSError:
        pass
    return out


def busy_fractions(a: dict, b: dict) -> dict[str, float]:
    out = {}
    for name in b:
        if name in a:
            db = b[name][0] - a[name][0]
            dt = b[name][1] - a[name][1]
            out[name] = db / dt if dt > 0 else 0.0
    return out


def sample_idle(seconds: float = 1.0) -> dict:
    """Busy fraction of every core over `seconds`, and the load average."""
    a = core_times()
    time.sleep(seconds)
    b = core_times()
    busy = busy_fractions(a, b)
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"busy": {k: round(v, 3) for k, v in busy.items()}, "loadavg": [round(x, 2) for x in load]}


class CpuWindow:
    """CPU used by the server and the load generator over a measured window,
    and the load of everything else on their two cores (the noise)."""

    def __init__(self, server_pid: int | None, client_pid: int | None,
                 server_core: str = "cpu0", client_core: str = "cpu1"):
        self.server_pid, self.client_pid = server_pid, client_pid
        self.server_core, self.client_core = server_core, client_core

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.cores0 = core_times()
        self.s0 = proc_cpu_seconds(self.server_pid) if self.server_pid else None
        self.c0 = proc_cpu_seconds(self.client_pid) if self.client_pid else None

    def stop(self) -> dict:
        dt = time.monotonic() - self.t0
        cores1 = core_times()
        s1 = proc_cpu_seconds(self.server_pid) if self.server_pid else None
        c1 = proc_cpu_seconds(self.client_pid) if self.client_pid else None
        busy = busy_fractions(self.cores0, cores1)
        out: dict = {"seconds": round(dt, 3)}
        if s1 is not None and self.s0 is not None and dt > 0:
            out["server"] = round((s1 - self.s0) / dt, 3)
        if c1 is not None and self.c0 is not None and dt > 0:
            out["client"] = round((c1 - self.c0) / dt, 3)
        if busy:
            out["core_busy"] = {k: round(v, 3) for k, v in busy.items()}
            other = {}
            if self.server_core in busy and "server" in out:
                other[self.server_core] = round(max(0.0, busy[self.server_core] - out["server"]), 3)
            if self.client_core in busy and "client" in out:
                other[self.client_core] = round(max(0.0, busy[self.client_core] - out["client"]), 3)
            out["other_load"] = other
        return out


def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version
        return version(mod)
    except Exception:
        return None


def _node_versions() -> dict:
    """node's version and those of bench/node's packages (ws, bufferutil) as installed."""
    out: dict = {}
    node = shutil.which("node")
    if node:
        try:
            out["node"] = subprocess.run([node, "--version"], capture_output=True, text=True,
                                         timeout=5).stdout.strip().lstrip("v") or None
        except Exception:
            out["node"] = None
    for pkg in ("ws", "bufferutil"):
        meta = pathlib.Path(__file__).parent / "node" / "node_modules" / pkg / "package.json"
        if meta.exists():
            out[f"{pkg} (npm)"] = json.loads(meta.read_text()).get("version")
    return out


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    wrk = shutil.which("wrk")
    wrk_version = None
    if wrk:
        try:
            r = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=5)
            wrk_version = (r.stdout + r.stderr).splitlines()[0].strip()
        except Exception:
            pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": round(mem_kib / 1024 / 1024, 1) if mem_kib else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": {m: _version(m) for m in
                     ("kitura", "uvloop", "httptools", "uvicorn", "aiohttp", "websockets", "picows",
                      "socketify", "granian", "matplotlib")} | _node_versions(),
        "wrk": wrk_version,
        "taskset": bool(shutil.which("taskset")),
    }
