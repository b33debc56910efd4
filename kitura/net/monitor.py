"""``Monitor`` and ``ServerMonitor``: KituraNet's process-wide request monitoring hook.

``Monitor.delegate`` is one object for every server of the process, as in Kitura.
The connection reads it once when it dispatches a request and once when the
response completes; while it is ``None`` that is all it costs. Setting it also sets
this module's ``active`` (one specialized module-attribute load on the per-request
path: on CPython 3.11 an attribute of a class is looked up through its type each time).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import TYPE_CHECKING, Any, ClassVar, Optional

if TYPE_CHECKING:
    from .request import ServerRequest
    from .response import ServerResponse

__all__ = ["Monitor", "ServerMonitor"]

#: ``Monitor.delegate``, kept in step with it by ``Monitor``'s metaclass: what a
#: connection reads per request.
active: "Optional[ServerMonitor]" = None

_log = logging.getLogger("kitura.net")


class ServerMonitor:
    """Kitura's ``ServerMonitor`` protocol: told when each request starts and finishes.

    ``started`` runs once a request is parsed, just before the server's delegate gets it
    (also when there is none and the answer is 404); ``finished`` runs once its response
    was ended and handed to the connection (not for a connection closed before that).
    Both run on the server's event loop thread: keep them quick (count, time, log), or
    make them ``async def`` (started as tasks on that loop, in call order).
    """

    def started(self, request: "ServerRequest", response: "ServerResponse") -> Any:
        """A request was parsed and is about to be passed to the server's delegate."""

    def finished(self, request: "Optional[ServerRequest]", response: "ServerResponse") -> Any:
        """The processing of a request has finished: its response was ended."""


class _MonitorType(type):
    """Keeps the module's ``active`` equal to ``Monitor.delegate``."""

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "delegate" and cls is Monitor:
            global active
            active = value

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        if name == "delegate" and cls is Monitor:
            global active
            active = getattr(cls, "delegate", None)


class Monitor(metaclass=_MonitorType):
    """Kitura's ``Monitor``: holds the process-wide ``ServerMonitor``.

    ``Monitor.delegate = MyMonitor()`` turns monitoring on for every server,
    ``Monitor.delegate = None`` off again.
    """

    delegate: ClassVar[Optional[ServerMonitor]] = None


def notify(event: Any, request: "Optional[ServerRequest]", response: "ServerResponse",
           loop: asyncio.AbstractEventLoop) -> None:
    """Call a monitor's bound ``started`` or ``finished``; what it raises is logged, never
    passed to the server (a monitor cannot break a request)."""
    try:
        result = event(request, response)
        if inspect.isawaitable(result):
            loop.create_task(_logged(result, event))
    except Exception:  # noqa: BLE001 - see above
        _log.exception("Error in the server monitor's %s", getattr(event, "__name__", event))


async def _logged(awaitable: Any, event: Any) -> None:
    try:
        await awaitable
    except Exception:  # noqa: BLE001
        _log.exception("Error in the server monitor's %s", getattr(event, "__name__", event))
