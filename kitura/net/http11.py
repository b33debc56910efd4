"""HTTP/1.1 wire format for responses, free of I/O: status lines, heads, chunks, Date.

Status lines for every code are built once at import; a response head is one
``join``; the ``Date`` value is formatted at most once a second.
"""

from __future__ import annotations

import os
import time
from email.utils import formatdate
from typing import Callable, Iterable

from .status import STATUS_PHRASES

__all__ = [
    "status_line", "build_head", "encode_chunk", "LAST_CHUNK", "http_date", "simple_response",
    "CONTINUE_100", "NO_BODY_STATUSES", "date_line", "header_lines", "STATUS_LINES",
    "join_head", "py_join_head", "c_join_head", "encode_head", "py_encode_head", "c_encode_head",
]

STATUS_LINES: dict[int, bytes] = {
    code: b"HTTP/1.1 %d %s\r\n" % (code, phrase.encode("ascii")) for code, phrase in STATUS_PHRASES.items()
}

#: RFC 9110 6.4.1: 1xx, 204 and 304 answers carry no body.
NO_BODY_STATUSES = frozenset({100, 101, 102, 204, 304})

CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


def status_line(code: int) -> bytes:
    line = STATUS_LINES.get(code)
    if line is None:
        if not 100 <= code <= 999:
            raise ValueError(f"HTTP status code must be in 100..999, got {code}")
        line = b"HTTP/1.1 %d \r\n" % code
    return line


_date_second = 0
_date_value = b""
_date_line = b""


def http_date() -> bytes:
    """The current ``Date`` header value (RFC 9110 5.6.7), cached for the second."""
    global _date_second, _date_value, _date_line
    now = int(time.time())
    if now != _date_second:
        _date_value = formatdate(now, usegmt=True).encode("ascii")
        _date_line = b"Date: " + _date_value + b"\r\n"
        _date_second = now
    return _date_value


def date_line() -> bytes:
    """``Date: <now>\\r\\n``, cached for the second."""
    if int(time.time()) != _date_second:
        http_date()
    return _date_line


def header_lines(entries: Iterable[tuple[str, list[str]]] | Iterable[list]) -> bytes:
    """A ``name: value`` line per value (latin-1; UTF-8 if a value needs it)."""
    text = "".join([f"{name}: {value}\r\n" for name, values in entries for value in values])
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def py_join_head(line: bytes, entries: dict[str, list], tail: list[bytes]) -> bytes:
    """The status line, a line per header value (``HeadersContainer`` entries), the
    pre-encoded ``tail`` lines and the blank line; pure Python."""
    return b"".join([line, header_lines(entries.values()), *tail, b"\r\n"])


#: ``KITURA_NO_EXTENSIONS=1`` in the environment: use the pure-Python twins even where
#: the C extension was built (as aiohttp's AIOHTTP_NO_EXTENSIONS; CI runs the suite so).
NO_EXTENSIONS = bool(os.environ.get("KITURA_NO_EXTENSIONS"))

c_join_head: Callable[[bytes, dict, list], bytes | None] | None = None
if not NO_EXTENSIONS:
    try:
        from ._speedups import join_head as c_join_head  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass


def join_head(line: bytes, entries: dict[str, list], tail: list[bytes]) -> bytes:
    """``py_join_head``, by the C extension when built (it declines text beyond latin-1)."""
    if c_join_head is not None:
        head = c_join_head(line, entries, tail)
        if head is not None:
            return head
    return py_join_head(line, entries, tail)


def py_encode_head(status: int, entries: dict[str, list], content_length: int | None, keep_alive: bool,
                   no_body: bool, major: int, minor: int) -> tuple[bytes, bool, bool, bool]:
    """A ``ServerResponse`` head: (head, keep_alive, no_body, chunked) after it.

    ``entries`` are the response's ``HeadersContainer`` entries; ``content_length``
    None means the body is streamed: chunked on HTTP/1.1, ended by closing the
    connection on HTTP/1.0. Adds ``Date`` and the framing and ``Connection`` lines
    the application did not set; an application's ``Transfer-Encoding`` is dropped,
    as the framing is the server's (RFC 9112 6.1)."""
    if "transfer-encoding" in entries:
        entries = {name: entry for name, entry in entries.items() if name != "transfer-encoding"}
    tail = [date_line()] if "date" not in entries else []
    chunked = False
    if status in NO_BODY_STATUSES or 100 <= status < 200:
        no_body = True
    elif content_length is not None:
        if "content-length" not in entries:
            tail.append(b"Content-Length: %d\r\n" % content_length)
    elif "content-length" not in entries:
        if minor >= 1 and major == 1:
            chunked = True
            if not no_body:
                tail.append(b"Transfer-Encoding: chunked\r\n")
        else:
            keep_alive = False  # HTTP/1.0: the body ends when the connection closes
    connection_entry = entries.get("connection")
    if connection_entry is None:
        if not keep_alive:
            tail.append(b"Connection: close\r\n")
        elif minor == 0:
            tail.append(b"Connection: keep-alive\r\n")
    elif "close" in connection_entry[1][0].lower():
        keep_alive = False
    return join_head(STATUS_LINES.get(status) or status_line(status), entries, tail), keep_alive, no_body, chunked


c_encode_head: Callable[..., tuple[bytes, bool, bool, bool] | None] | None = None
if not NO_EXTENSIONS:
    try:
        from ._speedups import encode_head as c_encode_head  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass


def encode_head(status: int, entries: dict[str, list], content_length: int | None, keep_alive: bool,
                no_body: bool, major: int, minor: int) -> tuple[bytes, bool, bool, bool]:
    """``py_encode_head``, by the C extension when built (it declines the rare cases)."""
    if c_encode_head is not None:
        encoded = c_encode_head(STATUS_LINES, status, entries, content_length, keep_alive, no_body, major, minor)
        if encoded is not None:
            return encoded
    return py_encode_head(status, entries, content_length, keep_alive, no_body, major, minor)


def build_head(code: int, entries: Iterable[tuple[str, list[str]]] | Iterable[list], extra: bytes = b"") -> bytes:
    """Status line, a line per value of each ``(name, values)``, then ``extra`` (pre-encoded
    lines) and the blank line."""
    return b"".join([status_line(code), header_lines(entries), extra, b"\r\n"])


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 7.1); empty data gives nothing (not the last chunk)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def simple_response(code: int, body: bytes = b"", close: bool = True,
                    headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """A complete response for the HTTP layer's own answers (errors, limits)."""
    extra = b"Date: %s\r\nContent-Length: %d\r\n" % (http_date(), len(body))
    if close:
        extra += b"Connection: close\r\n"
    return build_head(code, [(name, [value]) for name, value in headers], extra) + body
