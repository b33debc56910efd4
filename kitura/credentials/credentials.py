"""The Credentials middleware, and ``request.user_profile``."""
from __future__ import annotations

import re
from typing import Any, Callable, Optional

from kitura.log import Log
from kitura.router import RouterMiddleware, RouterRequest, RouterResponse

from .plugin import CredentialsPluginProtocol
from .user_profile import UserProfile

__all__ = ["Credentials"]

_USER_PROFILE_KEY = "@@Kitura@@UserProfile@@"
_SESSION_PROFILE_KEY = "userProfile"
_RETURN_TO_KEY = "returnTo"
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# The options' keys, and Kitura's spelling of each (kept as an alias for literal ports).
_OPTION_ALIASES = {"success_redirect": "successRedirect", "failure_redirect": "failureRedirect"}


def _session(request: RouterRequest) -> Any:
    return getattr(request, "session", None)    # set by kitura.session's Session middleware, when used


def _local_path(target: Any) -> str:
    """``target`` if it is a path on this site, else ``"/"``. A returnTo that starts with
    two slashes or a slash and a backslash (browsers read both as another host; they also
    drop tabs and newlines, so control characters are refused) would make the login an open
    redirect; a value starting with a slash has no scheme."""
    if not isinstance(target, str) or not target.startswith("/") or _CONTROL.search(target):
        return "/"
    return "/" if target[1:2] in ("/", "\\") else target


def _get_user_profile(request: RouterRequest) -> Optional[UserProfile]:
    profile = request.user_info.get(_USER_PROFILE_KEY)
    if profile is not None:
        return profile
    session = _session(request)
    return Credentials.restore_user_profile(from_=session) if session is not None else None


def _set_user_profile(request: RouterRequest, profile: Optional[UserProfile]) -> None:
    request.user_info[_USER_PROFILE_KEY] = profile


# Swift's `extension RouterRequest { var userProfile: UserProfile? }`.
RouterRequest.user_profile = property(_get_user_profile, _set_user_profile,   # type: ignore[attr-defined]
                                      doc="The authenticated user (set by Credentials), or None.")


