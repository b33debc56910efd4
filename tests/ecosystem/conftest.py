"""The Router fixtures (a Router served on 127.0.0.1, a small HTTP client), shared with tests/router."""
from __future__ import annotations

from tests.router.conftest import TIMEOUT, Client, Reply, serve  # noqa: F401 - fixtures and helpers for these tests
