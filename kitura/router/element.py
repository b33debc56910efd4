"""RouterMethod and RouterElement: one registered route (method, pattern, handlers).

A RouterElement compiles its pattern once at registration (``pattern.py``) and
knows, for each handler, whether it is a coroutine function (run on the event
loop) or a plain function (run on the worker pool). Matching only; walking the
chain is ``walker.py``.
"""
from __future__ import annotations

import enum
import functools
import inspect
from typing import Any, Callable

from .pattern import CompiledPattern, compile_pattern, normalize_pattern

__all__ = ["RouterMethod", "RouterElement", "HandlerEntry", "is_async_callable"]


class RouterMethod(enum.StrEnum):
    """The HTTP methods a route can be registered for, as Kitura's RouterMethod.

    A ``StrEnum``: ``RouterMethod.GET == "GET"`` and ``f"{m}"`` is the raw value.
    """

    ALL = "ALL"
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    HEAD = "HEAD"
    DELETE = "DELETE"
    OPTIONS = "OPTIONS"
    TRACE = "TRACE"
    COPY = "COPY"
    LOCK = "LOCK"
    MK_COL = "MKCOL"
    MOVE = "MOVE"
    PURGE = "PURGE"
    PROP_FIND = "PROPFIND"
    PROP_PATCH = "PROPPATCH"
    UNLOCK = "UNLOCK"
    REPORT = "REPORT"
    MK_ACTIVITY = "MKACTIVITY"
    CHECKOUT = "CHECKOUT"
    MERGE = "MERGE"
    M_SEARCH = "MSEARCH"
    NOTIFY = "NOTIFY"
    SUBSCRIBE = "SUBSCRIBE"
    UNSUBSCRIBE = "UNSUBSCRIBE"
    PATCH = "PATCH"
    SEARCH = "SEARCH"
    CONNECT = "CONNECT"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def from_raw_value(cls, value: str) -> "RouterMethod":
        """The method for a request's method string; UNKNOWN when Kitura has none."""
        return _BY_VALUE.get(value, cls.UNKNOWN)


_BY_VALUE: dict[str, RouterMethod] = {m.value: m for m in RouterMethod}
_BY_VALUE["M-SEARCH"] = RouterMethod.M_SEARCH   # the method on the wire (SSDP); Kitura's raw value is MSEARCH


def is_async_callable(fn: Any) -> bool:
    """True for ``async def`` functions, bound methods, partials and objects with ``async def __call__``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)


class HandlerEntry:
    """One handler or middleware of an element: ``fn(request, response, next)``.

    ``kind`` says where it wants to run: ``"async"`` (an ``async def``: the event
    loop), ``"sync"`` (a plain ``def``: a worker thread, it may block) or ``"dual"``
    (built-ins that run well in either place). The optional ``sync_fn`` (a plain
    function) and ``gen_fn`` (a generator function, see walker.py) are what the
    worker-thread walk calls instead of ``fn``; ``router`` is set for sub-routers.
    """

    __slots__ = ("fn", "is_async", "name", "kind", "sync_fn", "gen_fn", "router")

    def __init__(self, fn: Callable[..., Any], is_async: bool | None = None, name: str | None = None, *,
                 kind: str | None = None, sync_fn: Callable[..., Any] | None = None,
                 gen_fn: Callable[..., Any] | None = None, router: Any = None) -> None:
        self.fn = fn
        self.is_async = is_async_callable(fn) if is_async is None else is_async
        self.name = name or getattr(fn, "__qualname__", None) or repr(fn)
        self.sync_fn = sync_fn
        self.gen_fn = gen_fn
        self.router = router
        if kind is None:
            kind = "dual" if (sync_fn is not None or gen_fn is not None) else ("async" if self.is_async else "sync")
        self.kind = kind

    def __repr__(self) -> str:
        return f"<HandlerEntry {self.name} {self.kind}>"


class RouterElement:
    """A route: method, compiled pattern, handlers, partial-match and merge flags."""

    __slots__ = ("method", "pattern", "compiled", "handlers", "allow_partial_match",
                 "merge_parameters", "exact_path")

    def __init__(self, method: RouterMethod, pattern: str | None, handlers: list[HandlerEntry],
                 allow_partial_match: bool = False, merge_parameters: bool = False) -> None:
        self.method = method
        self.pattern = normalize_pattern(pattern)
        self.compiled: CompiledPattern = compile_pattern(pattern, allow_partial_match)
        self.handlers = handlers
        self.allow_partial_match = allow_partial_match
        self.merge_parameters = merge_parameters
        # The plain-string exact routes are indexed by path in the Router (dict fast path).
        self.exact_path: str | None = (
            self.compiled.pattern if self.compiled.simple and not allow_partial_match else None)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """``(matched_path, parameters)`` when the path matches, else None."""
        return self.compiled.match(path)

    def __repr__(self) -> str:
        return f"<RouterElement {self.method} {self.pattern!r} partial={self.allow_partial_match}>"
