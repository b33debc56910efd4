"""BodyParser middleware and ParsedBody (Kitura's bodyParser folder).

Parses the request body by Content-Type: JSON, URL-encoded forms, text,
multipart/form-data (files too) and raw bytes, into ``request.body``. The body
stays readable afterwards (``request.read_string()`` and friends). Parsing a
large body moves to the worker pool so it never holds the event loop.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from .query import parse_query, parse_query_multi
from .request import RouterRequest
from .steps import BLOCKING, Steps, walk_steps

__all__ = ["BodyParser", "BodyParserMultiValue", "ParsedBody", "Part"]

logger = logging.getLogger("kitura.router")

_OFFLOAD_SIZE = 64 * 1024   # bodies larger than this are parsed on the worker pool


class ParsedBody:
    """A parsed body: one of json, url_encoded, url_encoded_multi_value, text, raw, multipart.

    ``as_json`` and the other ``as_*`` properties give the value for the matching
    kind and None for the others, as Kitura's enum does. Each case is a subclass,
    ``ParsedBody.json`` and so on, that builds the value (``ParsedBody.json({"a": 1})``)
    and matches it in a ``match`` statement, as Swift's ``switch`` on the enum does::

        match request.body:
            case ParsedBody.json(obj): ...
            case ParsedBody.text(text): ...
    """

    __slots__ = ("kind", "value")
    __match_args__ = ("kind", "value")

    JSON = "json"
    URL_ENCODED = "urlEncoded"
    URL_ENCODED_MULTI_VALUE = "urlEncodedMultiValue"
    TEXT = "text"
    RAW = "raw"
    MULTIPART = "multipart"

    # The case classes, set below the class body.
    json: type["ParsedBody"]
    url_encoded: type["ParsedBody"]
    url_encoded_multi_value: type["ParsedBody"]
    text: type["ParsedBody"]
    raw: type["ParsedBody"]
    multipart: type["ParsedBody"]

    def __init__(self, kind: str, value: Any) -> None:
        self.kind = kind
        self.value = value

    def __new__(cls, kind: str, value: Any) -> "ParsedBody":
        # ParsedBody(kind, value) gives an instance of the case class, so it matches its case.
        case = _CASES.get(kind) if cls is ParsedBody else None
        return object.__new__(case if case is not None else cls)

    def __repr__(self) -> str:
        return f"ParsedBody.{_CASE_NAMES.get(self.kind, self.kind)}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParsedBody) and (self.kind, self.value) == (other.kind, other.value)

    __hash__ = None  # type: ignore[assignment]

    def _as(self, kind: str) -> Any:
        return self.value if self.kind == kind else None

    @property
    def as_json(self) -> Any:
        """The decoded JSON (any JSON value, not only an object)."""
        return self._as(self.JSON)

    @property
    def as_url_encoded(self) -> dict[str, str] | None:
        return self._as(self.URL_ENCODED)

    @property
    def as_url_encoded_multi_value(self) -> dict[str, list[str]] | None:
        return self._as(self.URL_ENCODED_MULTI_VALUE)

    @property
    def as_text(self) -> str | None:
        return self._as(self.TEXT)

    @property
    def as_raw(self) -> bytes | None:
        return self._as(self.RAW)

    @property
    def as_multi_part(self) -> list["Part"] | None:
        return self._as(self.MULTIPART)


def _make_case(attribute: str, kind: str) -> type[ParsedBody]:
    def __new__(cls: type, value: Any, *rest: Any) -> ParsedBody:
        return object.__new__(cls)

    def __init__(self: ParsedBody, value: Any, *rest: Any) -> None:
        # (value), or (kind, value) when built through ParsedBody(kind, value)
        self.kind = kind
        self.value = rest[0] if rest else value

    case = type(attribute, (ParsedBody,), {
        "__slots__": (), "__match_args__": ("value",), "__new__": __new__, "__init__": __init__,
        "__qualname__": f"ParsedBody.{attribute}", "__module__": __name__,
        "__doc__": f"The ``{attribute}`` case of ParsedBody: ``ParsedBody.{attribute}(value)``; "
                   f"``case ParsedBody.{attribute}(value):`` in a match statement."})
    setattr(ParsedBody, attribute, case)
    return case


_CASE_NAMES = {ParsedBody.JSON: "json", ParsedBody.URL_ENCODED: "url_encoded",
               ParsedBody.URL_ENCODED_MULTI_VALUE: "url_encoded_multi_value", ParsedBody.TEXT: "text",
               ParsedBody.RAW: "raw", ParsedBody.MULTIPART: "multipart"}
_CASES = {kind: _make_case(attribute, kind) for kind, attribute in _CASE_NAMES.items()}


@dataclass
class Part:
    """One part of a multipart/form-data body."""

    name: str = ""
    filename: str = ""
    type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)   # "disposition", "type", "transferEncoding", "contentRange"
    body: ParsedBody = field(default_factory=lambda: ParsedBody.raw(b""))


# -- parsers ---------------------------------------------------------------
def _parse_json(data: bytes) -> ParsedBody | None:
    try:
        return ParsedBody.json(json.loads(data))
    except (ValueError, UnicodeDecodeError):
        return None


def _parse_text(data: bytes) -> ParsedBody | None:
    try:
        return ParsedBody.text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _parse_url_encoded(data: bytes) -> ParsedBody | None:
    try:
        parsed = parse_query(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return ParsedBody.url_encoded(parsed) if parsed else None


def _parse_url_encoded_multi(data: bytes) -> ParsedBody | None:
    try:
        parsed = parse_query_multi(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return ParsedBody.url_encoded_multi_value(parsed) if parsed else None


def _header_param(line: str, name: str) -> str | None:
    # name="value" or name=value inside a Content-Disposition line (case-insensitive name)
    lower = line.lower()
    start = 0
    key = name + "="
    while True:
        i = lower.find(key, start)
        if i < 0:
            return None
        if i == 0 or lower[i - 1] in " ;\t":
            break
        start = i + 1
    rest = line[i + len(key):]
    if rest.startswith('"'):
        end = rest.find('"', 1)
        return rest[1:end] if end >= 0 else rest[1:]
    end = rest.find(";")
    return (rest if end < 0 else rest[:end]).strip()


def _parse_part(chunk: bytes) -> Part | None:
    if chunk.startswith(b"\r\n"):
        # No header lines: RFC 2046 allows it (a text/plain part, here with an empty name).
        head_end, head = -2, b""
    else:
        head_end = chunk.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = chunk[:head_end]
    part = Part()
    for raw_line in head.split(b"\r\n") if head else ():
        line = raw_line.decode("utf-8", "replace").strip()
        lower = line.lower()
        if lower.startswith("content-type:"):
            part.type = line[len("content-type:"):].strip()
            part.headers["type"] = line
        elif lower.startswith("content-disposition:"):
            part.name = _header_param(line, "name") or ""
            part.filename = _header_param(line, "filename") or ""
            part.headers["disposition"] = line
        elif lower.startswith("content-transfer-encoding:"):
            part.headers["transferEncoding"] = line
        elif lower.startswith("content-range:"):
            part.headers["contentRange"] = line
    data = chunk[head_end + 4:]
    if data.endswith(b"\r\n"):
        data = data[:-2]
    if data:
        parser = _parser_for(part.type)
        parsed = parser(data) if parser is not None else None
        part.body = parsed if parsed is not None else ParsedBody.raw(data)
    return part


def _multipart_parser(boundary: str) -> Callable[[bytes], ParsedBody | None]:
    delimiter = b"--" + boundary.encode("latin-1")

    def parse(data: bytes) -> ParsedBody | None:
        pieces = data.split(delimiter)
        parts: list[Part] = []
        for piece in pieces[1:]:
            if piece.startswith(b"--"):
                return ParsedBody.multipart(parts)
            if piece.startswith(b"\r\n"):
                piece = piece[2:]
            part = _parse_part(piece)
            if part is not None:
                parts.append(part)
        return None   # no closing delimiter: not a complete multipart body
    return parse


def _parser_for(content_type: str, multi_value: bool = False) -> Callable[[bytes], ParsedBody | None] | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return _parse_json
    if media == "application/x-www-form-urlencoded":
        return _parse_url_encoded_multi if multi_value else _parse_url_encoded
    if media.startswith("text/"):
        return _parse_text
    if media == "multipart/form-data":
        boundary = _header_param(content_type, "boundary")
        if not boundary:
            return None
        return _multipart_parser(boundary)
    return lambda data: ParsedBody.raw(data)


class BodyParser:
    """Middleware: ``router.all(middleware=BodyParser())`` fills ``request.body``."""

    multi_value = False

    @walk_steps
    def handle(self, request: RouterRequest, response: Any, next: Callable[[], None]) -> Steps:
        """Parse the body into ``request.body`` (a large one on a worker thread), then ``next()``."""
        content_type = self._content_type(request)
        if content_type is not None:
            data = request.body_bytes()
            if len(data) > _OFFLOAD_SIZE:
                request.body = yield BLOCKING, (self.parse_data, (data, content_type))
            else:
                request.body = self.parse_data(data, content_type)
            request.has_body_parser_been_used = True
        next()

    @staticmethod
    def _content_type(request: RouterRequest) -> str | None:
        """The Content-Type to parse with, or None when there is nothing to parse."""
        if request.body is not None:
            return None
        headers = request.headers
        content_type = headers["Content-Type"]
        if content_type is None or (headers["Content-Length"] is None and headers["Transfer-Encoding"] is None):
            return None
        return content_type

    @classmethod
    def parse(cls, request: RouterRequest, content_type: str | None) -> ParsedBody | None:
        """Parse a request's body as ``content_type`` (Kitura's ``BodyParser.parse``)."""
        if content_type is None:
            return None
        request.has_body_parser_been_used = True
        return cls.parse_data(request.body_bytes(), content_type)

    @classmethod
    def parse_data(cls, data: bytes, content_type: str) -> ParsedBody | None:
        """Parse bytes as ``content_type``; None when they do not parse (or the body is empty)."""
        if not data:
            return None
        parser = _parser_for(content_type, cls.multi_value)
        if parser is None:
            return None
        try:
            return parser(data)
        except Exception:  # noqa: BLE001 - a malformed body is "no parsed body", never a 500
            logger.debug("Body parsing failed for %s", content_type, exc_info=True)
            return None

    @staticmethod
    def read_body_data(with_: RouterRequest) -> bytes:
        return with_.body_bytes()


class BodyParserMultiValue(BodyParser):
    """As BodyParser, but URL-encoded forms keep every value: ``as_url_encoded_multi_value``."""

    multi_value = True
