"""kitura.compression: Kitura-Compression for Kitura for Python.

``router.all(middleware=Compression())`` compresses response bodies with gzip or
deflate, as the request's ``Accept-Encoding`` prefers, when they are over
``threshold`` bytes; see ``Compression`` for what is never compressed.
"""
from __future__ import annotations

from .compression import Compression, CompressionLevel, CompressionStrategy

__all__ = ["Compression", "CompressionLevel", "CompressionStrategy"]
