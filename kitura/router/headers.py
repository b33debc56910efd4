"""Headers: Kitura's Router view of a HeadersContainer (one string per name).

``headers["Content-Type"]`` is the first value or None; assigning a string
replaces the values, assigning None removes the header. The multi-value
container underneath stays reachable as ``headers.container``.
"""
from __future__ import annotations

from typing import Any, Iterator

from .content_type import ContentType

__all__ = ["Headers"]


class Headers:
    """A case-insensitive header map over a kitura.net ``HeadersContainer``."""

    __slots__ = ("container",)

    def __init__(self, container: Any) -> None:
        self.container = container

    def __getitem__(self, key: str) -> str | None:
        values = self.container[key]
        return values[0] if values else None

    def __setitem__(self, key: str, value: str | list[str] | None) -> None:
        if value is None:
            self.__delitem__(key)
        else:
            self.container[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self.container:
            del self.container[key]

    def __contains__(self, key: object) -> bool:
        return key in self.container

    def __iter__(self) -> Iterator[tuple[str, str | None]]:
        for name, values in self.container:
            yield name, (values[0] if values else None)

    def __len__(self) -> int:
        return sum(1 for _ in self.container)

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self[key]
        return default if value is None else value

    def get_all(self, key: str) -> list[str] | None:
        """Every value of a header (Set-Cookie values stay apart)."""
        values = self.container[key]
        return list(values) if values else None

    def append(self, key: str, value: str | list[str]) -> None:
        self.container.append(key, value)

    def set_location(self, path: str) -> None:
        """Set Location; ``"back"`` means the Referer (or ``/``), as in Kitura."""
        if path == "back":
            path = self["referrer"] or self["referer"] or "/"
        self["Location"] = path

    def set_type(self, type: str, charset: str | None = None) -> None:
        """Set Content-Type from an extension or shortcut (``"json"``, ``"html"``)."""
        content_type = ContentType.shared_instance.get_content_type(type)
        if content_type is None and "/" in type:
            content_type = type
        if content_type is not None:
            self["Content-Type"] = content_type + (f"; charset={charset}" if charset else "")

    def add_attachment(self, for_: str | None = None) -> None:
        """Content-Disposition: attachment (with the file name and its Content-Type)."""
        if for_ is None:
            self["Content-Disposition"] = "attachment"
            return
        parts = [p for p in for_.split("/") if p]
        if not parts:
            return
        file_name = parts[-1]
        self["Content-Disposition"] = f'attachment; filename="{file_name}"'
        content_type = ContentType.shared_instance.get_content_type(for_file_name=file_name)
        if content_type is not None:
            self["Content-Type"] = content_type

    def add_link(self, link: str, link_parameters: dict[str, str] | None = None) -> None:
        """Append a Link header: ``<link>; rel="next"``."""
        value = f"<{link}>" + "".join(f'; {k}="{v}"' for k, v in (link_parameters or {}).items())
        self.append("Link", value)
