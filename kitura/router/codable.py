"""Codable routing: handlers that take and give type-hinted models (Kitura's CodableRouter).

A handler is recognised by its shape, as Swift picks the Codable overload by type:
its parameters, by type hint, are TypeSafeMiddleware instances (produced by the
middleware's ``handle``, never decoded from the request), an identifier (named
``id``, or hinted int/str/float/UUID: the route gets ``/:id``), a query model (a
dataclass, for GET and DELETE) or a body model (for POST, PUT and PATCH), and
last the completion, whatever its name (``completion``, ``respond_with``,
``respondWith``, ``callback``). A handler that fits neither this shape nor the
raw ``(request, response, next)`` one is refused when it is registered.

The completion may be called later, from any thread. The adapter is written once,
as a walk generator (see walker.py), and driven by either walk driver.
The models' JSON codec is in codec.py, ``RequestError`` and ``DecodingError``
in errors.py, the body coders and ``MediaType`` in coders.py and media_type.py.
"""
from __future__ import annotations

import collections
import collections.abc
import concurrent.futures
import dataclasses
import enum
import inspect
import logging
import threading
import types
import typing
import uuid
import weakref
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Generator

from kitura.contracts import TypeSafeMiddleware

from .codec import type_name, decode_query
from .coders import JSONEncoder, select_decoder, select_encoder
from .element import HandlerEntry, RouterElement, RouterMethod
from .errors import DecodingError, RequestError
from .request import RouterRequest
from .response import RouterResponse
from .steps import AWAIT, BLOCKING, FUTURE, Dispatch, is_async_callable

if TYPE_CHECKING:
    from .router import Router

__all__ = ["ArgKind", "CodableArg", "CodableRoute", "codable_shape", "make_codable_element", "HANDLER_SHAPES"]

logger = logging.getLogger("kitura.router")

HANDLER_SHAPES = (
    "A route handler has one of two shapes. Raw: (request, response, next). Codable: "
    "[TypeSafeMiddleware parameters...], [an identifier: named `id` or hinted int/str/float/UUID], "
    "[a query model: a dataclass, for GET/DELETE | a body model: a dataclass, list or dict of them, "
    "for POST/PUT/PATCH], and last the completion, whatever its name "
    "(e.g. `def get_todos(completion)`, `def get_todo(id: int, respond_with)`, "
    "`def add(user: MyBasicAuth, todo: Todo, callback)`)."
)


# -- the shape of a handler ----------------------------------------------------
_IDENTIFIER_TYPES = (int, str, uuid.UUID, float)
_SUCCESS_STATUS = {RouterMethod.POST: 201, RouterMethod.DELETE: 204}
_QUERY_METHODS = (RouterMethod.GET, RouterMethod.DELETE, RouterMethod.HEAD)
_RAW_TYPES = (RouterRequest, RouterResponse)


class ArgKind(enum.Enum):
    """What a Codable handler's parameter is, and where its value comes from."""

    MIDDLEWARE = "TypeSafeMiddleware"   # the middleware's handle() produces it
    ID = "identifier"                   # the trailing :id path parameter
    QUERY = "query model"               # the query string
    BODY = "body model"                 # the request body, through router.decoders


@dataclasses.dataclass(frozen=True)
class CodableArg:
    kind: ArgKind
    name: str
    type: Any
    optional: bool = False


@dataclasses.dataclass(frozen=True)
class CodableRoute:
    """A registered Codable route, as the OpenAPI generator reads it."""

    method: RouterMethod
    path: str
    handler: Callable[..., Any]
    args: tuple[CodableArg, ...]
    output: Any              # the completion's model type, from its hint (None when not hinted)
    returns_id: bool         # the completion is (id, output, error)


def _is_optional(tp: Any) -> tuple[bool, Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) < len(typing.get_args(tp)):
            return True, args[0] if len(args) == 1 else typing.Union[tuple(args)]
    return False, tp


def is_type_safe_middleware(tp: Any) -> bool:
    """A TypeSafeMiddleware subclass, or any class with a ``handle`` class (or static)
    method: such a type is never decoded from the request, whatever else it is."""
    if not isinstance(tp, type):
        return False
    if issubclass(tp, TypeSafeMiddleware):
        return True
    return isinstance(inspect.getattr_static(tp, "handle", None), (classmethod, staticmethod))


