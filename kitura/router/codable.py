"""Codable routing: type-hinted dataclass models in and out as JSON (Kitura's CodableRouter).

A handler whose last parameter is named ``respond_with`` is Codable; its other
parameters, by type hint, are: an identifier (named ``id``, or hinted int/str/
UUID: the route gets ``/:id``), a query model (a dataclass, for GET and
DELETE), or a body model (a dataclass, list or dict, for POST, PUT and PATCH).
``respond_with`` may be called later, from any thread.

Also here: ``RequestError`` and the model codec (``to_jsonable``,
``decode_model``, ``decode_body``, ``decode_query``).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import inspect
import json
import logging
import threading
import types
import typing
import uuid
from typing import TYPE_CHECKING, Any, Callable, Generator

from .element import HandlerEntry, RouterElement, RouterMethod
from .query import parse_query_multi
from .status import status_phrase
from .steps import AWAIT, BLOCKING, Dispatch, is_async_callable

if TYPE_CHECKING:
    from .request import RouterRequest
    from .response import RouterResponse
    from .router import Router

__all__ = ["RequestError", "DecodingError", "to_jsonable", "decode_model", "decode_body", "decode_query",
           "is_codable_handler", "make_codable_element"]

logger = logging.getLogger("kitura.router")


# -- RequestError ---------------------------------------------------------
class RequestError(Exception):
    """An error with an HTTP status, for Codable routes (KituraContracts' RequestError).

    ``RequestError(404)``, ``RequestError(RequestError.NOT_FOUND, body=Problem(...))``,
    ``RequestError(http_code=418, reason="teapot")``. Pass it to ``respond_with`` or
    raise it from any handler: the response gets its status (and its body as JSON).
    """

    http_code: int
    reason: str
    body: Any

    # Filled in below: RequestError.BAD_REQUEST, .NOT_FOUND, .CONFLICT, ...
    BAD_REQUEST: "RequestError"
    UNAUTHORIZED: "RequestError"
    FORBIDDEN: "RequestError"
    NOT_FOUND: "RequestError"
    METHOD_NOT_ALLOWED: "RequestError"
    NOT_ACCEPTABLE: "RequestError"
    CONFLICT: "RequestError"
    GONE: "RequestError"
    UNSUPPORTED_MEDIA_TYPE: "RequestError"
    UNPROCESSABLE_ENTITY: "RequestError"
    TOO_MANY_REQUESTS: "RequestError"
    INTERNAL_SERVER_ERROR: "RequestError"
    NOT_IMPLEMENTED: "RequestError"
    SERVICE_UNAVAILABLE: "RequestError"

    def __init__(self, http_code: Any, reason: str | None = None, body: Any = None) -> None:
        if isinstance(http_code, RequestError):
            reason = reason if reason is not None else http_code.reason
            body = body if body is not None else http_code.body
            http_code = http_code.http_code
        code = int(getattr(http_code, "value", http_code))
        if reason is None:
            reason = status_phrase(code) or f"HTTP {code}"
        super().__init__(code, reason)
        self.http_code = code
        self.reason = reason
        self.body = body

    @property
    def raw_value(self) -> int:
        return self.http_code

    def __str__(self) -> str:
        return f"{self.http_code} : {self.reason}"

    def __repr__(self) -> str:
        return f"RequestError({self.http_code}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RequestError) and other.http_code == self.http_code

    def __hash__(self) -> int:
        return hash(self.http_code)

    @property
    def status(self) -> int:
        """The status sent: ``http_code``, or 500 for Kitura's 7xx client-side codes."""
        return 500 if 700 <= self.http_code < 800 else self.http_code

    def apply_to(self, response: "RouterResponse") -> None:
        response.status(self.status)
        if self.body is not None:
            response.send(json=self.body)


_STANDARD = {
    "BAD_REQUEST": 400, "UNAUTHORIZED": 401, "PAYMENT_REQUIRED": 402, "FORBIDDEN": 403, "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405, "NOT_ACCEPTABLE": 406, "PROXY_AUTHENTICATION_REQUIRED": 407,
    "REQUEST_TIMEOUT": 408, "CONFLICT": 409, "GONE": 410, "LENGTH_REQUIRED": 411,
    "PRECONDITION_FAILED": 412, "PAYLOAD_TOO_LARGE": 413, "URI_TOO_LONG": 414,
    "UNSUPPORTED_MEDIA_TYPE": 415, "RANGE_NOT_SATISFIABLE": 416, "EXPECTATION_FAILED": 417,
    "MISDIRECTED_REQUEST": 421, "UNPROCESSABLE_ENTITY": 422, "LOCKED": 423, "FAILED_DEPENDENCY": 424,
    "UPGRADE_REQUIRED": 426, "PRECONDITION_REQUIRED": 428, "TOO_MANY_REQUESTS": 429,
    "REQUEST_HEADER_FIELDS_TOO_LARGE": 431, "UNAVAILABLE_FOR_LEGAL_REASONS": 451,
    "INTERNAL_SERVER_ERROR": 500, "NOT_IMPLEMENTED": 501, "BAD_GATEWAY": 502, "SERVICE_UNAVAILABLE": 503,
    "GATEWAY_TIMEOUT": 504, "HTTP_VERSION_NOT_SUPPORTED": 505, "VARIANT_ALSO_NEGOTIATES": 506,
    "INSUFFICIENT_STORAGE": 507, "LOOP_DETECTED": 508, "NOT_EXTENDED": 510,
    "NETWORK_AUTHENTICATION_REQUIRED": 511,
}
for _name, _code in _STANDARD.items():
    setattr(RequestError, _name, RequestError(_code))
del _name, _code


# -- encoding -------------------------------------------------------------
def to_jsonable(obj: Any) -> Any:
    """A value ``json.dumps`` takes: dataclasses become objects, enums their values,
    dates ISO 8601 strings, UUIDs strings, tuples and sets lists."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj.value if isinstance(obj, enum.Enum) else obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, dict):
        return {(k.value if isinstance(k, enum.Enum) else str(k)): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, (uuid.UUID, decimal.Decimal)):
        return str(obj)
    if isinstance(obj, (bytes, bytearray)):
        return base64.b64encode(obj).decode("ascii")
    to_dict = getattr(obj, "to_dict", None) or getattr(obj, "model_dump", None)
    if callable(to_dict):
        return to_jsonable(to_dict())
    raise TypeError(f"{type(obj).__name__} is not encodable as JSON")


# -- decoding -------------------------------------------------------------
class DecodingError(ValueError):
    """A body or query that does not fit the model; the message says where."""


_hints_cache: dict[Any, dict[str, Any]] = {}


def _hints(cls: Any) -> dict[str, Any]:
    hints = _hints_cache.get(cls)
    if hints is None:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # noqa: BLE001 - unresolved forward references
            hints = {f.name: f.type for f in dataclasses.fields(cls)}
        _hints_cache[cls] = hints
    return hints


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def decode_model(tp: Any, value: Any, path: str = "") -> Any:
    """Build a ``tp`` (dataclass, list[...], dict[str, ...], Optional, enum, primitive) from JSON data."""
    where = path or "the top level"
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return decode_model(arg, value, path)
            except DecodingError as exc:
                errors.append(str(exc))
        raise DecodingError(errors[0] if len(errors) == 1 else f"No type of {tp} fits the value at {where}")
    if value is None:
        raise DecodingError(f"Expected {_type_name(tp)} at {where} but found null")
    if dataclasses.is_dataclass(tp):
        tp = typing.cast(Any, tp)
        if not isinstance(value, dict):
            raise DecodingError(f"Expected an object for {tp.__name__} at {where}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if not f.init:
                continue
            sub = f"{path}.{f.name}" if path else f.name
            if f.name in value:
                kwargs[f.name] = decode_model(hints.get(f.name, Any), value[f.name], sub)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                ftype = hints.get(f.name, Any)
                if typing.get_origin(ftype) in (typing.Union, types.UnionType) and type(None) in typing.get_args(ftype):
                    kwargs[f.name] = None
                else:
                    raise DecodingError(f"Key '{sub}' not found")
        return tp(**kwargs)
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
        if not isinstance(value, list):
            raise DecodingError(f"Expected an array at {where}")
        args = typing.get_args(tp)
        container = origin or tp
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise DecodingError(f"Expected {len(args)} items at {where}")
            return tuple(decode_model(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        return container(decode_model(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise DecodingError(f"Expected an object at {where}")
        args = typing.get_args(tp)
        vt = args[1] if len(args) == 2 else Any
        return {k: decode_model(vt, v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise DecodingError(f"Unexpected value {value!r} at {where}")
        return value
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            try:
                return tp(value)
            except ValueError:
                raise DecodingError(f"Cannot initialize {tp.__name__} from invalid value {value!r} at {where}") from None
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif tp is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif tp is str:
            if isinstance(value, str):
                return value
        elif tp in (_dt.datetime, _dt.date, _dt.time):
            if isinstance(value, str):
                try:
                    return tp.fromisoformat(value.replace("Z", "+00:00") if tp is _dt.datetime else value)
                except ValueError:
                    pass
        elif tp is uuid.UUID or tp is decimal.Decimal:
            if isinstance(value, str):
                try:
                    return tp(value)
                except (ValueError, decimal.InvalidOperation):
                    pass
        else:
            from_dict = getattr(tp, "from_dict", None) or getattr(tp, "model_validate", None)
            if callable(from_dict):
                try:
                    return from_dict(value)
                except Exception as exc:  # noqa: BLE001
                    raise DecodingError(f"{tp.__name__} rejected the value at {where}: {exc}") from None
            if isinstance(value, tp):
                return value
        raise DecodingError(f"Expected {_type_name(tp)} at {where} but found {type(value).__name__}")
    return value


def decode_body(tp: Any, body: bytes, content_type: str | None) -> Any:
    """Decode a request body (JSON; URL-encoded forms as a flat model) into ``tp``."""
    if content_type and content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        return decode_query(tp, parse_query_multi(body.decode("utf-8", "replace")))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DecodingError("The given data was not valid JSON.") from None
    return decode_model(tp, data)


def _from_query_string(tp: Any, raw: str, name: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _from_query_string(arg, raw, name)
            except DecodingError:
                pass
        raise DecodingError(f"Invalid value {raw!r} for '{name}'")
    if origin in (list, set, tuple, frozenset) or tp in (list, set, tuple, frozenset):
        args = typing.get_args(tp)
        item = args[0] if args else str
        return (origin or tp)(_from_query_string(item, v, name) for v in raw.split(",") if v != "")
    if tp is str or tp is Any:
        return raw
    if tp is bool:
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise DecodingError(f"Invalid value {raw!r} for '{name}': expected true or false")
    try:
        if tp is int:
            return int(raw)
        if tp is float:
            return float(raw)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            try:
                return tp(raw)
            except ValueError:
                member_type = type(next(iter(tp)).value)
                return tp(member_type(raw))
        if tp in (_dt.datetime, _dt.date):
            return tp.fromisoformat(raw.replace("Z", "+00:00") if tp is _dt.datetime else raw)
        if tp in (uuid.UUID, decimal.Decimal):
            return tp(raw)
    except (ValueError, decimal.InvalidOperation):
        raise DecodingError(f"Invalid value {raw!r} for '{name}': expected {_type_name(tp)}") from None
    return raw


def decode_query(tp: Any, multi: dict[str, list[str]]) -> Any:
    """Build a dataclass from query parameters (arrays as ``a=1,2`` or ``a=1&a=2``)."""
    if not dataclasses.is_dataclass(tp):
        raise DecodingError(f"{_type_name(tp)} is not a dataclass")
    tp = typing.cast(Any, tp)
    hints = _hints(tp)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(tp):
        if not f.init:
            continue
        ftype = hints.get(f.name, str)
        values = multi.get(f.name)
        if values is None:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            if typing.get_origin(ftype) in (typing.Union, types.UnionType) and type(None) in typing.get_args(ftype):
                kwargs[f.name] = None
                continue
            raise DecodingError(f"Key '{f.name}' not found")
        kwargs[f.name] = _from_query_string(ftype, ",".join(values), f.name)
    return tp(**kwargs)


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

    def codable_steps(request: "RouterRequest", response: "RouterResponse",
                      next: Callable[[], None]) -> Generator[Any, Any, None]:
        # Run by either walk driver (steps.py): a plain def handler as BLOCKING (inline on
        # a worker), an async def's coroutine awaited on the loop.
        values = decode_arguments(request, response)
        if values is None:
            next()
            return
        responder = _Responder(response, success)
        if fn_is_async:
            yield AWAIT, fn(*values, responder)
        else:
            yield BLOCKING, (fn, (*values, responder))
        if responder.on_done(next):
            response.defer()        # the walk waits for next(), which respond_with calls
        else:
            next()

    entry = HandlerEntry(codable_steps, Dispatch.STEPS if fn_is_async else Dispatch.BLOCKING_STEPS,
                         name=getattr(fn, "__qualname__", repr(fn)))
    return RouterElement(method, route, [entry], False, router.merge_parameters)
