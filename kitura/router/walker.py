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
The walk is written once, as generators (``walk_gen`` and the methods of ``_Walk``)
that yield the tokens of steps.py only when they must wait: for an awaitable, a
``concurrent.futures.Future``, a deferral, or (on the loop) a plain ``def`` handler
to run on a worker. Two drivers (steps.py) run them:

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

import concurrent.futures
import inspect
import logging
import weakref
from typing import TYPE_CHECKING, Any, Callable, Generator

from .element import HandlerEntry, RouterMethod
from .errors import RequestError
from .steps import AWAIT, BLOCKING, DEFER, FUTURE, HELD, TIMED_OUT, Dispatch, NextCallable, drive_on_loop

if TYPE_CHECKING:
    from .request import RouterRequest
    from .response import RouterResponse
    from .router import Router

__all__ = ["walk", "walk_gen", "serve_on_worker", "walk_mounted", "record_error"]

logger = logging.getLogger("kitura.router")

_ERROR = RouterMethod.ERROR
_ASYNC = Dispatch.ASYNC
_SYNC = Dispatch.SYNC
_ROUTER = Dispatch.ROUTER

#: Seconds a response stays open for a handler that returned holding ``next`` without
#: calling it, when the last reference to ``next`` never goes (a ``next`` kept in a
#: global list, or a Python without reference counting): then it ends with 503.
HELD_NEXT_TIMEOUT = 300.0

Token = tuple[int, Any]
Gen = Generator[Token, Any, bool]


def record_error(response: "RouterResponse", exc: BaseException, where: Any) -> None:
    """A handler raised: log it (with its traceback) and switch the chain to error mode."""
    if isinstance(exc, RequestError):
        logger.info("Handler %s raised %r", where, exc)
    else:
        logger.error("Handler %s raised an exception", where, exc_info=exc)
    response.error = exc
    if not response.invoked_end:
        # Nothing has been written yet: drop what was buffered so the error answer is clean.
        response.drop_unsent()


def _end_unfinished(response: "RouterResponse") -> None:
    # The handler neither called next() nor ended: Kitura ends the response when it is released.
    if response.raw_status == -1 and not response.invoked_send:
        response.raw_status = 503
    response.end()


async def walk(router: "Router", request: "RouterRequest", response: "RouterResponse") -> bool:
    """Run the router's matching elements in order, on the loop; True when the chain ran off its end."""
    return await drive_on_loop(walk_gen(router, request, response, on_worker=False), response)


async def walk_mounted(router: "Router", request: "RouterRequest", response: "RouterResponse",
                       next: Callable[[], None]) -> None:
    """``router`` as middleware of another, on the loop (``Router.handle`` with ``next``)."""
    await drive_on_loop(_ON_LOOP.mounted(router, request, response, next), response)


def walk_gen(router: "Router", request: "RouterRequest", response: "RouterResponse", *,
             on_worker: bool) -> Gen:
    """The walk (see the module docstring); returns True when the chain ran off its end.
    ``on_worker``: driven by ``WalkDriver`` on a worker thread (plain ``def`` handlers run
    inline), else by ``drive_on_loop`` (they are yielded to run on a worker)."""
    return (_ON_WORKER if on_worker else _ON_LOOP).router(router, request, response)


def _settle(result: Any, is_async: bool) -> Generator[Token, Any, None]:
    """Wait for what a handler returned (not None): an ``async def``'s awaitable first,
    then a ``concurrent.futures.Future`` or an awaitable it gave."""
    if is_async and inspect.isawaitable(result):
        result = yield (AWAIT, result)
        if result is None:
            return
    if isinstance(result, concurrent.futures.Future):
        yield (FUTURE, result)
    elif inspect.isawaitable(result):
        yield (AWAIT, result)


