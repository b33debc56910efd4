"""The process's event loop thread, the worker pool, and coroutine helpers.

Kitura's servers run on SwiftNIO threads and dispatch handlers to the global
dispatch queue. Here: one asyncio event loop (uvloop when installed) runs in a
daemon background thread, started on first use; every server, connection and
WebSocket callback lives on it. Plain ``def`` handlers run on a worker thread
pool (``run_in_worker``) so that a blocking handler never stalls the loop.

Code that already runs its own loop can serve on it instead (``HTTPServer.listen_async``);
``current_loop()`` then answers that loop for the connection's own work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

from .http11 import NO_EXTENSIONS
from .workers import WorkerPool

__all__ = [
    "get_loop", "run_in_loop", "run_in_worker", "worker_pool", "start_coroutine",
    "new_event_loop", "note_loop_thread", "on_loop_thread", "drive_coroutine", "call_on_loop",
    "first_step", "py_first_step", "STEP_DONE",
    "call_soon_on_loop", "release_loop",
]

T = TypeVar("T")
_log = logging.getLogger("kitura.net")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_pool: WorkerPool | None = None
#: The thread each serving loop runs on. ``threading.get_ident()`` compared with it tells
#: "am I on that loop?" in ~60 ns; ``asyncio._get_running_loop()`` costs ~240 ns (it
#: calls getpid()), which shows on the per-request path.
_loop_threads: dict[asyncio.AbstractEventLoop, int] = {}


def note_loop_thread(loop: asyncio.AbstractEventLoop) -> int:
    """Remember that ``loop`` runs on the calling thread; returns the thread's ident."""
    ident = threading.get_ident()
    _loop_threads[loop] = ident
    return ident


def on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    return _loop_threads.get(loop) == threading.get_ident()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed, else the stdlib's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def get_loop() -> asyncio.AbstractEventLoop:
    """The background event loop, started on first use."""
    global _loop, _thread
    loop = _loop
    if loop is not None:
        return loop
    with _lock:
        if _loop is None:
            loop = new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                note_loop_thread(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            _thread = threading.Thread(target=run, name="kitura-event-loop", daemon=True)
            _thread.start()
            ready.wait(10)
            _loop = loop
        return _loop  # type: ignore[return-value]


def release_loop() -> None:
    """Stop the background loop thread and forget the loop (the next ``get_loop()``
    starts afresh). The supervisor calls it before forking workers: a process forked
    while the loop runs would inherit a loop no thread drives."""
    global _loop, _thread
    with _lock:
        loop, thread = _loop, _thread
        _loop = _thread = None
    if loop is not None and thread is not None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        _loop_threads.pop(loop, None)
        if not thread.is_alive():
            loop.close()


def _after_fork_in_child() -> None:
    """No thread survives a fork: the child starts its own loop on first use, and the
    pool (the same object: code holds references to it) starts its threads afresh."""
    global _loop, _thread
    _loop = _thread = None
    _loop_threads.clear()
    if _pool is not None:
        _pool.reset_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def run_in_loop(coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop | None = None,
                timeout: float | None = 30.0) -> T:
    """Run a coroutine on the loop from another thread and wait for its result."""
    loop = loop or get_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def worker_pool() -> WorkerPool:
    """The pool that runs plain ``def`` handlers (Kitura's global dispatch queue)."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                size = int(os.environ.get("KITURA_WORKERS", "0")) or max(32, (os.cpu_count() or 1) * 8)
                _pool = WorkerPool(max_workers=size)
    return _pool


def run_in_worker(fn: Callable[..., T], *args: Any) -> Awaitable[T]:
    """Await ``fn(*args)`` run on the worker pool, from a coroutine on the loop."""
    return asyncio.get_running_loop().run_in_executor(worker_pool(), fn, *args)


def call_on_loop(loop: asyncio.AbstractEventLoop, loop_thread: int, fn: Callable[..., Any], *args: Any) -> None:
    """Call ``fn(*args)`` now when on ``loop``'s thread (``loop_thread``), else on the loop's
    next turn. A closed loop is ignored: whatever ``fn`` would act on closed with it."""
    if threading.get_ident() == loop_thread:
        fn(*args)
        return
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed
        pass


def call_soon_on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """``loop.call_soon_threadsafe(fn, *args)`` from a thread known not to be the loop's,
    ignoring a closed loop (as ``call_on_loop``)."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed
        pass


#: What ``first_step`` returns for a coroutine that returned without suspending.
STEP_DONE: Any = object()


def py_first_step(coro: Coroutine[Any, Any, Any]) -> Any:
    """``coro.send(None)``: what the coroutine yielded, or ``STEP_DONE`` when it returned.
    The pure-Python twin of ``_speedups.first_step``, which skips the StopIteration."""
    try:
        return coro.send(None)
    except StopIteration:
        return STEP_DONE


first_step = py_first_step
if not NO_EXTENSIONS:
    try:
        from ._speedups import STEP_DONE, first_step  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass


def start_coroutine(coro: Coroutine[Any, Any, Any], on_error: Callable[..., None],
                    *error_args: Any) -> "asyncio.Task[None] | None":
    """Run ``coro`` eagerly, on the loop thread: its first step runs now, on the caller's stack.

    A handler that never awaits anything pending (the common ``async def handle`` that
    answers at once) finishes without a Task being created, which saves several
    microseconds a request. A coroutine that does suspend is driven on by a Task, which
    is returned (None when it finished at once). ``on_error(*error_args, exc)`` gets any
    exception it raises (the arguments spare the caller a ``partial`` per call).
    """
    try:
        yielded = first_step(coro)
    except BaseException as exc:  # noqa: BLE001 - reported to the caller's handler
        on_error(*error_args, exc)
        return None
    if yielded is STEP_DONE:
        return None
    if error_args:
        on_error = functools.partial(on_error, *error_args)
    return asyncio.get_running_loop().create_task(drive_coroutine(coro, yielded, on_error))


async def drive_coroutine(coro: Coroutine[Any, Any, Any], yielded: Any,
                 on_error: Callable[[BaseException], None]) -> None:
    """Continue a coroutine that suspended in ``start_coroutine``, as a Task would."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)  # a bare yield: give the loop one turn
            else:
                # Take over the Future as a Task does: clear the flag the coroutine set
                # when it yielded it, then wait; the coroutine reads the result itself.
                yielded._asyncio_future_blocking = False
                await yielded
        except asyncio.CancelledError as exc:
            try:
                yielded = coro.throw(exc)
                continue
            except StopIteration:
                return
            except BaseException as err:  # noqa: BLE001
                on_error(err)
                return
        except BaseException:  # noqa: BLE001 - the coroutine sees it through .result()
            pass
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
        except BaseException as exc:  # noqa: BLE001
            on_error(exc)
            return
