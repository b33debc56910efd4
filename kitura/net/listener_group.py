"""``ListenerGroup``: wait until every listening server has stopped."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .server import HTTPServer

__all__ = ["ListenerGroup"]


class ListenerGroup:
    """Kitura's ``ListenerGroup.waitForListeners()``."""

    _servers: set["HTTPServer"] = set()
    _condition = threading.Condition()

    @classmethod
    def wait_for_listeners(cls, timeout: Optional[float] = None) -> bool:
        """Block until every server has stopped (or ``timeout`` seconds); True if all stopped."""
        with cls._condition:
            return cls._condition.wait_for(lambda: not cls._servers, timeout)

    @classmethod
    def _add(cls, server: "HTTPServer") -> None:
        with cls._condition:
            cls._servers.add(server)

    @classmethod
    def _remove(cls, server: "HTTPServer") -> None:
        with cls._condition:
            cls._servers.discard(server)
            cls._condition.notify_all()
