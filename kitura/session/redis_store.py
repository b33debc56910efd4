"""A session store in Redis (the ``redis`` client library): sessions outlive the server
process and are shared by every process that points at the same Redis."""
from __future__ import annotations

from typing import Any

from .store import LoadCallback, Store, StoreCallback

__all__ = ["RedisStore"]


class RedisStore(Store):
    """``RedisStore("redis://host:6379/0")`` or ``RedisStore(redis.Redis(...))``.

    Each session is one key, ``key_prefix + id``, that expires ``ttl`` seconds after
    its last use (``touch`` renews it). A Redis that cannot be reached is reported to
    the callback, never raised into the request.
    """

    def __init__(self, redis: Any, ttl: float = 24 * 3600.0, key_prefix: str = "kitura-session:",
                 timeout: float = 5.0) -> None:
        if ttl <= 0:
            raise ValueError("RedisStore needs ttl > 0 seconds")
        if isinstance(redis, str):
            try:
                import redis as redis_library
            except ImportError as exc:
                raise ImportError("RedisStore(url) needs the redis package: pip install 'kitura[redis]'") from exc
            redis = redis_library.Redis.from_url(redis, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.redis = redis
        self.ttl_ms = int(ttl * 1000)
        self.key_prefix = key_prefix

    def _key(self, session_id: str) -> str:
        return self.key_prefix + session_id

    def load(self, session_id: str, callback: LoadCallback) -> None:
        try:
            data = self.redis.get(self._key(session_id))
        except Exception as exc:  # noqa: BLE001 - any client error goes to the callback
            callback(None, exc)
            return
        callback(data, None)

    def save(self, session_id: str, data: bytes, callback: StoreCallback) -> None:
        self._call(callback, "set", self._key(session_id), bytes(data), px=self.ttl_ms)

    def touch(self, session_id: str, callback: StoreCallback) -> None:
        self._call(callback, "pexpire", self._key(session_id), self.ttl_ms)

    def delete(self, session_id: str, callback: StoreCallback) -> None:
        self._call(callback, "delete", self._key(session_id))

    def _call(self, callback: StoreCallback, command: str, *args: Any, **kwargs: Any) -> None:
        try:
            getattr(self.redis, command)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            callback(exc)
            return
        callback(None)
