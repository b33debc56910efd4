"""The Router layer (Kitura's Router): routes, middleware, request and response objects.

Import direction: kitura.router -> kitura.net -> kitura.log. Never kitura.websocket.
"""
from __future__ import annotations

from .body_parser import BodyParser, BodyParserMultiValue, ParsedBody, Part
from .content_type import ContentType
from .cookies import AdditionalCookieAttribute, Cookie
from .element import RouterMethod
from .errors import DecodingError, RequestError
from .headers import Headers
from .media_type import MediaType
from .middleware import RouterHandler, RouterMiddleware, RouterParameterHandler
from .request import HTTPVersion, RouterRequest
from .response import JSONPError, RouterResponse
from .router import Router
from .static_files import CacheOptions, ResponseHeadersSetter, StaticFileServer, StaticFileServerOptions
from .templating import TemplateEngine, TemplatingError

__all__ = [
    "Router", "RouterRequest", "RouterResponse", "RouterMiddleware", "RouterMethod", "RouterHandler",
    "RouterParameterHandler", "Headers", "HTTPVersion", "Cookie", "AdditionalCookieAttribute",
    "BodyParser", "BodyParserMultiValue", "ParsedBody", "Part", "StaticFileServer", "StaticFileServerOptions",
    "CacheOptions", "ResponseHeadersSetter", "RequestError", "DecodingError", "ContentType", "JSONPError",
    "TemplateEngine", "TemplatingError", "MediaType",
]
