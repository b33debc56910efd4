"""kitura.health: the Health package (Kitura's health checks) for Kitura for Python.

``health = Health()``; ``health.add_check(check=...)`` with a ``HealthCheck`` or a
function returning ``State``; ``health.status`` is the cached ``Status`` (re-evaluated
once it is older than ``status_expiration_time`` ms), whose JSON is Kitura's
``{"status": "UP", "details": [], "timestamp": "..."}``.
"""
from __future__ import annotations

import datetime as _dt
import enum
import threading
import time
from typing import Any, Callable, Union

__all__ = ["Health", "HealthCheck", "HealthCheckClosure", "HealthProtocol", "State", "Status", "InvalidDataError"]

_FORMAT = "%Y-%m-%dT%H:%M:%S%z"          # Swift: yyyy-MM-dd'T'HH:mm:ssZ in UTC


class State(enum.Enum):
    UP = "UP"
    DOWN = "DOWN"


class InvalidDataError(ValueError):
    """A status that cannot be read back (``Status.from_dict``)."""


def _now_stamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime(_FORMAT)


def _parse_stamp(stamp: str) -> _dt.datetime | None:
    try:
        return _dt.datetime.strptime(stamp, _FORMAT)
    except (TypeError, ValueError):
        return None


class Status:
    """One evaluation: ``state``, ``details`` (the descriptions of the checks that are
    DOWN) and ``timestamp``. Sent as JSON through ``to_dict()``."""

    __slots__ = ("state", "details", "timestamp")

    def __init__(self, state: State = State.UP, details: list[str] | None = None, timestamp: str | None = None) -> None:
        self.state = state
        self.details = list(details or [])
        self.timestamp = timestamp if timestamp is not None and _parse_stamp(timestamp) is not None else _now_stamp()

    def __repr__(self) -> str:
        return f"Status(state={self.state}, details={self.details!r}, timestamp={self.timestamp!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Status) and (self.state, self.details, self.timestamp) == \
            (other.state, other.details, other.timestamp)

    @property
    def ts_in_millis(self) -> int:
        parsed = _parse_stamp(self.timestamp)
        return int(parsed.timestamp() * 1000) if parsed is not None else 0

    def to_dictionary(self) -> dict[str, Any]:
        return {"status": self.state.value, "details": list(self.details), "timestamp": self.timestamp}

    to_dict = to_dictionary           # how kitura encodes a Status as JSON

    def to_simple_dictionary(self) -> dict[str, Any]:
        return {"status": self.state.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Status":
        """Read Kitura's JSON form back (an empty status is DOWN, an empty timestamp is now)."""
        try:
            state = State(data["status"] or "DOWN")
        except (KeyError, ValueError) as exc:
            raise InvalidDataError(f"'{data.get('status')}' is not a valid status value.") from exc
        details = data.get("details")
        if not isinstance(details, list):
            raise InvalidDataError("details must be a list of strings")
        timestamp = data.get("timestamp") or _now_stamp()
        if _parse_stamp(timestamp) is None:
            raise InvalidDataError(f"'{timestamp}' is not a valid timestamp value.")
        return cls(state, details, timestamp)


class HealthCheck:
    """Subclass: ``name``, ``description`` (reported when DOWN) and ``evaluate() -> State``."""

    name: str = ""
    description: str = ""

    def evaluate(self) -> State:
        raise NotImplementedError(f"{type(self).__name__} must implement evaluate() -> State")


HealthCheckClosure = Callable[[], State]


class HealthProtocol:
    """What Health offers (Swift's HealthProtocol)."""

    @property
    def status(self) -> Status:
        raise NotImplementedError

    def add_check(self, check: Union[HealthCheck, HealthCheckClosure]) -> None:
        raise NotImplementedError


class Health(HealthProtocol):
    """The app's health: checks added with ``add_check``, evaluated at most once per
    ``status_expiration_time`` milliseconds (30 s by default)."""

    def __init__(self, status_expiration_time: int = 30000) -> None:
        self.status_expiration_time = status_expiration_time
        self._checks: list[HealthCheck] = []
        self._closure_checks: list[HealthCheckClosure] = []
        self._last_status = Status(State.UP)
        self._evaluated_at: float | None = None
        self._lock = threading.Lock()

    @property
    def status(self) -> Status:
        with self._lock:
            now = time.monotonic()
            if self._evaluated_at is None or (now - self._evaluated_at) * 1000 > self.status_expiration_time:
                self._update()
            return self._last_status

    @property
    def number_of_checks(self) -> int:
        return len(self._checks) + len(self._closure_checks)

    def add_check(self, check: Union[HealthCheck, HealthCheckClosure]) -> None:
        if isinstance(check, HealthCheck):
            self._checks.append(check)
        elif callable(check):
            self._closure_checks.append(check)
        else:
            raise TypeError("add_check takes a HealthCheck or a function returning State.UP/State.DOWN")

    def force_update_status(self) -> None:
        with self._lock:
            self._update()

    def _update(self) -> None:
        details = [check.description for check in self._checks if _evaluate(check.evaluate) is State.DOWN]
        details += ["A health check closure reported status as DOWN." for check in self._closure_checks
                    if _evaluate(check) is State.DOWN]
        self._last_status = Status(State.DOWN if details else State.UP, details)
        self._evaluated_at = time.monotonic()


def _evaluate(check: Callable[[], State]) -> State:
    """A check that raises is DOWN (Swift checks cannot throw)."""
    try:
        return check()
    except Exception:  # noqa: BLE001 - a failing check reports DOWN
        return State.DOWN
