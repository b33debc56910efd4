"""kitura.cache: Kitura-Cache for Kitura for Python.

``KituraCache(default_ttl=0, check_frequency=60)``: a thread-safe in-process cache
whose entries live until removed (TTL 0) or for a number of seconds, with hit/miss
``statistics``.
"""
from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Optional

__all__ = ["KituraCache", "Statistics"]


@dataclass
class Statistics:
    hits: int = 0
    misses: int = 0
    number_of_keys: int = 0

    def reset(self) -> None:
        self.hits = self.misses = self.number_of_keys = 0


class _Entry:
    __slots__ = ("data", "expires")

    def __init__(self, data: Any, expires: float) -> None:
        self.data = data
        self.expires = expires


class KituraCache:
    """``cache.set_object(user, for_key=user.id)``; ``cache.object(for_key=user_id)``.

    Expired entries are never returned, and a background timer (every ``check_frequency``
    seconds, 0 for none) drops them; the timer holds no reference to the cache, so a
    cache nobody uses is collected."""

    def __init__(self, default_ttl: float = 0, check_frequency: float = 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.default_ttl = default_ttl
        self.check_frequency = check_frequency
        self.statistics = Statistics()
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[Hashable, _Entry] = {}
        self._timer: Optional[threading.Timer] = None
        if check_frequency > 0:
            self._schedule_check(weakref.ref(self), check_frequency)

    @staticmethod
    def _schedule_check(ref: "weakref.ref[KituraCache]", every: float) -> None:
        def tick() -> None:
            cache = ref()
            if cache is not None:
                cache._check()
                KituraCache._schedule_check(ref, every)
        timer = threading.Timer(every, tick)
        timer.daemon = True
        cache = ref()
        if cache is not None:
            cache._timer = timer
            timer.start()

    def stop(self) -> None:
        """Stop the background expiry check (entries still expire on read)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expires(self, ttl: Optional[float]) -> float:
        ttl = self.default_ttl if ttl is None else ttl
        return float("inf") if ttl == 0 else self._clock() + ttl

    def set_object(self, object: Any, for_key: Hashable, with_ttl: Optional[float] = None) -> None:
        """Store ``object`` under ``for_key`` for ``with_ttl`` seconds (default: the cache's; 0: forever)."""
        expires = self._expires(with_ttl)
        with self._lock:
            entry = self._cache.get(for_key)
            if entry is None:
                self._cache[for_key] = _Entry(object, expires)
                self.statistics.number_of_keys += 1
            else:
                entry.data, entry.expires = object, expires

    def object(self, for_key: Hashable) -> Any:
        """The object under ``for_key``, or None (absent or expired)."""
        now = self._clock()
        with self._lock:
            entry = self._cache.get(for_key)
            if entry is not None and entry.expires > now:
                self.statistics.hits += 1
                return entry.data
            self.statistics.misses += 1
            return None

    def keys(self) -> list[Hashable]:
        with self._lock:
            self._check_locked()
            return list(self._cache)

    def remove_object(self, for_key: Hashable) -> None:
        self.remove_objects(for_keys=[for_key])

    def remove_objects(self, for_keys: Iterable[Hashable]) -> None:
        with self._lock:
            for key in for_keys:
                if self._cache.pop(key, None) is not None:
                    self.statistics.number_of_keys -= 1

    def remove_all_objects(self) -> None:
        with self._lock:
            self._cache.clear()
            self.statistics.number_of_keys = 0

    def set_ttl(self, ttl: float, for_key: Hashable) -> bool:
        """Give a live entry a new TTL; False when there is none."""
        now = self._clock()
        with self._lock:
            entry = self._cache.get(for_key)
            if entry is None or entry.expires <= now:
                return False
            entry.expires = self._expires(ttl)
            return True

    def flush(self) -> None:
        """Remove everything and reset the statistics."""
        with self._lock:
            self._cache.clear()
            self.statistics.reset()

    def _check(self) -> None:
        with self._lock:
            self._check_locked()

    def _check_locked(self) -> None:
        now = self._clock()
        expired = [key for key, entry in self._cache.items() if entry.expires <= now]
        for key in expired:
            del self._cache[key]
        self.statistics.number_of_keys -= len(expired)
