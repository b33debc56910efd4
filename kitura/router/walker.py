"""Walking the chain: the ``next()`` semantics of Kitura's element, middleware
and parameter walkers, as one coroutine per router.

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
- it called ``response.defer()``  -> wait (on the loop, no thread held) until
                                     ``next()`` or ``end()`` is called, from any thread;
- none of these                   -> end the response now (503 if nothing was sent) and stop.
An ``async def`` handler defers simply by awaiting before it returns.

A handler that raises sets ``response.error``; from then on only ``router.error``
handlers run; the Router answers 500 if none of them sends anything.

``async def`` handlers run on the event loop; plain ``def`` handlers run on the
kitura.net worker pool, so a blocking handler never stalls the loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable

from .element import HandlerEntry, RouterElement, RouterMethod

if TYPE_CHECKING:
    from .request import RouterRequest
    from .response import RouterResponse
    from .router import Router

__all__ = ["walk", "run_sync", "NextCallable"]

logger = logging.getLogger("kitura.router")

_ERROR = RouterMethod.ERROR
_run_in_worker: Callable[..., Any] | None = None


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


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class NextCallable:
    """The ``next`` passed to a handler: call it (once, from any thread) to go on with the chain."""

    __slots__ = ("called", "waiter")

    def __init__(self) -> None:
        self.called = False
        self.waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    def __call__(self) -> None:
        if self.called:
            logger.warning("next() called more than once by the same handler")
            return
        self.called = True
        waiter = self.waiter
        if waiter is not None:
            waiter[0].call_soon_threadsafe(_resolve, waiter[1])


async def _invoke(entry: HandlerEntry, args: tuple[Any, ...]) -> None:
    if entry.is_async:
        result = entry.fn(*args)
        if inspect.isawaitable(result):
            result = await result
    else:
        result = await run_sync(entry.fn, *args)
    if result is not None:
        await _await_result(result)


async def _await_result(result: Any) -> None:
    """A handler returned a Future or an awaitable: the chain waits for it."""
    if isinstance(result, concurrent.futures.Future):
        await asyncio.wrap_future(result)
    elif inspect.isawaitable(result):
        await result


def record_error(response: "RouterResponse", exc: BaseException, where: Any) -> None:
    """A handler raised: log it (with its traceback) and switch the chain to error mode."""
    from .codable import RequestError
    if isinstance(exc, RequestError):
        logger.info("Handler %s raised %r", where, exc)
    else:
        logger.error("Handler %s raised an exception", where, exc_info=exc)
    response.error = exc
    if not response.invoked_end:
        # Nothing has been written yet: drop what was buffered so the error answer is clean.
        response._buffer = bytearray()
        response.invoked_send = False
        response._status = -1


async def _after_handler(nxt: NextCallable, response: "RouterResponse") -> bool:
    """What the handler left us: True to go on with the chain, False to stop."""
    if nxt.called:
        response._deferred = False
        return True
    if response.invoked_end:
        return False
    if response._deferred:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        waiter = (loop, fut)
        nxt.waiter = waiter
        response._waiter = waiter
        try:
            if not (nxt.called or response.invoked_end):
                await fut
        finally:
            nxt.waiter = None
            response._waiter = None
            response._deferred = False
        return nxt.called
    # The handler neither called next() nor ended: Kitura ends the response when it is released.
    if response._status == -1 and not response.invoked_send:
        response._status = 503
    response.end()
    return False


async def _run_handlers(element: RouterElement, request: "RouterRequest", response: "RouterResponse") -> bool:
    parameters = request.parameters
    is_error = element.method is _ERROR
    for entry in element.handlers:
        if response.error is not None and not is_error:
            return True
        request.parameters = parameters
        nxt = NextCallable()
        try:
            if entry.is_async:
                # Inlined _invoke for the common case: an async def that returns None.
                result = entry.fn(request, response, nxt)
                if result is not None:
                    result = await result if inspect.isawaitable(result) else None
                    if result is not None:
                        await _await_result(result)
            else:
                await _invoke(entry, (request, response, nxt))
        except Exception as exc:  # noqa: BLE001 - user code: logged, answered 500
            record_error(response, exc, entry.name)
            continue
        if nxt.called:
            if response._deferred:
                response._deferred = False
            continue
        if not await _after_handler(nxt, response):
            return False
    return True


async def _run_parameter_handlers(handlers: dict[str, list[Any]], request: "RouterRequest",
                                  response: "RouterResponse") -> bool:
    for key, value in list(request.parameters.items()):
        if key in request.handled_named_parameters:
            continue
        pending = handlers.get(key)
        while pending:
            entry: HandlerEntry = pending.pop(0)
            nxt = NextCallable()
            try:
                await _invoke(entry, (request, response, value, nxt))
            except Exception as exc:  # noqa: BLE001
                record_error(response, exc, entry.name)
                continue
            if not await _after_handler(nxt, response):
                return False
        if key in handlers:
            request.handled_named_parameters.add(key)
            handlers.pop(key, None)
    return True


async def walk(router: "Router", request: "RouterRequest", response: "RouterResponse") -> bool:
    """Run the router's matching elements in order; True when the chain ran off its end."""
    path = request._path or "/"
    base_parameters = request.parameters
    parameter_handlers: dict[str, list[Any]] | None = None
    for element in router._candidates(request.method, path):
        if (response.error is not None) is not (element.method is _ERROR):
            continue
        found = element.match(path)
        if found is None:
            continue
        matched_path, parameters = found
        request.matched_path = matched_path
        request.allow_partial_match = element.allow_partial_match
        request.route = element.pattern
        if element.merge_parameters and base_parameters:
            merged = dict(base_parameters)
            merged.update(parameters)
            parameters = merged
        request.parameters = parameters
        if parameters and router._parameter_handlers and element.compiled.regex is not None:
            if parameter_handlers is None:
                parameter_handlers = {k: list(v) for k, v in router._parameter_handlers.items()}
            if not await _run_parameter_handlers(parameter_handlers, request, response):
                return False
            request.parameters = parameters
        if not await _run_handlers(element, request, response):
            return False
        request.parameters = base_parameters
    return True
