"""HTTP Basic authentication (RFC 7617): the CredentialsHTTPBasic plugin and the
TypeSafeHTTPBasic type-safe middleware share the header parsing here."""
from __future__ import annotations

import binascii
import hmac
from base64 import b64decode
from typing import Any, Callable, Optional, Union

from .plugin import CredentialsPluginProtocol, InProgress, OnFailure, OnPass, OnSuccess
from .user_profile import UserProfile

__all__ = ["CredentialsHTTPBasic", "VerifyPassword", "UserProfileLoader", "basic_credentials"]

#: ``verify_password(user_id, password, callback)``; ``callback(UserProfile or None)``.
VerifyPassword = Callable[[str, str, Callable[[Optional[UserProfile]], None]], None]
#: ``loader(user_id, callback)``; ``callback(UserProfile or None, stored password or None)``.
UserProfileLoader = Callable[[str, Callable[[Optional[UserProfile], Optional[str]], None]], None]

#: No usable credentials in the request: the plugin passes.
NO_CREDENTIALS = "none"
#: Credentials given but not ``user:password``: 400.
MALFORMED = "malformed"


def basic_credentials(request: Any) -> Union[tuple[str, str], str]:
    """``(user, password)`` from the URL's userinfo or the ``Authorization: Basic`` header;
    else NO_CREDENTIALS (no header, or not Basic/base64/UTF-8) or MALFORMED (no colon)."""
    url = request.url_url
    if url.username is not None and url.password is not None:
        return url.username, url.password
    header = request.headers["Authorization"]
    if header is None:
        return NO_CREDENTIALS
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return NO_CREDENTIALS
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return NO_CREDENTIALS
    user, colon, password = decoded.partition(":")
    if not colon:
        return MALFORMED
    return user, password


def challenge(realm: str) -> dict[str, str]:
    escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
    return {"WWW-Authenticate": f'Basic realm="{escaped}"'}


class CredentialsHTTPBasic(CredentialsPluginProtocol):
    """``CredentialsHTTPBasic(verify_password=check, realm="Users")``. (Kitura's deprecated
    ``user_profile_loader=`` form, which compares passwords in the plugin, is accepted too.)"""

    name = "HTTPBasic"
    redirecting = False

    def __init__(self, verify_password: Optional[VerifyPassword] = None, realm: Optional[str] = None, *,
                 user_profile_loader: Optional[UserProfileLoader] = None) -> None:
        if verify_password is None and user_profile_loader is None:
            raise TypeError("CredentialsHTTPBasic needs verify_password=fn(user_id, password, callback)")
        self.verify_password = verify_password
        self.user_profile_loader = user_profile_loader
        self.realm = realm if realm is not None else "Users"
        self.users_cache = None

    def authenticate(self, request: Any, response: Any, options: dict[str, Any], on_success: OnSuccess,
                     on_failure: OnFailure, on_pass: OnPass, in_progress: InProgress) -> None:
        found = basic_credentials(request)
        if found == NO_CREDENTIALS:
            on_pass(401, challenge(self.realm))
            return
        if found == MALFORMED:
            on_failure(400, None)
            return
        user_id, password = found

        def verified(profile: Optional[UserProfile]) -> None:
            if profile is not None:
                on_success(profile)
            else:
                on_failure(401, challenge(self.realm))

        if self.verify_password is not None:
            self.verify_password(user_id, password, verified)
            return

        def loaded(profile: Optional[UserProfile], stored: Optional[str]) -> None:
            ok = profile is not None and stored is not None and hmac.compare_digest(stored.encode(), password.encode())
            verified(profile if ok else None)
        assert self.user_profile_loader is not None
        self.user_profile_loader(user_id, loaded)
