"""Body encoders and decoders for Codable routes (KituraContracts' BodyEncoder/BodyDecoder).

``router.encoders`` and ``router.decoders`` map a `MediaType` to a factory (a
class or function called with no argument) of an object with
``encode(value) -> bytes`` or ``decode(type, from_=bytes) -> value``. A Codable
route decodes its body with the decoder for the request's Content-Type and
encodes its output with the encoder the Accept header prefers, as Kitura does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

from .codec import decode_body, decode_query
from .media_type import MediaType
from .query import parse_query_multi
from .response import to_json_bytes

if TYPE_CHECKING:
    from .request import RouterRequest

__all__ = ["BodyEncoder", "BodyDecoder", "JSONEncoder", "JSONDecoder", "QueryDecoder",
           "select_encoder", "select_decoder"]


class BodyEncoder(Protocol):
    def encode(self, value: Any) -> bytes: ...


class BodyDecoder(Protocol):
    def decode(self, type: Any, from_: bytes) -> Any: ...


class JSONEncoder:
    """Models to JSON (the model codec of codec.py)."""

    def encode(self, value: Any) -> bytes:
        return to_json_bytes(value)


class JSONDecoder:
    """JSON to models (the model codec of codec.py)."""

    def decode(self, type: Any, from_: bytes) -> Any:
        return decode_body(type, from_, "application/json")


class QueryDecoder:
    """A URL-encoded form to a flat model (Kitura's QueryDecoder)."""

    def decode(self, type: Any, from_: bytes) -> Any:
        return decode_query(type, parse_query_multi(from_.decode("utf-8", "replace")))


def default_encoders() -> dict[MediaType, Callable[[], BodyEncoder]]:
    return {MediaType.json: JSONEncoder}


def default_decoders() -> dict[MediaType, Callable[[], BodyDecoder]]:
    return {MediaType.json: JSONDecoder, MediaType.url_encoded: QueryDecoder}


def select_encoder(router: Any, request: "RouterRequest") -> tuple[MediaType, BodyEncoder]:
    """The encoder the request's Accept header prefers, else the router's default media type's,
    else JSON (Kitura's selectResponseEncoder)."""
    encoders = router.encoders
    accept = request.headers["Accept"]
    if len(encoders) > 1 and accept and accept.strip() not in ("*", "*/*"):
        best = request.accepts(types=[m.description for m in encoders])
        if best is not None:
            media_type = MediaType(best)
            factory = encoders.get(media_type)
            if factory is not None:
                return media_type, factory()
    default = router.default_response_media_type
    factory = encoders.get(default)
    if factory is not None:
        return default, factory()
    return MediaType.json, JSONEncoder()


def select_decoder(router: Any, content_type: str | None) -> BodyDecoder | None:
    """The decoder for a Content-Type; JSON for any ``+json`` type without its own; None if none fits."""
    media_type = MediaType.from_content_type(content_type)
    if media_type is None:
        return None
    factory = router.decoders.get(media_type)
    if factory is None and media_type.sub_type.endswith("+json"):
        factory = router.decoders.get(MediaType.json)
    return factory() if factory is not None else None
