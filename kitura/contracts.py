"""KituraContracts' types that are not tied to the Router's machinery.

`TypeSafeMiddleware` is the contract of Kitura's type-safe middleware: a class
whose ``handle(request, response, completion)`` class method produces an instance
of itself (an authenticated user, a session) or refuses the request. A Codable
route parameter whose type is a TypeSafeMiddleware is produced by that middleware
and never decoded from the query string or the body.

The query types (`GreaterThan`, `InclusiveRange`, `Ordering`, `Pagination`, ...)
are fields of query models: each is parsed from its query-string value by its
``from_string`` class method (``?age=8,14``, ``?order=asc(name),desc(age)``,
``?page=0,10``) and sent in JSON as Swift's Codable does (``{"start":8,"end":14}``).
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from typing import Any, Callable, ClassVar, Generic, Optional, TypeVar

__all__ = ["TypeSafeMiddleware", "QueryParamsError", "Operator", "Operation", "GreaterThan",
           "GreaterThanOrEqual", "LowerThan", "LowerThanOrEqual", "InclusiveRange", "ExclusiveRange",
           "Order", "Ordering", "Pagination"]


class TypeSafeMiddleware:
    """Subclass and implement `handle` (Swift: ``static func handle(request:response:completion:)``).

    ``completion(instance, None)`` hands the instance to the route;
    ``completion(None, RequestError.FORBIDDEN)`` answers with that error's status;
    ``completion(None, None)`` answers 500 Internal Server Error, as Kitura does
    (pass ``RequestError.UNAUTHORIZED`` to say 401). The completion may be called
    later, from any thread.
    """

    @classmethod
    def handle(cls, request: Any, response: Any,
               completion: Callable[[Optional[Any], Optional[Any]], None]) -> None:
        raise NotImplementedError(f"{cls.__name__} must implement the class method "
                                  "handle(request, response, completion)")


# -- query types -------------------------------------------------------------
class QueryParamsError(ValueError):
    """A query-string value that does not fit its query type (Swift: ``QueryParamsError.invalidValue``)."""


I = TypeVar("I")


def identifier_from_string(item_type: Any, value: str) -> Any:
    """An identifier (Swift's ``Identifier``: int, float, bool, str, UUID) from its string form."""
    try:
        if item_type is int:
            return int(value)
        if item_type is float:
            return float(value)
        if item_type is bool:
            if value in ("true", "false"):
                return value == "true"
            raise ValueError(value)
        if item_type is uuid.UUID:
            return uuid.UUID(value)
    except ValueError:
        raise QueryParamsError(f"{value!r} is not a valid {getattr(item_type, '__name__', item_type)}") from None
    return value


def _identifier_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Operator(enum.Enum):
    """The filter an `Operation` stands for."""

    OR = "or"
    EQUAL = "equal"
    LOWER_THAN = "lowerThan"
    LOWER_THAN_OR_EQUAL = "lowerThanOrEqual"
    GREATER_THAN = "greaterThan"
    GREATER_THAN_OR_EQUAL = "greaterThanOrEqual"
    EXCLUSIVE_RANGE = "exclusiveRange"
    INCLUSIVE_RANGE = "inclusiveRange"


class Operation(Generic[I]):
    """A filter on one query field: ``from_string``, ``get_string_value()``, ``get_operator()``."""

    operator: ClassVar[Operator]

    @classmethod
    def from_string(cls, string: str, item_type: Any = str) -> "Operation[Any]":
        raise NotImplementedError

    def get_string_value(self) -> str:
        raise NotImplementedError

    def get_operator(self) -> Operator:
        return self.operator


@dataclasses.dataclass
class _Comparison(Operation[I]):
    value: I

    @classmethod
    def from_string(cls, string: str, item_type: Any = str) -> "_Comparison[Any]":
        return cls(identifier_from_string(item_type, string))

    def get_value(self) -> I:
        return self.value

    def get_string_value(self) -> str:
        return _identifier_string(self.value)


class GreaterThan(_Comparison[I]):
    """``age: GreaterThan[int]``; ``?age=8``."""

    operator = Operator.GREATER_THAN


class GreaterThanOrEqual(_Comparison[I]):
    """``age: GreaterThanOrEqual[int]``; ``?age=8``."""

    operator = Operator.GREATER_THAN_OR_EQUAL


class LowerThan(_Comparison[I]):
    """``age: LowerThan[int]``; ``?age=8``."""

    operator = Operator.LOWER_THAN


class LowerThanOrEqual(_Comparison[I]):
    """``age: LowerThanOrEqual[int]``; ``?age=8``."""

    operator = Operator.LOWER_THAN_OR_EQUAL


def _two(string: str) -> tuple[str, str]:
    parts = string.split(",")
    if len(parts) != 2:
        raise QueryParamsError(f"{string!r} is not two values separated by a comma")
    return parts[0], parts[1]


@dataclasses.dataclass
class _Range(Operation[I]):
    start: I
    end: I

    @classmethod
    def from_string(cls, string: str, item_type: Any = str) -> "_Range[Any]":
        start, end = _two(string)
        return cls(identifier_from_string(item_type, start), identifier_from_string(item_type, end))

    def get_value(self) -> tuple[I, I]:
        return self.start, self.end

    def get_string_value(self) -> str:
        return f"{_identifier_string(self.start)},{_identifier_string(self.end)}"


class InclusiveRange(_Range[I]):
    """``age: InclusiveRange[int]``; ``?age=8,14``."""

    operator = Operator.INCLUSIVE_RANGE


class ExclusiveRange(_Range[I]):
    """``age: ExclusiveRange[int]``; ``?age=8,14``."""

    operator = Operator.EXCLUSIVE_RANGE


class Order:
    """``Order.asc("name")`` or ``Order.desc("age")`` (Swift's enum with a value)."""

    __slots__ = ("direction", "value")

    def __init__(self, direction: str, value: str) -> None:
        if direction not in ("asc", "desc"):
            raise QueryParamsError(f"an Order is asc or desc, not {direction!r}")
        self.direction, self.value = direction, value

    @classmethod
    def asc(cls, value: str) -> "Order":
        return cls("asc", value)

    @classmethod
    def desc(cls, value: str) -> "Order":
        return cls("desc", value)

    @property
    def description(self) -> str:
        return f"{self.direction}({self.value})"

    def to_dict(self) -> dict[str, str]:
        return {self.direction: self.value}

    @classmethod
    def from_dict(cls, data: Any) -> "Order":
        for direction in ("asc", "desc"):
            if isinstance(data, dict) and isinstance(data.get(direction), str):
                return cls(direction, data[direction])
        raise QueryParamsError(f"an Order is {{\"asc\": name}} or {{\"desc\": name}}, not {data!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Order) and (other.direction, other.value) == (self.direction, self.value)

    def __hash__(self) -> int:
        return hash((self.direction, self.value))

    def __repr__(self) -> str:
        return f"Order.{self.direction}({self.value!r})"


@dataclasses.dataclass(init=False)
class Ordering:
    """``Ordering(by=[Order.asc("name"), Order.desc("age")])``; ``?order=asc(name),desc(age)``."""

    order: list[Order]

    def __init__(self, *orders: Order, by: Order | list[Order] | None = None,
                 order: list[Order] | None = None) -> None:
        chosen = by if by is not None else order      # order=: the field, as JSON decoding passes it
        if chosen is not None:
            orders = (chosen,) if isinstance(chosen, Order) else tuple(chosen)
        self.order = list(orders)

    @classmethod
    def from_string(cls, string: str, item_type: Any = None) -> "Ordering":
        orders = []
        for item in string.split(","):
            opening, closing = item.find("("), item.find(")")
            if opening < 0 or closing < opening:
                raise QueryParamsError(f"{item!r} is not asc(field) or desc(field)")
            direction = item[:opening]
            orders.append(Order(direction, item[opening + 1:closing]))
        return cls(*orders)

    def get_values(self) -> list[Order]:
        return self.order

    def get_string_value(self) -> str:
        return ",".join(o.description for o in self.order)


@dataclasses.dataclass
class Pagination:
    """``Pagination(start=10, size=10)``; ``?page=10,10`` (start, size)."""

    size: int
    start: int = 0

    def __init__(self, start: int = 0, size: int = 0) -> None:
        self.start, self.size = start, size

    @classmethod
    def from_string(cls, string: str, item_type: Any = None) -> "Pagination":
        start, size = _two(string)
        return cls(start=identifier_from_string(int, start), size=identifier_from_string(int, size))

    def get_values(self) -> tuple[int, int]:
        return self.start, self.size

    def get_string_value(self) -> str:
        return f"{self.start},{self.size}"
