"""Codable routing: handlers that take and give type-hinted models (Kitura's CodableRouter).

A handler whose last parameter is named ``respond_with`` is Codable; its other
parameters, by type hint, are: an identifier (named ``id``, or hinted int/str/
UUID: the route gets ``/:id``), a query model (a dataclass, for GET and
DELETE), or a body model (a dataclass, list or dict, for POST, PUT and PATCH).
``respond_with`` may be called later, from any thread.

The models' JSON codec is in codec.py, ``RequestError`` and ``DecodingError``
in errors.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import threading
import types
import typing
import uuid
from typing import TYPE_CHECKING, Any, Callable, Generator

from .codec import _type_name, decode_body, decode_query, to_jsonable
from .element import HandlerEntry, RouterElement, RouterMethod, is_async_callable
from .errors import DecodingError, RequestError
from .walker import _AWAIT, run_sync

if TYPE_CHECKING:
    from .request import RouterRequest
    from .response import RouterResponse
    from .router import Router

__all__ = ["is_codable_handler", "make_codable_element"]

logger = logging.getLogger("kitura.router")


# -- Codable handlers -----------------------------------------------------
def is_codable_handler(fn: Any) -> bool:
    """A handler whose last parameter is named ``respond_with``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    return bool(params) and params[-1].name == "respond_with"


_IDENTIFIER_TYPES = (int, str, uuid.UUID, float)
_SUCCESS_STATUS = {RouterMethod.POST: 201, RouterMethod.DELETE: 204}


def _is_optional(tp: Any) -> tuple[bool, Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) < len(typing.get_args(tp)):
            return True, args[0] if len(args) == 1 else typing.Union[tuple(args)]
    return False, tp


class _Arg:
    __slots__ = ("kind", "name", "type", "optional")

    def __init__(self, kind: str, name: str, tp: Any, optional: bool) -> None:
        self.kind, self.name, self.type, self.optional = kind, name, tp, optional


def _analyse(method: RouterMethod, fn: Callable[..., Any]) -> list[_Arg]:
    params = list(inspect.signature(fn).parameters.values())[:-1]
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001
        hints = {}
    args: list[_Arg] = []
    for p in params:
        tp = hints.get(p.name, Any)
        optional, inner = _is_optional(tp)
        optional = optional or p.default is None
        if p.name == "id" or (inner in _IDENTIFIER_TYPES and p.name != "query"):
            args.append(_Arg("id", p.name, inner if inner is not Any else str, optional))
        elif method in (RouterMethod.GET, RouterMethod.DELETE, RouterMethod.HEAD):
            if not dataclasses.is_dataclass(inner):
                raise TypeError(f"Codable {method} handler {fn.__qualname__}: parameter {p.name!r} must be "
                                "an identifier or a dataclass query model")
            args.append(_Arg("query", p.name, inner, optional))
        else:
            args.append(_Arg("body", p.name, tp, False))
    return args


def _codable_path(path: str | None, wants_id: bool, fn: Callable[..., Any]) -> str:
    path = path or "/"
    has_param = ":" in path
    if wants_id:
        if not has_param:
            return path.rstrip("/") + "/:id"
        if path.split(":", 1)[1] != "id":
            raise ValueError(f"Codable route {path!r} ({fn.__qualname__}): only a trailing :id parameter is allowed")
        return path
    if has_param:
        raise ValueError(f"Codable route {path!r} ({fn.__qualname__}): Codable routes take no path parameters "
                         "(add an `id` parameter to get /:id)")
    return path


