"""MediaType: a ``type/subtype`` pair, the key of ``router.encoders`` and ``router.decoders`` (Kitura's MediaType)."""
from __future__ import annotations

import enum
from typing import ClassVar

__all__ = ["MediaType"]


class _TopLevelType(enum.Enum):
    APPLICATION = "application"
    AUDIO = "audio"
    FONT = "font"
    IMAGE = "image"
    MESSAGE = "message"
    MODEL = "model"
    MULTIPART = "multipart"
    TEXT = "text"
    VIDEO = "video"


class MediaType:
    """``MediaType(type=MediaType.TopLevelType.APPLICATION, sub_type="jwt")``, ``MediaType("application/jwt")``,
    ``MediaType.json``, ``MediaType.url_encoded``. Case-insensitive; parameters (``; charset=...``) are dropped."""

    TopLevelType = _TopLevelType
    json: ClassVar["MediaType"]
    url_encoded: ClassVar["MediaType"]

    __slots__ = ("top_level_type", "sub_type", "description")

    def __init__(self, mime_type: str | None = None, *, type: _TopLevelType | None = None,
                 sub_type: str = "*") -> None:
        if mime_type is not None:
            top, sep, sub = mime_type.split(";", 1)[0].strip().lower().partition("/")
            try:
                top_type = _TopLevelType(top)
            except ValueError:
                raise ValueError(f"{mime_type!r} is not a media type (type/subtype, type one of "
                                 + ", ".join(t.value for t in _TopLevelType) + ")") from None
            if not sep or not sub:
                raise ValueError(f"{mime_type!r} is not a media type (type/subtype)")
            type, sub_type = top_type, sub
        if type is None:
            raise TypeError("MediaType needs a mime type string or type=")
        self.top_level_type = type
        self.sub_type = sub_type.lower()
        self.description = f"{type.value}/{self.sub_type}"

    @classmethod
    def from_content_type(cls, header: str | None) -> "MediaType | None":
        """The media type of a Content-Type header; None when there is none or it is malformed."""
        if not header:
            return None
        try:
            return cls(header)
        except ValueError:
            return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MediaType) and other.description == self.description

    def __hash__(self) -> int:
        return hash(self.description)

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"MediaType({self.description!r})"


MediaType.json = MediaType(type=_TopLevelType.APPLICATION, sub_type="json")
MediaType.url_encoded = MediaType(type=_TopLevelType.APPLICATION, sub_type="x-www-form-urlencoded")
