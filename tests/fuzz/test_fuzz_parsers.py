"""The parsers the Router runs on client bytes, fuzzed: multipart and the other body
parsers, the query string, cookies, the request URL, Range.

Property: each returns its documented result (a value, or None for "does not parse")
and raises nothing else; results stay within the input's size."""

from __future__ import annotations

from urllib.parse import SplitResult

from hypothesis import assume, given
from hypothesis import strategies as st

from kitura.net.request import ServerRequest
from kitura.net.request_checks import valid_host, valid_target
from kitura.router.body_parser import BodyParser, BodyParserMultiValue, ParsedBody
from kitura.router.cookies import Cookie, parse_cookies
from kitura.router.request import RouterRequest, parse_query, parse_query_multi
from kitura.router.static_files import parse_range_header

from .conftest import FUZZ

CONTENT_TYPES = st.sampled_from([
    "multipart/form-data; boundary=XyZ", "multipart/form-data; boundary=\"XyZ\"", "multipart/form-data",
    "multipart/form-data; boundary=", "application/json", "application/x-www-form-urlencoded",
    "text/plain; charset=utf-8", "application/octet-stream", "application/vnd.api+json", "",
])

PART_PIECES = st.sampled_from([
    b"--XyZ", b"--XyZ--", b"\r\n", b"\r\n\r\n", b"Content-Disposition: form-data; name=\"a\"",
    b"Content-Disposition: form-data; name=b; filename=\"f.txt\"", b"Content-Type: application/json",
    b"Content-Type: multipart/form-data; boundary=XyZ", b"{\"k\": [1, 2]}", b"a=1&b=2", b"\xff\xfe", b"value",
    b"filename=", b"name=\"", b"--", b"Content-Type: text/plain",
])


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.lists(PART_PIECES, max_size=20).map(b"".join)), CONTENT_TYPES)
def test_body_parsers_fuzzed(data, content_type):
    for parser in (BodyParser, BodyParserMultiValue):
        parsed = parser.parse_data(data, content_type)
        assert parsed is None or isinstance(parsed, ParsedBody)


QUERY = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["a", "=", "&", "%", "%2", "%zz", "%41", "+", "%C3%A9", "%ff", "b=", "=c", ";"]),
             max_size=20).map("".join),
)


@FUZZ
@given(QUERY)
def test_query_parsers_fuzzed(query):
    multi = parse_query_multi(query)
    single = parse_query(query)
    assert set(multi) == set(single)
    assert all(isinstance(k, str) and all(isinstance(v, str) for v in vs) for k, vs in multi.items())
    assert sum(len(vs) for vs in multi.values()) <= query.count("=")


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=40),
                          st.lists(st.sampled_from(["a", "=", ";", ",", " ", '"', "\t", "b=c", "x"]),
                                   max_size=12).map("".join)), max_size=3))
def test_cookie_parser_fuzzed(values):
    cookies = parse_cookies(values)
    for name, cookie in cookies.items():
        assert isinstance(cookie, Cookie) and cookie.name == name and name


TARGETS = st.one_of(
    st.binary(max_size=60),
    st.lists(st.sampled_from([b"/", b"a", b"?", b"#", b"%", b"%zz", b"http://", b"[", b"]", b":", b"@", b"*",
                              b"..", b"\xff", b"//", b"q=1"]), max_size=10).map(b"".join),
)


@FUZZ
@given(TARGETS, st.one_of(st.none(), st.sampled_from(["h", "h:80", "[", "[::1]", "h:x", "a b", "h:99999"])))
def test_request_url_fuzzed(target, host):
    # What the connection lets through (a 400 otherwise) must never fail later.
    assume(valid_target(target) and (host is None or valid_host(host.encode())))
    headers = [] if host is None else [(b"Host", host.encode())]
    server_request = ServerRequest("GET", target, headers, b"", "127.0.0.1", (1, 1), "http", 80)
    request = RouterRequest(server_request)
    assert isinstance(request.url, str)
    assert isinstance(request.query_parameters, dict)
    assert isinstance(request.url_url, SplitResult)


@FUZZ
@given(st.one_of(st.text(max_size=40),
                 st.lists(st.sampled_from(["bytes=", "0", "-", "5", ",", " ", "99999999999999999999", "x",
                                           "units="]), max_size=10).map("".join)),
       st.integers(0, 10_000))
def test_range_header_fuzzed(value, size):
    ranges = parse_range_header(value, size)
    if ranges is not None:
        for start, end in ranges:
            assert 0 <= start <= end < size
