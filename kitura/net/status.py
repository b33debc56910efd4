"""HTTP status codes as Kitura's ``HTTPStatusCode`` enum, their classes and reason phrases."""

from __future__ import annotations

import enum

__all__ = ["HTTPStatusCode", "HTTPStatusCodeClass", "STATUS_PHRASES"]


class HTTPStatusCodeClass(enum.Enum):
    """Kitura's ``HTTPStatusCode.Class``."""

    INFORMATIONAL = "informational"
    SUCCESSFUL = "successful"
    REDIRECTION = "redirection"
    CLIENT_ERROR = "clientError"
    SERVER_ERROR = "serverError"
    INVALID_STATUS = "invalidStatus"

    @classmethod
    def of(cls, code: int) -> "HTTPStatusCodeClass":
        if 100 <= code < 200:
            return cls.INFORMATIONAL
        if 200 <= code < 300:
            return cls.SUCCESSFUL
        if 300 <= code < 400:
            return cls.REDIRECTION
        if 400 <= code < 500:
            return cls.CLIENT_ERROR
        if 500 <= code < 600:
            return cls.SERVER_ERROR
        return cls.INVALID_STATUS


class HTTPStatusCode(enum.IntEnum):
    """Every status code Kitura names, plus ``UNKNOWN = -1``.

    An ``IntEnum``, so ``HTTPStatusCode.OK == 200``; ``HTTPStatusCode(404)`` looks one up.
    """

    CONTINUE = 100
    SWITCHING_PROTOCOLS = 101
    PROCESSING = 102
    OK = 200
    CREATED = 201
    ACCEPTED = 202
    NON_AUTHORITATIVE_INFORMATION = 203
    NO_CONTENT = 204
    RESET_CONTENT = 205
    PARTIAL_CONTENT = 206
    MULTI_STATUS = 207
    MULTIPLE_CHOICES = 300
    MOVED_PERMANENTLY = 301
    MOVED_TEMPORARILY = 302
    SEE_OTHER = 303
    NOT_MODIFIED = 304
    USE_PROXY = 305
    TEMPORARY_REDIRECT = 307
    PERMANENT_REDIRECT = 308
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    PAYMENT_REQUIRED = 402
    FORBIDDEN = 403
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    NOT_ACCEPTABLE = 406
    PROXY_AUTHENTICATION_REQUIRED = 407
    REQUEST_TIMEOUT = 408
    CONFLICT = 409
    GONE = 410
    LENGTH_REQUIRED = 411
    PRECONDITION_FAILED = 412
    REQUEST_TOO_LONG = 413
    REQUEST_URI_TOO_LONG = 414
    UNSUPPORTED_MEDIA_TYPE = 415
    REQUESTED_RANGE_NOT_SATISFIABLE = 416
    EXPECTATION_FAILED = 417
    INSUFFICIENT_SPACE_ON_RESOURCE = 419
    METHOD_FAILURE = 420
    MISDIRECTED_REQUEST = 421
    UNPROCESSABLE_ENTITY = 422
    FAILED_DEPENDENCY = 424
    PRECONDITION_REQUIRED = 428
    TOO_MANY_REQUESTS = 429
    REQUEST_HEADER_FIELDS_TOO_LARGE = 431
    INTERNAL_SERVER_ERROR = 500
    NOT_IMPLEMENTED = 501
    BAD_GATEWAY = 502
    SERVICE_UNAVAILABLE = 503
    GATEWAY_TIMEOUT = 504
    HTTP_VERSION_NOT_SUPPORTED = 505
    INSUFFICIENT_STORAGE = 507
    NETWORK_AUTHENTICATION_REQUIRED = 511
    UNKNOWN = -1

    @classmethod
    def _missing_(cls, value: object) -> "HTTPStatusCode":
        return cls.UNKNOWN

    @property
    def status_class(self) -> HTTPStatusCodeClass:
        """Kitura's ``statusCode.class``."""
        return HTTPStatusCodeClass.of(int(self))

    @property
    def phrase(self) -> str:
        return STATUS_PHRASES.get(int(self), "")


#: Kitura's ``HTTP.statusCodes``.
STATUS_PHRASES: dict[int, str] = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed", 413: "Request Entity Too Large",
    414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable", 417: "Expectation Failed",
    419: "Insufficient Space on Resource", 420: "Method Failure", 421: "Misdirected Request",
    422: "Unprocessable Entity", 424: "Failed Dependency", 428: "Precondition Required",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported", 507: "Insufficient Storage",
    511: "Network Authentication Required",
}
