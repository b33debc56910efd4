"""Kitura-OpenAPI: the Swagger document of a Router's Codable routes, and Swagger UI to browse it.

``KituraOpenAPI.add_endpoints(to=router)`` serves ``router.swagger_json`` (Swagger
2.0, as Kitura generates it) at ``/openapi`` and Swagger UI at ``/openapi/ui``.
The UI's assets come from the ``swagger-ui-bundle`` package (the ``openapi``
extra: ``pip install 'kitura[openapi]'``), served from its installed copy: nothing
is downloaded at run time. Without it, the document is served and the UI path
answers 503 with what to install.
"""
from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Optional

from kitura.router import Router, StaticFileServer

try:
    from swagger_ui_bundle import swagger_ui_path as _swagger_ui_path
except ImportError:  # the openapi extra is not installed
    _swagger_ui_path = None

__all__ = ["KituraOpenAPI", "KituraOpenAPIConfig"]

logger = logging.getLogger("kitura.openapi")

_UI_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Swagger UI</title>
<link rel="stylesheet" type="text/css" href="{ui}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ui}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ui}/swagger-ui-bundle.js" charset="utf-8"></script>
<script src="{ui}/swagger-ui-standalone-preset.js" charset="utf-8"></script>
<script>
window.onload = function () {{
  window.ui = SwaggerUIBundle({{
    url: {api},
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  }});
}};
</script>
</body>
</html>
"""


@dataclass
class KituraOpenAPIConfig:
    """Where to serve the document and the UI; None switches one off (Kitura's KituraOpenAPIConfig)."""

    api_path: Optional[str] = "/openapi"
    swagger_ui_path: Optional[str] = "/openapi/ui"


def _absolute(path: str) -> str:
    return path if path.startswith("/") else "/" + path


class KituraOpenAPI:
    """``KituraOpenAPI.add_endpoints(to=router)``; ``KituraOpenAPI.write_openapi(from_=router, to=path)``."""

    default_config = KituraOpenAPIConfig()

    @classmethod
    def add_endpoints(cls, to: Router, with_: KituraOpenAPIConfig | None = None) -> None:
        config = with_ or cls.default_config
        router = to
        if config.api_path is None:
            logger.debug("No path for the OpenAPI definition")
            return
        api_path = _absolute(config.api_path)

        def serve_document(request: Any, response: Any, next: Any) -> None:
            response.headers["Content-Type"] = "application/json"
            response.status(200).send(router.swagger_json).end()

        router.get(api_path, serve_document)
        logger.info("Registered OpenAPI definition on %s", api_path)
        if config.swagger_ui_path is None:
            return
        ui_path = _absolute(config.swagger_ui_path).rstrip("/")
        if _swagger_ui_path is None:
            def ui_missing(request: Any, response: Any, next: Any) -> None:
                response.status(503).send("Swagger UI is not installed: pip install 'kitura[openapi]' "
                                          "(the swagger-ui-bundle package)").end()
            router.get(ui_path, ui_missing)
            logger.error("Swagger UI assets not found: install the openapi extra (swagger-ui-bundle)")
            return
        page = _UI_PAGE.format(ui=html.escape(ui_path), api=html.escape(json.dumps(api_path), quote=False))

        def serve_page(request: Any, response: Any, next: Any) -> None:
            response.headers["Content-Type"] = "text/html; charset=utf-8"
            response.send(page).end()

        for path in (ui_path, ui_path + "/", ui_path + "/index.html"):
            router.get(path, serve_page)
        router.get(ui_path, middleware=StaticFileServer(path=os.fspath(_swagger_ui_path)))
        logger.info("Registered Swagger UI on %s", ui_path)

    @classmethod
    def write_openapi(cls, from_: Router, to: str | os.PathLike[str]) -> None:
        """Write the router's Swagger document to a file."""
        with open(to, "w", encoding="utf-8") as file:
            file.write(from_.swagger_json or "")
