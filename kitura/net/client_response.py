"""``ClientResponse``: what KituraNet's HTTP client hands its callback."""

from __future__ import annotations

from typing import Iterable, Optional

from .headers import HeadersContainer
from .status import HTTPStatusCode

__all__ = ["ClientResponse"]


class ClientResponse:
    """A response the client has read whole, as Kitura's (its body is buffered before the callback).

    - ``status_code`` / ``http_status_code``: an ``HTTPStatusCode`` (``UNKNOWN`` for a code
      Kitura does not name); ``status``: the code as an int.
    - ``headers``: a ``HeadersContainer``; ``http_version_major`` / ``http_version_minor``.
    - ``read(into=bytearray)`` and ``read_all_data(into=bytearray)`` append the unread body
      and return the count (0 once it is used up); ``read_string()`` gives it as text, or
      None once it is used up.
    """

    def __init__(self, status: int = -1, headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                 http_version_major: Optional[int] = None, http_version_minor: Optional[int] = None) -> None:
        self.status = status
        self.status_code = HTTPStatusCode(status)
        self.headers = HeadersContainer()
        for name, value in headers:
            self.headers.append(name, value)
        self.http_version_major = http_version_major
        self.http_version_minor = http_version_minor
        self._body = body
        self._offset = 0

    @property
    def http_status_code(self) -> HTTPStatusCode:
        return self.status_code

    def read(self, into: bytearray) -> int:
        """Append the unread body to ``into``; the count appended."""
        rest = memoryview(self._body)[self._offset:]
        into += rest
        self._offset = len(self._body)
        return len(rest)

    def read_all_data(self, into: bytearray) -> int:
        return self.read(into)

    def read_string(self) -> Optional[str]:
        """The unread body as UTF-8 text (undecodable bytes replaced), None when there is none."""
        data = bytearray()
        if self.read(data) == 0:
            return None
        return data.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status} {len(self._body)} bytes>"
