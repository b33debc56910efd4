"""Worker processes: ``Kitura.run(workers=N)``, the supervisor, ``python -m kitura``."""

from __future__ import annotations

import http.client
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from kitura.net.listener_group import resolve_workers
from tests.scale.helpers import REPO, AppProcess


@pytest.fixture
def app2():
    app = AppProcess(workers="2")
    try:
        yield app
    finally:
        app.close()


def _worker_pids(app: AppProcess) -> set[str]:
    return set(re.findall(r"Worker \d+ started \(pid (\d+)\)", app.output()))


def test_resolve_workers() -> None:
    assert resolve_workers(1) == 1
    assert resolve_workers(3) == 3
    assert resolve_workers("auto") == len(os.sched_getaffinity(0))
    for bad in (0, -1, "4", 2.0, True):
        with pytest.raises(ValueError, match="workers must be"):
            resolve_workers(bad)


def test_two_workers_serve_one_port(app2: AppProcess) -> None:
    app2.wait_output("Worker 1 started")
    pids = app2.pids(2)
    assert pids == _worker_pids(app2)
    assert str(app2.proc.pid) not in pids  # the supervisor serves nothing itself


def test_a_killed_worker_is_replaced(app2: AppProcess) -> None:
    app2.wait_output("Worker 1 started")
    victim = int(sorted(_worker_pids(app2))[0])
    os.kill(victim, signal.SIGKILL)
    app2.wait_output("was killed by SIGKILL; starting a new one")
    deadline = time.monotonic() + 15
    while len(_worker_pids(app2)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = _worker_pids(app2)
    assert len(pids) == 3
    alive = app2.pids(2)
    assert alive == pids - {str(victim)}
    with connect(f"ws://127.0.0.1:{app2.port}/echo", open_timeout=10) as ws:
        ws.send("again")
        assert ws.recv(timeout=10).endswith(":again")


def test_sigterm_drains_every_worker(app2: AppProcess) -> None:
    app2.wait_output("Worker 1 started")
    with ExitStack() as stack:
        clients, served_by = [], set()
        deadline = time.monotonic() + 15
        while len(served_by) < 2 and time.monotonic() < deadline:  # until both workers hold a client
            ws = stack.enter_context(connect(f"ws://127.0.0.1:{app2.port}/echo", open_timeout=10))
            ws.send("who")
            served_by.add(ws.recv(timeout=10).split(":")[0])
            clients.append(ws)
        assert served_by == _worker_pids(app2)
        answers: list[str] = []
        slow = threading.Thread(target=lambda: answers.append(app2.get("/slow?s=1.0")))
        slow.start()
        app2.wait_output("slow started")
        app2.proc.send_signal(signal.SIGTERM)
        for ws in clients:
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
            assert ws.close_code == 1001
        slow.join(15)
        assert answers == ["slow done"]
        assert app2.wait(20) == 0
        out = app2.wait_output("main returned")
        assert out.count("exited with status 0") == 2, out


@pytest.mark.parametrize("extra", [[], ["--reuse-port"]], ids=["shared-socket", "reuse-port"])
def test_command_line_serves_a_router_from_workers(extra: list[str]) -> None:
    app = AppProcess.cli("tests.scale.app:router", "--port", "0", "--workers", "2", "--shutdown-timeout", "3", *extra)
    try:
        app.wait_output("Worker 1 started")
        assert len(app.pids(2)) == 2
        app.proc.send_signal(signal.SIGTERM)
        assert app.wait(20) == 0
    finally:
        app.close()


def test_workers_serve_a_unix_domain_socket(tmp_path) -> None:
    path = str(tmp_path / "kitura.sock")
    app = AppProcess.cli("tests.scale.app:router", "--uds", path, "--workers", "2", uds=path)
    try:
        assert len(app.pids(2)) == 2
        app.proc.send_signal(signal.SIGTERM)
        assert app.wait(20) == 0
    finally:
        app.close()


def test_workers_serve_tls(tmp_path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    app = AppProcess(workers="2", env={"TLS_CERT": str(cert_file), "TLS_KEY": str(key_file)}, ssl_context=client)
    try:
        app.wait_output("Worker 1 started")
        assert len(app.pids(2)) == 2
        app.proc.send_signal(signal.SIGTERM)
        assert app.wait(20) == 0
    finally:
        app.close()


def test_command_line_refuses_what_is_not_an_app() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for spec, message in (("tests.scale.app:nothing", "has no attribute"), ("tests.scale.app:os", "not a Router"),
                          ("no_such_module_x:app", "cannot import"), ("tests.scale.app", "expected module:attr")):
        done = subprocess.run([sys.executable, "-m", "kitura", spec], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode != 0
        assert message in done.stderr, done.stderr


def test_the_supervisor_gives_up_on_a_restart_loop(app2: AppProcess) -> None:
    """Workers that keep dying (more than max(5, N) restarts in 30 s): stop, exit 1."""
    app2.wait_output("Worker 1 started")
    killed: set[str] = set()
    deadline = time.monotonic() + 30
    while "giving up" not in app2.output():
        assert time.monotonic() < deadline, app2.output()
        for pid in _worker_pids(app2) - killed:
            killed.add(pid)
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    assert app2.wait(20) == 1
    assert len(killed) >= 6



def test_sessions_in_redis_follow_the_client_across_workers(redis_server) -> None:
    """The session store and the rooms share one Redis: with workers, sessions must live
    there (an InMemoryStore is per worker)."""
    app = AppProcess(cli=["tests.scale.session_app:router", "--port", "0", "--workers", "2"],
                     env={"REDIS_URL": redis_server.url})
    try:
        app.wait_output("Worker 1 started")
        cookie = None
        seen: list[tuple[str, int]] = []
        deadline = time.monotonic() + 15
        while len({pid for pid, _ in seen}) < 2 or len(seen) < 4:
            assert time.monotonic() < deadline, seen
            conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
            conn.request("GET", "/count", headers={"Cookie": cookie} if cookie else {})
            reply = conn.getresponse()
            pid, n = reply.read().decode().split(":")
            cookie = cookie or reply.getheader("Set-Cookie", "").split(";")[0]
            conn.close()
            seen.append((pid, int(n)))
        assert [n for _, n in seen] == list(range(1, len(seen) + 1))  # one session, on both workers
    finally:
        app.close()


_SIGTERM_WHILE_FORKING = """
import os, signal, sys, time
from kitura.net import supervisor as sv
from kitura.net.listener_group import ListenerGroup
real_fork = os.fork
forks = []
def fork():
    pid = real_fork()
    if pid != 0:
        forks.append(pid)
        if len(forks) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # pending until the spawn unblocks signals
    return pid
sv.os.fork = fork
code = sv._Supervisor([], 3, lambda: (time.sleep(0.3), ListenerGroup.wait_for_listeners())).run()
print("forks", len(forks), "code", code)
"""

_SIGTERM_WHILE_THE_WORKER_STARTS = """
import os, signal, sys, threading, time
from kitura.net import supervisor as sv
from kitura.net.listener_group import ListenerGroup
marker = sys.argv[1]
def wait():
    time.sleep(1.0)  # the worker is still starting when the SIGTERM comes
    ListenerGroup.wait_for_listeners()
    with open(marker, "w") as f:
        f.write("drained")
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
print("code", sv._Supervisor([], 1, wait).run())
"""


def _run_script(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=30,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_sigterm_while_forking_forks_no_more_workers() -> None:
    assert _run_script(_SIGTERM_WHILE_FORKING).split() == ["forks", "1", "code", "0"]


def test_a_sigterm_while_a_worker_starts_waits_for_its_graceful_handler(tmp_path) -> None:
    marker = tmp_path / "drained"
    assert _run_script(_SIGTERM_WHILE_THE_WORKER_STARTS, str(marker)).split() == ["code", "0"]
    assert marker.read_text() == "drained"  # not killed by SIGTERM's default action
