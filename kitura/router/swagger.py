"""The Swagger 2.0 document of a Router's Codable routes (Kitura's SwaggerGenerator).

Swagger 2.0, as Kitura and Kitura-OpenAPI generate it, so tools made for a Kitura
app's document read ours: ``info`` (title "Kitura Project"), ``paths`` keyed by
path with ``{id}`` for ``:id``, ``parameters`` (path id, query fields, body model),
``responses`` with the output model when the completion's type hint names it,
and ``definitions`` for every dataclass model reached.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import types
import typing
import uuid
from typing import TYPE_CHECKING, Any

from .codec import type_name

if TYPE_CHECKING:
    from .codable import CodableRoute

__all__ = ["swagger_document"]

_PRIMITIVES: dict[Any, dict[str, str]] = {
    bool: {"type": "boolean"},
    int: {"type": "integer", "format": "int64"},
    float: {"type": "number", "format": "double"},
    str: {"type": "string"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    decimal.Decimal: {"type": "number"},
    _dt.datetime: {"type": "string", "format": "date-time"},
    _dt.date: {"type": "string", "format": "date"},
    bytes: {"type": "string", "format": "byte"},
}
_SUCCESS = {"POST": "201", "DELETE": "204"}


def _strip_optional(tp: Any) -> tuple[bool, Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return True, args[0]
    return False, tp


class _Schemas:
    """The JSON schemas of types; dataclasses become ``definitions`` referenced by name."""

    def __init__(self) -> None:
        self.definitions: dict[str, Any] = {}

    def schema(self, tp: Any) -> dict[str, Any]:
        tp = _strip_optional(tp)[1]
        if tp in _PRIMITIVES:
            return dict(_PRIMITIVES[tp])
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (list, set, frozenset, tuple) or tp in (list, set, frozenset, tuple):
            return {"type": "array", "items": self.schema(args[0]) if args else {}}
        if origin is dict or tp is dict:
            return {"type": "object", "additionalProperties": self.schema(args[1]) if len(args) == 2 else {}}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            values = [m.value for m in tp]
            schema = self.schema(type(values[0])) if values else {"type": "string"}
            schema["enum"] = values
            return schema
        base = origin or tp
        if dataclasses.is_dataclass(base):
            name = type_name(base) + ("".join(type_name(a).capitalize() for a in args) if args else "")
            if name not in self.definitions:
                self.definitions[name] = {}          # placeholder: recursive models stop here
                self.definitions[name] = self._object(base, dict(zip(getattr(base, "__parameters__", ()), args)))
            return {"$ref": f"#/definitions/{name}"}
        return {}

    def _object(self, cls: Any, bindings: dict[Any, Any]) -> dict[str, Any]:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # noqa: BLE001 - unresolved forward references
            hints = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            ftype = bindings.get(hints.get(f.name, Any), hints.get(f.name, Any))
            optional, _ = _strip_optional(ftype)
            properties[f.name] = self.schema(ftype)
            if not optional and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
        obj: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            obj["required"] = required
        return obj


def _swagger_path(path: str) -> str:
    return "/".join("{" + part[1:] + "}" if part.startswith(":") else part for part in path.split("/")) or "/"


def _operation(route: "CodableRoute", schemas: _Schemas, consumes: list[str], produces: list[str]) -> dict[str, Any]:
    from_kinds = {a.kind.name: a for a in route.args}
    parameters: list[dict[str, Any]] = []
    ident = from_kinds.get("ID")
    if ident is not None:
        id_type = schemas.schema(ident.type).get("type", "string")
        parameters.append({"in": "path", "name": "id", "required": True,
                           "type": id_type if id_type in ("integer", "string") else "string"})
    query = from_kinds.get("QUERY")
    if query is not None:
        model = schemas.schema(query.type)
        definition = schemas.definitions.get(model.get("$ref", "").rsplit("/", 1)[-1], {})
        required = set(definition.get("required", ()))
        for name, prop in definition.get("properties", {}).items():
            param: dict[str, Any] = {"in": "query", "name": name, "required": name in required and not query.optional}
            if prop.get("type") == "array":
                param.update(type="array", items=prop.get("items", {}), collectionFormat="csv")
            else:
                param["type"] = prop.get("type", "string")
                if "format" in prop:
                    param["format"] = prop["format"]
            parameters.append(param)
    body = from_kinds.get("BODY")
    if body is not None:
        parameters.append({"in": "body", "name": "input", "required": True, "schema": schemas.schema(body.type)})
    status = _SUCCESS.get(route.method.value, "200")
    response: dict[str, Any] = {"description": "successful response"}
    if route.output is not None and status != "204":
        response["schema"] = schemas.schema(route.output)
    operation: dict[str, Any] = {
        "tags": [route.path.strip("/").split("/", 1)[0] or "/"],
        "summary": getattr(route.handler, "__doc__", None) and route.handler.__doc__.strip().splitlines()[0] or "",
        "parameters": parameters,
        "responses": {status: response},
        "produces": produces,
    }
    if body is not None:
        operation["consumes"] = consumes
    return operation


def swagger_document(routes: list["CodableRoute"], consumes: list[str], produces: list[str], *,
                     title: str = "Kitura Project", description: str = "Generated by Kitura",
                     version: str = "1.0") -> dict[str, Any]:
    """The Swagger 2.0 document (a dict) of these Codable routes."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(_swagger_path(route.path), {})[route.method.value.lower()] = \
            _operation(route, schemas, consumes, produces)
    return {
        "swagger": "2.0",
        "info": {"title": title, "description": description, "version": version},
        "basePath": "/",
        "schemes": ["http"],
        "paths": paths,
        "definitions": schemas.definitions,
    }