class Credentials(RouterMiddleware):
    """``credentials = Credentials(options={"failure_redirect": "/login"})``;
    ``credentials.register(plugin=CredentialsHTTPBasic(verify_password=...))``;
    ``router.all("/private", middleware=credentials)``.

    Non-redirecting plugins are tried in registration order on each request: the first
    that succeeds sets ``request.user_profile``; one that fails answers (401 unless it
    says otherwise, with its headers, e.g. ``WWW-Authenticate``). When every plugin
    passes, a request with a Session and redirecting plugins is redirected to
    ``options["failure_redirect"]`` (remembering where it was going); any other is 401.
    Options: ``success_redirect``, ``failure_redirect``; Kitura's ``successRedirect`` and
    ``failureRedirect`` are the same options (both spellings are set, for plugins).
    """

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        for key, kitura_key in _OPTION_ALIASES.items():
            if key in self.options:
                self.options.setdefault(kitura_key, self.options[key])
            elif kitura_key in self.options:
                self.options[key] = self.options[kitura_key]
        self.non_redirecting_plugins: list[CredentialsPluginProtocol] = []
        self.redirecting_plugins: dict[str, CredentialsPluginProtocol] = {}

    def register(self, plugin: CredentialsPluginProtocol) -> None:
        if plugin.redirecting:
            self.redirecting_plugins[plugin.name] = plugin
        else:
            plugin.users_cache = {}
            self.non_redirecting_plugins.append(plugin)

    # -- the middleware --------------------------------------------------------------
    def handle(self, request: RouterRequest, response: RouterResponse, next: Callable[[], None]) -> None:
        if not self.non_redirecting_plugins and not self.redirecting_plugins:
            Log.error("No plugins registered to Kitura-Credentials")
            next()
            return
        session = _session(request)
        if session is not None:
            if request.user_info.get(_USER_PROFILE_KEY) is not None:
                next()
                return
            profile = Credentials.restore_user_profile(from_=session)
            if profile is not None:
                _set_user_profile(request, profile)
                next()
                return
        response.defer()        # plugins may answer later, from another thread: the walk waits
        self._try_plugin(0, request, response, next, [None, None])

    def _try_plugin(self, index: int, request: RouterRequest, response: RouterResponse, next: Callable[[], None],
                    passed: list[Any]) -> None:
        if index >= len(self.non_redirecting_plugins):
            self._all_passed(request, response, passed)
            return

        def on_success(profile: UserProfile) -> None:
            _set_user_profile(request, profile)
            next()

        def on_failure(status: Any = None, headers: Optional[dict[str, str]] = None) -> None:
            self._fail(response, status, headers)

        def on_pass(status: Any = None, headers: Optional[dict[str, str]] = None) -> None:
            if status is not None and passed[0] is None:
                passed[0], passed[1] = status, headers
            self._try_plugin(index + 1, request, response, next, passed)

        def in_progress() -> None:
            self._redirect_unauthorized(response)
            next()

        self.non_redirecting_plugins[index].authenticate(request, response, self.options, on_success, on_failure,
                                                         on_pass, in_progress)

    def _all_passed(self, request: RouterRequest, response: RouterResponse, passed: list[Any]) -> None:
        session = _session(request)
        if session is not None and self.redirecting_plugins:
            Credentials.set_redirecting_return_to(_local_path(request.url), for_=request)
            self._redirect_unauthorized(response)
            return
        if session is None and self.redirecting_plugins and not self.non_redirecting_plugins:
            Log.error("The authentication failed because a session, required by redirecting authentication, "
                      "was not configured.")
        self._fail(response, passed[0], passed[1])

    @staticmethod
    def _fail(response: RouterResponse, status: Any, headers: Optional[dict[str, str]]) -> None:
        for key, value in (headers or {}).items():
            response.headers.append(key, value)
        response.status(status if status is not None else 401).end()

    def _redirect_unauthorized(self, response: RouterResponse, path: Optional[str] = None) -> None:
        redirect = path if path is not None else self.options.get("failure_redirect")
        if redirect is not None:
            response.redirect(redirect)
        else:
            response.status(401).end()

    def _redirect_authorized(self, response: RouterResponse, path: Optional[str] = None) -> None:
        redirect = path if path is not None else self.options.get("success_redirect")
        if redirect is not None:
            response.redirect(redirect)

    # -- redirecting (session-based) plugins ----------------------------------------------
    def authenticate(self, credentials_type: str, success_redirect: Optional[str] = None,
                     failure_redirect: Optional[str] = None) -> Callable[..., None]:
        """A route handler that runs the redirecting plugin ``credentials_type`` (its login
        and callback routes): on success the profile goes into the session and the client
        is sent back where it was going (or to ``success_redirect``)."""
        def handler(request: RouterRequest, response: RouterResponse, next: Callable[[], None]) -> None:
            session = _session(request)
            if session is None:
                message = "The server was not configured properly: no session found for redirecting authentication"
                Log.error(message)
                response.error = RuntimeError(message)
                response.status(500).end()
                return
            plugin = self.redirecting_plugins.get(credentials_type)
            if plugin is None:
                response.status(401).end()
                return
            response.defer()

            def on_success(profile: UserProfile) -> None:
                regenerate = getattr(session, "regenerate_id", None)
                if regenerate is not None:
                    regenerate()            # a new id at login: a planted session id is worth nothing
                Credentials.store(user_profile=profile, in_=session)
                redirect = Credentials.get_redirecting_return_to(for_=request)
                if redirect is not None:
                    session.remove(key=_RETURN_TO_KEY)
                else:
                    redirect = success_redirect
                self._redirect_authorized(response, redirect)
                next()

            def on_failure(status: Any = None, headers: Optional[dict[str, str]] = None) -> None:
                self._redirect_unauthorized(response, failure_redirect)

            plugin.authenticate(request, response, self.options, on_success, on_failure, on_failure, next)
        return handler

    def log_out(self, request: RouterRequest) -> None:
        """Forget the request's user, in the request and in its session."""
        session = _session(request)
        if session is not None:
            _set_user_profile(request, None)
            session.remove(key=_SESSION_PROFILE_KEY)

    @staticmethod
    def get_redirecting_return_to(for_: RouterRequest) -> Optional[str]:
        session = _session(for_)
        if session is None or session[_RETURN_TO_KEY] is None:
            return None
        return _local_path(session[_RETURN_TO_KEY])     # checked again: the session may hold an old value

    @staticmethod
    def set_redirecting_return_to(return_to: str, for_: RouterRequest) -> None:
        session = _session(for_)
        if session is not None:
            session[_RETURN_TO_KEY] = _local_path(return_to)

    @staticmethod
    def restore_user_profile(from_: Any) -> Optional[UserProfile]:
        return UserProfile.from_session(from_[_SESSION_PROFILE_KEY])

    @staticmethod
    def store(user_profile: UserProfile, in_: Any) -> None:
        in_[_SESSION_PROFILE_KEY] = user_profile.to_session()
