"""The template-engine plug-in point (Kitura's KituraTemplateEngine protocol).

Implementations live outside the router: ``kitura.templates.JinjaTemplateEngine``.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["TemplateEngine", "TemplatingError"]


class TemplatingError(Exception):
    """No engine for a template, or the engine failed (a 500, with the reason logged)."""


@runtime_checkable
class TemplateEngine(Protocol):
    """What ``router.add(template_engine=...)`` needs."""

    @property
    def file_extension(self) -> str: ...

    def set_root_paths(self, root_paths: list[str]) -> None: ...

    def render(self, file_path: str, context: dict[str, Any], options: Any = None,
               template_name: str | None = None) -> str: ...
