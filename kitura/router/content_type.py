"""ContentType: file extension -> media type, as Kitura's ContentType.

Built on the standard library's built-in table (``mimetypes.MimeTypes()`` with
no system files, so the answer does not depend on the machine), with a few
entries set to what Kitura answers.
"""
from __future__ import annotations

import mimetypes

__all__ = ["ContentType"]

_OVERRIDES = {
    "js": "application/javascript", "mjs": "application/javascript", "json": "application/json",
    "map": "application/json", "html": "text/html", "htm": "text/html", "css": "text/css",
    "txt": "text/plain", "text": "text/plain", "md": "text/markdown", "markdown": "text/markdown",
    "yaml": "text/yaml", "yml": "text/yaml", "svg": "image/svg+xml", "ico": "image/vnd.microsoft.icon",
    "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
    "wasm": "application/wasm", "webp": "image/webp", "png": "image/png", "jpg": "image/jpeg",
    "jpeg": "image/jpeg", "gif": "image/gif", "xml": "application/xml", "pdf": "application/pdf",
    "zip": "application/zip", "gz": "application/gzip", "csv": "text/csv", "mp4": "video/mp4",
    "webm": "video/webm", "mp3": "audio/mpeg", "wav": "audio/wav", "webmanifest": "application/manifest+json",
}
_SHORTCUTS = {"urlencoded": "application/x-www-form-urlencoded", "multipart": "multipart/*",
              "json": "application/json", "text": "text/*"}


class ContentType:
    """``ContentType.shared_instance.get_content_type(for_extension="js")``."""

    shared_instance: "ContentType"

    def __init__(self) -> None:
        table = mimetypes.MimeTypes(filenames=())
        self._ext_to_type: dict[str, str] = {}
        for ext, mtype in table.types_map[True].items():
            self._ext_to_type[ext.lstrip(".").lower()] = mtype
        self._ext_to_type.update(_OVERRIDES)

    def get_content_type(self, for_extension: str | None = None, *, for_file_name: str | None = None) -> str | None:
        """The media type for an extension (``"html"``) or a file name (``"a/b.html"``), or None."""
        if for_file_name is not None:
            last = for_file_name.rsplit("/", 1)[-1]
            ext = last.rsplit(".", 1)[-1] if "." in last else last
            return self._ext_to_type.get(ext.lower())
        if for_extension is None:
            return None
        return self._ext_to_type.get(for_extension.lower())

    def is_content_type(self, message_content_type: str, of_type: str) -> bool:
        """True when a Content-Type value is ``of_type`` (a media type, an extension, or a shortcut)."""
        wanted = of_type.lower()
        actual = message_content_type.split(";", 1)[0].strip().lower()
        if actual == wanted or actual == self._ext_to_type.get(wanted):
            return True
        normalized = _SHORTCUTS.get(wanted, wanted)
        if actual == normalized:
            return True
        a, _, _ = actual.partition("/")
        n, _, nsub = normalized.partition("/")
        return bool(nsub) and a == n and nsub == "*"


ContentType.shared_instance = ContentType()
