"""The Session middleware, and ``request.session`` (Kitura-Session's RouterRequest extension)."""
from __future__ import annotations

from typing import Any, Callable, Optional

from kitura.log import Log
from kitura.router import RouterMiddleware, RouterRequest, RouterResponse

from .cookie import CookieManagement, CookieParameter
from .state import SessionState
from .store import InMemoryStore, Store

__all__ = ["Session"]

_SESSION_KEY = "@@Kitura@@Session@@"


def _get_session(request: RouterRequest) -> Optional[SessionState]:
    return request.user_info.get(_SESSION_KEY)


def _set_session(request: RouterRequest, session: Optional[SessionState]) -> None:
    request.user_info[_SESSION_KEY] = session


# Swift's `extension RouterRequest { var session: SessionState? }`: None without the middleware.
RouterRequest.session = property(_get_session, _set_session,   # type: ignore[attr-defined]
                                 doc="The request's SessionState (set by the Session middleware), or None.")


class Session(RouterMiddleware):
    """``router.all(middleware=Session(secret="...", cookie=[CookieParameter.name("sid")], store=None))``.

    Loads the session named by the request's signed cookie into ``request.session``
    (a new one when there is none, or it does not check), and when the response ends
    sets the cookie and saves the session if it changed (or renews it in the store).
    Without a store, sessions live in an ``InMemoryStore``.
    """

    def __init__(self, secret: str, cookie: list[CookieParameter] | None = None, store: Store | None = None) -> None:
        if store is None:
            Log.warning("Using default in-memory session store")
            store = InMemoryStore()
        self.store = store
        self.cookie_manager = CookieManagement.from_parameters(secret, cookie)

    def handle(self, request: RouterRequest, response: RouterResponse, next: Callable[[], None]) -> None:
        session_id, is_new = self.cookie_manager.session_id(request, response)
        session = SessionState(id=session_id, store=self.store)
        previous: Callable[[], None] = lambda: None   # noqa: E731

        def on_end_invoked() -> None:
            current = _get_session(request)
            if current is not None:
                self._finish(current, response, session_id)
            previous()

        previous = response.set_on_end_invoked(on_end_invoked)
        if self.store.blocking:
            response.end_off_loop()    # save/touch may wait on the network: never on the event loop
        response.defer()       # a store may answer later, from another thread: the walk waits for next()
        if is_new:
            _set_session(request, session)
            next()
            return

        def reloaded(error: Optional[BaseException]) -> None:
            if error is not None:
                Log.error(f"Failed to load session data from store. Error={error}")
            else:
                _set_session(request, session)
            next()
        session.reload(reloaded)

    def _finish(self, session: SessionState, response: Any, loaded_id: str) -> None:
        if not self.cookie_manager.cookie_exists(response) or session.id != loaded_id:
            self.cookie_manager.add_cookie(session.id, response)
        if session.is_dirty:
            session.save(lambda error: error and Log.error(f"Failed to save session data for session {session.id}: "
                                                           f"{error}"))
        elif not session.is_empty:
            self.store.touch(session.id, lambda error: error and Log.error(
                f"Failed to \"touch\" session for session {session.id}: {error}"))
