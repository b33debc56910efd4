"""kitura.session: Kitura-Session for Kitura for Python.

``Session`` (a RouterMiddleware giving ``request.session``), ``TypeSafeSession``
(a TypeSafeMiddleware for Codable routes), signed session cookies, and the stores:
``InMemoryStore`` (the default) and ``RedisStore`` (needs the ``redis`` package).
Importing this package adds ``request.session`` to RouterRequest, as the Swift
package's extension does.
"""
from __future__ import annotations

from .cookie import CookieParameter, SessionCookie
from .middleware import Session
from .redis_store import RedisStore
from .state import SessionState
from .store import InMemoryStore, Store, StoreError
from .typesafe import TypeSafeSession

__all__ = ["Session", "SessionState", "CookieParameter", "SessionCookie", "Store", "StoreError", "InMemoryStore",
           "RedisStore", "TypeSafeSession"]
