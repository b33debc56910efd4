"""Pub/sub backends for rooms: how a ``Room.send`` reaches the other processes.

- ``InProcessPubSub`` (the default): one process; a send also reaches the other
  ``Room`` objects of the same name in it. Nothing to install.
- ``RedisPubSub``: Redis pub/sub through the ``redis`` client (asyncio), for worker
  processes and several servers. One Redis connection subscribes for the whole process
  (a channel per room name, not per connection) and one publishes, pipelining what was
  sent in the same loop turn. Each message carries its process's origin, so a process
  does not deliver its own sends twice (it delivered them locally at once).

Redis pub/sub is at-most-once: while Redis is unreachable rooms keep delivering to
their local members, sends to other processes are dropped (logged, counted in
``lost``), and the subscription is re-established with exponential backoff;
messages other processes published meanwhile are not seen here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional

from .frames import OP_TEXT

if TYPE_CHECKING:
    from .rooms import Room

__all__ = ["PubSubBackend", "InProcessPubSub", "RedisPubSub"]

_log = logging.getLogger("kitura.websocket")


class PubSubBackend:
    """What a room needs from a backend: ``attach`` (a room exists in this process) and
    ``publish`` (carry a send to the rooms of that name elsewhere). Both are called on
    any thread and must not block."""

    def attach(self, room: "Room") -> None:
        raise NotImplementedError

    def publish(self, room: "Room", opcode: int, payload: Any) -> None:
        raise NotImplementedError


class _RoomRefs:
    """The rooms attached to a backend, by name, held weakly: a room nobody holds (and
    no open connection is in) goes, and its name with the last one (``gone(name)``)."""

    def __init__(self, gone: Optional[Callable[[str], None]] = None) -> None:
        self.by_name: dict[str, list["weakref.ref[Room]"]] = {}
        self.lock = threading.RLock()  # a collection can run the callback under it
        self._gone = gone

    def add(self, room: "Room") -> bool:
        """Add ``room``; True when it is the first of its name."""
        name = room.name
        ref = weakref.ref(room, lambda ref, name=name: self._drop(name, ref))
        with self.lock:
            refs = self.by_name.get(name)
            if refs is None:
                self.by_name[name] = [ref]
                return True
            refs.append(ref)
            return False

    def _drop(self, name: str, ref: "weakref.ref[Room]") -> None:
        with self.lock:
            refs = self.by_name.get(name)
            if refs is None:
                return
            try:
                refs.remove(ref)
            except ValueError:
                return
            if refs:
                return
            del self.by_name[name]
        if self._gone is not None:
            self._gone(name)

    def get(self, name: str) -> list["Room"]:
        """The live rooms called ``name``."""
        refs = self.by_name.get(name)
        if not refs:
            return []
        rooms = []
        for ref in tuple(refs):
            room = ref()
            if room is not None:
                rooms.append(room)
        return rooms

    def __len__(self) -> int:
        return len(self.by_name)


# Backends to reset in a forked worker (see _after_fork_in_child).
_live: "weakref.WeakSet[Any]" = weakref.WeakSet()


class InProcessPubSub(PubSubBackend):
    """Rooms of one process: a send also reaches the other ``Room`` objects of its name."""

    def __init__(self) -> None:
        self._rooms = _RoomRefs()
        _live.add(self)

    def _reset(self) -> None:
        self._rooms = _RoomRefs()

    def attach(self, room: "Room") -> None:
        self._rooms.add(room)

    def publish(self, room: "Room", opcode: int, payload: Any) -> None:
        refs = self._rooms.by_name.get(room.name)
        if refs and len(refs) > 1:
            for other in self._rooms.get(room.name):
                if other is not room:
                    other.deliver_local(opcode, payload)


_KIND = {OP_TEXT: b"t", 2: b"b"}
_ORIGIN_SIZE = 16
_HEAD = 1 + _ORIGIN_SIZE + 1  # b"K", origin, kind


class RedisPubSub(PubSubBackend):
    """Rooms across processes and hosts through Redis pub/sub.

    ``url``: what ``redis.asyncio.from_url`` takes; ``channel_prefix`` is put before
    room names (rooms of the same name and prefix share messages). Counters:
    ``published``, ``received`` (from other processes), ``lost`` (sends that did not
    reach Redis, or messages from it that could not be delivered), ``reconnects``.
    ``socket_timeout``: how long a Redis command may wait for its answer (a stalled
    Redis fails the sends, counted as lost, instead of holding them forever). Connects
    on the first join or send, on the server's event loop (in each worker, after the fork).
    """

    def __init__(self, url: str = "redis://localhost:6379/0", *, channel_prefix: str = "kitura:room:",
                 reconnect_delay: float = 0.1, max_reconnect_delay: float = 5.0,
                 max_queued: int = 100_000, socket_timeout: float = 5.0) -> None:
        self.url = url
        self.socket_timeout = socket_timeout
        self.channel_prefix = channel_prefix
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.max_queued = max_queued
        self.published = 0
        self.received = 0
        self.lost = 0
        self.reconnects = 0
        self._reset()
        _live.add(self)

    def _reset(self) -> None:
        """Not started, no rooms (also in a forked worker: the parent's connections are not
        its own; its rooms attach again at their first join or send)."""
        self._rooms = _RoomRefs(self._forget)
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread = 0
        self._origin = os.urandom(_ORIGIN_SIZE)
        self._outgoing: deque[tuple[str, bytes]] = deque()
        self._wake: Optional[asyncio.Event] = None
        self._subscribe: set[str] = set()
        self._subscribed: set[str] = set()
        self._unsubscribe: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Any = None
        self._down_since_lost: Optional[int] = None  # `lost` when Redis went down; None while up
        self._up = False
        self._publish_failing = False
        self._closed = False

    @property
    def connected(self) -> bool:
        """True while the subscription is established."""
        return self._up

    def subscribed(self, room_name: str) -> bool:
        """True once this process receives the sends to ``room_name`` from other processes."""
        return self._up and room_name in self._subscribed

    # --- PubSubBackend ----------------------------------------------------------------
    def attach(self, room: "Room") -> None:
        if self._rooms.add(room):
            self._on_loop(self._want, room.name)

    def _forget(self, room_name: str) -> None:
        """The last room called ``room_name`` is gone: unsubscribe (on the loop)."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._unwant(room_name)
            return
        try:
            loop.call_soon_threadsafe(self._unwant, room_name)
        except RuntimeError:  # the loop is closed: so is the subscription
            pass

    def publish(self, room: "Room", opcode: int, payload: Any) -> None:
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        message = b"K" + self._origin + _KIND[opcode] + data
        self._on_loop(self._queue, self.channel_prefix + room.name, message)

    # --- on the loop ----------------------------------------------------------------------
    def _on_loop(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None:
            from ..net.loop import get_loop
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = get_loop()
            with self._lock:
                if self._loop is None:
                    self._loop = loop
                    loop.call_soon_threadsafe(self._start)
                loop = self._loop
        if threading.get_ident() == self._loop_thread:
            fn(*args)
        else:
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop is closed
                self.lost += 1

    def _start(self) -> None:
        import redis.asyncio as aioredis

        self._loop_thread = threading.get_ident()
        self._client = aioredis.from_url(self.url, socket_connect_timeout=2.0, socket_keepalive=True,
                                         socket_timeout=self.socket_timeout)
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read_forever()), loop.create_task(self._write_forever())]

    def _want(self, room_name: str) -> None:
        self._unsubscribe.discard(room_name)
        self._subscribe.add(room_name)

    def _unwant(self, room_name: str) -> None:
        if room_name in self._rooms.by_name:
            return  # attached again meanwhile
        self._subscribe.discard(room_name)
        self._unsubscribe.add(room_name)

    def _queue(self, channel: str, message: bytes) -> None:
        outgoing = self._outgoing
        if len(outgoing) >= self.max_queued:
            outgoing.popleft()
            self.lost += 1
        outgoing.append((channel, message))
        if len(outgoing) == 1 and self._wake is not None:
            self._wake.set()

    async def _write_forever(self) -> None:
        import redis

        wake, outgoing = self._wake, self._outgoing
        assert wake is not None
        while not self._closed:
            await wake.wait()
            wake.clear()
            while outgoing:
                batch = [outgoing.popleft() for _ in range(min(len(outgoing), 1024))]
                try:
                    async with self._client.pipeline(transaction=False) as pipe:
                        for channel, message in batch:
                            pipe.publish(channel, message)
                        await pipe.execute()
                    self.published += len(batch)
                    self._publish_failing = False
                except Exception as exc:  # noqa: BLE001 - the writer must not die: the next batch tries again
                    if not isinstance(exc, (redis.RedisError, OSError)):
                        _log.exception("Redis pub/sub: unexpected error publishing")
                    if not self._publish_failing:
                        self._publish_failing = True
                        _log.warning("Redis pub/sub: sends are not reaching other processes (%s); local "
                                     "delivery goes on, the losses are counted", exc)
                    self.lost += len(batch)

    async def _read_forever(self) -> None:
        import redis

        delay = self.reconnect_delay
        while not self._closed:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.connect()
                await pubsub.subscribe(self.channel_prefix + "\x00control")  # keeps the connection in pubsub mode
                self._subscribed = set()
                self._unsubscribe = set()
                self._subscribe |= set(self._rooms.by_name)
                self._up = True
                if self._down_since_lost is not None:
                    _log.warning("Redis pub/sub reconnected; %d send(s) were lost while it was unreachable "
                                 "(pub/sub is at-most-once)", self.lost - self._down_since_lost)
                    self._down_since_lost = None
                delay = self.reconnect_delay
                while not self._closed:
                    if self._unsubscribe:
                        names, self._unsubscribe = self._unsubscribe, set()
                        await pubsub.unsubscribe(*(self.channel_prefix + name for name in names))
                        self._subscribed -= names
                    if self._subscribe:
                        names, self._subscribe = self._subscribe, set()
                        await pubsub.subscribe(*(self.channel_prefix + name for name in names))
                        self._subscribed |= names
                    message = await pubsub.get_message(timeout=0.1)
                    if message is None:
                        continue
                    batch = [message]
                    while len(batch) < 256:
                        more = await pubsub.get_message(timeout=0)
                        if more is None:
                            break
                        batch.append(more)
                    from .connection import deliver_as_batch
                    deliver_as_batch(self._deliver, batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the reader must not die: it reconnects
                self._up = False
                if not isinstance(exc, (redis.RedisError, OSError)):
                    _log.exception("Redis pub/sub: unexpected error reading from %s; reconnecting", self.url)
                if self._down_since_lost is None:
                    self._down_since_lost = self.lost
                    _log.warning("Redis pub/sub unreachable at %s (%s): rooms deliver to local members only; "
                                 "reconnecting", self.url, exc)
                self._subscribed = set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)
                self.reconnects += 1
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001 - the connection is gone anyway
                    pass

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        prefix_len = len(self.channel_prefix)
        origin = self._origin
        for message in batch:
            try:
                if message.get("type") != "message":
                    continue
                data = message["data"]
                if len(data) < _HEAD or data[1:_HEAD - 1] == origin:
                    continue  # ours: delivered locally when sent
                channel = message["channel"]
                name = (channel.decode("utf-8", "replace") if isinstance(channel, bytes) else channel)[prefix_len:]
                rooms = self._rooms.get(name)
                if not rooms:
                    continue
                if data[_HEAD - 1:_HEAD] == b"t":
                    opcode, payload = OP_TEXT, data[_HEAD:].decode("utf-8")
                else:
                    opcode, payload = 2, data[_HEAD:]
                self.received += 1
                for room in rooms:
                    room.deliver_local(opcode, payload)
            except Exception:  # noqa: BLE001 - one bad message must not stop the others (or the reader)
                self.lost += 1
                _log.warning("Redis pub/sub: a message on %r could not be delivered; dropped",
                             message.get("channel") if isinstance(message, dict) else None, exc_info=True)

    def close(self, timeout: float = 5.0) -> None:
        """Stop and disconnect; from another thread it waits (up to ``timeout``)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._closed = True
            return
        if threading.get_ident() == self._loop_thread:
            loop.create_task(self.aclose())
            return
        try:
            asyncio.run_coroutine_threadsafe(self.aclose(), loop).result(timeout)
        except Exception:  # noqa: BLE001 - closing is best effort
            _log.debug("Redis pub/sub: close did not finish", exc_info=True)

    async def aclose(self) -> None:
        """Stop the tasks and close the Redis connections (on the backend's loop)."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _after_fork_in_child() -> None:
    for backend in list(_live):
        backend._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
