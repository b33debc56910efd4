"""The Router's way to kitura.net's worker pool (where plain ``def`` handlers and file
I/O run): ``run_sync`` from a coroutine, ``submit_to_worker`` from any thread,
``submit_to_worker_soon`` from the loop thread."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from kitura.net.loop import run_in_worker, worker_pool

__all__ = ["run_sync", "submit_to_worker", "submit_to_worker_soon"]


async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Await ``fn(*args)`` run on the worker pool."""
    return await run_in_worker(fn, *args)


def submit_to_worker(fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` on the worker pool, from any thread."""
    worker_pool().dispatch(fn, *args)


def submit_to_worker_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """``submit_to_worker`` from the event loop thread: the jobs of one loop turn wake one worker."""
    worker_pool().dispatch_soon(loop, fn, *args)
