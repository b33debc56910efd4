"""How a handler is run: its ``Dispatch`` (fixed at registration), the tokens a walk
yields when it must wait, and the two drivers that run a walk.

Theory of operation
-------------------
A walk (``walker.py``) and the built-ins that can run anywhere (``StaticFileServer``,
``BodyParser``, the Codable adapters: generator functions marked ``@walk_steps``) are
generators that yield a token only when they must wait:

- ``AWAIT, awaitable``       run it on the event loop, send back its result;
- ``FUTURE, future``         wait for a ``concurrent.futures.Future``;
- ``DEFER, next``            wait until ``next()`` or ``response.end()`` is called;
- ``HELD, (ref, timeout)``   the same for a ``next`` the handler handed on, known by a weak
                             reference: also ends when its last reference goes, or after
                             ``timeout`` seconds; the walk gets True (called), None (the
                             response ended), False (dropped) or ``TIMED_OUT``;
- ``BLOCKING, (fn, args)``   a plain function that may block: run it on a worker thread.

``drive_on_loop`` runs a walk on the event loop (a coroutine: BLOCKING hops to the
worker pool). ``WalkDriver`` runs it on a worker thread (BLOCKING runs inline, AWAIT
on the loop, and the walk resumes on a worker when what it waits for is done). So each
built-in is written once, and a deferred request holds no thread in either driver.
"""
from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Generator

from kitura.net.loop import call_soon_on_loop

from .workers import run_sync, submit_to_worker

if TYPE_CHECKING:
    from .response import RouterResponse

__all__ = ["Dispatch", "dispatch_of", "is_async_callable", "walk_steps", "Steps", "NextCallable",
           "AWAIT", "FUTURE", "DEFER", "BLOCKING", "HELD", "TIMED_OUT", "drive_on_loop", "WalkDriver",
           "drive_on_worker"]

logger = logging.getLogger("kitura.router")

AWAIT = 0
FUTURE = 1
DEFER = 2
BLOCKING = 3
HELD = 4

TIMED_OUT = "timed out"

Token = tuple[int, Any]
Gen = Generator[Token, Any, Any]


class Dispatch(enum.Enum):
    """How the walk runs a handler, decided once when it is registered."""

    ASYNC = "async"                    # an ``async def``: called on the loop, awaited
    SYNC = "sync"                      # a plain ``def``: called on a worker thread (it may block)
    STEPS = "steps"                    # a ``@walk_steps`` generator: run inline by either driver
    BLOCKING_STEPS = "blocking steps"  # as STEPS, but it calls plain ``def`` code: walk on a worker
    ROUTER = "router"                  # a sub-router (``fn`` is its bound ``handle``)

    @property
    def needs_worker(self) -> bool:
        """A chain with such a handler is walked on a worker thread (one hop for all)."""
        return self is Dispatch.SYNC or self is Dispatch.BLOCKING_STEPS


