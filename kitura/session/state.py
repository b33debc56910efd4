"""SessionState: one request's session, a dict of JSON values (``request.session``)."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator, Optional, TypeVar

from kitura.router.codec import decode_model, to_jsonable

from .cookie import new_session_id
from .store import Store

__all__ = ["SessionState"]

T = TypeVar("T")
_MISSING: Any = object()


def _no_callback(error: Optional[BaseException]) -> None:
    pass


class SessionState:
    """Kitura's subscripts: ``session["books"]`` is the value or None, ``session["books"] = v``
    stores ``v`` as JSON data (dataclasses become objects; None removes the key),
    ``session.get("books", as_=list[Book])`` reads it back as a model.
    A changed session is saved to the store when the response ends."""

    def __init__(self, id: str, store: Store) -> None:
        self.id = id
        self._store = store
        self._state: dict[str, Any] = {}
        self.is_dirty = False

    def __repr__(self) -> str:
        return f"<SessionState {self.id[:8]}... {len(self._state)} keys>"

    @property
    def is_empty(self) -> bool:
        return not self._state

    # -- dict-like access ------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._state.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        if value is None:
            self._state.pop(key, None)
        else:
            self._state[key] = to_jsonable(value)
        self.is_dirty = True

    def __delitem__(self, key: str) -> None:
        self.remove(key=key)

    def __contains__(self, key: object) -> bool:
        return key in self._state

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._state))

    def __len__(self) -> int:
        return len(self._state)

    def keys(self) -> list[str]:
        return list(self._state)

    def get(self, key: str, default: Any = None, *, as_: Any = _MISSING) -> Any:
        """The value at ``key`` (``default`` when absent); with ``as_``, decoded as that type
        (``as_=list[Book]``), as Kitura's typed subscript does."""
        if key not in self._state:
            return default
        value = self._state[key]
        return value if as_ is _MISSING else decode_model(as_, value, key)

    def remove(self, key: str) -> None:
        self._state.pop(key, None)
        self.is_dirty = True

    # -- the store -------------------------------------------------------------
    def reload(self, callback: Callable[[Optional[BaseException]], None] = _no_callback) -> None:
        """Replace the state with what the store holds (nothing held: empty)."""
        def loaded(data: Optional[bytes], error: Optional[BaseException]) -> None:
            if error is None:
                state: Any = None
                if data:
                    try:
                        state = json.loads(data)
                    except ValueError:
                        state = None
                self._state = state if isinstance(state, dict) else {}
                self.is_dirty = False
            callback(error)
        self._store.load(self.id, loaded)

    def save(self, callback: Callable[[Optional[BaseException]], None] = _no_callback) -> None:
        data = json.dumps(self._state, separators=(",", ":")).encode("utf-8")

        def saved(error: Optional[BaseException]) -> None:
            if error is None:
                self.is_dirty = False
            callback(error)
        self._store.save(self.id, data, saved)

    def regenerate_id(self, callback: Callable[[Optional[BaseException]], None] = _no_callback) -> None:
        """Move the session's data to a new id (the old one is deleted from the store, and the
        response gets a cookie for the new one): call it when a user logs in, so a session id
        planted in the browser before the login (session fixation) is worth nothing after it."""
        old_id = self.id
        self.id = new_session_id()
        self.is_dirty = True
        self._store.delete(old_id, callback)

    def destroy(self, callback: Callable[[Optional[BaseException]], None] = _no_callback) -> None:
        """Delete the session from the store and empty it."""
        def deleted(error: Optional[BaseException]) -> None:
            self._state = {}
            self.is_dirty = False
            callback(error)
        self._store.delete(self.id, deleted)