class _Responder:
    """``respond_with``: ``(error)``, ``(output, error)`` or ``(id, output, error)``; any thread, once."""

    __slots__ = ("_response", "_success", "_lock", "_called", "done", "_then")

    def __init__(self, response: "RouterResponse", success: int) -> None:
        self._response = response
        self._success = success
        self._lock = threading.Lock()
        self._called = False
        self.done = False
        self._then: Callable[[], None] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            if self._called:
                logger.warning("respond_with called more than once")
                return
            self._called = True
        try:
            self._respond(*args, **kwargs)
        finally:
            with self._lock:
                self.done = True
                then = self._then
            if then is not None:
                then()

    def on_done(self, then: Callable[[], None]) -> bool:
        """Call ``then`` once the response is made; False (and no call) if it already is."""
        with self._lock:
            if self.done:
                return False
            self._then = then
            return True

    def _respond(self, *args: Any, error: Any = None, **kwargs: Any) -> None:
        response = self._response
        ident = kwargs.pop("id", None)
        output = kwargs.pop("output", None)
        if len(args) == 3:
            ident, output, error = args
        elif len(args) == 2:
            output, error = args
        elif len(args) == 1:
            if args[0] is None or isinstance(args[0], RequestError):
                error = args[0]
            else:
                output = args[0]
        if error is not None and not isinstance(error, RequestError):
            error = RequestError(500, str(error))
        status = error.status if error is not None else self._success
        response.status(status)
        if error is not None and not 200 <= status < 300:
            if error.body is not None:
                response.send(json=error.body)
            return
        if len(args) == 3 or ident is not None:
            if ident is None:
                logger.error("No id (unique identifier) value provided.")
                response.status(500)
                return
            response.headers["Location"] = str(ident)
        if output is not None:
            if isinstance(output, list) and output and all(isinstance(t, tuple) and len(t) == 2 for t in output):
                output = [{str(to_jsonable(i)): m} for i, m in output]
            response.send(json=output)
        elif self._success == 200 and len(args) == 1 and args[0] is None:
            response.status(204)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def make_codable_element(router: "Router", method: RouterMethod, path: str | None,
                         fn: Callable[..., Any]) -> RouterElement:
    """The RouterElement that runs a Codable handler."""
    args = _analyse(method, fn)
    wants_id = any(a.kind == "id" for a in args)
    route = _codable_path(path, wants_id, fn)
    success = _SUCCESS_STATUS.get(method, 200)
    fn_is_async = is_async_callable(fn)

    def decode_arguments(request: "RouterRequest", response: "RouterResponse") -> list[Any] | None:
        """The handler's arguments; None when the request does not fit (the answer is set)."""
        values: list[Any] = []
        for a in args:
            if a.kind == "id":
                raw = request.parameters.get("id")
                try:
                    values.append(a.type(raw) if raw is not None else None)
                except (TypeError, ValueError):
                    response.status(422).send(f"Could not parse the identifier {raw!r} as {_type_name(a.type)}")
                    return None
            elif a.kind == "query":
                multi = request.query_parameters_multi_values
                try:
                    values.append(None if (a.optional and not multi) else decode_query(a.type, multi))
                except DecodingError as exc:
                    if not a.optional:
                        response.status(400).send(f"Could not decode the query parameters: {exc}")
                        return None
                    values.append(None)
            else:
                content_type = request.headers["Content-Type"]
                kind = (content_type or "").split(";", 1)[0].strip().lower()
                if kind not in ("application/json", "application/x-www-form-urlencoded") and not kind.endswith("+json"):
                    response.status(415).send(
                        "Unsupported Content-Type: send application/json or application/x-www-form-urlencoded")
                    return None
                try:
                    values.append(decode_body(a.type, request.body_bytes(), content_type))
                except DecodingError as exc:
                    response.status(422).send(f"Could not decode received data: {exc}")
                    return None
        return values

    async def codable_handler(request: "RouterRequest", response: "RouterResponse", next: Callable[[], None]) -> None:
        values = decode_arguments(request, response)
        if values is None:
            next()
            return
        responder = _Responder(response, success)
        if fn_is_async:
            await fn(*values, responder)
        else:
            await run_sync(fn, *values, responder)
        if not responder.done:
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()
            def wake() -> None:
                loop.call_soon_threadsafe(_resolve, fut)
            if responder.on_done(wake):
                await fut
        next()

    def codable_gen(request: "RouterRequest", response: "RouterResponse",
                    next: Callable[[], None]) -> Generator[Any, Any, None]:
        # The same, for the worker-thread walk (walker.walk_gen).
        values = decode_arguments(request, response)
        if values is None:
            next()
            return
        responder = _Responder(response, success)
        if fn_is_async:
            yield (_AWAIT, fn(*values, responder))
        else:
            fn(*values, responder)
        if responder.on_done(next):
            response.defer()        # the walk waits for next(), which respond_with calls
        else:
            next()

    entry = HandlerEntry(codable_handler, is_async=True, name=getattr(fn, "__qualname__", repr(fn)),
                         kind="dual" if fn_is_async else "sync", gen_fn=codable_gen)
    return RouterElement(method, route, [entry], False, router.merge_parameters)
