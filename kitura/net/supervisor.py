"""Worker processes on one port, and the supervisor that keeps them running.

``ListenerGroup.wait_for_listeners(workers=N)`` (and ``Kitura.run(workers=N)``) come
here once the servers are bound in this process. The order makes forking safe: the
servers hand over their listening sockets, the background loop thread and the worker
pool are stopped (``release_loop``), and only then are the workers forked; each starts
its own loop and worker threads and serves the inherited sockets. What the program did
before (routes, WebSocket services) is inherited, not run again.

The sockets are shared: every worker accepts from the same listening socket. With
``server.allow_port_reuse`` each worker has its own SO_REUSEPORT socket instead and
the kernel spreads connections by a hash of the client's address and port (see
docs/scaling.md for which spreads WebSocket connections more evenly here).

The supervisor (this process) restarts a worker that dies, logging it, and gives up
when workers die too often (more than ``max(5, N)`` restarts within 30 s: it stops the
others and exits 1). SIGTERM and SIGINT are passed to the workers as SIGTERM: each
drains (``HTTPServer.stop(graceful=True)``) and exits 0; the supervisor returns once
all have. Workers ignore SIGINT themselves, so Ctrl-C in a terminal, which signals the
whole process group, drains once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional

from .loop import get_loop, release_loop, run_in_loop

if TYPE_CHECKING:
    from .server import HTTPServer

__all__ = ["serve_in_workers", "worker_index", "unblock_stop_signal"]

_log = logging.getLogger("kitura.net")

RESTART_WINDOW = 30.0
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}

# In a worker: its index (0..N-1); None in the supervisor or a single process.
_worker_index: Optional[int] = None


def worker_index() -> Optional[int]:
    """This process's worker number (0..N-1), or None outside a worker process."""
    return _worker_index


class _Listener:
    """One server's part of the plan: the listening sockets of each worker.

    Shared (the default): every worker gets the same sockets. SO_REUSEPORT
    (``allow_port_reuse``): one socket set per worker, bound here before the fork while
    the server's own socket (itself SO_REUSEPORT) still holds the port, so no connection
    is refused meanwhile; the supervisor keeps them all, so the connections the kernel
    hashes to a dead worker wait in its socket's backlog for the replacement.
    """

    def __init__(self, server: "HTTPServer", count: int) -> None:
        self.server = server
        sockets = server.hand_over_sockets()
        self.reuse_port = server.allow_port_reuse and server.unix_domain_socket_path is None
        if self.reuse_port:
            # Worker 0 takes the server's own sockets (and the connections already in
            # their backlog); the others get new ones in the same SO_REUSEPORT group.
            addresses = [(sock.family, sock.getsockname()) for sock in sockets]
            self.per_worker = [sockets] + [[_bind_reuse_port(family, address) for family, address in addresses]
                                           for _ in range(count - 1)]
        else:
            self.per_worker = [sockets]

    def worker_sockets(self, index: int) -> list[socket.socket]:
        """Worker ``index``'s sockets; the others' are closed (in the worker)."""
        if not self.reuse_port:
            return self.per_worker[0]
        for other, sockets in enumerate(self.per_worker):
            if other != index:
                for sock in sockets:
                    sock.close()
        return self.per_worker[index]

    def close(self) -> None:
        for sockets in self.per_worker:
            for sock in sockets:
                sock.close()


def _bind_reuse_port(family: int, address: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind(address)
    sock.listen(1024)
    return sock


def serve_in_workers(servers: list["HTTPServer"], count: int, wait_in_worker: Callable[[], Any]) -> None:
    """Serve ``servers`` (listening here) from ``count`` forked workers until they have
    all exited; raises SystemExit(1) when the supervisor gave up on restarting them.
    A worker serves until ``wait_in_worker()`` returns (``ListenerGroup.wait_for_listeners``)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("workers are forked from the main thread: call wait_for_listeners(workers=N) there")
    if not hasattr(os, "fork"):
        raise RuntimeError("workers need os.fork (POSIX)")
    if not servers:
        return
    listeners = [_Listener(server, count) for server in servers]
    release_loop()
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    if others:
        _log.warning("Forking workers while other threads run (%s): they do not exist in the workers", ", ".join(others))
    supervisor = _Supervisor(listeners, count, wait_in_worker)
    try:
        code = supervisor.run()
    finally:
        for listener in listeners:
            listener.close()
            listener.server.note_stopped()
    if code:
        raise SystemExit(code)


class _Supervisor:
    def __init__(self, listeners: list[_Listener], count: int, wait_in_worker: Callable[[], Any]) -> None:
        self.listeners = listeners
        self.wait_in_worker = wait_in_worker
        self.count = count
        self.children: dict[int, int] = {}  # pid -> worker index
        self.stopping = False
        self.restart_limit = max(5, count)
        self.restarts: deque[float] = deque()

    def run(self) -> int:
        previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        code = 0
        try:
            for index in range(self.count):
                if self.stopping:  # a SIGTERM while starting: fork no more
                    break
                self._spawn(index)
            while self.children:
                try:
                    pid, status = os.waitpid(-1, 0)
                except ChildProcessError:
                    break
                index = self.children.pop(pid, None)
                if index is None:
                    continue
                if self.stopping:
                    _log.info("Worker %d (pid %d) %s", index, pid, _describe(status))
                    continue
                _log.warning("Worker %d (pid %d) %s; starting a new one", index, pid, _describe(status))
                now = time.monotonic()
                self.restarts.append(now)
                while self.restarts and now - self.restarts[0] > RESTART_WINDOW:
                    self.restarts.popleft()
                if len(self.restarts) > self.restart_limit:
                    _log.error("Workers died %d times within %g s: giving up, stopping the others",
                               len(self.restarts), RESTART_WINDOW)
                    code = 1
                    self._stop_all()
                    continue
                if not self.stopping:
                    self._spawn(index)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        _log.info("All workers have exited")
        return code

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self.stopping:
            _log.info("Signal %d: the workers are already draining", signum)
            return
        _log.info("%s: draining %d worker(s)", signal.Signals(signum).name, len(self.children))
        self._stop_all()

    def _stop_all(self) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _spawn(self, index: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        # Signals wait until each side has its handlers: a SIGTERM landing in the child
        # before it resets them would run the supervisor's handler there.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            if self.stopping:  # checked with the signals blocked: no SIGTERM between it and the fork
                return
            pid = os.fork()
            if pid == 0:
                _worker_main(index, self.listeners, self.wait_in_worker)  # never returns
            self.children[pid] = index
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        _log.info("Worker %d started (pid %d)", index, pid)


def unblock_stop_signal() -> None:
    """Let SIGTERM in (a worker keeps it blocked until its graceful handler is set);
    one that came meanwhile is handled now. Nothing outside a worker."""
    if _worker_index is not None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def _worker_main(index: int, listeners: list[_Listener], wait: Callable[[], Any]) -> None:
    global _worker_index
    _worker_index = index
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor passes Ctrl-C on as SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # SIGTERM stays blocked until ``wait`` has its graceful handler in place
    # (``unblock_stop_signal``): one arriving while the worker starts drains it too.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    code = 0
    try:
        loop = get_loop()
        for listener in listeners:
            run_in_loop(listener.server.serve_sockets(listener.worker_sockets(index)), loop)
        wait()
    except BaseException:  # noqa: BLE001 - reported, then the process ends
        _log.exception("Worker %d failed", index)
        code = 1
    finally:
        for handler in logging.getLogger().handlers + logging.getLogger("kitura").handlers:
            try:
                handler.flush()
            except Exception:  # noqa: BLE001
                pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
