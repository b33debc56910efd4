"""Helpers for the scale-out tests: the test app (or ``python -m kitura``) as a
subprocess, with its output collected and every wait bounded."""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("app.py")


class AppProcess:
    """tests/scale/app.py in a subprocess (its own process group); ``close()`` kills it.

    ``AppProcess(workers)`` runs the app, which writes its port to a file;
    ``AppProcess.cli(*args)`` runs ``python -m kitura *args`` and reads the port from
    the "Listening on port N" line (``uds=path`` for a Unix socket: no port).
    """

    def __init__(self, workers: str = "1", timeout: float = 20.0, *, cli: list[str] | None = None,
                 uds: str | None = None, env: dict[str, str] | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        fd, self.port_file = tempfile.mkstemp(prefix="kitura-port-")
        os.close(fd)
        self.uds = uds
        self.ssl_context = ssl_context
        argv = [sys.executable, "-m", "kitura", *cli] if cli is not None else [
            sys.executable, str(APP), self.port_file, workers]
        self.proc = subprocess.Popen(argv, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1",
                                                              **(env or {})), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._out: list[bytes] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if cli is None:
                text = Path(self.port_file).read_text().strip()
                self.port = int(text) if text.isdigit() else 0
            else:
                found = re.search(r"Listening on port (\d+)", self.output())
                self.port = int(found.group(1)) if found else 0
            if self.port or (uds and "Worker 1 started" in self.output()):
                break
            time.sleep(0.05)
        if not self.port and not (uds and "Worker 1 started" in self.output()):
            self.close()
            raise AssertionError(f"the app did not start: {self.output()}")

    @classmethod
    def cli(cls, *args: str, uds: str | None = None) -> "AppProcess":
        return cls(cli=list(args), uds=uds)

    def get(self, path: str, timeout: float = 10.0) -> str:
        if self.uds:
            conn: http.client.HTTPConnection = _UnixConnection(self.uds, timeout)
        elif self.ssl_context is not None:
            conn = http.client.HTTPSConnection("localhost", self.port, timeout=timeout, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            reply = conn.getresponse()
            body = reply.read().decode()
            assert reply.status == 200, f"GET {path}: {reply.status} {body!r}"
            return body
        finally:
            conn.close()

    def pids(self, want: int, timeout: float = 15.0) -> set[str]:
        """Ask /pid on fresh connections until ``want`` distinct processes answered
        (a worker just forked may need a moment before it accepts), or ``timeout``."""
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < want and time.monotonic() < deadline:
            seen.add(self.get("/pid"))
            if len(seen) < want:
                time.sleep(0.005)
        return seen

    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):  # type: ignore[union-attr]
            with self._cond:
                self._out.append(line)
                self._cond.notify_all()

    def output(self) -> str:
        with self._cond:
            return b"".join(self._out).decode("utf-8", "replace")

    def wait_output(self, text: str, timeout: float = 15.0) -> str:
        """Wait until the process has printed ``text``; fail after ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: text in b"".join(self._out).decode("utf-8", "replace"), timeout):
                raise AssertionError(f"no {text!r} within {timeout} s in: {self.output()}")
        return self.output()

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        Path(self.port_file).unlink(missing_ok=True)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)
