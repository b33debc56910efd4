"""The model codec: type-hinted dataclass models to and from JSON data and query strings.

``to_jsonable`` makes a value ``json.dumps`` takes; ``decode_model`` builds a
model from JSON data, ``decode_body`` from a request body (JSON or a URL-encoded
form), ``decode_query`` from query parameters. Errors say where the data does
not fit (``DecodingError``).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import json
import types
import typing
import urllib.parse
import uuid
from typing import Any

from .errors import DecodingError
from .query import parse_query_multi

__all__ = ["to_jsonable", "decode_model", "decode_body", "decode_query"]


# -- encoding -------------------------------------------------------------
#: Swift's JSONEncoder leaves a nil optional property out of the JSON, and so does
#: ``to_jsonable`` for a model field that is None. Set True to send ``"key": null``.
KEEP_NULLS = False

# URL types (Foundation's URL): sent as their string, read back from it.
_URL_TYPES = (urllib.parse.SplitResult, urllib.parse.ParseResult,
              urllib.parse.SplitResultBytes, urllib.parse.ParseResultBytes)


def to_jsonable(obj: Any) -> Any:
    """A value ``json.dumps`` takes: dataclasses become objects (None fields left out,
    as Swift's JSONEncoder does, unless ``KEEP_NULLS``), enums their values, dates
    ISO 8601 strings, UUIDs and URLs (``urllib.parse`` results) strings, tuples and sets lists."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj.value if isinstance(obj, enum.Enum) else obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if KEEP_NULLS:
            return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {f.name: to_jsonable(value) for f in dataclasses.fields(obj)
                if (value := getattr(obj, f.name)) is not None}
    if isinstance(obj, _URL_TYPES):
        url = obj.geturl()
        return url.decode("utf-8") if isinstance(url, bytes) else url
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


def type_name(tp: Any) -> str:
    """The name of a type hint as messages show it (``__name__``, else its repr)."""
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
        raise DecodingError(f"Expected {type_name(tp)} at {where} but found null")
    bindings: dict[Any, Any] = {}
    if origin is not None and dataclasses.is_dataclass(origin):
        # A generic dataclass such as InclusiveRange[int]: its type variables bound to the arguments.
        bindings = dict(zip(getattr(origin, "__parameters__", ()), typing.get_args(tp)))
        tp = origin
    if dataclasses.is_dataclass(tp):
        tp = typing.cast(Any, tp)
        if not isinstance(value, dict):
            raise DecodingError(f"Expected an object for {tp.__name__} at {where}")
        hints = _hints(tp)
        if bindings:
            hints = {name: bindings.get(hint, hint) for name, hint in hints.items()}
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
        elif tp in _URL_TYPES:
            if isinstance(value, str):
                text = value.encode("utf-8") if tp in (urllib.parse.SplitResultBytes,
                                                       urllib.parse.ParseResultBytes) else value
                split = tp in (urllib.parse.SplitResult, urllib.parse.SplitResultBytes)
                try:
                    return urllib.parse.urlsplit(text) if split else urllib.parse.urlparse(text)
                except ValueError as exc:
                    raise DecodingError(f"Invalid URL at {where}: {exc}") from None
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
        raise DecodingError(f"Expected {type_name(tp)} at {where} but found {type(value).__name__}")
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
    base = origin or tp
    from_string = getattr(base, "from_string", None) if isinstance(base, type) else None
    if from_string is not None:
        # KituraContracts' query types (InclusiveRange[int], Ordering, ...) parse their own value.
        args = typing.get_args(tp)
        try:
            return from_string(raw, args[0] if args else str)
        except ValueError as exc:
            raise DecodingError(f"Invalid value {raw!r} for '{name}': {exc}") from None
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
        raise DecodingError(f"Invalid value {raw!r} for '{name}': expected {type_name(tp)}") from None
    return raw


def decode_query(tp: Any, multi: dict[str, list[str]]) -> Any:
    """Build a dataclass from query parameters (arrays as ``a=1,2`` or ``a=1&a=2``)."""
    if not dataclasses.is_dataclass(tp):
        raise DecodingError(f"{type_name(tp)} is not a dataclass")
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

