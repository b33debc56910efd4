"""HeadersContainer, HTTPStatusCode, HTTP facade, http11 serialization, KeepAliveState."""

from __future__ import annotations

import pytest

from kitura.net import HTTP, HeadersContainer, HTTPStatusCode, HTTPStatusCodeClass, KeepAliveState, ServerOptions
from kitura.net.http11 import build_head, encode_chunk, simple_response, status_line


def test_headers_are_case_insensitive_and_follow_kitura_merge_rules():
    h = HeadersContainer()
    h.append("Accept", "text/html")
    h.append("accept", "application/json")
    h.append("Set-Cookie", "a=1")
    h.append("set-cookie", ["b=2", "c=3"])
    h.append("Content-Type", "text/plain")
    h.append("content-type", "text/html")  # single-value: the second is discarded
    assert h["ACCEPT"] == ["text/html, application/json"]
    assert h["Set-Cookie"] == ["a=1", "b=2", "c=3"]
    assert h["Content-Type"] == ["text/plain"]
    assert h["missing"] is None
    assert "content-TYPE" in h and len(h) == 3


def test_cookie_headers_merge_with_semicolons():
    h = HeadersContainer.from_raw([(b"Cookie", b"a=1"), (b"cookie", b"b=2")])
    assert h["Cookie"] == ["a=1; b=2"]


def test_headers_assignment_replaces_and_deletion_removes():
    h = HeadersContainer()
    h["X-A"] = "1"
    h["x-a"] = ["2", "3"]
    assert h["X-A"] == ["2", "3"]
    assert dict(h) == {"X-A": ["2", "3"]} or dict(h) == {"x-a": ["2", "3"]}
    del h["X-a"]
    assert h["X-A"] is None
    h["X-B"] = "v"
    h["X-B"] = None
    assert "X-B" not in h
    assert h.first("nope", "default") == "default"


def test_headers_reject_injection():
    h = HeadersContainer()
    with pytest.raises(ValueError):
        h["X"] = "a\r\nSet-Cookie: evil=1"
    with pytest.raises(ValueError):
        h.append("X\nY", "v")


def test_lazy_request_headers_materialize_from_raw():
    h = HeadersContainer.from_raw([(b"Host", b"h"), (b"X-M", b"a"), (b"x-m", b"b")])
    assert h["host"] == ["h"] and h["X-M"] == ["a, b"]


def test_status_codes():
    assert HTTPStatusCode.OK == 200 and HTTPStatusCode(404) is HTTPStatusCode.NOT_FOUND
    assert HTTPStatusCode(299) is HTTPStatusCode.UNKNOWN and HTTPStatusCode.UNKNOWN.value == -1
    assert HTTPStatusCode.NOT_FOUND.status_class is HTTPStatusCodeClass.CLIENT_ERROR
    assert HTTPStatusCode.CONTINUE.status_class is HTTPStatusCodeClass.INFORMATIONAL
    assert HTTPStatusCode.UNKNOWN.status_class is HTTPStatusCodeClass.INVALID_STATUS
    assert HTTP.status_codes[413] == "Request Entity Too Large"
    assert HTTPStatusCode.REQUEST_TOO_LONG == 413 and HTTPStatusCode.REQUEST_HEADER_FIELDS_TOO_LARGE == 431


def test_escape_matches_kitura():
    assert HTTP.escape(url="a b/c?d=#e") == "a%20b%2Fc%3Fd=%23e"
    assert HTTP.escape("plain-text_1.2~") == "plain-text_1.2~"


def test_http11_serialization():
    assert status_line(200) == b"HTTP/1.1 200 OK\r\n"
    assert status_line(299) == b"HTTP/1.1 299 \r\n"
    with pytest.raises(ValueError):
        status_line(42)
    assert build_head(404, [("X", ["y"])], b"Content-Length: 0\r\n") == (
        b"HTTP/1.1 404 Not Found\r\nX: y\r\nContent-Length: 0\r\n\r\n")
    assert encode_chunk(b"hello") == b"5\r\nhello\r\n" and encode_chunk(b"") == b""
    resp = simple_response(400)
    assert resp.startswith(b"HTTP/1.1 400 Bad Request\r\nDate: ") and resp.endswith(
        b"Content-Length: 0\r\nConnection: close\r\n\r\n")


def test_keep_alive_state_and_options_defaults():
    assert KeepAliveState.UNLIMITED.keep_alive() and not KeepAliveState.DISABLED.keep_alive()
    assert KeepAliveState.limited(max_requests=3).max_requests == 3
    assert KeepAliveState.limited(max_requests=3) == KeepAliveState.limited(max_requests=3)
    options = ServerOptions()
    assert options.request_size_limit == 100 * 1024 * 1024 and options.connection_limit == 10_000
    assert options.request_size_response_generator(10, "c") == (HTTPStatusCode.REQUEST_TOO_LONG, "")
    assert options.connection_response_generator(10, "c") == (HTTPStatusCode.SERVICE_UNAVAILABLE, "")
    assert options.keep_alive_timeout == 60 and options.header_timeout == 10
