"""Walking the chain: the ``next()`` semantics of Kitura's element, middleware
and parameter walkers.

Theory of operation
-------------------
``walk(router, request, response)`` runs, in registration order, every element
whose method and pattern match, and inside each element every handler, for as
long as handlers call ``next()``. It returns True when the chain ran off its
end (the last handler called ``next()``: the caller continues, or the Router
answers 404), False when a handler stopped the chain.

After a handler returns:
- it called ``next()``            -> go on with the next handler;
- it ended the response           -> stop;
- it called ``response.defer()``  -> wait, holding no thread, until ``next()`` or
                                     ``end()`` is called, from any thread;
- none of these, while something  -> the same wait, until ``next()`` or ``end()`` is called
  still holds its ``next``           or the last reference to ``next`` goes (``_HeldNext``);
- none of these                   -> end the response now (503 if nothing was sent) and stop.
An ``async def`` handler defers simply by awaiting before it returns.

The held ``next`` is Kitura's rule: a Swift handler that hands ``next`` to a callback
keeps the response alive through the closure's reference count, and the response
ends (503 if nothing was sent) when the last reference goes. Here the walk keeps
only a weak reference to ``next`` once the handler returned, and a
``weakref.finalize`` on it ends the response when the handler's thread, timer or
callback drops it (CPython frees it at once; ``HELD_NEXT_TIMEOUT`` bounds the wait
where it does not).

A handler that raises sets ``response.error``; from then on only ``router.error``
handlers run; the Router answers 500 if none of them sends anything.

One algorithm, two drivers
--------------------------
The walk is written once, as generators (``walk_gen`` and its helpers) that
yield only when they must wait: for an awaitable, a ``concurrent.futures.Future``,
a deferral, or (on the loop) a plain ``def`` handler to run on a worker. Two
drivers run them:

- ``walk`` drives it on the event loop, as a coroutine. The Router uses it when
  every handler is ``async def`` (or a built-in that runs anywhere): such a
  request never touches a thread. A plain ``def`` met on the way runs on the
  worker pool (the generator yields it to the driver).
- ``WalkDriver`` drives it on a worker thread. The Router uses it as soon as one
  handler is a plain ``def`` (the usual Kitura port): the whole chain then runs on
  one worker thread, in one hop, plain ``def`` handlers inline, and the response
  is ended from there. An ``async def`` handler runs on the loop; the driver
  resumes the walk on a worker thread when what it waits for is done, so a
  deferred request holds no thread either.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Generator

from .element import HandlerEntry, RouterElement, RouterMethod
from .errors import RequestError

if TYPE_CHECKING:
    from .request import RouterRequest
    from .response import RouterResponse
    from .router import Router

__all__ = ["walk", "walk_gen", "drive_on_loop", "WalkDriver", "run_sync", "submit_to_worker", "submit_to_worker_soon", "NextCallable", "record_error"]

logger = logging.getLogger("kitura.router")

_ERROR = RouterMethod.ERROR
_run_in_worker: Callable[..., Any] | None = None
_submit: Callable[..., Any] | None = None
_submit_soon: Callable[..., Any] | None = None

# What walk_gen yields to the driver.
_AWAIT = 0      # an awaitable to run on the event loop
_FUTURE = 1     # a concurrent.futures.Future to wait for
_DEFER = 2      # wait until next() or end() is called
_SYNC = 3       # (fn, args): a plain def to run on the worker pool (only when driven on the loop)

#: Seconds a response stays open for a handler that returned holding ``next`` without
#: calling it, when the last reference to ``next`` never goes (a ``next`` kept in a
#: global list, or a Python without reference counting): then it ends with 503.
HELD_NEXT_TIMEOUT = 300.0
_TIMED_OUT = "timed out"

Token = tuple[int, Any]
Gen = Generator[Token, Any, bool]


async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a plain function on the kitura.net worker pool (the loop's executor as a fallback)."""
    global _run_in_worker
    runner = _run_in_worker
    if runner is None:
        try:
            from kitura.net.loop import run_in_worker
            runner = run_in_worker
        except ImportError:  # pragma: no cover - kitura.net without the helper
            runner = _executor_runner
        _run_in_worker = runner
    return await runner(fn, *args)


