"""The CORS middleware (the Fetch standard's CORS protocol, as Kitura-CORS answers it)."""
from __future__ import annotations

from typing import Callable, Optional

from kitura.router import RouterMiddleware, RouterRequest, RouterResponse
from kitura.router.element import RouterMethod

from .options import AllowedOrigins, Options

__all__ = ["CORS"]


class CORS(RouterMiddleware):
    """``router.all(middleware=CORS(options=Options(...)))``.

    A request without ``Origin`` passes untouched, but for ``Vary: Origin``: every answer
    says it varies with ``Origin`` unless every origin is allowed (a cache must not give one
    origin's answer to another, nor a same-origin answer to a cross-origin request). A
    preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``, as the
    Fetch standard defines it; Kitura takes any ``OPTIONS`` with ``Origin``) gets the allow
    headers and 204, or goes on to the routes when ``preflight_continue``; any other
    cross-origin request, an app's own ``OPTIONS`` included, gets the origin, credentials
    and expose headers and goes on.
    """

    def __init__(self, options: Optional[Options] = None) -> None:
        self.options = options if options is not None else Options()

    def handle(self, request: RouterRequest, response: RouterResponse, next: Callable[[], None]) -> None:
        options = self.options
        headers = response.headers
        if options.allowed_origin != AllowedOrigins.ALL:
            headers.append("Vary", "Origin")
        origin = request.headers["Origin"]
        if origin is None:
            next()
            return
        allowed = self._allow_origin(origin)
        if allowed is not None:
            headers.append("Access-Control-Allow-Origin", allowed)
            if options.credentials:
                headers.append("Access-Control-Allow-Credentials", "true")
        if (request.method is RouterMethod.OPTIONS
                and request.headers["Access-Control-Request-Method"] is not None):
            if allowed is not None:
                headers.append("Access-Control-Allow-Methods", ",".join(options.methods))
                if options.allowed_headers is not None:
                    headers.append("Access-Control-Allow-Headers", ",".join(options.allowed_headers))
                else:
                    requested = request.headers["Access-Control-Request-Headers"]
                    if requested is not None:
                        headers.append("Access-Control-Allow-Headers", requested)
                if options.max_age is not None:
                    headers.append("Access-Control-Max-Age", str(options.max_age))
            self._expose(response, allowed)
            if options.preflight_continue:
                next()
            else:
                response.status(204).end()
            return
        self._expose(response, allowed)
        next()

    def _allow_origin(self, origin: str) -> Optional[str]:
        """The Access-Control-Allow-Origin value, or None for an origin that is not allowed
        (Kitura sends the string "false"; the Fetch standard fails the same without it)."""
        allowed_origin = self.options.allowed_origin
        if allowed_origin == AllowedOrigins.ALL:
            return "*"
        if allowed_origin == AllowedOrigins.SAME_AS_ORIGIN or allowed_origin.allows(origin):
            return origin
        return None

    def _expose(self, response: RouterResponse, allowed: Optional[str]) -> None:
        exposed = self.options.exposed_headers
        if exposed is not None and allowed is not None:
            response.headers.append("Access-Control-Expose-Headers", ",".join(exposed))