class _Walk:
    """The walk, for one of the two drivers (``_ON_LOOP``, ``_ON_WORKER``): where it runs
    is fixed for the whole walk. ``direct`` is the dispatch called inline without a
    generator of its own (an ``async def`` on the loop, a plain ``def`` on a worker)."""

    __slots__ = ("on_worker", "direct")

    def __init__(self, on_worker: bool) -> None:
        self.on_worker = on_worker
        self.direct = _SYNC if on_worker else _ASYNC

    def router(self, router: "Router", request: "RouterRequest", response: "RouterResponse",
               complete: "Callable[[RouterRequest, RouterResponse, bool], None] | None" = None
               ) -> Generator[Token, Any, bool | None]:
        """The walk of ``router``'s chain; returns True when it ran off its end. With
        ``complete``: calls ``complete(request, response, fell_through)`` instead, from inside
        the generator, and returns None: a driver stepping it with a ``for`` loop then pays
        for no ``StopIteration`` carrying a value (``drive_on_worker``)."""
        fell_through = True
        path = request.routed_path or "/"
        base_parameters = request.parameters
        parameter_handlers: dict[str, list[Any]] | None = None
        direct = self.direct
        for element in router.candidate_elements(request.method, path):
            is_error = element.method is _ERROR
            if (response.error is not None) is not is_error:
                continue
            # Enter the element. An exact route listed for this very path matches without the pattern.
            if element.exact_path == path:
                request.matched_path = path
                parameters: dict[str, str] = {}
            else:
                found = element.match(path)
                if found is None:
                    continue
                request.matched_path, parameters = found
            request.allow_partial_match = element.allow_partial_match
            request.route = element.pattern
            if element.merge_parameters and base_parameters:
                merged = dict(base_parameters)
                merged.update(parameters)
                parameters = merged
            request.parameters = parameters
            if parameters and router.parameter_handlers and element.compiled.regex is not None:
                if parameter_handlers is None:
                    parameter_handlers = {k: list(v) for k, v in router.parameter_handlers.items()}
                if not (yield from self._parameters(parameter_handlers, request, response)):
                    fell_through = False
                    break
                request.parameters = parameters
            # The element's handlers (inlined here: no generator of their own per element).
            for entry in element.handlers:
                if response.error is not None and not is_error:
                    break
                request.parameters = parameters
                nxt = NextCallable()
                try:
                    if entry.dispatch is direct:
                        # The common case, inlined (no _invoke generator): an async def on the
                        # loop, a plain def on a worker, that returns None.
                        result = entry.fn(request, response, nxt)
                        if result is not None:
                            yield from _settle(result, direct is _ASYNC)
                    else:
                        yield from self._invoke(entry, (request, response, nxt))
                except Exception as exc:  # noqa: BLE001 - user code: logged, answered 500
                    record_error(response, exc, entry.name)
                    continue
                if nxt.called:
                    if response.deferred:
                        response.deferred = False
                    continue
                after = self._after_handler(nxt, response)
                del nxt     # see _after_handler
                if not (yield from after):
                    fell_through = False
                    break
            if not fell_through:
                break
            request.parameters = base_parameters
        if complete is None:
            return fell_through
        complete(request, response, fell_through)
        return None

    def mounted(self, router: "Router", request: "RouterRequest", response: "RouterResponse",
                next: Callable[[], None]) -> Generator[Token, Any, None]:
        """``router`` as middleware: walk its chain on the mount's sub-path."""
        url_path = request.path
        if request.allow_partial_match:
            mount = request.matched_path
            if mount and not url_path.startswith(mount):
                next()
                return
            request.routed_path = url_path[len(mount):]
        response.router_stack.append(router)
        try:
            fell_through = yield from self.router(router, request, response)
        finally:
            request.routed_path = url_path
            response.router_stack.pop()
        if fell_through:
            next()

    def _invoke(self, entry: HandlerEntry, args: tuple[Any, ...]) -> Generator[Token, Any, None]:
        dispatch = entry.dispatch
        if dispatch is _ASYNC:
            result, is_async = entry.fn(*args), True
        elif dispatch is _SYNC:
            if self.on_worker:
                result = entry.fn(*args)
            else:
                result = yield (BLOCKING, (entry.fn, args))
            is_async = False
        elif dispatch is _ROUTER:
            yield from self.mounted(entry.fn.__self__, args[0], args[1], args[-1])
            return
        else:  # STEPS, BLOCKING_STEPS
            yield from entry.fn(*args)
            return
        if result is not None:
            yield from _settle(result, is_async)

    def _after_handler(self, nxt: NextCallable, response: "RouterResponse") -> Gen:
        """After a handler returned. The caller must not hold ``nxt`` any more (``del`` it):
        whether anyone else still does decides between waiting and ending now."""
        if nxt.called:
            response.deferred = False
            return True
        if response.invoked_end:
            return False
        if response.deferred:
            response.deferred = False
            yield (DEFER, nxt)
            return nxt.called
        held = weakref.ref(nxt)
        del nxt
        if held() is not None:
            # The handler handed next on (a thread, a timer, a callback): wait for it.
            outcome = yield (HELD, (held, HELD_NEXT_TIMEOUT))
            if outcome is True:
                return True
            if response.invoked_end:
                return False
            if outcome == TIMED_OUT:
                logger.warning("A handler kept next() for %ss without calling it or ending the response for %s",
                               HELD_NEXT_TIMEOUT, response.request.url)
        _end_unfinished(response)
        return False

    def _parameters(self, handlers: dict[str, list[Any]], request: "RouterRequest",
                    response: "RouterResponse") -> Gen:
        for key, value in list(request.parameters.items()):
            if key in request.handled_named_parameters:
                continue
            pending = handlers.get(key)
            while pending:
                entry: HandlerEntry = pending.pop(0)
                nxt = NextCallable()
                try:
                    yield from self._invoke(entry, (request, response, value, nxt))
                except Exception as exc:  # noqa: BLE001
                    record_error(response, exc, entry.name)
                    continue
                after = self._after_handler(nxt, response)
                del nxt     # see _after_handler
                if not (yield from after):
                    return False
            if key in handlers:
                request.handled_named_parameters.add(key)
                handlers.pop(key, None)
        return True


_ON_LOOP = _Walk(on_worker=False)
_ON_WORKER = _Walk(on_worker=True)

#: The walk on a worker with its completion (``serve_on_worker(router, request, response,
#: complete)``, see ``_Walk.router``): what ``Router`` serves each request with, run by
#: ``drive_on_worker``.
serve_on_worker = _ON_WORKER.router
