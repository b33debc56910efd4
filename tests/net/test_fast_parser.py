"""The C parser of plain requests (``_speedups.parse_request``) against httptools.

httptools is the reference: with the fast path, a connection must queue, answer and
refuse exactly what it does with httptools alone, whatever the bytes and however
they are split across reads. Each case is run twice, once with the module's
``parse_request`` and once with it set to None, and the two runs compared: the
requests the handler saw (every field) and every byte written back.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitura.net import ServerOptions
from kitura.net import connection as connection_module
from kitura.net.connection import HTTPConnection
from kitura.net.serving import ServingState

from ..fuzz.conftest import FUZZ
from .test_connection_unit import FakeLoop, FakeTransport

pytestmark = pytest.mark.skipif(connection_module.parse_request is None,
                                reason="the C extension is not built (or KITURA_NO_EXTENSIONS=1)")


def _run(chunks: list[bytes], fast: bool, monkeypatch: Any, **options: Any) -> tuple[list[tuple], bytes, bool]:
    seen: list[tuple] = []

    def handler(request: Any, response: Any) -> None:
        body = bytearray()
        request.read_all_data(into=body)
        seen.append((request.method, request.url, list(request.headers), bytes(body), type(body).__name__,
                     request.http_version_major, request.http_version_minor, request.keep_alive,
                     request.wants_upgrade, request.remote_address, request.url_url))
        response.headers["Content-Type"] = "text/plain"
        response.end(f"{request.method} {len(body)}")

    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(connection_module, "parse_request", None)
        loop = FakeLoop()
        serving = ServingState(options=ServerOptions(**options), loop=loop,  # type: ignore[arg-type]
                               loop_thread=threading.get_ident(), dispatch=handler,
                               client_connection_failed=lambda exc: None)
        conn = HTTPConnection(serving)
        transport = FakeTransport()
        conn.connection_made(transport)  # type: ignore[arg-type]
        for chunk in chunks:
            if transport.closed:
                break
            conn.data_received(chunk)
            loop.run_once()
    written = b"".join(transport.written)
    # The Date line is the only part that may differ between two runs.
    lines = [line for line in written.split(b"\r\n") if not line.startswith(b"Date: ")]
    return seen, b"\r\n".join(lines), transport.closed


def _same(chunks: list[bytes], monkeypatch: Any, **options: Any) -> tuple[list[tuple], bytes, bool]:
    fast = _run(chunks, True, monkeypatch, **options)
    reference = _run(chunks, False, monkeypatch, **options)
    assert fast == reference
    return fast


def _counting(monkeypatch: Any) -> list[int]:
    """Count the requests the C parser took (so a case cannot pass by declining all)."""
    taken = [0]
    real = connection_module.parse_request

    def counted(*args: Any) -> Any:
        parsed = real(*args)
        if parsed is not None:
            taken[0] += 1
        return parsed
    monkeypatch.setattr(connection_module, "parse_request", counted)
    return taken


PLAIN = [
    b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"GET /a/b?c=d&e=%20f HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
    b"HEAD /x HTTP/1.1\r\nHost: h\r\nX-Trailing:  spaced \t \r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    b"PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
    b"DELETE /d HTTP/1.1\r\nhost: h\r\nConnection: close\r\n\r\n",
    b"OPTIONS /o HTTP/1.1\r\nHOST: h\r\nConnection: Keep-Alive\r\n\r\n",
    b"PATCH /p HTTP/1.0\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nab",
    b"GET /old HTTP/1.0\r\n\r\n",
    b"HEAD /x HTTP/1.0\r\nHost: h\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",  # as llhttp: kept
    b"HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: \r\nX-Empty:\r\n\r\n",
]


@pytest.mark.parametrize("raw", PLAIN)
def test_plain_requests_are_taken_by_the_c_parser_and_answered_as_with_httptools(raw, monkeypatch):
    taken = _counting(monkeypatch)
    seen, written, _ = _same([raw], monkeypatch)
    assert len(seen) == 1 and written.startswith(b"HTTP/1.1 200 OK")
    assert taken[0] == 1


def test_pipelined_requests_in_one_read_are_all_taken(monkeypatch):
    taken = _counting(monkeypatch)
    seen, written, closed = _same([PLAIN[0] + PLAIN[1] + PLAIN[3] + PLAIN[5]], monkeypatch)
    assert [s[0] for s in seen] == ["GET", "GET", "POST", "DELETE"] and closed
    assert written.count(b"HTTP/1.1 200 OK") == 4 and taken[0] == 4


DECLINED = [
    b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",            # absolute-form
    b"GET / HTTP/1.1\r\n\r\n",                                                  # no Host (400)
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                            # two Hosts (400)
    b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",                                # IP literal
    b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",                                     # bad Host (400)
    b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
    b"POST / HTTP/1.1\r\nHost: h\r\nExpect: nothing\r\n\r\n",                   # 417
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: nope\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close, te\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nProxy-Connection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx",
    b"GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n",                 # obs-fold
    b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n",                     # obs-text
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n",                          # a control byte
    b"GET / HTTP/1.1\nHost: h\n\n",                                             # bare LF
    b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",                                   # leading CRLF
    b"get / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
    b"GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /a\"b HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
]


@pytest.mark.parametrize("raw", DECLINED)
def test_what_the_c_parser_declines_is_answered_as_httptools_answers_it(raw, monkeypatch):
    _same([raw], monkeypatch)


def test_data_after_connection_close_is_refused_as_llhttp_refuses_it(monkeypatch):
    close = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    for after in (b"", b"\r\n", b"\r\n\r\n", PLAIN[0], b"x"):
        seen, _, closed = _same([close + after], monkeypatch)
        assert len(seen) == 1 and closed


@pytest.mark.parametrize("options", [
    {"max_request_line": 16}, {"max_header_size": 40}, {"max_header_count": 2}, {"request_size_limit": 3}, {},
])
def test_the_limits_are_those_of_httptools_path(options, monkeypatch):
    raw = (b"POST /a/long/enough/path HTTP/1.1\r\nHost: example.com\r\nX-One: 1\r\nX-Two: 2\r\n"
           b"Content-Length: 5\r\n\r\nhello")
    _same([raw, raw], monkeypatch, **options)
    _same([raw + raw], monkeypatch, **options)


def test_every_split_of_a_pipelined_stream_gives_the_same_answers(monkeypatch):
    stream = PLAIN[1] + PLAIN[3] + DECLINED[5] + PLAIN[2] + PLAIN[7]
    expected = _same([stream], monkeypatch)
    for cut in range(1, len(stream), 7):
        assert _same([stream[:cut], stream[cut:]], monkeypatch) == expected


# --- generated streams -------------------------------------------------------

_methods = st.sampled_from([b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"get", b"TRACE"])
_targets = st.sampled_from([b"/", b"/a?b=c", b"/%41", b"*", b"http://h/x", b"/a b", b"/\x7f", b"/a#f", b""])
_versions = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2", b"http/1.1"])
_names = st.sampled_from([b"Host", b"host", b"Content-Length", b"Connection", b"Expect", b"Upgrade",
                          b"Transfer-Encoding", b"X-A", b"Accept", b"Proxy-Connection", b"Bad Name", b""])
_values = st.one_of(
    st.sampled_from([b"h", b"h:80", b"[::1]", b"0", b"3", b"12", b"-1", b"close", b"keep-alive", b"upgrade",
                     b"chunked", b"100-continue", b"  x  ", b"a,b", b""]),
    st.binary(max_size=8),
)
_header = st.tuples(_names, _values).map(lambda nv: nv[0] + b": " + nv[1] + b"\r\n")


_plain_header = st.sampled_from([b"Host: h\r\n", b"Accept: */*\r\n", b"Connection: close\r\n",
                                 b"Connection: keep-alive\r\n", b"Content-Length: 3\r\n", b"X-A:  b \r\n"])


@st.composite
def _request(draw: Any) -> bytes:
    """Mostly plain requests (so the C parser takes many), some with an odd part."""
    odd = draw(st.integers(0, 9)) < 3
    if odd:
        line = draw(_methods) + b" " + draw(_targets) + b" " + draw(_versions) + b"\r\n"
        headers = b"".join(draw(st.lists(_header, max_size=4)))
    else:
        line = draw(st.sampled_from([b"GET / HTTP/1.1\r\n", b"POST /a?b HTTP/1.1\r\n", b"HEAD /x HTTP/1.0\r\n",
                                     b"PUT /p HTTP/1.0\r\n"]))
        headers = b"".join(draw(st.lists(_plain_header, max_size=4)))
    if draw(st.integers(0, 9)) < 8:
        headers = b"Host: h\r\n" + headers
    return line + headers + b"\r\n" + draw(st.sampled_from([b"", b"abc", b"0\r\n\r\n"]))


@settings(FUZZ, max_examples=600)  # cheap (a few ms each), and the grammar is wide
@given(st.lists(_request(), min_size=1, max_size=4), st.lists(st.integers(0, 400), max_size=3))
def test_generated_streams_split_anywhere_are_answered_as_httptools_answers_them(requests, cuts):
    monkeypatch = pytest.MonkeyPatch()
    try:
        stream = b"".join(requests)
        points = sorted({c % (len(stream) + 1) for c in cuts})
        chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)]) if stream[a:b]]
        _same(chunks, monkeypatch, max_header_count=4, request_size_limit=10)
    finally:
        monkeypatch.undo()
