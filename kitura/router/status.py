"""Status codes as the Router takes them (int, ``HTTPStatusCode``, ``http.HTTPStatus``)."""
from __future__ import annotations

import http
from typing import Any

from kitura.net import HTTP, HTTPStatusCode

__all__ = ["status_value", "status_phrase", "status_enum"]


def status_value(code: Any) -> int:
    """An int status from an int, an ``HTTPStatusCode`` or ``http.HTTPStatus``."""
    if isinstance(code, int):
        return int(code)
    value = getattr(code, "value", code)
    return int(value)


def status_phrase(code: int) -> str:
    """The reason phrase for a status code (kitura.net's table, else the standard library's)."""
    phrase = HTTP.status_codes.get(code)
    if phrase:
        return phrase
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return ""


def status_enum(code: int) -> Any:
    try:
        value = HTTPStatusCode(code)
    except Exception:  # an unlisted code
        return code
    # kitura.net answers UNKNOWN for a code it has no name for: keep the number then.
    return value if value.value == code else code
