"""``ListenerGroup``: wait until every listening server has stopped.

``wait_for_listeners()`` also turns SIGTERM and Ctrl-C into a graceful stop (see
``HTTPServer.stop(graceful=True)``), and with ``workers=N`` hands the bound servers
to N worker processes under a supervisor (``kitura.net.supervisor``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import signal
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

from .supervisor import serve_in_workers, unblock_stop_signal

if TYPE_CHECKING:
    from .server import HTTPServer

__all__ = ["ListenerGroup"]

_log = logging.getLogger("kitura.net")


class _StopSignal(BaseException):
    """Raised in the main thread by the SIGTERM handler while it waits for the servers."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum: int, _frame: Any) -> None:
    signal.signal(signum, _ignore_during_stop)  # a second SIGTERM must not end the drain
    raise _StopSignal(signum)


def _ignore_during_stop(signum: int, _frame: Any) -> None:
    _log.info("Signal %d: already stopping", signum)


@contextmanager
def _signals(handler: Any, *, sigint: bool) -> Iterator[None]:
    """Route SIGTERM (and SIGINT when ``sigint``) to ``handler`` in the main thread, restoring
    the previous handlers afterwards. A SIGTERM handler the program set itself is kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT) if sigint else (signal.SIGTERM,):
        current = signal.getsignal(signum)
        if signum == signal.SIGTERM and current not in (signal.SIG_DFL, _raise_stop, _ignore_during_stop):
            continue
        saved[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)


def resolve_workers(workers: Union[int, str, None]) -> int:
    """``workers`` as a count: an int >= 1, or ``"auto"`` for the machine's cores."""
    if workers is None:
        return 1
    if workers == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1 or 'auto', not {workers!r}")
    return workers


class ListenerGroup:
    """Kitura's ``ListenerGroup.waitForListeners()``."""

    _servers: set["HTTPServer"] = set()
    _condition = threading.Condition()

    @classmethod
    def wait_for_listeners(cls, timeout: Optional[float] = None, *,
                           workers: Union[int, str] = 1) -> bool:
        """Block until every server has stopped (or ``timeout`` seconds); True if all stopped.

        SIGTERM and Ctrl-C stop every server gracefully (``HTTPServer.stop(graceful=True)``)
        and return True, so a program ending in ``wait_for_listeners()`` exits 0, as a
        Kitura server does. ``workers=N`` (or ``"auto"``: one per core) serves the
        listening servers from N worker processes and returns when they have all exited
        (``timeout`` does not apply then); see docs/scaling.md.
        """
        count = resolve_workers(workers)
        if count > 1:
            serve_in_workers(list(cls._servers), count, cls.wait_for_listeners)
            return True
        with _signals(_raise_stop, sigint=False):
            try:
                if threading.current_thread() is threading.main_thread():
                    unblock_stop_signal()  # a worker's SIGTERM waited for this handler
                with cls._condition:
                    return cls._condition.wait_for(lambda: not cls._servers, timeout)
            except (KeyboardInterrupt, _StopSignal) as exc:
                name = "SIGTERM" if isinstance(exc, _StopSignal) else "Interrupted"
                _log.info("%s: stopping %d server(s) gracefully", name, len(cls._servers))
                cls.stop_all(graceful=True)
                return True

    @classmethod
    def stop_all(cls, *, graceful: bool = False) -> None:
        """Stop every listening server at once (graceful: drained in parallel); returns when done."""
        with _signals(_ignore_during_stop, sigint=True):
            with cls._condition:
                servers = list(cls._servers)
            waits = []
            for server in servers:
                future = server.schedule_stop(graceful=graceful)
                if future is not None:
                    waits.append((server, future))
            for server, future in waits:
                try:
                    future.result(30 + (server.options.shutdown_timeout if graceful else 0))
                except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError, Exception):  # noqa: BLE001
                    _log.exception("Error stopping %r", server)

    @classmethod
    def track(cls, server: "HTTPServer") -> None:
        """Count ``server`` as listening (not Kitura API: ``HTTPServer`` calls it when it starts)."""
        with cls._condition:
            cls._servers.add(server)

    @classmethod
    def untrack(cls, server: "HTTPServer") -> None:
        """Undo ``track`` and wake the waiters (``HTTPServer`` calls it when it stops or
        hands its sockets to worker processes)."""
        with cls._condition:
            cls._servers.discard(server)
            cls._condition.notify_all()
