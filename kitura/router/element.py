"""RouterMethod and RouterElement: one registered route (method, pattern, handlers).

A RouterElement compiles its pattern once at registration (``pattern.py``) and
knows, for each handler, how it is run (its ``Dispatch``, steps.py). Matching only;
walking the chain is ``walker.py``.
"""
from __future__ import annotations

import enum
from typing import Any, Callable

from .pattern import CompiledPattern, compile_pattern, normalize_pattern
from .steps import Dispatch, dispatch_of

__all__ = ["RouterMethod", "RouterElement", "HandlerEntry"]


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
        return METHODS_BY_RAW_VALUE.get(value, cls.UNKNOWN)


#: Request method string -> RouterMethod (``from_raw_value`` without the call: RouterRequest
#: looks each request's method up here).
METHODS_BY_RAW_VALUE: dict[str, RouterMethod] = {m.value: m for m in RouterMethod}
METHODS_BY_RAW_VALUE["M-SEARCH"] = RouterMethod.M_SEARCH   # the method on the wire (SSDP); Kitura's raw value is MSEARCH


class HandlerEntry:
    """One handler or middleware of an element, as the walk runs it: ``fn`` and its
    ``dispatch`` (see steps.py), both fixed at registration."""

    __slots__ = ("fn", "dispatch", "name")

    def __init__(self, fn: Callable[..., Any], dispatch: Dispatch | None = None, name: str | None = None) -> None:
        self.name = name or getattr(fn, "__qualname__", None) or repr(fn)
        if dispatch is None:
            fn, dispatch = dispatch_of(fn)
        self.fn = fn
        self.dispatch = dispatch

    def __repr__(self) -> str:
        return f"<HandlerEntry {self.name} {self.dispatch.value}>"


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
