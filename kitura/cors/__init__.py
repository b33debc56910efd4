"""kitura.cors: Kitura-CORS for Kitura for Python (``CORS``, ``Options``, ``AllowedOrigins``)."""
from __future__ import annotations

from .cors import CORS
from .options import AllowedOrigins, Options

__all__ = ["CORS", "Options", "AllowedOrigins"]