def is_async_callable(fn: Any) -> bool:
    """True for ``async def`` functions, bound methods, partials and objects with ``async def __call__``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)


def dispatch_of(fn: Any) -> tuple[Callable[..., Any], Dispatch]:
    """The function the walk calls for handler ``fn``, and how."""
    steps = getattr(fn, "walk_steps", None)
    if steps is not None:
        owner = getattr(fn, "__self__", None)
        return (steps if owner is None else steps.__get__(owner)), Dispatch.STEPS
    return fn, (Dispatch.ASYNC if is_async_callable(fn) else Dispatch.SYNC)


class Steps:
    """What calling a ``@walk_steps`` function returns outside a walk: awaitable on the
    loop (so ``await super().handle(request, response, next)`` works in a subclass)."""

    __slots__ = ("gen", "response")

    def __init__(self, gen: Gen, response: Any) -> None:
        self.gen = gen
        self.response = response

    def __await__(self) -> Generator[Any, None, Any]:
        return drive_on_loop(self.gen, self.response).__await__()


def walk_steps(fn: Callable[..., Gen]) -> Callable[..., Steps]:
    """Mark a generator ``handle(request, response, next)`` that speaks the walk's tokens:
    the walk runs it inline whichever driver runs the chain."""
    @functools.wraps(fn)
    def handle(*args: Any) -> Steps:
        return Steps(fn(*args), args[-2])
    handle.walk_steps = fn  # type: ignore[attr-defined]
    return handle


class NextCallable:
    """The ``next`` passed to a handler: call it (once, from any thread) to go on with the chain."""

    # No __init__ (one frame less per handler): both start as these class-level defaults.
    called: bool = False
    waiter: Callable[[], None] | None = None

    def __call__(self) -> None:
        if self.called:
            logger.warning("next() called more than once by the same handler")
            return
        self.called = True
        waiter = self.waiter
        if waiter is not None:
            waiter()


def _resolve(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


class _HeldNext:
    """Waits for a ``next`` the handler handed on (the ``HELD`` token): ``wake(True)`` when
    it is called, ``wake(None)`` when the response ends, ``wake(False)`` when its last
    reference goes, ``wake(TIMED_OUT)`` after ``timeout`` seconds. ``wake`` must be
    thread-safe and act once; ``start(wake)``, then ``stop()`` once woken."""

    __slots__ = ("held", "timeout", "response", "loop", "finalizer", "timer")

    def __init__(self, held: "weakref.ref[NextCallable]", timeout: float, response: "RouterResponse",
                 loop: asyncio.AbstractEventLoop) -> None:
        self.held, self.timeout, self.response, self.loop = held, timeout, response, loop
        self.timer: asyncio.TimerHandle | None = None
        self.finalizer: weakref.finalize | None = None

    def start(self, wake: Callable[..., None]) -> None:
        nxt = self.held()
        if nxt is None:             # already gone
            wake(False)
            return
        nxt.waiter = lambda: wake(True)
        self.finalizer = weakref.finalize(nxt, wake, False)
        self.response.end_waiter = wake
        if nxt.called:              # it happened before the waiters were in place
            wake(True)
        elif self.response.invoked_end:
            wake(None)
        del nxt                     # the walk must not hold it: only the handler's holders do
        self.loop.call_soon_threadsafe(self._arm, wake)

    def _arm(self, wake: Callable[..., None]) -> None:
        if self.finalizer is not None and self.finalizer.alive:
            self.timer = self.loop.call_later(self.timeout, wake, TIMED_OUT)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def stop(self) -> None:
        if self.finalizer is not None:
            self.finalizer.detach()
        self.response.end_waiter = None
        nxt = self.held()
        if nxt is not None:
            nxt.waiter = None
        call_soon_on_loop(self.loop, self._disarm)


# -- the event-loop driver -------------------------------------------------------
async def drive_on_loop(gen: Gen, response: "RouterResponse") -> Any:
    """Run a walk generator on the event loop; its result."""
    value: Any = None
    exc: BaseException | None = None
    while True:
        try:
            token = gen.send(value) if exc is None else gen.throw(exc)
        except StopIteration as stop:
            return stop.value
        value = exc = None
        kind, arg = token
        try:
            if kind == AWAIT:
                value = await arg
            elif kind == BLOCKING:
                value = await run_sync(arg[0], *arg[1])
            elif kind == FUTURE:
                value = await asyncio.wrap_future(arg)
            else:
                value = await _wait_for_next(kind, arg, response)
        except Exception as error:  # noqa: BLE001 - thrown into the walk, where the handler's errors go
            exc = error


async def _wait_for_next(kind: int, arg: Any, response: "RouterResponse") -> Any:
    """A deferral on the loop: wait until ``next()`` or ``end()`` is called, from any thread
    (``HELD``: or the last reference to ``next`` goes); what ``_HeldNext`` wakes with."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def wake(value: Any = None) -> None:
        call_soon_on_loop(loop, _resolve, fut, value)
    if kind == HELD:
        held = _HeldNext(arg[0], arg[1], response, loop)
        held.start(wake)
        try:
            return await fut
        finally:
            held.stop()
    nxt: NextCallable = arg
    nxt.waiter = wake
    response.end_waiter = wake
    try:
        if not (nxt.called or response.invoked_end):
            await fut
    finally:
        nxt.waiter = None
        response.end_waiter = None


