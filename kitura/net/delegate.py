"""``ServerDelegate``: what the server calls for each request."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from .request import ServerRequest
    from .response import ServerResponse

__all__ = ["ServerDelegate"]


class ServerDelegate:
    """Kitura's ``ServerDelegate`` protocol.

    Subclass it (or give any object a ``handle`` method). A plain ``def handle`` runs on a
    worker thread, so it may block; an ``async def handle`` runs on the event loop and must
    not block. The response may be ended after ``handle`` returns, from any thread.
    """

    def handle(self, request: "ServerRequest", response: "ServerResponse") -> Any:
        raise NotImplementedError("a ServerDelegate must implement handle(request, response)")

    def loop_entry(self, loop: asyncio.AbstractEventLoop
                   ) -> Optional[Callable[["ServerRequest", "ServerResponse"], None]]:
        """Optional: a plain function the server calls for each request on ``loop``'s
        thread instead of ``handle`` (no coroutine per request; it must not block, and
        hands blocking work to the workers itself). Asked once, when the server listens
        or gets this delegate. None (the default): ``handle`` is called."""
        return None
