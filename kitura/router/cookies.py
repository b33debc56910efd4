"""Cookies: request Cookie parsing and response Set-Cookie values.

``Cookie`` plays the part of Foundation's ``HTTPCookie``;
``AdditionalCookieAttribute`` the part of Kitura's enum of the same name
(associated values become factory functions).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any, Iterable

__all__ = ["Cookie", "AdditionalCookieAttribute", "ResponseCookies", "parse_cookies"]


@dataclass(slots=True)
class Cookie:
    """A cookie: what a request sent, or what a response sets."""

    name: str
    value: str
    domain: str | None = None
    path: str | None = "/"
    expires_date: _dt.datetime | None = None
    maximum_age: int | None = None
    is_secure: bool = False
    is_http_only: bool = False
    same_site: str | None = None        # "Strict", "Lax" or "None"
    comment: str | None = None
    version: int | None = None

    def header_value(self) -> str:
        """The Set-Cookie value for this cookie."""
        out = [f"{self.name}={self.value}"]
        if self.path is not None:
            out.append(f"Path={self.path}")
        if self.domain is not None:
            out.append(f"Domain={self.domain}")
        if self.expires_date is not None:
            when = self.expires_date
            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.timezone.utc)
            out.append("Expires=" + format_datetime(when.astimezone(_dt.timezone.utc), usegmt=True))
        if self.maximum_age is not None:
            out.append(f"Max-Age={int(self.maximum_age)}")
        if self.is_secure:
            out.append("Secure")
        if self.is_http_only:
            out.append("HttpOnly")
        if self.same_site is not None:
            out.append(f"SameSite={self.same_site}")
        return "; ".join(out)


class ResponseCookies(dict[str, Cookie]):
    """``response.cookies``: a dict of name to ``Cookie``.

    A plain ``str`` stored under a name is the value of a cookie of that name
    (``response.cookies["name"] = "value"``); anything else that is not a
    ``Cookie`` is refused here, at the assignment, with a TypeError.
    """

    __slots__ = ()

    def __setitem__(self, name: str, cookie: Cookie | str) -> None:
        dict.__setitem__(self, name, _as_cookie(name, cookie))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for name, cookie in dict(*args, **kwargs).items():
            self[name] = cookie

    def setdefault(self, name: str, cookie: Cookie | str) -> Cookie:  # type: ignore[override]
        if name not in self:
            self[name] = cookie
        return self[name]

    def __ior__(self, other: Any) -> "ResponseCookies":  # type: ignore[override]
        self.update(other)
        return self


def _as_cookie(name: str, cookie: Cookie | str) -> Cookie:
    if isinstance(cookie, Cookie):
        return cookie
    if isinstance(cookie, str):
        return Cookie(name=name, value=cookie)
    raise TypeError(f"response.cookies[{name!r}] takes a Cookie or a str value, not "
                    f"{type(cookie).__name__}: use Cookie(name=..., value=...) or response.add_cookie(...)")


class AdditionalCookieAttribute:
    """Extra attributes for ``response.add_cookie(...)``: ``AdditionalCookieAttribute.is_secure(True)``."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: Any) -> None:
        self.key = key
        self.value = value

    def __repr__(self) -> str:
        return f"AdditionalCookieAttribute.{self.key}({self.value!r})"

    @classmethod
    def expires(cls, date: _dt.datetime | None) -> "AdditionalCookieAttribute":
        return cls("expires_date", date)

    @classmethod
    def maximum_age(cls, seconds: int) -> "AdditionalCookieAttribute":
        return cls("maximum_age", seconds)

    @classmethod
    def is_secure(cls, secure: bool = True) -> "AdditionalCookieAttribute":
        # Kitura marks a secure cookie HttpOnly as well.
        return cls("is_secure", secure)

    @classmethod
    def is_http_only(cls, http_only: bool = True) -> "AdditionalCookieAttribute":
        return cls("is_http_only", http_only)

    @classmethod
    def same_site(cls, value: str) -> "AdditionalCookieAttribute":
        return cls("same_site", value)

    @classmethod
    def comment(cls, text: str | None) -> "AdditionalCookieAttribute":
        return cls("comment", text)

    @classmethod
    def version(cls, number: int) -> "AdditionalCookieAttribute":
        return cls("version", number)

    def apply(self, cookie: Cookie) -> None:
        setattr(cookie, self.key, self.value)
        if self.key == "is_secure" and self.value:
            cookie.is_http_only = True


def parse_cookies(header_values: Iterable[str] | None) -> dict[str, Cookie]:
    """Parse Cookie request headers into ``{name: Cookie}`` (quotes around a value removed)."""
    cookies: dict[str, Cookie] = {}
    if not header_values:
        return cookies
    for header in header_values:
        # kitura.net merges repeated Cookie headers with ", "; a cookie value never holds
        # a comma or a semicolon (RFC 6265 4.1.1), so both separate cookies.
        for item in header.replace(",", ";").split(";"):
            name, sep, value = item.partition("=")
            if not sep:
                continue
            name = name.strip(" \t")
            value = value.strip(" \t")
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
            if name:
                cookies[name] = Cookie(name=name, value=value, domain=".", path="/")
    return cookies