async def _executor_runner(fn: Callable[..., Any], *args: Any) -> Any:  # pragma: no cover
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def submit_to_worker(fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` on the kitura.net worker pool, from any thread."""
    global _submit
    submit = _submit
    if submit is None:
        from kitura.net.loop import worker_pool
        submit = _submit = worker_pool().dispatch
    submit(fn, *args)


def submit_to_worker_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """``submit_to_worker`` from the event loop thread: the jobs of one loop turn wake one worker."""
    global _submit_soon
    submit = _submit_soon
    if submit is None:
        from kitura.net.loop import worker_pool
        submit = _submit_soon = worker_pool().dispatch_soon
    submit(loop, fn, *args)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _resolve_with(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


class _HeldNext:
    """Waits for a ``next`` the handler handed on (see the module docstring): ``wake(True)``
    when it is called, ``wake(None)`` when the response ends, ``wake(False)`` when its last
    reference goes, ``wake(_TIMED_OUT)`` after ``HELD_NEXT_TIMEOUT``. ``wake`` must be
    thread-safe and act once; ``start(wake)``, then ``stop()`` once woken."""

    __slots__ = ("held", "response", "loop", "finalizer", "timer")

    def __init__(self, held: "weakref.ref[NextCallable]", response: "RouterResponse",
                 loop: asyncio.AbstractEventLoop) -> None:
        self.held, self.response, self.loop = held, response, loop
        self.timer: asyncio.TimerHandle | None = None
        self.finalizer: weakref.finalize | None = None

    def start(self, wake: Callable[..., None]) -> None:
        nxt = self.held()
        if nxt is None:             # already gone
            wake(False)
            return
        nxt.waiter = lambda: wake(True)
        self.finalizer = weakref.finalize(nxt, wake, False)
        self.response._waiter = wake
        if nxt.called:              # it happened before the waiters were in place
            wake(True)
        elif self.response.invoked_end:
            wake(None)
        del nxt                     # the walk must not hold it: only the handler's holders do
        self.loop.call_soon_threadsafe(self._arm, wake)

    def _arm(self, wake: Callable[..., None]) -> None:
        if self.finalizer is not None and self.finalizer.alive:
            self.timer = self.loop.call_later(HELD_NEXT_TIMEOUT, wake, _TIMED_OUT)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def stop(self) -> None:
        if self.finalizer is not None:
            self.finalizer.detach()
        self.response._waiter = None
        nxt = self.held()
        if nxt is not None:
            nxt.waiter = None
        try:
            self.loop.call_soon_threadsafe(self._disarm)
        except RuntimeError:  # the loop is closed
            pass


class NextCallable:
    """The ``next`` passed to a handler: call it (once, from any thread) to go on with the chain."""

    __slots__ = ("called", "waiter", "__weakref__")

    def __init__(self) -> None:
        self.called = False
        self.waiter: Callable[[], None] | None = None

    def __call__(self) -> None:
        if self.called:
            logger.warning("next() called more than once by the same handler")
            return
        self.called = True
        waiter = self.waiter
        if waiter is not None:
            waiter()


def record_error(response: "RouterResponse", exc: BaseException, where: Any) -> None:
    """A handler raised: log it (with its traceback) and switch the chain to error mode."""
    if isinstance(exc, RequestError):
        logger.info("Handler %s raised %r", where, exc)
    else:
        logger.error("Handler %s raised an exception", where, exc_info=exc)
    response.error = exc
    if not response.invoked_end:
        # Nothing has been written yet: drop what was buffered so the error answer is clean.
        response._buffer = bytearray()
        response._file_body = None
        response.invoked_send = False
        response._status = -1


def _end_unfinished(response: "RouterResponse") -> None:
    # The handler neither called next() nor ended: Kitura ends the response when it is released.
    if response._status == -1 and not response.invoked_send:
        response._status = 503
    response.end()


# -- the event-loop driver -------------------------------------------------------
async def drive_on_loop(gen: Gen, response: "RouterResponse") -> bool:
    """Run a walk generator on the event loop (see the module docstring); its result."""
    value: Any = None
    exc: BaseException | None = None
    while True:
        try:
            token = gen.send(value) if exc is None else gen.throw(exc)
        except StopIteration as stop:
            return bool(stop.value)
        value = exc = None
        kind, arg = token
        try:
            if kind == _AWAIT:
                value = await arg
            elif kind == _SYNC:
                value = await run_sync(arg[0], *arg[1])
            elif kind == _FUTURE:
                value = await asyncio.wrap_future(arg)
            else:
                value = await _wait_for_next(arg, response)
        except Exception as error:  # noqa: BLE001 - thrown into the walk, where the handler's errors go
            exc = error


async def _wait_for_next(nxt: "NextCallable | weakref.ref[NextCallable]", response: "RouterResponse") -> Any:
    """A deferral on the loop: wait until ``next()`` or ``end()`` is called, from any thread
    (or, for a held ``next``, its last reference goes); what ``_HeldNext`` wakes with."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def wake(value: Any = None) -> None:
        try:
            loop.call_soon_threadsafe(_resolve_with, fut, value)
        except RuntimeError:  # the loop is closed: the server stopped
            pass
    if isinstance(nxt, weakref.ref):
        held = _HeldNext(nxt, response, loop)
        held.start(wake)
        try:
            return await fut
        finally:
            held.stop()
    nxt.waiter = wake
    response._waiter = wake
    try:
        if not (nxt.called or response.invoked_end):
            await fut
    finally:
        nxt.waiter = None
        response._waiter = None


async def walk(router: "Router", request: "RouterRequest", response: "RouterResponse") -> bool:
    """Run the router's matching elements in order, on the loop; True when the chain ran off its end."""
    return await drive_on_loop(walk_gen(router, request, response, True), response)


def _enter_element(element: RouterElement, found: tuple[str, dict[str, str]], request: "RouterRequest",
                   base_parameters: dict[str, str]) -> dict[str, str]:
    matched_path, parameters = found
    request.matched_path = matched_path
    request.allow_partial_match = element.allow_partial_match
    request.route = element.pattern
    if element.merge_parameters and base_parameters:
        merged = dict(base_parameters)
        merged.update(parameters)
        parameters = merged
    request.parameters = parameters
    return parameters


# -- the walk, as generators ---------------------------------------------------------
def _settle(result: Any, is_async: bool) -> Generator[Token, Any, None]:
    """Wait for what a handler returned (not None): an ``async def``'s awaitable first,
    then a ``concurrent.futures.Future`` or an awaitable it gave."""
    if is_async and inspect.isawaitable(result):
        result = yield (_AWAIT, result)
        if result is None:
            return
    if isinstance(result, concurrent.futures.Future):
        yield (_FUTURE, result)
    elif inspect.isawaitable(result):
        yield (_AWAIT, result)


def _invoke_gen(entry: HandlerEntry, args: tuple[Any, ...], on_loop: bool) -> Generator[Token, Any, None]:
    if on_loop:
        # On the loop an entry runs as registered: ``fn``, on a worker if it is a plain def.
        if entry.is_async:
            result, is_async = entry.fn(*args), True
        else:
            result, is_async = (yield (_SYNC, (entry.fn, args))), False
    elif entry.router is not None:
        yield from entry.router._middleware_gen(*args)
        return
    elif entry.gen_fn is not None:
        yield from entry.gen_fn(*args)
        return
    elif entry.sync_fn is not None:
        result, is_async = entry.sync_fn(*args), False
    else:
        result, is_async = entry.fn(*args), entry.is_async
    if result is not None:
        yield from _settle(result, is_async)


def _after_handler_gen(nxt: NextCallable, response: "RouterResponse") -> Gen:
    """After a handler returned. The caller must not hold ``nxt`` any more (``del`` it):
    whether anyone else still does decides between waiting and ending now."""
    if nxt.called:
        response._deferred = False
        return True
    if response.invoked_end:
        return False
    if response._deferred:
        response._deferred = False
        yield (_DEFER, nxt)
        return nxt.called
    held = weakref.ref(nxt)
    del nxt
    if held() is not None:
        # The handler handed next on (a thread, a timer, a callback): wait for it.
        outcome = yield (_DEFER, held)
        if outcome is True:
            return True
        if response.invoked_end:
            return False
        if outcome == _TIMED_OUT:
            logger.warning("A handler kept next() for %ss without calling it or ending the response for %s",
                           HELD_NEXT_TIMEOUT, response.request.url)
    _end_unfinished(response)
    return False


def _run_handlers_gen(element: RouterElement, request: "RouterRequest", response: "RouterResponse",
                      on_loop: bool) -> Gen:
    parameters = request.parameters
    is_error = element.method is _ERROR
    for entry in element.handlers:
        if response.error is not None and not is_error:
            return True
        request.parameters = parameters
        nxt = NextCallable()
        try:
            if entry.is_async if on_loop else (entry.kind == "sync" and entry.router is None
                                                and entry.gen_fn is None):
                # The common case, inlined (no _invoke_gen generator): an async def on the
                # loop, a plain def on a worker, that returns None.
                result = entry.fn(request, response, nxt)
                if result is not None:
                    yield from _settle(result, on_loop)
            else:
                yield from _invoke_gen(entry, (request, response, nxt), on_loop)
        except Exception as exc:  # noqa: BLE001 - user code: logged, answered 500
            record_error(response, exc, entry.name)
            continue
        if nxt.called:
            if response._deferred:
                response._deferred = False
            continue
        after = _after_handler_gen(nxt, response)
        del nxt     # see _after_handler_gen
        if not (yield from after):
            return False
    return True


def _run_parameter_handlers_gen(handlers: dict[str, list[Any]], request: "RouterRequest",
                                response: "RouterResponse", on_loop: bool) -> Gen:
    for key, value in list(request.parameters.items()):
        if key in request.handled_named_parameters:
            continue
        pending = handlers.get(key)
        while pending:
            entry: HandlerEntry = pending.pop(0)
            nxt = NextCallable()
            try:
                yield from _invoke_gen(entry, (request, response, value, nxt), on_loop)
            except Exception as exc:  # noqa: BLE001
                record_error(response, exc, entry.name)
                continue
            after = _after_handler_gen(nxt, response)
            del nxt     # see _after_handler_gen
            if not (yield from after):
                return False
        if key in handlers:
            request.handled_named_parameters.add(key)
            handlers.pop(key, None)
    return True


def walk_gen(router: "Router", request: "RouterRequest", response: "RouterResponse",
             on_loop: bool = False) -> Gen:
    """The walk (see the module docstring); returns True when the chain ran off its end.
    ``on_loop``: driven by ``drive_on_loop`` (plain ``def`` handlers are yielded to run
    on a worker), else by ``WalkDriver`` on a worker thread (they run inline)."""
    path = request._path or "/"
    base_parameters = request.parameters
    parameter_handlers: dict[str, list[Any]] | None = None
    for element in router._candidates(request.method, path):
        if (response.error is not None) is not (element.method is _ERROR):
            continue
        # An exact route listed for this very path matches without the pattern.
        found = (path, {}) if element.exact_path == path else element.match(path)
        if found is None:
            continue
        parameters = _enter_element(element, found, request, base_parameters)
        if parameters and router._parameter_handlers and element.compiled.regex is not None:
            if parameter_handlers is None:
                parameter_handlers = {k: list(v) for k, v in router._parameter_handlers.items()}
            if not (yield from _run_parameter_handlers_gen(parameter_handlers, request, response, on_loop)):
                return False
            request.parameters = parameters
        if not (yield from _run_handlers_gen(element, request, response, on_loop)):
            return False
        request.parameters = base_parameters
    return True


class WalkDriver:
    """Drives one ``walk_gen`` on worker threads: runs it until it must wait, and
    resumes it (on a worker thread) when what it waits for is done."""

    __slots__ = ("gen", "loop", "router", "request", "response")

    def __init__(self, gen: Gen, loop: asyncio.AbstractEventLoop, router: "Router",
                 request: "RouterRequest", response: "RouterResponse") -> None:
        self.gen = gen
        self.loop = loop
        self.router = router            # its _complete gets walk_gen's result, its _failed a failed walk
        self.request = request
        self.response = response

    def run(self, value: Any = None, exc: BaseException | None = None) -> None:
        """Run the walk on this thread until it ends or must wait."""
        gen = self.gen
        try:
            while True:
                try:
                    token = gen.throw(exc) if exc is not None else gen.send(value)
                except StopIteration as stop:
                    self.router._complete(self.request, self.response, bool(stop.value))
                    return
                kind, arg = token
                resume = _Resume(self)
                if kind == _DEFER:
                    resume.wait_for_next(arg)
                elif kind == _AWAIT:
                    asyncio.run_coroutine_threadsafe(_as_coroutine(arg), self.loop).add_done_callback(
                        resume.future_done)
                else:
                    arg.add_done_callback(resume.future_done)
                return
        except BaseException as error:  # noqa: BLE001 - a bug in the walk itself: answered 500
            self.router._failed(self.request, self.response, error)


class _Resume:
    """Resumes a waiting walk exactly once, whichever of next(), end() or the future comes first."""

    __slots__ = ("driver", "done", "lock", "nxt", "held")

    def __init__(self, driver: WalkDriver) -> None:
        self.driver = driver
        self.done = False
        self.lock = threading.Lock()
        self.nxt: NextCallable | None = None
        self.held: _HeldNext | None = None

    def wait_for_next(self, nxt: "NextCallable | weakref.ref[NextCallable]") -> None:
        response = self.driver.response
        if isinstance(nxt, weakref.ref):
            self.held = _HeldNext(nxt, response, self.driver.loop)
            self.held.start(self.wake)
            return
        self.nxt = nxt
        nxt.waiter = self.wake
        response._waiter = self.wake
        if nxt.called or response.invoked_end:   # it happened before the waiters were in place
            self.wake()

    def wake(self, value: Any = None, exc: BaseException | None = None) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
        if self.nxt is not None:
            self.nxt.waiter = None
            self.driver.response._waiter = None
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
