"""``PerInstance``: an attribute made on its first read (what RouterRequest and
RouterResponse use for the containers most requests never touch)."""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["PerInstance"]


class PerInstance:
    """A class attribute whose first read on an instance makes the value with
    ``make(instance)`` and stores it in the instance's ``__dict__``: from then on (and
    after an assignment) the attribute is a plain instance attribute, at no extra cost.
    Unlike ``functools.cached_property`` it takes no lock (per-request objects)."""

    __slots__ = ("name", "make", "doc")

    def __init__(self, make: Callable[[Any], Any], doc: str | None = None) -> None:
        self.make = make
        self.name = ""
        self.doc = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.make(instance)
        return value
