"""Fixtures for the end-to-end tests of the chat examples with real clients.

The chat server (examples/chat/main.py or examples/chat-web/main.py) runs as a
subprocess on a free port (its PORT environment variable), exactly as a user
runs it. Clients are the tutorial's Node.js client (examples/chat/client/chat.js,
with its npm dependencies installed by `npm ci` when node_modules is missing)
and headless Chromium.

Every wait is bounded and every process started here is killed in teardown.
The tests skip only where `node`/`npm` or `chromium` cannot be found.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
CHAT_DIR = REPO / "examples" / "chat"
CHAT_WEB_DIR = REPO / "examples" / "chat-web"
CLIENT_DIR = CHAT_DIR / "client"

NPM_CI_TIMEOUT = 300.0
SERVER_START_TIMEOUT = 30.0
DEFAULT_WAIT = 15.0


def free_port() -> int:
    """A TCP port that was free a moment ago (bind to port 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OutputReader:
    """Collects what a pipe prints, from a background thread, for bounded waits."""

    def __init__(self, stream, name: str) -> None:
        self.name = name
        self._stream = stream
        self._chunks: list[str] = []
        self._cond = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._run, name=f"reader-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                data = self._stream.read1(65536) if hasattr(self._stream, "read1") else self._stream.read(4096)
                if not data:
                    break
                with self._cond:
                    self._chunks.append(data.decode("utf-8", "replace"))
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    @property
    def text(self) -> str:
        with self._cond:
            return "".join(self._chunks)

    def wait_for(self, predicate: Callable[[str], bool] | str, timeout: float = DEFAULT_WAIT) -> str:
        """Wait until predicate(text) is true (or the substring appears); fail after timeout."""
        if isinstance(predicate, str):
            needle = predicate
            predicate = lambda text: needle in text  # noqa: E731
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = "".join(self._chunks)
                if predicate(text):
                    return text
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    if predicate("".join(self._chunks)):
                        return "".join(self._chunks)
                    state = "stream closed" if self.closed else f"timed out after {timeout}s"
                    raise AssertionError(f"{self.name}: {state} waiting for output; it printed:\n{text!r}")
                self._cond.wait(min(remaining, 0.5))


class Proc:
    """A subprocess with its stdout and stderr collected by OutputReaders."""

    def __init__(self, args: list[str], name: str, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None, stdin: bool = False) -> None:
        self.name = name
        self.args = args
        self.popen = subprocess.Popen(
            args, cwd=cwd, env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.stdout = OutputReader(self.popen.stdout, f"{name} stdout")
        self.stderr = OutputReader(self.popen.stderr, f"{name} stderr")

    def type_line(self, line: str) -> None:
        assert self.popen.stdin is not None, f"{self.name} has no stdin"
        self.popen.stdin.write((line + "\n").encode("utf-8"))
        self.popen.stdin.flush()

    def describe(self) -> str:
        return (f"--- {self.name} (exit {self.popen.poll()}) stdout:\n{self.stdout.text}\n"
                f"--- {self.name} stderr:\n{self.stderr.text}")

    def kill(self) -> None:
        """Terminate, then kill, the process and its process group; bounded."""
        if self.popen.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


@pytest.fixture
def procs(request) -> Iterator[list[Proc]]:
    """Every process a test starts goes in this list; all are killed at teardown.

    When the test failed, their output is printed to help debugging."""
    started: list[Proc] = []
    yield started
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for proc in reversed(started):
        proc.kill()
    if failed:
        for proc in started:
            sys.stderr.write(proc.describe() + "\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


def start_chat_server(procs: list[Proc], example_dir: Path) -> tuple[Proc, int]:
    """Run `python <example_dir>/main.py` on a free port; wait for Kitura's
    'Listening on port N' line on stderr."""
    port = free_port()
    env = dict(os.environ, PORT=str(port), PYTHONUNBUFFERED="1")
    server = Proc([sys.executable, str(example_dir / "main.py")], f"server {example_dir.name}:{port}",
                  cwd=REPO, env=env)
    procs.append(server)
    needle = f"Listening on port {port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while needle not in server.stderr.text:
        if server.popen.poll() is not None:
            time.sleep(0.2)  # let the readers drain
            pytest.fail(f"the chat server exited before listening:\n{server.describe()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {needle!r} line within {SERVER_START_TIMEOUT}s:\n{server.describe()}")
        time.sleep(0.05)
    return server, port


@pytest.fixture
def chat_server(procs) -> tuple[Proc, int]:
    return start_chat_server(procs, CHAT_DIR)


@pytest.fixture
def chat_web_server(procs) -> tuple[Proc, int]:
    return start_chat_server(procs, CHAT_WEB_DIR)


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with the client's npm dependencies installed."""
    node_exe = shutil.which("node")
    npm_exe = shutil.which("npm")
    if node_exe is None or npm_exe is None:
        pytest.skip("Node.js (node and npm) not found")
    if not (CLIENT_DIR / "node_modules" / "websocket").is_dir():
        try:
            result = subprocess.run(
                [npm_exe, "ci", "--no-audit", "--no-fund"], cwd=CLIENT_DIR,
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=NPM_CI_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm ci in {CLIENT_DIR} took more than {NPM_CI_TIMEOUT}s")
        if result.returncode != 0:
            pytest.fail(f"npm ci in {CLIENT_DIR} failed ({result.returncode}):\n"
                        f"{result.stdout}\n{result.stderr}")
    return node_exe


def start_node_chat_client(procs: list[Proc], node: str, port: int, name: str) -> Proc:
    """`node chat.js localhost:PORT`, as the tutorial runs it; wait until connected.

    The client prints its "> " prompt once at start and again on 'connect'
    (it only listens to stdin lines once connected), so two prompts mean
    the WebSocket is open."""
    client = Proc([node, "chat.js", f"localhost:{port}"], name, cwd=CLIENT_DIR, stdin=True)
    procs.append(client)
    try:
        client.stdout.wait_for(lambda text: text.count("> ") >= 2 or "Error" in text)
    except AssertionError:
        pytest.fail(f"{name} did not connect:\n{client.describe()}")
    assert "Error" not in client.stdout.text, client.describe()
    return client


@pytest.fixture(scope="session")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("Chromium not found (Debian: apt-get install -y chromium)")
