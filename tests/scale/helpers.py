"""Helpers for the scale-out tests: start a test app as a subprocess, bounded waits."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("app.py")


class AppProcess:
    """tests/scale/app.py in a subprocess (its own process group); ``close()`` kills it."""

    def __init__(self, workers: str = "1", timeout: float = 20.0) -> None:
        fd, self.port_file = tempfile.mkstemp(prefix="kitura-port-")
        os.close(fd)
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, str(APP), self.port_file, workers], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._out: list[bytes] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        self.port = 0
        while time.monotonic() < deadline:
            text = Path(self.port_file).read_text().strip()
            if text.isdigit():
                self.port = int(text)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            self.close()
            raise AssertionError(f"the app did not start: {self.output()}")

    def get(self, path: str, timeout: float = 10.0) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as reply:
            return reply.read().decode()

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