def _is_model(tp: Any) -> bool:
    base = typing.get_origin(tp) or tp
    if base in (list, tuple, set, frozenset, dict):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return all(_is_model(a) or a in _IDENTIFIER_TYPES or a in (bool, typing.Any) for a in args)
    if not isinstance(base, type) or base in _IDENTIFIER_TYPES or base is bool:
        return False
    return dataclasses.is_dataclass(base) or any(
        callable(getattr(base, hook, None)) for hook in ("from_dict", "model_validate", "from_string"))


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolved forward references: the plain annotations
        target = fn.func if isinstance(fn, partial) else fn
        target = target if inspect.isroutine(target) else getattr(target, "__call__", target)
        namespace = getattr(target, "__globals__", {})
        hints = {}
        for name, hint in getattr(target, "__annotations__", {}).items():
            try:
                while isinstance(hint, str) and not isinstance(hint, _Unresolved):
                    hint = eval(hint, namespace)  # noqa: S307 - an annotation, as typing does
                hints[name] = hint
            except Exception:  # noqa: BLE001 - kept as text: _classify says it cannot be resolved
                hints[name] = _Unresolved(hint)
        return hints


class _Unresolved(str):
    """A string annotation that names nothing reachable from the handler's module."""


def _marks_codable(p: inspect.Parameter, hint: Any) -> bool:
    """A parameter only a Codable handler has: ``id``, or a model/middleware/identifier hint."""
    if p.name == "id":
        return True
    inner = _is_optional(hint)[1]
    return inner in _IDENTIFIER_TYPES or is_type_safe_middleware(inner) or _is_model(inner)


def _refuse(fn: Callable[..., Any], why: str) -> TypeError:
    name = getattr(fn, "__qualname__", None) or repr(fn)
    try:
        sig = str(inspect.signature(fn))
    except (TypeError, ValueError):
        sig = "(...)"
    return TypeError(f"Route handler {name}{sig}: {why}. {HANDLER_SHAPES}")


def codable_shape(method: RouterMethod, fn: Callable[..., Any]) -> list[CodableArg] | None:
    """None for a raw ``(request, response, next)`` handler; the Codable parameters
    (all but the completion) otherwise. Raises TypeError for a handler of no shape."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None                      # a builtin or C callable: taken as raw, as before
    positional = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values())
    hints = _hints(fn)
    if any(_is_optional(hints.get(p.name))[1] in _RAW_TYPES for p in positional):
        return None
    required = [p for p in positional if p.default is p.empty]
    takes_three = len(required) <= 3 and (varargs or len(positional) >= 3)
    if takes_three and not any(_marks_codable(p, hints.get(p.name)) for p in positional[:-1]):
        return None
    if not positional:
        raise _refuse(fn, "it takes no positional parameter (a Codable handler's last one is its completion)")
    completion = positional[-1]
    completion_hint = hints.get(completion.name)
    if completion_hint is not None and _marks_codable(completion, completion_hint):
        raise _refuse(fn, f"its last parameter {completion.name!r} must be the completion, not a "
                          f"{type_name(completion_hint)}")
    args: list[CodableArg] = []
    for p in positional[:-1]:
        args.append(_classify(method, fn, p, hints.get(p.name)))
    counts = collections.Counter(a.kind for a in args)
    for kind in (ArgKind.ID, ArgKind.QUERY, ArgKind.BODY):
        if counts[kind] > 1:
            raise _refuse(fn, f"it has {counts[kind]} {kind.value} parameters; a Codable handler takes at most one")
    if counts[ArgKind.QUERY] and counts[ArgKind.BODY]:
        raise _refuse(fn, "it takes both a query model and a body model")
    seen_other = False
    for a in args:
        if a.kind is ArgKind.MIDDLEWARE and seen_other:
            raise _refuse(fn, f"TypeSafeMiddleware parameter {a.name!r} must come before the identifier and models")
        seen_other = seen_other or a.kind is not ArgKind.MIDDLEWARE
    return args


def _classify(method: RouterMethod, fn: Callable[..., Any], p: inspect.Parameter, hint: Any) -> CodableArg:
    optional, inner = _is_optional(hint)
    optional = optional or p.default is None
    if is_type_safe_middleware(inner):
        if optional:
            raise _refuse(fn, f"TypeSafeMiddleware parameter {p.name!r} cannot be optional: "
                              "the route runs only when the middleware produces it")
        return CodableArg(ArgKind.MIDDLEWARE, p.name, inner)
    if inner in _IDENTIFIER_TYPES or (p.name == "id" and inner in (None, typing.Any)):
        return CodableArg(ArgKind.ID, p.name, inner if inner in _IDENTIFIER_TYPES else str, optional)
    if isinstance(hint, _Unresolved):
        raise _refuse(fn, f"the type hint {str(hint)!r} of parameter {p.name!r} cannot be resolved "
                          "(define the type at module level)")
    if hint is None:
        raise _refuse(fn, f"parameter {p.name!r} has no type hint (hint it with its model, "
                          "identifier or TypeSafeMiddleware type)")
    if method in _QUERY_METHODS:
        if not dataclasses.is_dataclass(inner):
            raise _refuse(fn, f"parameter {p.name!r} of type {type_name(hint)} is neither a TypeSafeMiddleware, "
                              f"an identifier nor a query model (a dataclass) for {method}")
        _refuse_middleware_inside(fn, p.name, inner)
        return CodableArg(ArgKind.QUERY, p.name, inner, optional)
    if not _is_model(inner):
        raise _refuse(fn, f"parameter {p.name!r} of type {type_name(hint)} is neither a TypeSafeMiddleware, "
                          "an identifier nor a body model (a dataclass, a list or dict of them)")
    _refuse_middleware_inside(fn, p.name, inner)
    return CodableArg(ArgKind.BODY, p.name, hint, False)


def _refuse_middleware_inside(fn: Callable[..., Any], name: str, tp: Any, seen: set[Any] | None = None) -> None:
    """A model that holds a TypeSafeMiddleware type would let the request forge it: refused."""
    seen = set() if seen is None else seen
    for arg in typing.get_args(tp):
        _refuse_middleware_inside(fn, name, arg, seen)
    base = typing.get_origin(tp) or tp
    if is_type_safe_middleware(base):
        raise _refuse(fn, f"the model of parameter {name!r} holds a TypeSafeMiddleware type "
                          f"({type_name(base)}), which would then be decoded from the request")
    if not dataclasses.is_dataclass(base) or base in seen:
        return
    seen.add(base)
    try:
        hints = typing.get_type_hints(base)
    except Exception:  # noqa: BLE001 - unresolved forward references: the codec reports them
        return
    for hint in hints.values():
        _refuse_middleware_inside(fn, name, hint, seen)


def _completion_output(fn: Callable[..., Any]) -> tuple[Any, bool]:
    """The output model and the (id, output, error) form, from the completion's Callable hint."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):
        return None, False
    hint = _hints(fn).get(params[-1].name) if params else None
    if typing.get_origin(hint) is not collections.abc.Callable:
        return None, False
    call_args = typing.get_args(hint)[0] if typing.get_args(hint) else []
    if not isinstance(call_args, (list, tuple)):
        return None, False
    models = [_is_optional(a)[1] for a in call_args if _is_optional(a)[1] is not RequestError]
    if not models:
        return None, False
    return models[-1], len(models) == 2


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


