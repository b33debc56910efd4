"""Response compression for the whole sample (an addition: Kitura-Sample has no
compression route; this is how a Kitura app mounts Kitura-Compression)."""
from __future__ import annotations

from typing import Any

from kitura.compression import Compression


def initialize_compression(app: Any) -> None:
    # First of all, so every response over 1 KiB is compressed for clients that accept it.
    app.router.all(middleware=Compression(threshold=1024))
