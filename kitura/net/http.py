"""``HTTP``: Kitura's facade: ``HTTP.create_server()``, ``HTTP.status_codes``, ``HTTP.escape(url=)``."""

from __future__ import annotations

from urllib.parse import quote

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
    def escape(url: str) -> str:
        """Percent-encode the characters Kitura's ``HTTP.escape(url:)`` encodes."""
        return quote(url, safe=_SAFE)
