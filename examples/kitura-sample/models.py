"""The sample's models: plain dataclasses play the part of Swift's Codable structs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class Name:
    name: str


@dataclass
class Book:
    name: str
    author: str
    rating: int


@dataclass
class BookQuery:
    """Query parameters of GET /books (Kitura's QueryParams)."""

    name: Optional[str] = None


@dataclass
class JinjaSummary:
    name: Name
    books: list[Book]
