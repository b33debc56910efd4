"""RouterMiddleware: the protocol of objects that take part in a route's chain."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .request import RouterRequest
    from .response import RouterResponse

__all__ = ["RouterMiddleware", "RouterHandler", "RouterParameterHandler"]

#: A route handler: ``handler(request, response, next)``, ``def`` or ``async def``.
RouterHandler = Callable[["RouterRequest", "RouterResponse", Callable[[], None]], Any]
#: A parameter handler: ``handler(request, response, value, next)``.
RouterParameterHandler = Callable[["RouterRequest", "RouterResponse", str, Callable[[], None]], Any]


class RouterMiddleware:
    """Base class for middleware: override ``handle(request, response, next)``.

    ``handle`` may be ``def`` (runs on the worker pool) or ``async def`` (runs on
    the event loop). Call ``next()`` to let the chain go on. Any object with a
    ``handle(request, response, next)`` method works as middleware; subclassing
    is optional.
    """

    def handle(self, request: "RouterRequest", response: "RouterResponse", next: Callable[[], None]) -> Any:
        next()
