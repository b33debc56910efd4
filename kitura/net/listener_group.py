"""``ListenerGroup``: wait until every listening server has stopped."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .server import HTTPServer

__all__ = ["ListenerGroup"]

_log = logging.getLogger("kitura.net")


class ListenerGroup:
    """Kitura's ``ListenerGroup.waitForListeners()``."""

    _servers: set["HTTPServer"] = set()
    _condition = threading.Condition()

    @classmethod
    def wait_for_listeners(cls, timeout: Optional[float] = None) -> bool:
        """Block until every server has stopped (or ``timeout`` seconds); True if all stopped.

        Ctrl-C (KeyboardInterrupt) stops every server and returns True, so a program
        ending in ``wait_for_listeners()`` exits quietly, as a Kitura server does.
        """
        try:
            with cls._condition:
                return cls._condition.wait_for(lambda: not cls._servers, timeout)
        except KeyboardInterrupt:
            _log.info("Interrupted: stopping %d server(s)", len(cls._servers))
            for server in list(cls._servers):
                try:
                    server.stop()
                except Exception:  # noqa: BLE001 - stopping the rest matters more
                    _log.exception("Error stopping %r", server)
            return True

    @classmethod
    def _add(cls, server: "HTTPServer") -> None:
        with cls._condition:
            cls._servers.add(server)

    @classmethod
    def _remove(cls, server: "HTTPServer") -> None:
        with cls._condition:
            cls._servers.discard(server)
            cls._condition.notify_all()
