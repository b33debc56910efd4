"""URL query strings (and URL-encoded forms) as dicts, Kitura's way.

A leaf module: the request, BodyParser and the model codec all read query
strings through it.
"""
from __future__ import annotations

from urllib.parse import unquote_plus

__all__ = ["parse_query", "parse_query_multi"]


def _decode_value(value: str) -> str:
    if "+" in value or "%" in value:
        return unquote_plus(value)
    return value


def parse_query_multi(query: str | None) -> dict[str, list[str]]:
    """``a=1&a=2&b=x+y`` -> ``{"a": ["1", "2"], "b": ["x y"]}``; items without ``=`` are skipped."""
    result: dict[str, list[str]] = {}
    if not query:
        return result
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        if not sep:
            continue
        result.setdefault(_decode_value(key), []).append(_decode_value(value))
    return result


def parse_query(query: str | None) -> dict[str, str]:
    """As Kitura: repeated keys are joined with a comma (``a=1&a=2`` -> ``{"a": "1,2"}``)."""
    return {k: ",".join(v) for k, v in parse_query_multi(query).items()}
