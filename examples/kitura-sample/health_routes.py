"""Kitura-Sample's Routes/HealthRoutes.swift, ported line for line (and Application.swift's
``public let health = Health()``)."""
from __future__ import annotations

from typing import Any

from kitura import RequestError
from kitura.health import Health, State
from kitura.net import HTTPStatusCode

health = Health()


def initialize_health_routes(app: Any) -> None:

    @app.router.get("/health")
    def get_health(respond_with):
        if health.status.state == State.UP:
            respond_with(health.status, None)
        else:
            respond_with(None, RequestError(HTTPStatusCode.SERVICE_UNAVAILABLE, body=health.status))
