"""CORS options: which origins, methods and headers a cross-origin request may use."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Pattern, Union

__all__ = ["AllowedOrigins", "Options"]


class AllowedOrigins:
    """Kitura-CORS's ``AllowedOrigins`` enum: ``AllowedOrigins.ALL``, ``.SAME_AS_ORIGIN``,
    ``AllowedOrigins.set({"https://a.example", ...})``, ``.origin("https://a.example")``,
    ``.regex(r"https://.*\\.example")`` (the whole origin must match)."""

    ALL: "AllowedOrigins"
    SAME_AS_ORIGIN: "AllowedOrigins"

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: object = None) -> None:
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        if self.value is None:
            return f"AllowedOrigins.{self.kind.upper()}"
        return f"AllowedOrigins.{self.kind}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AllowedOrigins) and (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self) -> int:
        return hash(self.kind)

    @classmethod
    def set(cls, origins: Iterable[str]) -> "AllowedOrigins":
        return cls("set", frozenset(origins))

    @classmethod
    def origin(cls, origin: str) -> "AllowedOrigins":
        return cls("origin", origin)

    @classmethod
    def regex(cls, pattern: Union[str, Pattern[str]]) -> "AllowedOrigins":
        return cls("regex", re.compile(pattern) if isinstance(pattern, str) else pattern)

    def allows(self, origin: str) -> bool:
        """Whether ``origin`` is allowed by a set, an origin or a regex (not for ALL/SAME_AS_ORIGIN)."""
        if self.kind == "set":
            return origin in self.value            # type: ignore[operator]
        if self.kind == "origin":
            return origin == self.value
        if self.kind == "regex":
            return self.value.fullmatch(origin) is not None   # type: ignore[union-attr]
        return True


AllowedOrigins.ALL = AllowedOrigins("all")
AllowedOrigins.SAME_AS_ORIGIN = AllowedOrigins("sameAsOrigin")


@dataclass
class Options:
    """``Options(allowed_origin=AllowedOrigins.ALL, credentials=False, methods=[...],
    allowed_headers=None, max_age=None, exposed_headers=None, preflight_continue=False)``,
    Kitura-CORS's defaults."""

    allowed_origin: AllowedOrigins = AllowedOrigins.ALL
    credentials: bool = False
    methods: list[str] = field(default_factory=lambda: ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"])
    allowed_headers: Optional[list[str]] = None
    max_age: Optional[int] = None
    exposed_headers: Optional[list[str]] = None
    preflight_continue: bool = False