# -- the completions ------------------------------------------------------------
# What a completion's future holds when the completion was dropped without being called.
_RELEASED: Any = object()


def _release(future: concurrent.futures.Future[Any]) -> None:
    try:
        future.set_result(_RELEASED)
    except concurrent.futures.InvalidStateError:
        pass                       # it was called: the usual case


def _released_with(completion: Any) -> concurrent.futures.Future[Any]:
    """The completion's future, resolved with _RELEASED when the last reference to the
    completion goes uncalled (as Swift's reference counting ends the response then)."""
    weakref.finalize(completion, _release, completion.future)
    return completion.future


class _MiddlewareCompletion:
    """A TypeSafeMiddleware's ``completion(instance, error)``: any thread, once."""

    __slots__ = ("future", "__weakref__")

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[tuple[Any, Any]] = concurrent.futures.Future()

    def __call__(self, instance: Any = None, error: Any = None) -> None:
        try:
            self.future.set_result((instance, error))
        except concurrent.futures.InvalidStateError:
            logger.warning("a TypeSafeMiddleware called its completion more than once")


class _Responder:
    """The handler's completion: ``(error)``, ``(output, error)`` or ``(id, output, error)``; any thread, once."""

    __slots__ = ("_router", "_request", "_response", "_success", "_lock", "_called", "future", "__weakref__")

    def __init__(self, router: "Router", request: RouterRequest, response: RouterResponse, success: int) -> None:
        self._router = router
        self._request = request
        self._response = response
        self._success = success
        self._lock = threading.Lock()
        self._called = False
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            called, self._called = self._called, True
        if called:
            logger.warning("the completion of a Codable handler was called more than once")
            return
        try:
            self._respond(*args, **kwargs)
        finally:
            self.future.set_result(None)

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
                output = [{str(i): m} for i, m in output]
            media_type, encoder = select_encoder(self._router, self._request)
            if type(encoder) is JSONEncoder:
                response.send(json=output)
                return
            try:
                data = encoder.encode(output)
            except Exception as exc:  # noqa: BLE001 - as Kitura: a warning and a 500
                logger.warning("Failed to encode Codable object for sending: %s", exc)
                response.status(500)
                return
            response.headers["Content-Type"] = media_type.description
            response.send(data=data)
        elif self._success == 200 and len(args) == 1 and args[0] is None:
            response.status(204)


