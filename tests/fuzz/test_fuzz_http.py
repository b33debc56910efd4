"""HTTP/1.1 head and body framing, fuzzed through a real HTTPConnection on a fake transport.

Property: whatever bytes arrive, in whatever pieces, no exception escapes
``data_received``; every answer is 200 (the echo) or one of the documented error
statuses, an error is the last answer and closes the connection; what is buffered
stays within the limits; and once the deadlines pass the connection is closed (no hang).
"""

from __future__ import annotations

import asyncio
import threading

import httptools
from hypothesis import given
from hypothesis import strategies as st

from kitura.net import ServerDelegate, ServerOptions
from kitura.net.connection import MAX_UPGRADE_EARLY_DATA, HTTPConnection
from kitura.net.serving import ServingState, make_dispatch

from .conftest import FUZZ

#: What bad input may be answered with (docs/net.md, "Limits and timeouts").
ERROR_STATUSES = {400, 408, 413, 414, 417, 431, 505}
LIMIT = 2000


class Echo(ServerDelegate):
    """Reads the body, answers with none: so that the answers to HEAD parse like the others."""

    async def handle(self, request, response):
        body = bytearray()
        request.read_all_data(into=body)
        assert len(body) <= LIMIT
        response.end()


class FakeTransport:
    def __init__(self) -> None:
        self.out = bytearray()
        self.closing = False
        self.eof = False

    def write(self, data) -> None:
        assert not self.eof, "written after the half-close"
        self.out += data

    def writelines(self, chunks) -> None:
        for chunk in chunks:
            self.write(chunk)

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 80)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def close(self) -> None:
        self.closing = True

    abort = close

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass


class Responses:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        self.statuses.append(self.parser.get_status_code())


_loop = asyncio.new_event_loop()


def run_connection(pieces: list[bytes]) -> tuple[HTTPConnection, FakeTransport, list[int]]:
    options = ServerOptions(request_size_limit=LIMIT, max_request_line=256, max_header_size=512,
                            max_header_count=10, header_timeout=1, body_timeout=1, keep_alive_timeout=1)
    serving = ServingState(options=options, loop=_loop, loop_thread=threading.get_ident(),
                           dispatch=make_dispatch(Echo(), _loop), client_connection_failed=lambda exc: None)
    conn = HTTPConnection(serving)
    transport = FakeTransport()
    conn.connection_made(transport)
    for piece in pieces:
        conn.data_received(piece)
        assert len(conn._body or b"") <= LIMIT
        assert len(conn._upgrade_buffer or b"") <= MAX_UPGRADE_EARLY_DATA + len(piece)
        if transport.closing:
            break
    responses = Responses()
    responses.parser.feed_data(bytes(transport.out))
    return conn, transport, responses.statuses


def check(pieces: list[bytes]) -> None:
    conn, transport, statuses = run_connection(pieces)
    for status in statuses[:-1]:
        assert status == 200
    if statuses and statuses[-1] != 200:
        assert statuses[-1] in ERROR_STATUSES
        assert transport.eof or transport.closing  # an error closes the connection
    # No hang: past every deadline the connection is answered (408) or closed.
    conn.check_deadline(_loop.time() + 100)
    assert conn._closed or conn._current is not None or conn._upgraded is not None


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for p in points + [len(data)]:
        pieces.append(data[start:p])
        start = p
    return [p for p in pieces if p] or [data]


TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~", min_size=1, max_size=12)
NAMES = st.one_of(TOKEN, st.sampled_from(["Host", "Content-Length", "Transfer-Encoding", "Expect", "Connection",
                                          "content-length", "Cookie"]))
VALUES = st.one_of(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
                   st.sampled_from(["chunked", "100-continue", "close", "keep-alive", "5", "-1", "99999999999",
                                    "gzip, chunked", " 3 ", "0x10"]))
BODIES = st.one_of(
    st.binary(max_size=64),
    st.lists(st.binary(max_size=20), max_size=4).map(
        lambda chunks: b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"),
    st.sampled_from([b"5\r\nab", b"zz\r\n", b"0\r\n", b"ffffffffff\r\n", b"3\r\nabc\r\n0\r\nX: y\r\n\r\n"]),
)


@st.composite
def requests(draw) -> bytes:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "BREW", "get", ""]))
    target = draw(st.one_of(st.sampled_from(["/", "/a?b=c", "*", "http://h/x", "/%zz", "/" + "a" * 300]),
                            st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20)))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.x", "HTTP/9.9", ""]))
    headers = draw(st.lists(st.tuples(NAMES, VALUES), max_size=8))
    if draw(st.booleans()):
        headers.insert(0, ("Host", "h"))
    sep = draw(st.sampled_from([": ", ":", " : ", ":\t"]))
    eol = draw(st.sampled_from(["\r\n", "\r\n", "\n"]))
    head = f"{method} {target} {version}{eol}" + "".join(f"{n}{sep}{v}{eol}" for n, v in headers) + eol
    return head.encode("latin-1", "replace") + draw(BODIES)


@FUZZ
@given(st.lists(requests(), min_size=1, max_size=3), st.lists(st.integers(0, 10_000), max_size=6))
def test_request_framing_fuzzed(reqs, cuts):
    check(split(b"".join(reqs), cuts))


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 10_000), max_size=4))
def test_random_bytes(data, cuts):
    check(split(data, cuts))


@FUZZ
@given(requests(), st.binary(min_size=1, max_size=40), st.integers(0, 10_000))
def test_a_valid_request_with_bytes_spliced_in(req, junk, at):
    at %= len(req) + 1
    check([req[:at] + junk + req[at:]])
