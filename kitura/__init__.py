"""Kitura for Python: a Kitura-compatible HTTP server and router with integrated WebSocket.

Sub-packages: `kitura.net` (KituraNet, the HTTP/1.1 server), `kitura.websocket`
(Kitura-WebSocket, RFC 6455 + RFC 7692), `kitura.log` (HeliumLogger/LoggerAPI),
`kitura.router` (Kitura's Router). The Router layer's names, and the KituraNet names
Swift's ``import Kitura`` gives an app (``HTTPStatusCode``, ``ServerOptions``), are
importable from here (``from kitura import Kitura, Router, HTTPStatusCode``); they load
on first use, so
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
    "TemplateEngine", "TemplatingError",
    # Swift's ``import Kitura`` also gives an app these (Kitura's typealiases of
    # KituraNet's ``HTTPStatusCode`` and ``ServerOptions``, and its TypeSafeMiddleware).
    "HTTPStatusCode", "ServerOptions", "TypeSafeMiddleware",
]

# Where each name that is not the Router layer's lives.
_HOMES = {"Kitura": "kitura.app", "HTTPStatusCode": "kitura.net.status", "ServerOptions": "kitura.net.options",
          "TypeSafeMiddleware": "kitura.contracts"}

if TYPE_CHECKING:
    from kitura.app import Kitura
    from kitura.router import (AdditionalCookieAttribute, BodyParser, BodyParserMultiValue, CacheOptions,
                               ContentType, Cookie, DecodingError, Headers, HTTPVersion, JSONPError, ParsedBody,
                               Part, RequestError, ResponseHeadersSetter, Router, RouterHandler, RouterMethod,
                               RouterMiddleware, RouterParameterHandler, RouterRequest, RouterResponse,
                               StaticFileServer, StaticFileServerOptions, TemplateEngine, TemplatingError)
    from kitura.contracts import TypeSafeMiddleware
    from kitura.net.options import ServerOptions
    from kitura.net.status import HTTPStatusCode


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif name in __all__:
        value = getattr(importlib.import_module("kitura.router"), name)
    else:
        raise AttributeError(f"module 'kitura' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
