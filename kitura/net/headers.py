"""``HeadersContainer``: Kitura's case-insensitive multi-valued header map.

Kitura's rules for ``append``: ``Set-Cookie`` values are kept apart (one line each);
for the single-value headers in ``SINGLE_VALUE_HEADERS`` a second value is discarded
(logged); any other header is merged into its first value with ``", "``.
Assigning (``headers[name] = value``) replaces whatever was there.

Request headers are built lazily from the raw (name, value) pairs the parser saw, so a
handler that never looks at them costs nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable, Iterator, Union

from .http11 import NO_EXTENSIONS

__all__ = ["HeadersContainer", "SINGLE_VALUE_HEADERS", "HeadersCore", "PyHeadersCore", "HeadersMethods"]

_log = logging.getLogger("kitura.net")


SINGLE_VALUE_HEADERS = frozenset(
    {
        "content-type", "content-length", "user-agent", "referer", "host", "authorization",
        "proxy-authorization", "if-modified-since", "if-unmodified-since", "from", "location",
        "max-forwards", "retry-after", "etag", "last-modified", "server", "age", "expires",
    }
)

HeaderValue = Union[str, list[str], tuple[str, ...]]


#: Header names already checked by ``__setitem__``, with their lower-cased key.
_checked_keys: dict[str, str] = {}


#: RFC 9110 5.1/5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _check(text: str, what: str) -> str:
    if "\r" in text or "\n" in text or "\0" in text:
        raise ValueError(f"HTTP header {what} must not contain CR, LF or NUL: {text!r}")
    return text


def _check_name(name: str) -> str:
    if _TOKEN.fullmatch(name) is None:
        raise ValueError(f"an HTTP header name must be a token (letters, digits, !#$%&'*+-.^_`|~): {name!r}")
    return name


def _as_list(value: HeaderValue) -> list[str]:
    if isinstance(value, str):
        return [_check(value, "value")]
    values = [_check(str(v), "value") for v in value]
    if not values:
        raise ValueError("a header needs at least one value; use `del headers[name]` to remove it")
    return values


class PyHeadersCore:
    """The storage and hot methods of a ``HeadersContainer``, in Python: the reference for
    ``_speedups.HeadersCore`` (kitura/net/_headers.c), used without the extension or
    with ``KITURA_NO_EXTENSIONS=1``. Not Kitura API: use ``HeadersContainer``."""

    __slots__ = ("_entries", "_raw")

    def __init__(self, initial: Iterable[tuple[str, HeaderValue]] | None = None) -> None:
        # lower-cased name -> [name as first given, list of values]
        self._entries: dict[str, list] = {}
        self._raw: list[tuple[bytes, bytes]] | None = None
        if initial is not None:
            for name, value in initial:
                self.append(name, value)

    @classmethod
    def from_raw(cls, raw: list[tuple[bytes, bytes]]) -> "PyHeadersCore":
        """A container over parser output, materialized on first use (not Kitura API:
        ``ServerRequest.headers`` builds its container with it)."""
        headers = cls.__new__(cls)
        headers._entries = {}
        headers._raw = raw
        return headers

    def entry_map(self) -> dict[str, list]:
        """The container's own map, lower-cased name -> [name as first given, values],
        decoded from the raw headers first if need be (not Kitura API: ``ServerResponse``
        encodes the head from it; what you change in it changes the headers)."""
        raw = self._raw
        if raw is not None:
            self._raw = None
            for name, value in raw:
                self._append_one(name.decode("latin-1"), [value.decode("latin-1")])
        return self._entries

    # --- Kitura API -------------------------------------------------------
    def __getitem__(self, name: str) -> list[str] | None:
        entry = self.entry_map().get(name.lower())
        return None if entry is None else list(entry[1])

    def __setitem__(self, name: str, value: HeaderValue | None) -> None:
        entries = self._entries if self._raw is None else self.entry_map()
        if value is None:
            entries.pop(name.lower(), None)
            return
        key = _checked_keys.get(name)
        if key is None:
            key = _check_name(name).lower()
            if len(_checked_keys) < 512:
                _checked_keys[name] = key
        if type(value) is str and "\r" not in value and "\n" not in value and "\0" not in value:
            entries[key] = [name, [value]]
        else:
            entries[key] = [name, _as_list(value)]

    def __delitem__(self, name: str) -> None:
        self.entry_map().pop(name.lower(), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.entry_map()

    def __len__(self) -> int:
        return len(self.entry_map())


HeadersCore: type = PyHeadersCore
if not NO_EXTENSIONS:
    try:
        from ._speedups import HeadersCore, configure_headers  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass
    else:
        configure_headers(_check_name, _as_list)


class HeadersMethods:
    """What a ``HeadersContainer`` adds to its core (C or Python), in Python on either:
    it reads and changes the map through the core's ``_entries`` and ``_raw``. Not Kitura
    API: use ``HeadersContainer``."""

    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[str, list[str]]]:
        for name, values in list(self.entry_map().values()):
            yield name, list(values)

    def __repr__(self) -> str:
        return f"HeadersContainer({dict(self)!r})"

    def __reduce__(self) -> tuple:
        """copy, deepcopy and pickle (either core): a container of the same lines, its own lists."""
        return (type(self), (list(self),))

    def append(self, name: str, value: HeaderValue) -> None:
        """Add values to a header, following Kitura's merge rules (see the module docstring)."""
        self.entry_map()
        self._append_one(_check_name(name), _as_list(value))

    def _append_one(self, name: str, values: list[str]) -> None:
        key = name.lower()
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = [name, values]
        elif key == "set-cookie":
            entry[1].extend(values)
        elif key in SINGLE_VALUE_HEADERS:
            _log.warning("Duplicate header %s discarded", name)
        elif key == "cookie":
            entry[1][0] = "; ".join([entry[1][0], *values])  # RFC 6265 5.4: cookie-pairs join with "; "
        else:
            entry[1][0] = ", ".join([entry[1][0], *values])

    def remove_all(self) -> None:
        self._raw = None
        self._entries.clear()

    # --- Python conveniences ---------------------------------------------
    def first(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header, or ``default``."""
        entry = self.entry_map().get(name.lower())
        return default if entry is None else entry[1][0]

    get = first

    def items(self) -> list[tuple[str, list[str]]]:
        return list(self)

    def _lines(self) -> Iterator[tuple[str, str]]:
        """(name, value) for every line to put on the wire."""
        for name, values in self.entry_map().values():
            for value in values:
                yield name, value


class HeadersContainer(HeadersMethods, HeadersCore):  # type: ignore[valid-type,misc]
    """Case-insensitive header map; ``headers[name]`` is the list of values or None.

    Its storage and hot methods (made, ``headers[name] = value``, lookups) are
    ``HeadersCore``'s: in C when the extension is built (``_speedups.HeadersCore``),
    else ``PyHeadersCore``."""

    __slots__ = ()
