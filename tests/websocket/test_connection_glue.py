"""WebSocketConnection details trimmed for connection setup: ids, the close timer."""

from __future__ import annotations

import asyncio
import re

from kitura.websocket import WebSocketService
from kitura.websocket.connection import WebSocketConnection
from kitura.websocket.protocol import ServerProtocol
from kitura.websocket.registry import ServiceEntry

from .rawclient import client_frame, close_payload
from .test_batching import FakeHandover


def connection(loop, entry=None) -> WebSocketConnection:
    entry = entry or ServiceEntry(WebSocketService(), "/x", close_timeout=7.0)
    return WebSocketConnection(entry, FakeHandover(loop), ServerProtocol())  # type: ignore[arg-type]


def test_ids_are_unique_uuid_shaped_strs():
    loop = asyncio.new_event_loop()
    try:
        ids = [connection(loop).id for _ in range(1000)]
    finally:
        loop.close()
    assert len(set(ids)) == 1000
    for i in ids[:3]:
        assert type(i) is str
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i)


def test_close_with_nothing_left_to_write_needs_no_timer():
    loop = asyncio.new_event_loop()
    try:
        c = connection(loop)
        c.start()
        c.data_received(client_frame(8, close_payload(1000)))
        assert c._transport.closed
        assert c._transport.frames() == [(8, close_payload(1000))]
        assert c._close_timer is None
    finally:
        loop.close()


def test_close_with_bytes_still_waiting_or_tls_keeps_the_abort_timer():
    loop = asyncio.new_event_loop()
    try:
        # A peer that reads nothing of what waits is aborted after close_timeout without
        # progress (kitura.net.linger watches the write buffer).
        c = connection(loop, ServiceEntry(WebSocketService(), "/x", close_timeout=0.3))
        c._transport.get_write_buffer_size = lambda: 100
        aborted = []
        c._transport.abort = lambda: aborted.append(True)
        c.start()
        c.data_received(client_frame(8, close_payload(1000)))
        assert c._transport.closed and not aborted
        loop.run_until_complete(asyncio.sleep(0.8))
        assert aborted

        c = connection(loop)
        c._transport.get_extra_info = lambda name, default=None: object() if name == "sslcontext" else default
        c.start()
        c.drop()
        assert c._transport.closed and c._close_timer is not None
        c._close_timer._run()  # the timer aborts the transport
        c._close_timer.cancel()
    finally:
        loop.close()
