"""``ServingState``: what a listening ``HTTPServer`` shares with its connections.

Made once per ``listen`` (as uvicorn's ``ServerState``): the options, the TLS context,
the loop and its thread, the set of open connections, the failure callback, and one
``dispatch(request, response)`` callable chosen for the delegate (``make_dispatch``).
An ``HTTPConnection`` reads this object and nothing of its server, so the two can be
read, changed and tested apart.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from .loop import STEP_DONE, drive_coroutine, first_step, worker_pool
from .options import ServerOptions

if TYPE_CHECKING:
    from .delegate import ServerDelegate
    from .request import ServerRequest
    from .response import ServerResponse

__all__ = ["ServingState", "Dispatch", "make_dispatch"]

#: Starts the handling of one request, on the loop thread; the response may end later.
Dispatch = Callable[["ServerRequest", "ServerResponse"], None]


@dataclass(eq=False)
class ServingState:
    """The server's side of its connections while it listens."""

    options: ServerOptions
    loop: asyncio.AbstractEventLoop
    loop_thread: int
    dispatch: Dispatch
    client_connection_failed: Callable[[BaseException], None]
    ssl_context: Optional[ssl.SSLContext] = None
    #: ``KeepAliveState.max_requests``: requests a connection answers before it closes.
    max_requests: Optional[int] = None
    #: Set when the server listens on a Unix domain socket (its peers are named "uds").
    unix_domain_socket_path: Optional[str] = None
    #: The open connections (HTTP and upgraded), as counted against ``connection_limit``.
    connections: set[Any] = field(default_factory=set)

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"


def make_dispatch(delegate: "ServerDelegate | None", loop: asyncio.AbstractEventLoop) -> Dispatch:
    """The one way requests reach ``delegate``, chosen once: its loop entry when it offers
    one (``ServerDelegate.loop_entry``), an ``async def handle``'s first step run inline
    (no Task unless it suspends), or a plain ``def handle`` queued for the worker pool."""
    if delegate is None:
        return _not_found
    entry_for = getattr(delegate, "loop_entry", None)
    entry = entry_for(loop) if callable(entry_for) else None
    if entry is not None:
        return entry
    handle = delegate.handle
    if inspect.iscoroutinefunction(handle):
        def dispatch_async(request: "ServerRequest", response: "ServerResponse") -> None:
            # start_coroutine, inlined (one frame less per request): the first step now,
            # a Task only if it suspends.
            coro = handle(request, response)
            try:
                yielded = first_step(coro)
            except BaseException as exc:  # noqa: BLE001 - answered with 500
                response.fail(exc)
                return
            if yielded is not STEP_DONE:
                loop.create_task(drive_coroutine(coro, yielded, response.fail))
        return dispatch_async
    # dispatch_soon(loop, _run_handler, handle, request, response), without a frame of its own
    return functools.partial(worker_pool().dispatch_soon, loop, _run_handler, handle)


def _not_found(request: "ServerRequest", response: "ServerResponse") -> None:
    response.status_code = 404  # type: ignore[assignment]
    response.end()


def _run_handler(handle: Callable[..., Any], request: "ServerRequest", response: "ServerResponse") -> None:
    """Runs a plain ``def handle`` on a worker thread."""
    try:
        handle(request, response)
    except BaseException as exc:  # noqa: BLE001 - answered with 500 on the loop
        response.fail(exc)
