"""The errors of Codable routing: ``RequestError`` (KituraContracts) and ``DecodingError``.

A leaf module: the codec, the Codable adapters, the walker and the Router all
raise or answer these, so they depend on nothing else in the package.
"""
from __future__ import annotations

import http
from typing import TYPE_CHECKING, Any

from kitura.net.status import STATUS_PHRASES

if TYPE_CHECKING:
    from .response import RouterResponse

__all__ = ["RequestError", "DecodingError"]


def _reason_phrase(code: int) -> str:
    phrase = STATUS_PHRASES.get(code)
    if phrase:
        return phrase
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return f"HTTP {code}"


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
            reason = _reason_phrase(code)
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



class DecodingError(ValueError):
    """A body or query that does not fit the model; the message says where."""
