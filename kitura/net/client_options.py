"""``ClientRequest.Options``: Kitura's enum of request options, as factories.

Swift's ``[.method("POST"), .hostname("localhost"), .port(8080), .disableSSLVerification]``
ports as ``[ClientRequest.Options.method("POST"), ClientRequest.Options.hostname("localhost"),
ClientRequest.Options.port(8080), ClientRequest.Options.disable_ssl_verification]``; the same
names also work as keyword arguments of ``HTTP.request`` (``method="POST"``, ...).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["ClientRequestOption", "ClientRequestOptions", "OPTION_NAMES"]


@dataclass(frozen=True)
class ClientRequestOption:
    """One case of ``ClientRequest.Options`` with its value."""

    name: str
    value: Any = True

    def __repr__(self) -> str:
        if self.name in ("disable_ssl_verification", "use_http2"):
            return f"ClientRequest.Options.{self.name}"
        return f"ClientRequest.Options.{self.name}({self.value!r})"


class ClientRequestOptions:
    """Kitura's ``ClientRequest.Options`` cases; ``timeout``, ``ssl_context`` and ``max_response_size`` are additions."""

    @staticmethod
    def method(method: str) -> ClientRequestOption:
        return ClientRequestOption("method", method)

    @staticmethod
    def schema(schema: str) -> ClientRequestOption:
        """``"https"`` or ``"https://"``."""
        return ClientRequestOption("schema", schema)

    @staticmethod
    def hostname(hostname: str) -> ClientRequestOption:
        return ClientRequestOption("hostname", hostname)

    @staticmethod
    def port(port: int) -> ClientRequestOption:
        return ClientRequestOption("port", int(port) & 0xFFFF)  # Swift passes an Int16 bit pattern

    @staticmethod
    def path(path: str) -> ClientRequestOption:
        return ClientRequestOption("path", path)

    @staticmethod
    def headers(headers: Mapping[str, str]) -> ClientRequestOption:
        return ClientRequestOption("headers", dict(headers))

    @staticmethod
    def username(username: str) -> ClientRequestOption:
        return ClientRequestOption("username", username)

    @staticmethod
    def password(password: str) -> ClientRequestOption:
        return ClientRequestOption("password", password)

    @staticmethod
    def max_redirects(count: int) -> ClientRequestOption:
        return ClientRequestOption("max_redirects", int(count))

    #: Accept any server certificate (Kitura's ``.disableSSLVerification``).
    disable_ssl_verification = ClientRequestOption("disable_ssl_verification")
    #: Accepted for Kitura compatibility; the client speaks HTTP/1.1 (KituraNet's does too).
    use_http2 = ClientRequestOption("use_http2")

    @staticmethod
    def timeout(seconds: float | None) -> ClientRequestOption:
        """Seconds to wait for the connection and for each read (None: no limit). Not in Kitura."""
        return ClientRequestOption("timeout", seconds)

    @staticmethod
    def max_response_size(size: int | None) -> ClientRequestOption:
        """The most bytes of response body to read (None: no limit); past it, an error. Not in Kitura."""
        return ClientRequestOption("max_response_size", None if size is None else int(size))

    @staticmethod
    def ssl_context(context: ssl.SSLContext) -> ClientRequestOption:
        """The ``ssl.SSLContext`` for https (to trust a private CA, say). Not in Kitura."""
        return ClientRequestOption("ssl_context", context)


#: Every option name, so keyword arguments can be checked.
OPTION_NAMES = frozenset({
    "method", "schema", "hostname", "port", "path", "headers", "username", "password",
    "max_redirects", "disable_ssl_verification", "use_http2", "timeout", "ssl_context",
    "max_response_size",
})


def options_from_keywords(keywords: Mapping[str, Any]) -> list[ClientRequestOption]:
    """``method="POST", port=8080, disable_ssl_verification=True`` as options."""
    options = []
    for name, value in keywords.items():
        if name not in OPTION_NAMES:
            raise TypeError(f"unknown ClientRequest option {name!r}; the options are: {', '.join(sorted(OPTION_NAMES))}")
        if name in ("disable_ssl_verification", "use_http2"):
            if value:
                options.append(getattr(ClientRequestOptions, name))
        else:
            options.append(getattr(ClientRequestOptions, name)(value))
    return options
