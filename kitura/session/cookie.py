"""The session cookie: its parameters and its signed value.

The cookie carries only the session id, signed with HMAC-SHA256 under a key
derived from the app's secret, as ``<id>.<signature>``. A cookie whose signature
does not check (tampered, or made under another secret) is treated as absent,
so the request gets a new session, never an error page. (Kitura-Session also
encrypts the id; a random id needs no secrecy, only integrity.)
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from kitura.log import Log
from kitura.router import Cookie

__all__ = ["CookieParameter", "SessionCookie", "CookieSigner", "CookieManagement", "new_session_id"]

_DEFAULT_NAME = "kitura-session-id"
_KEY_SALT = b"kitura.session cookie signature"


def new_session_id() -> str:
    """A fresh, unguessable session id (192 random bits)."""
    return secrets.token_urlsafe(24)


class CookieSigner:
    """Signs and checks session ids under one secret."""

    __slots__ = ("_key",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a session secret must not be empty: pass secret='a long random string'")
        self._key = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), _KEY_SALT, 1000)

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self._key, session_id.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def encode(self, session_id: str) -> str:
        return f"{session_id}.{self._mac(session_id)}"

    def decode(self, value: str) -> str | None:
        """The session id of a signed value, or None when the signature does not check."""
        session_id, dot, mac = value.rpartition(".")
        if not dot or not session_id:
            return None
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(session_id).encode("ascii")):
            return None
        return session_id


class CookieParameter:
    """Kitura-Session's ``CookieParameter`` enum: ``CookieParameter.name("sid")``,
    ``.path("/")``, ``.secure(True)``, ``.max_age(3600.0)``."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: Any) -> None:
        self.key = key
        self.value = value

    def __repr__(self) -> str:
        return f"CookieParameter.{self.key}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CookieParameter) and (self.key, self.value) == (other.key, other.value)

    def __hash__(self) -> int:
        return hash((self.key, self.value))

    @classmethod
    def name(cls, name: str) -> "CookieParameter":
        return cls("name", name)

    @classmethod
    def path(cls, path: str) -> "CookieParameter":
        return cls("path", path)

    @classmethod
    def secure(cls, secure: bool) -> "CookieParameter":
        return cls("secure", secure)

    @classmethod
    def max_age(cls, seconds: float) -> "CookieParameter":
        return cls("max_age", seconds)


class CookieManagement:
    """Reads the session id from a request's cookie and sets the cookie on a response."""

    def __init__(self, secret: str, name: str = _DEFAULT_NAME, path: str | None = "/", domain: str | None = None,
                 secure: bool = False, max_age: float | None = None) -> None:
        self.signer = CookieSigner(secret)
        self.name = name
        self.path = path or "/"
        self.domain = domain
        self.secure = secure
        self.max_age = max_age

    @classmethod
    def from_parameters(cls, secret: str, parameters: list[CookieParameter] | None) -> "CookieManagement":
        settings: dict[str, Any] = {}
        for parameter in parameters or ():
            if not isinstance(parameter, CookieParameter):
                raise TypeError(f"cookie= takes CookieParameter values (CookieParameter.name('sid')), "
                                f"not {parameter!r}")
            settings[parameter.key] = parameter.value
        return cls(secret, **settings)

    def session_id(self, request: Any, response: Any) -> tuple[str, bool]:
        """``(id, is_new)``: the signed id the request carries (or a cookie already set on the
        response by an earlier middleware), else a new id."""
        cookie = request.cookies.get(self.name) or response.cookies.get(self.name)
        if cookie is not None:
            session_id = self.signer.decode(cookie.value)
            if session_id is not None:
                return session_id, False
            Log.warning(f"Session cookie {self.name!r} does not check (tampered, or another secret): new session")
        return new_session_id(), True

    def cookie_exists(self, response: Any) -> bool:
        return self.name in response.cookies

    def add_cookie(self, session_id: str, response: Any) -> None:
        """Set the signed cookie: host-only unless a domain was given, HttpOnly, SameSite=Lax."""
        cookie = Cookie(name=self.name, value=self.signer.encode(session_id), domain=self.domain, path=self.path,
                        is_secure=self.secure, is_http_only=True, same_site="Lax")
        if self.max_age is not None and self.max_age > 0:
            cookie.maximum_age = int(self.max_age)
        response.cookies[self.name] = cookie


class SessionCookie:
    """The cookie of a ``TypeSafeSession`` class: ``SessionCookie(name="MySession", secret="...")``."""

    def __init__(self, name: str, secret: str, secure: bool = False, path: str | None = None,
                 domain: str | None = None, max_age: float | None = None) -> None:
        self.name = name
        self.secret = secret
        self.secure = secure
        self.path = path
        self.domain = domain
        self.max_age = max_age
        self.cookie_manager = CookieManagement(secret, name=name, path=path, domain=domain, secure=secure,
                                               max_age=max_age)
