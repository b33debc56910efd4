"""Response heads: the C join (kitura/net/_speedups.c) and its pure-Python twin agree,
and ServerResponse builds the same heads on either path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.net import ServerRequest, ServerResponse
from kitura.net import http11
from kitura.net.headers import HeadersContainer
from kitura.net.http11 import c_join_head, join_head, py_join_head

needs_c = pytest.mark.skipif(c_join_head is None, reason="kitura.net._speedups not built")

TOKEN = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                min_size=1, max_size=12)  # RFC 9110 5.6.2 tchar
VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x7f"),
                max_size=20)


def entries_of(pairs):
    headers = HeadersContainer()
    for name, value in pairs:
        headers.append(name, value)
    return headers.entry_map()


@needs_c
@given(st.lists(st.tuples(TOKEN, VALUE), max_size=8),
       st.lists(st.binary(max_size=10).map(lambda b: b + b"\r\n"), max_size=3))
def test_c_and_python_join_agree_or_c_declines_beyond_latin1(pairs, tail):
    entries = entries_of(pairs)
    line = b"HTTP/1.1 200 OK\r\n"
    expected = py_join_head(line, entries, tail)
    got = c_join_head(line, entries, tail)
    latin1 = all(ch <= "\xff" for name, values in entries.values() for v in [name, *values] for ch in v)
    if latin1:
        assert got == expected
    else:
        assert got is None  # the caller takes the Python path: the whole head as UTF-8
    assert join_head(line, entries, tail) == expected


@needs_c
def test_c_join_declines_odd_shapes_and_rejects_wrong_arguments():
    line = b"HTTP/1.1 200 OK\r\n"
    assert c_join_head(line, {"x": ("X", ["1"])}, []) is None      # an entry that is not a list
    assert c_join_head(line, {"x": ["X", [1]]}, []) is None         # a value that is not a str
    assert c_join_head(line, {}, []) == line + b"\r\n"
    with pytest.raises(TypeError):
        c_join_head(line, {}, [u"not bytes"])
    with pytest.raises(TypeError):
        c_join_head(line, {})


def _head_of(status, pairs, body, version=(1, 1)):
    request = ServerRequest("GET", b"/", [], http_version=version)
    response = ServerResponse(None, request)
    response.status_code = status
    for name, value in pairs:
        response.headers.append(name, value)
    return response._head(len(body))


@pytest.mark.parametrize("use_c", [pytest.param(True, marks=needs_c), False])
@pytest.mark.parametrize("pairs", [[], [("Content-Type", "text/plain")],
                                   [("X-Name", "café"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
                                   [("X-Snow", "☃")], [("Connection", "close")]])
def test_server_response_heads_are_the_same_on_both_paths(monkeypatch, use_c, pairs):
    if not use_c:
        monkeypatch.setattr(http11, "c_join_head", None)
    head = _head_of(200, pairs, b"hello")
    date = http11.http_date()
    lines = [b"HTTP/1.1 200 OK"]
    for name, value in pairs:
        encoded = f"{name}: {value}".encode("latin-1" if all(ch <= "\xff" for _, v in pairs for ch in v) else "utf-8")
        lines.append(encoded)
    lines.append(b"Date: " + date)
    lines.append(b"Content-Length: 5")
    assert head == b"\r\n".join(lines) + b"\r\n\r\n"


# --- encode_head: the whole ServerResponse head, C and Python -----------------

needs_c_encode = pytest.mark.skipif(http11.c_encode_head is None, reason="kitura.net._speedups not built")

NAMES = st.sampled_from(["Content-Type", "Date", "Content-Length", "Connection", "Transfer-Encoding", "X-A",
                         "Set-Cookie", "Server"])
STATUSES = st.sampled_from([100, 101, 200, 201, 204, 301, 304, 404, 500, 599, 799])


def _without_date(head: bytes) -> bytes:
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(b"Date: "))


@needs_c_encode
@given(STATUSES, st.lists(st.tuples(NAMES, VALUE), max_size=5), st.one_of(st.none(), st.integers(0, 10**12)),
       st.booleans(), st.booleans(), st.sampled_from([(1, 1), (1, 0), (0, 9), (2, 0)]))
def test_c_and_python_heads_agree_or_c_declines(status, pairs, content_length, keep_alive, no_body, version):
    entries = entries_of(pairs)
    expected = http11.py_encode_head(status, entries, content_length, keep_alive, no_body, *version)
    got = http11.c_encode_head(http11.STATUS_LINES, status, entries, content_length, keep_alive, no_body, *version)
    declines = ("transfer-encoding" in entries or "connection" in entries or status not in http11.STATUS_LINES
                or any(ch > "\xff" for name, values in entries.values() for v in [name, *values] for ch in v))
    if declines:
        assert got is None
    else:
        assert got is not None
        assert (_without_date(got[0]),) + got[1:] == (_without_date(expected[0]),) + expected[1:]
        assert got[0].count(b"\r\nDate: ") == expected[0].count(b"\r\nDate: ")
        if "date" not in entries:
            assert got[0].count(b"\r\nDate: ") == 1  # the server's, added
    assert http11.encode_head(status, entries, content_length, keep_alive, no_body, *version)[1:] == expected[1:]


@needs_c_encode
def test_c_date_line_is_the_http_date_of_now():
    import email.utils
    import time
    head, *_ = http11.c_encode_head(http11.STATUS_LINES, 200, {}, 0, True, False, 1, 1)
    date = [line for line in head.split(b"\r\n") if line.startswith(b"Date: ")][0][6:].decode()
    assert abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time()) < 5
    assert date == email.utils.formatdate(email.utils.parsedate_to_datetime(date).timestamp(), usegmt=True)
    with pytest.raises(TypeError):
        http11.c_encode_head(http11.STATUS_LINES, 200, {})
