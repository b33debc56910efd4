"""Kitura's resource path rule, shared by static files, ``send_file`` and templates."""
from __future__ import annotations

import os

__all__ = ["absolute_path"]


def absolute_path(path: str) -> str:
    """``~`` expanded; a relative path is taken from the current directory."""
    if path.endswith("/") and path != "/":
        path = path[:-1]
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return path
    return os.path.join(os.getcwd(), path)
