"""The C parser of plain requests (``_speedups.parse_request``) against httptools.

httptools is the reference: with the fast path, a connection must queue, answer and
refuse exactly what it does with httptools alone, whatever the bytes and however
they are split across reads. Each case is run twice, once with the module's
``parse_request`` and once with it set to None, and the two runs compared: the
requests the handler saw (every field) and every byte written back.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitura.net import ConnectionUpgrader, UpgradeRejection
from kitura.net import connection as connection_module

from ..fuzz.conftest import FUZZ
from .test_connection_unit import FakeTransport, make

pytestmark = pytest.mark.skipif(connection_module.parse_request is None,
                                reason="the C extension is not built (or KITURA_NO_EXTENSIONS=1)")


class _UpgradeTransport(FakeTransport):
    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol


class _Taken:
    """What an upgrade factory's protocol receives after the handover (recorded)."""

    def __init__(self, seen: list[tuple]) -> None:
        self.seen = seen

    def data_received(self, data: bytes) -> None:
        self.seen.append(("upgraded data", bytes(data)))


class _ProbeFactory:
    """Takes ``probe`` upgrades (answers 101), rejects those on /reject; records what it saw."""

    name = "probe"
    seen: list[tuple] = []

    def upgrade(self, handover: Any) -> Any:
        request = handover.request
        self.seen.append(("upgrade", request.method, request.url, list(request.headers), handover.header_pairs,
                          handover.leftover, request.keep_alive, request.http_version_minor))
        if request.url == b"/reject":
            return UpgradeRejection(400, [("X-Why", "no")], b"rejected")
        handover.take(_Taken(self.seen), b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: probe\r\n\r\n")
        return None


def _run(chunks: list[bytes], fast: bool, monkeypatch: Any, **options: Any) -> tuple[list[tuple], bytes, bool]:
    seen: list[tuple] = []
    _ProbeFactory.seen = seen

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
        conn, transport, loop, _ = make(handler, _UpgradeTransport(), **options)
        for chunk in chunks:
            if transport.closed:
                break
            receiver = getattr(transport, "protocol", conn)  # the upgraded protocol once taken
            receiver.data_received(chunk)
            loop.run_once()
        loop.run_once()  # what the fallback of a declined upgrade re-feeds
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
                                 b"Connection: keep-alive\r\n", b"Content-Length: 3\r\n", b"X-A:  b \r\n",
                                 b"Connection: Upgrade\r\n", b"Upgrade: websocket\r\n"])


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


# --- upgrade requests ----------------------------------------------------------

@pytest.fixture
def probe():
    ConnectionUpgrader.register(_ProbeFactory())
    yield
    ConnectionUpgrader.unregister("probe")


UPGRADES = [
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: probe\r\nSec-WebSocket-Key: k\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h:80\r\nUpgrade: Probe\r\nConnection: keep-alive, Upgrade\r\n\r\n",
    b"GET /ws?x=1 HTTP/1.1\r\nhost: h\r\nconnection:upgrade \r\nupgrade: nope, probe/2 \r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: UPGRADE ,\tkeep-alive\r\nUpgrade: nope\r\n\r\n",  # no factory
    b"GET /reject HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\n\r\n",    # rejected
]

#: Upgrade-like heads the C parser leaves to httptools (answered as it answers them).
UPGRADES_DECLINED = [
    b"POST /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.0\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\nContent-Length: 0\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nConnection: keep-alive\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: close, upgrade\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade, te\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade,,\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrades\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: probe\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: probe\r\n\r\n",                   # no Host
    b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: probe\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
]

_AFTER = [b"", b"early bytes", PLAIN[0], PLAIN[1] + PLAIN[5], b"\x81\x85abcd" + b"x" * 5]


@pytest.mark.parametrize("raw", UPGRADES)
@pytest.mark.parametrize("registered", [True, False], ids=["factory", "no-factory"])
def test_upgrade_requests_are_taken_by_the_c_parser_and_handed_over_as_with_httptools(raw, registered, request,
                                                                                         monkeypatch):
    if registered:
        request.getfixturevalue("probe")
    for after in _AFTER:
        taken = _counting(monkeypatch)
        seen, written, _ = _same([raw + after], monkeypatch)
        assert taken[0] >= 1 and seen
        monkeypatch.undo()
        # Early data split from the head, and a plain request before the upgrade in the same read.
        _same([raw, after], monkeypatch)
        _same([PLAIN[0] + raw + after], monkeypatch)
    if registered and b"probe" in raw and b"/reject" not in raw:
        assert written.startswith(b"HTTP/1.1 101") and seen[0][0] == "upgrade"


@pytest.mark.parametrize("raw", UPGRADES_DECLINED)
def test_unusual_upgrade_requests_are_left_to_httptools(raw, probe, monkeypatch):
    for after in (b"", b"early", PLAIN[0]):
        assert connection_module.parse_request(raw + after, 0, 8192, 8192, 100, None) is None
        _same([raw + after], monkeypatch)


def test_every_split_of_an_upgrade_with_early_data_gives_the_same_answers(probe, monkeypatch):
    tail = b"\x81\x85abcdhello" + PLAIN[0]
    stream = PLAIN[1] + UPGRADES[0] + tail
    for cut in range(1, len(stream), 5):
        seen, written, _ = _same([stream[:cut], stream[cut:]], monkeypatch)
        assert seen[1][0] == "upgrade" and written.count(b"HTTP/1.1 101") == 1
        # However the reads fall, the upgraded protocol gets every byte after the head, in order.
        assert b"".join(s[1] for s in seen if s[0] == "upgraded data") == tail