# -- the adapter ----------------------------------------------------------------
def _decode_argument(router: "Router", a: CodableArg, request: RouterRequest, response: RouterResponse) -> Any:
    """The value of an identifier, query or body parameter; raises _Refused (the answer is set)."""
    if a.kind is ArgKind.ID:
        raw = request.parameters.get("id")
        try:
            return a.type(raw) if raw is not None else None
        except (TypeError, ValueError):
            response.status(422).send(f"Could not parse the identifier {raw!r} as {type_name(a.type)}")
            raise _Refused from None
    if a.kind is ArgKind.QUERY:
        multi = request.query_parameters_multi_values
        if a.optional and not multi:
            return None
        try:
            return decode_query(a.type, multi)
        except DecodingError as exc:
            if a.optional:
                return None
            response.status(400).send(f"Could not decode the query parameters: {exc}")
            raise _Refused from None
    content_type = request.headers["Content-Type"]
    decoder = select_decoder(router, content_type)
    if decoder is None:
        response.status(415).send(f"Unsupported Content-Type {content_type!r}: send one of "
                                  + ", ".join(m.description for m in router.decoders))
        raise _Refused
    try:
        return decoder.decode(a.type, from_=request.body_bytes())
    except (DecodingError, ValueError) as exc:
        response.status(422).send(f"Could not decode received data: {exc}")
        raise _Refused from None


class _Refused(Exception):
    """The request does not fit the route; the answer is already set."""


def _run_handed_over(box: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    fn, args = box.pop()
    fn(*args)          # on return nothing here holds the completion: only fn, if it kept it


def _call(fn: Callable[..., Any], args: tuple[Any, ...], fn_is_async: bool) -> Generator[Any, Any, None]:
    if fn_is_async:
        yield (AWAIT, fn(*args))
    else:
        # A plain def blocks: the walk's driver runs it on a worker thread (inline when the
        # walk already runs on one). Through a box it empties: a worker pool's job may
        # outlive the call, and must not keep the completion alive (a dropped completion
        # ends the response).
        yield (BLOCKING, (_run_handed_over, ([(fn, args)],)))


def _call_until_completed(fn: Callable[..., Any], fn_is_async: bool, head: tuple[Any, ...],
                          completion: Any) -> Generator[Any, Any, Any]:
    """Call ``fn(*head, completion)`` and wait for the completion: its result, or
    _RELEASED when the last reference to it went uncalled. From the call on, only ``fn``
    (and whatever it handed the completion to) holds it."""
    future = _released_with(completion)
    call = _call(fn, (*head, completion), fn_is_async)
    del completion
    yield from call
    del call
    if not future.done():
        yield (FUTURE, future)
    return future.result()


def _codable_walk(router: "Router", route: CodableRoute, fn_is_async: bool, success: int,
                  request: RouterRequest, response: RouterResponse,
                  next: Callable[[], None]) -> Generator[Any, Any, None]:
    values: list[Any] = []
    for a in route.args:
        if a.kind is ArgKind.MIDDLEWARE:
            handle = a.type.handle
            result = yield from _call_until_completed(handle, is_async_callable(handle), (request, response),
                                                      _MiddlewareCompletion())
            if result is _RELEASED:
                return                 # dropped uncalled: the walk ends the response (503)
            instance, error = result
            if instance is None:
                # As Kitura: the middleware's error status, 500 when it gave none; the route does not run.
                if error is not None and not isinstance(error, RequestError):
                    error = RequestError(500, str(error))
                response.status(error.status if error is not None else 500)
                next()
                return
            values.append(instance)
            continue
        try:
            values.append(_decode_argument(router, a, request, response))
        except _Refused:
            next()
            return
    result = yield from _call_until_completed(route.handler, fn_is_async, tuple(values),
                                              _Responder(router, request, response, success))
    if result is _RELEASED:
        return                     # dropped uncalled: the walk ends the response (503)
    next()


def make_codable_element(router: "Router", method: RouterMethod, path: str | None,
                         fn: Callable[..., Any], args: list[CodableArg]) -> RouterElement:
    """The RouterElement that runs a Codable handler (``args`` from ``codable_shape``)."""
    wants_id = any(a.kind is ArgKind.ID for a in args)
    output, returns_id = _completion_output(fn)
    route = CodableRoute(method, _codable_path(path, wants_id, fn), fn, tuple(args), output, returns_id)
    router.codable_routes.append(route)
    success = _SUCCESS_STATUS.get(method, 200)
    fn_is_async = is_async_callable(fn)

    # One walk generator, run by either driver (steps.py); a plain def handler makes the
    # Router walk the chain on a worker thread (BLOCKING_STEPS), where it then runs inline.
    entry = HandlerEntry(partial(_codable_walk, router, route, fn_is_async, success),
                         Dispatch.STEPS if fn_is_async else Dispatch.BLOCKING_STEPS,
                         name=getattr(fn, "__qualname__", repr(fn)))
    return RouterElement(method, route.path, [entry], False, router.merge_parameters)
