"""Session stores: the ``Store`` protocol (Kitura-Session's, with callbacks) and the
in-memory store used when none is given (bounded and expiring)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Optional

__all__ = ["Store", "StoreError", "InMemoryStore", "LoadCallback", "StoreCallback"]

#: ``callback(data, error)``: data is None when the store holds nothing for the id.
LoadCallback = Callable[[Optional[bytes], Optional[BaseException]], None]
#: ``callback(error)``: error is None on success.
StoreCallback = Callable[[Optional[BaseException]], None]


class StoreError(Exception):
    """A store failed, or none was set (Kitura-Session's ``StoreError.nilStore``)."""

    @classmethod
    def nil_store(cls, message: str) -> "StoreError":
        return cls(message)


class Store:
    """Where sessions live between requests. Subclass and implement the four methods;
    each calls its callback once (it may block: the Router calls it from a worker)."""

    #: True when save/touch may wait on I/O: the Session middleware then ends responses
    #: that were ended on the event loop thread from a worker thread instead.
    blocking: bool = True

    def load(self, session_id: str, callback: LoadCallback) -> None:
        raise NotImplementedError

    def save(self, session_id: str, data: bytes, callback: StoreCallback) -> None:
        raise NotImplementedError

    def touch(self, session_id: str, callback: StoreCallback) -> None:
        raise NotImplementedError

    def delete(self, session_id: str, callback: StoreCallback) -> None:
        raise NotImplementedError


class InMemoryStore(Store):
    """Sessions in this process's memory: at most ``max_sessions`` (the least recently used
    go first), each forgotten ``ttl`` seconds after its last use. Lost on restart and not
    shared between processes: use ``RedisStore`` for that."""

    blocking = False

    def __init__(self, max_sessions: int = 10_000, ttl: float = 24 * 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_sessions < 1 or ttl <= 0:
            raise ValueError("InMemoryStore needs max_sessions >= 1 and ttl > 0 seconds")
        self.max_sessions = max_sessions
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()   # id -> (expires at, data)

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)

    def _purge(self, now: float) -> None:
        entries = self._entries
        while entries:
            session_id, (expires, _) = next(iter(entries.items()))
            if expires > now and len(entries) <= self.max_sessions:
                break
            del entries[session_id]

    def _get(self, session_id: str) -> bytes | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[session_id]
                return None
            self._entries[session_id] = (now + self.ttl, entry[1])
            self._entries.move_to_end(session_id)
            return entry[1]

    def load(self, session_id: str, callback: LoadCallback) -> None:
        callback(self._get(session_id), None)

    def save(self, session_id: str, data: bytes, callback: StoreCallback) -> None:
        now = self._clock()
        with self._lock:
            self._entries[session_id] = (now + self.ttl, bytes(data))
            self._entries.move_to_end(session_id)
            self._purge(now)
        callback(None)

    def touch(self, session_id: str, callback: StoreCallback) -> None:
        self._get(session_id)
        callback(None)

    def delete(self, session_id: str, callback: StoreCallback) -> None:
        with self._lock:
            self._entries.pop(session_id, None)
        callback(None)