# -- the worker-thread driver --------------------------------------------------------
class WalkDriver:
    """Drives one walk generator on worker threads: runs it until it must wait, and
    resumes it (on a worker thread) when what it waits for is done. At the end
    ``complete(*args, result)`` gets the walk's result, or ``failed(*args, error)`` an
    exception that escaped the walk itself."""

    __slots__ = ("gen", "loop", "response", "complete", "failed", "args")

    def __init__(self, gen: Gen, loop: asyncio.AbstractEventLoop, response: "RouterResponse",
                 complete: Callable[..., None], failed: Callable[..., None], args: tuple[Any, ...] = ()) -> None:
        self.gen = gen
        self.loop = loop
        self.response = response
        self.complete = complete
        self.failed = failed
        self.args = args

    def run(self, value: Any = None, exc: BaseException | None = None, token: Token | None = None) -> None:
        """Run the walk on this thread until it ends or must wait (``token``: what it
        yielded last, not acted on yet)."""
        gen = self.gen
        try:
            while True:
                if token is None:
                    try:
                        token = gen.throw(exc) if exc is not None else gen.send(value)
                    except StopIteration as stop:
                        self.complete(*self.args, stop.value)
                        return
                kind, arg = token
                token = None
                if kind == BLOCKING:  # this is a worker thread: run it here
                    value = exc = None
                    try:
                        value = arg[0](*arg[1])
                    except Exception as error:  # noqa: BLE001 - thrown into the walk
                        exc = error
                    continue
                resume = _Resume(self)
                if kind == DEFER:
                    resume.wait_for_next(arg)
                elif kind == HELD:
                    resume.wait_for_held(*arg)
                elif kind == AWAIT:
                    asyncio.run_coroutine_threadsafe(_as_coroutine(arg), self.loop).add_done_callback(
                        resume.future_done)
                else:
                    arg.add_done_callback(resume.future_done)
                return
        except BaseException as error:  # noqa: BLE001 - a bug in the walk itself: answered 500
            self.failed(*self.args, error)


def drive_on_worker(gen: Generator[Token, Any, None], loop: asyncio.AbstractEventLoop, response: "RouterResponse",
                    failed: Callable[..., None], *args: Any) -> None:
    """Run, on this worker thread, a walk that completes itself (walker.py's ``serve_on_worker``:
    it returns None): as ``WalkDriver``, with ``failed(*args, error)`` for an exception that
    escapes it, but without making the driver unless the walk must wait (a usual request
    never does), and without a ``StopIteration`` to catch when it ends."""
    try:
        for token in gen:
            break
        else:
            return
    except BaseException as error:  # noqa: BLE001 - a bug in the walk itself: answered 500
        failed(*args, error)
        return
    WalkDriver(gen, loop, response, _completed_itself, failed, args).run(token=token)


def _completed_itself(*args: Any) -> None:
    """The ``complete`` of a ``WalkDriver`` whose walk completes itself."""


class _Resume:
    """Resumes a waiting walk exactly once, whichever of next(), end() or the future comes first."""

    __slots__ = ("driver", "done", "lock", "nxt", "held")

    def __init__(self, driver: WalkDriver) -> None:
        self.driver = driver
        self.done = False
        self.lock = threading.Lock()
        self.nxt: NextCallable | None = None
        self.held: _HeldNext | None = None

    def wait_for_held(self, held: "weakref.ref[NextCallable]", timeout: float) -> None:
        self.held = _HeldNext(held, timeout, self.driver.response, self.driver.loop)
        self.held.start(self.wake)

    def wait_for_next(self, nxt: NextCallable) -> None:
        response = self.driver.response
        self.nxt = nxt
        nxt.waiter = self.wake
        response.end_waiter = self.wake
        if nxt.called or response.invoked_end:   # it happened before the waiters were in place
            self.wake()

    def wake(self, value: Any = None, exc: BaseException | None = None) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
        if self.nxt is not None:
            self.nxt.waiter = None
            self.driver.response.end_waiter = None
        elif self.held is not None:
            self.held.stop()
        submit_to_worker(self.driver.run, value, exc)

    def future_done(self, fut: Any) -> None:
        try:
            value = fut.result()
        except BaseException as exc:  # noqa: BLE001 - thrown into the walk, where the handler's errors go
            self.wake(None, exc)
            return
        self.wake(value)


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable
