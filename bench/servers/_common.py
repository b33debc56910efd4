"""Shared helpers of the server scripts (stdlib only)."""
from __future__ import annotations

import argparse
import os
import resource
import signal
import sys

HELLO = b"Hello, World!"
HELLO_STR = "Hello, World!"


def raise_nofile() -> None:
    """Raise RLIMIT_NOFILE to the hard limit (10,000 idle connections need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def parse_args(modes: tuple[str, ...] = ("all",)) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--mode", default=modes[0], choices=modes)
    args = p.parse_args()
    raise_nofile()
    # Die quietly on SIGTERM/SIGINT (the harness stops servers with SIGTERM).
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    return args


def ready(port: int) -> None:
    print(f"READY {port}", flush=True)
    sys.stdout.flush()
