"""Optional profiling of a server during a measurement, with py-spy
(``pip install py-spy``): ``python -m bench --profile --servers kitura-async``.

py-spy samples the server process (all threads, without pausing it) while
the load runs; the folded stacks are kept under bench/results/ and the top
entries (own time, and time including callees) are written next to them.
Profiled measurements run slower: their numbers are for reading the profile,
not for the tables."""
from __future__ import annotations

import collections
import pathlib
import shutil
import subprocess
import sys


def py_spy() -> str | None:
    exe = shutil.which("py-spy")
    if exe:
        return exe
    cand = pathlib.Path(sys.executable).parent / "py-spy"
    return str(cand) if cand.exists() else None


def start(pid: int, seconds: float, out: pathlib.Path) -> subprocess.Popen | None:
    exe = py_spy()
    if exe is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                             "--rate", "250", "--nonblocking", "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _function(frame: str) -> str:
    """'send (kitura/websocket/connection.py:200)' -> 'send (kitura/websocket/connection.py)'"""
    head, sep, tail = frame.rpartition(":")
    return head + ")" if sep and tail.rstrip(")").isdigit() else frame


def top(folded: pathlib.Path, n: int = 20) -> str:
    own: collections.Counter = collections.Counter()
    own_line: collections.Counter = collections.Counter()
    incl: collections.Counter = collections.Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        total += c
        frames = stack.split(";")
        own_line[frames[-1]] += c
        own[_function(frames[-1])] += c
        for f in {_function(f) for f in frames}:
            incl[f] += c
    if not total:
        return "(no samples)"
    lines = [f"{total} samples (py-spy, Python frames only: time in C, e.g. transport.write, shows as "
             f"the line that called it)", "", "own time, by function:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(n)]
    lines += ["", "own time, by line:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own_line.most_common(n)]
    lines += ["", "including callees, by function:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in incl.most_common(n)]
    return "\n".join(lines) + "\n"
