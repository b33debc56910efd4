"""Errors of the HTTP layer. Each carries the status it answers with.

    HTTPError                 base, ``.status``
    ├── BadRequest            400: the request does not parse (or smuggles: CL + TE, two CLs)
    ├── RequestTimeout        408: the head did not arrive within ``header_timeout``
    ├── PayloadTooLarge       413: body past ``request_size_limit``
    ├── URITooLong            414: request line past ``max_request_line``
    └── HeaderFieldsTooLarge  431: head past ``max_header_size`` or ``max_header_count``

They are raised inside the parser callbacks and converted once, in
``HTTPConnection``, into an answer with ``Connection: close``.
"""

from __future__ import annotations

__all__ = [
    "HTTPError", "BadRequest", "RequestTimeout", "PayloadTooLarge", "URITooLong", "HeaderFieldsTooLarge",
]


class HTTPError(Exception):
    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HTTPError):
    status = 400


class RequestTimeout(HTTPError):
    status = 408


class PayloadTooLarge(HTTPError):
    status = 413


class URITooLong(HTTPError):
    status = 414


class HeaderFieldsTooLarge(HTTPError):
    status = 431
