"""Kitura for Python: a Kitura-compatible HTTP server and router with integrated WebSocket.

Sub-packages: `kitura.net` (KituraNet, the HTTP/1.1 server), `kitura.websocket`
(Kitura-WebSocket, RFC 6455 + RFC 7692), `kitura.log` (HeliumLogger/LoggerAPI),
`kitura.router` (Kitura's Router). The Router layer's names are importable from
here (``from kitura import Kitura, Router``); they load on first use, so
``import kitura.websocket`` or ``import kitura.net`` alone stays light.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Kitura", "Router", "RouterRequest", "RouterResponse", "RouterMiddleware", "RouterMethod", "RouterHandler",
    "RouterParameterHandler", "Headers", "HTTPVersion", "Cookie", "AdditionalCookieAttribute",
    "BodyParser", "BodyParserMultiValue", "ParsedBody", "Part", "StaticFileServer", "StaticFileServerOptions",
    "CacheOptions", "ResponseHeadersSetter", "RequestError", "DecodingError", "ContentType", "JSONPError",
    "TemplateEngine", "TemplatingError", "MediaType",
    # Swift's ``import Kitura`` also gives an app these: Kitura's typealiases of KituraNet's names
    "HTTPStatusCode", "ServerOptions",
    # KituraContracts (kitura.contracts)
    "TypeSafeMiddleware", "QueryParamsError", "Operator", "Operation", "GreaterThan", "GreaterThanOrEqual",
    "LowerThan", "LowerThanOrEqual", "InclusiveRange", "ExclusiveRange", "Order", "Ordering", "Pagination",
]
_CONTRACTS = frozenset(__all__[__all__.index("TypeSafeMiddleware"):])

if TYPE_CHECKING:
    from kitura.app import Kitura
    from kitura.router import (AdditionalCookieAttribute, BodyParser, BodyParserMultiValue, CacheOptions,
                               ContentType, Cookie, DecodingError, Headers, HTTPVersion, JSONPError, ParsedBody,
                               Part, RequestError, ResponseHeadersSetter, Router, RouterHandler, RouterMethod,
                               RouterMiddleware, RouterParameterHandler, RouterRequest, RouterResponse,
                               StaticFileServer, StaticFileServerOptions, TemplateEngine, TemplatingError,
                               MediaType)
    from kitura.contracts import (ExclusiveRange, GreaterThan, GreaterThanOrEqual, InclusiveRange, LowerThan,
                                  LowerThanOrEqual, Operation, Operator, Order, Ordering, Pagination,
                                  QueryParamsError, TypeSafeMiddleware)
    from kitura.net.options import ServerOptions
    from kitura.net.status import HTTPStatusCode


# Where each name that is neither the Router layer's nor KituraContracts' lives.
_HOMES = {"Kitura": "kitura.app", "HTTPStatusCode": "kitura.net.status", "ServerOptions": "kitura.net.options"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif name in _CONTRACTS:
        value = getattr(importlib.import_module("kitura.contracts"), name)
    elif name in __all__:
        value = getattr(importlib.import_module("kitura.router"), name)
    else:
        raise AttributeError(f"module 'kitura' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
