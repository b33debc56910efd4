"""The interface of a Credentials plugin (Kitura-Credentials' CredentialsPluginProtocol)."""
from __future__ import annotations

from typing import Any, Callable, Optional

from .user_profile import UserProfile

__all__ = ["CredentialsPluginProtocol", "OnSuccess", "OnFailure", "OnPass", "InProgress"]

#: ``on_success(user_profile)``: the request is authenticated.
OnSuccess = Callable[[UserProfile], None]
#: ``on_failure(status, headers)``: credentials were given and are wrong (None: 401).
OnFailure = Callable[[Optional[Any], Optional[dict[str, str]]], None]
#: ``on_pass(status, headers)``: this plugin found no credentials of its kind; try the next one.
OnPass = Callable[[Optional[Any], Optional[dict[str, str]]], None]
#: ``in_progress()``: the plugin answered the request itself (e.g. redirected to a login page).
InProgress = Callable[[], None]


class CredentialsPluginProtocol:
    """Subclass to write a plugin. ``name`` identifies it; ``redirecting`` plugins (OAuth
    and other login flows) need a Session and run from ``credentials.authenticate(...)``
    routes; the others (HTTP Basic, tokens) run on every request the Credentials
    middleware guards. ``authenticate`` calls exactly one of its four callbacks, once,
    possibly later and from another thread."""

    name: str = ""
    redirecting: bool = False
    users_cache: Optional[dict[str, Any]] = None
    user_profile_delegate: Any = None

    def authenticate(self, request: Any, response: Any, options: dict[str, Any], on_success: OnSuccess,
                     on_failure: OnFailure, on_pass: OnPass, in_progress: InProgress) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement authenticate(request, response, options, "
                                  "on_success, on_failure, on_pass, in_progress)")
