"""JinjaTemplateEngine: Jinja2 templates for ``response.render()`` (the only jinja2 importer).

    router.set_default(template_engine=JinjaTemplateEngine())
    response.render("index", context={"name": "Kitura"})     # ./Views/index.jinja
"""
from __future__ import annotations

import os
from typing import Any

import jinja2

from kitura.router.templating import TemplatingError

__all__ = ["JinjaTemplateEngine"]


class JinjaTemplateEngine:
    """A ``TemplateEngine`` backed by a Jinja2 ``Environment`` rooted at the router's ``views_path``.

    ``file_extension`` is the extension of template files (``"jinja"``: ``index.jinja``);
    register it for others with ``router.add(template_engine=engine, for_file_extensions=["html"])``.
    HTML escaping is on by default; other keyword arguments go to ``jinja2.Environment``.
    """

    def __init__(self, file_extension: str = "jinja", *, autoescape: bool = True, **environment_options: Any) -> None:
        self._file_extension = file_extension.lstrip(".")
        self._autoescape = autoescape
        self._environment_options = environment_options
        self._root_paths: list[str] = [os.path.abspath("./Views")]
        self._env: jinja2.Environment | None = None

    @property
    def file_extension(self) -> str:
        return self._file_extension

    @property
    def environment(self) -> jinja2.Environment:
        """The Jinja2 environment (add filters and globals here)."""
        env = self._env
        if env is None:
            env = self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self._root_paths), autoescape=self._autoescape,
                **self._environment_options)
        return env

    def set_root_paths(self, root_paths: list[str]) -> None:
        self._root_paths = list(root_paths)
        if self._env is not None:
            self._env.loader = jinja2.FileSystemLoader(self._root_paths)

    def render(self, file_path: str, context: dict[str, Any], options: Any = None,
               template_name: str | None = None) -> str:
        """Render a template; raises ``TemplatingError`` (a 500) when it is missing or fails."""
        name = template_name
        if name is None:
            for root in self._root_paths:
                if os.path.abspath(file_path).startswith(os.path.abspath(root) + os.sep):
                    name = os.path.relpath(file_path, root)
                    break
            else:
                name = os.path.basename(file_path)
        name = name.replace(os.sep, "/").lstrip("/")
        try:
            template = self.environment.get_template(name)
            return template.render(context)
        except jinja2.TemplateNotFound as exc:
            raise TemplatingError(f"Template not found: {exc.name} (in {', '.join(self._root_paths)})") from exc
        except jinja2.TemplateError as exc:
            raise TemplatingError(f"Error rendering the template {name}: {exc}") from exc
