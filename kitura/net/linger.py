"""``close_lingering``: close a connection without erasing what the client has not read.

Closing a TCP socket while bytes from the client are still unread makes the kernel
send a reset, and a reset discards whatever of our answer the client had not read
yet (a pipelined 1 MiB answer cut short, the 400 after it lost, a WebSocket Close
turned into a reset). RFC 9112 section 9.6: half-close (shut down writing, after
what is buffered went out), keep reading and discarding the input for a bounded
time, then close. The owner Protocol discards input once closing and returns None
from ``eof_received``, so a client that closes its side ends it at once.

Bounds: a client that reads nothing of what is buffered is aborted after
``write_timeout`` seconds without progress (so an unread response holds its fd and
memory for a bounded time); once all is written, input is drained for at most
``LINGER_TIMEOUT`` seconds. TLS has no half-close in asyncio: it is closed plainly,
with the same write bound.
"""

from __future__ import annotations

import asyncio
from typing import Optional

__all__ = ["close_lingering", "LINGER_TIMEOUT"]

#: Seconds input is drained after all our bytes were written, before the close.
LINGER_TIMEOUT = 2.0
#: Seconds between checks of a closing connection.
_TICK = 0.25


def close_lingering(transport: asyncio.Transport, loop: asyncio.AbstractEventLoop,
                    write_timeout: Optional[float], drain: bool = True) -> None:
    """Half-close ``transport`` now and close it fully once drained (see the module).

    ``drain=False`` when the client has said it sends nothing more (a WebSocket peer
    whose Close or EOF was read): a plain close then, what is buffered still goes out,
    and the write bound still applies; no half-close round trip and no timer when
    nothing is left to write.
    """
    if transport.is_closing():
        return
    if drain and transport.get_extra_info("sslcontext") is None and transport.can_write_eof():
        transport.write_eof()
        transport.resume_reading()
    else:
        transport.close()
        if not transport.get_write_buffer_size():
            return
    _Closing(transport, loop, write_timeout, not transport.is_closing()).check()


class _Closing:
    __slots__ = ("transport", "loop", "write_timeout", "half_closed", "pending", "progress_at", "written_at")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop,
                 write_timeout: Optional[float], half_closed: bool) -> None:
        self.transport = transport
        self.half_closed = half_closed
        self.loop = loop
        self.write_timeout = write_timeout
        self.pending = transport.get_write_buffer_size()
        self.progress_at = loop.time()
        self.written_at: Optional[float] = None

    def check(self) -> None:
        transport = self.transport
        if self.half_closed and transport.is_closing():
            return  # closed meanwhile (the client closed its side, or an abort)
        now = self.loop.time()
        pending = transport.get_write_buffer_size()
        if pending == 0:
            if not self.half_closed:
                return  # a plain close: done once all is written
            if self.written_at is None:
                self.written_at = now
            elif now - self.written_at >= LINGER_TIMEOUT:
                transport.close()
                return
        elif pending < self.pending:
            self.pending, self.progress_at = pending, now
        elif self.write_timeout is not None and now - self.progress_at >= self.write_timeout:
            transport.abort()  # the client reads nothing: let go of the fd and the buffer
            return
        self.loop.call_later(_TICK, self.check)
