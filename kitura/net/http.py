"""``HTTP``: Kitura's facade: ``HTTP.create_server()``, ``HTTP.request()`` / ``HTTP.get()``,
``HTTP.status_codes``, ``HTTP.escape(url=)``."""

from __future__ import annotations

from typing import Any, Iterable, Optional, Union
from urllib.parse import quote

from .client import Callback, ClientRequest
from .client_options import ClientRequestOption, options_from_keywords
from .client_response import ClientResponse
from .server import HTTPServer
from .status import STATUS_PHRASES

__all__ = ["HTTP"]

# Kitura escapes everything but these (the inverse of its `allowedCharacterSet`).
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#%/<>?@\\^`{|} ")


class HTTP:
    #: Kitura's ``HTTP.statusCodes``: status code -> reason phrase.
    status_codes: dict[int, str] = STATUS_PHRASES

    @staticmethod
    def create_server() -> HTTPServer:
        return HTTPServer()

    @staticmethod
    def request(options_or_url: Union[str, Iterable[ClientRequestOption], None] = None,
                callback: Optional[Callback] = None, *, unix_domain_socket_path: Optional[str] = None,
                **options: Any) -> ClientRequest:
        """A ``ClientRequest`` to a URL or from ``ClientRequest.Options``; send it with ``end()``.

        Options may also be keywords: ``HTTP.request(method="POST", hostname="localhost",
        port=8080, path="/x", headers={...}, max_redirects=3, disable_ssl_verification=True,
        timeout=5)``; with a URL, the keywords are the options that are not part of it.
        """
        extra = options_from_keywords(options)
        if isinstance(options_or_url, str):
            request = ClientRequest(options_or_url, callback, unix_domain_socket_path=unix_domain_socket_path)
            for option in extra:
                request.set(option)
            return request
        return ClientRequest(callback=callback, options=[*(options_or_url or ()), *extra],
                             unix_domain_socket_path=unix_domain_socket_path)

    @staticmethod
    def get(url: str, callback: Optional[Callback] = None, **options: Any) -> ClientRequest:
        """``HTTP.request(url, callback)`` sent at once: the callback has run when it returns."""
        request = HTTP.request(url, callback, **options)
        request.end()
        return request

    @staticmethod
    async def get_async(url: str, callback: Optional[Callback] = None, **options: Any) -> ClientResponse:
        """``HTTP.get`` for ``async def`` code: the response (see ``ClientRequest.end_async``)."""
        return await HTTP.request(url, callback, **options).end_async()

    @staticmethod
    def escape(url: str) -> str:
        """Percent-encode the characters Kitura's ``HTTP.escape(url:)`` encodes."""
        return quote(url, safe=_SAFE)
