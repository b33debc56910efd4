"""TypeSafeSession: a session as a class of typed fields, for Codable routes."""
from __future__ import annotations

import dataclasses
import json
import threading
import typing
from typing import Any, Callable, ClassVar, Optional

from kitura.contracts import TypeSafeMiddleware
from kitura.log import Log
from kitura.router.codec import decode_model, to_jsonable
from kitura.router.errors import RequestError

from .cookie import SessionCookie
from .store import InMemoryStore, Store, StoreError

__all__ = ["TypeSafeSession"]

_default_store_lock = threading.Lock()
ErrorCallback = Callable[[Optional[BaseException]], None]


def _no_callback(error: Optional[BaseException]) -> None:
    pass


class TypeSafeSession(TypeSafeMiddleware):
    """Subclass with the session's fields, ``session_cookie`` and ``store`` (None: in memory)::

        class MySession(TypeSafeSession):
            session_cookie = SessionCookie(name="MySession", secret="Top Secret")
            store = None
            books: list[Book]

            def __init__(self, session_id: str) -> None:
                self.session_id = session_id
                self.books = []

    A Codable route with a ``session: MySession`` parameter gets the request's session;
    ``session.save()`` stores its fields as JSON, ``session.destroy()`` deletes it.
    Annotated fields are decoded as their type on load (``list[Book]`` gives Books).
    """

    store: ClassVar[Optional[Store]] = None
    session_cookie: ClassVar[SessionCookie]
    session_id: str

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    # -- TypeSafeMiddleware ----------------------------------------------------
    @classmethod
    def _store(cls) -> Store:
        store = cls.store
        if store is None:
            with _default_store_lock:           # first requests may race: one default store per class
                if cls.store is None:
                    Log.info(f"No session store was specified by {cls.__name__}, defaulting to in-memory store.")
                    cls.store = InMemoryStore()
                store = cls.store
        return store

    @classmethod
    def handle(cls, request: Any, response: Any,
               completion: Callable[[Optional[Any], Optional[Any]], None]) -> None:
        cookie = getattr(cls, "session_cookie", None)
        if not isinstance(cookie, SessionCookie):
            Log.error(f"{cls.__name__} has no session_cookie = SessionCookie(name=..., secret=...)")
            completion(None, RequestError.INTERNAL_SERVER_ERROR)
            return
        store = cls._store()
        session_id, is_new = cookie.cookie_manager.session_id(request, response)
        if is_new:
            cookie.cookie_manager.add_cookie(session_id, response)
            completion(cls(session_id), None)
            return

        def loaded(data: Optional[bytes], error: Optional[BaseException]) -> None:
            if error is not None:
                Log.error(f"Error retrieving session from store: {error}")
                completion(None, RequestError.INTERNAL_SERVER_ERROR)
                return
            if data is None:
                completion(cls(session_id), None)
                return
            store.touch(session_id, lambda e: e and Log.error(f"Failed to touch session {session_id}: {e}"))
            try:
                instance = cls._decode(session_id, json.loads(data))
            except (ValueError, TypeError) as exc:
                Log.error(f"Unable to deserialize saved session for sessionId={session_id}, error: {exc}")
                completion(None, RequestError.INTERNAL_SERVER_ERROR)
                return
            completion(instance, None)
        store.load(session_id, loaded)

    # -- encoding --------------------------------------------------------------
    @classmethod
    def _field_types(cls) -> dict[str, Any]:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # noqa: BLE001 - unresolvable hints: fields load as plain JSON
            hints = {}
        return {name: tp for name, tp in hints.items()
                if typing.get_origin(tp) is not ClassVar and name not in ("store", "session_cookie")}

    @classmethod
    def _decode(cls, session_id: str, data: Any) -> "TypeSafeSession":
        if not isinstance(data, dict):
            raise ValueError("a saved session is not a JSON object")
        instance = cls(session_id)
        types = cls._field_types()
        for name, value in data.items():
            if name == "session_id":
                continue
            tp = types.get(name)
            setattr(instance, name, decode_model(tp, value, name) if tp is not None else value)
        return instance

    def _encode(self) -> bytes:
        if dataclasses.is_dataclass(self):
            fields = to_jsonable(self)
        else:
            fields = {name: to_jsonable(value) for name, value in vars(self).items() if not name.startswith("_")}
        fields["session_id"] = self.session_id
        return json.dumps(fields, separators=(",", ":")).encode("utf-8")

    # -- the store -------------------------------------------------------------
    def save(self, callback: ErrorCallback = _no_callback) -> None:
        """Save this session's fields to the store."""
        store = type(self).store
        if store is None:
            callback(StoreError.nil_store("Unable to save session: Store is nil"))
            return
        try:
            data = self._encode()
        except TypeError as exc:
            Log.error(f"Unable to encode {type(self).__name__} for sessionId={self.session_id}, error: {exc}")
            callback(exc)
            return
        store.save(self.session_id, data, callback)

    def destroy(self, callback: ErrorCallback = _no_callback) -> None:
        """Remove this session and its data from the store."""
        store = type(self).store
        if store is None:
            callback(StoreError.nil_store("Unable to destroy session: Store is nil"))
            return
        store.delete(self.session_id, callback)

    def touch(self, callback: ErrorCallback = _no_callback) -> None:
        """Renew this session's expiry in the store."""
        store = type(self).store
        if store is None:
            callback(StoreError.nil_store("Unable to touch session: Store is nil"))
            return
        store.touch(self.session_id, callback)
