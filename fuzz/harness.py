"""Long-running coverage-guided fuzzing with atheris, one target per parser that reads
network bytes. The properties are those of tests/fuzz (shared code): no exception
escapes, the answer is a documented status or close code, memory stays bounded.

    python fuzz/harness.py TARGET [atheris/libFuzzer options]

TARGET: http, websocket, websocket-deflate, handshake, extensions, inflate, multipart,
query, cookies, url, range. See fuzz/README.md.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from kitura.net.headers import HeadersContainer
    from kitura.net.request import ServerRequest
    from kitura.net.request_checks import valid_host, valid_target
    from kitura.router.body_parser import BodyParser, BodyParserMultiValue
    from kitura.router.cookies import parse_cookies
    from kitura.router.request import RouterRequest, parse_query_multi
    from kitura.router.static_files import parse_range_header
    from kitura.websocket.deflate import DeflateSettings, PerMessageDeflate, negotiate
    from kitura.websocket.errors import ProtocolError
    from kitura.websocket.handshake import HandshakeError, check_request

from tests.fuzz import test_fuzz_http, test_fuzz_websocket  # noqa: E402


def _pieces(fdp: atheris.FuzzedDataProvider) -> list[bytes]:
    pieces = []
    while fdp.remaining_bytes():
        pieces.append(fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 512)))
    return pieces


def http(data: bytes) -> None:
    test_fuzz_http.check(_pieces(atheris.FuzzedDataProvider(data)) or [b""])


def websocket(data: bytes) -> None:
    test_fuzz_websocket.run(data, [len(data) // 3, len(data) // 2], False)


def websocket_deflate(data: bytes) -> None:
    test_fuzz_websocket.run(data, [len(data) // 2], True)


def handshake(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    headers = HeadersContainer()
    for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Key"):
        value = fdp.ConsumeUnicodeNoSurrogates(40).replace("\r", "").replace("\n", "").replace("\0", "")
        if fdp.ConsumeBool():
            headers.append(name, value)
    try:
        check_request(headers, "GET")
    except HandshakeError as exc:
        assert 400 <= exc.status < 500


def extensions(data: bytes) -> None:
    offer = data.decode("latin-1")
    response, codec = negotiate([offer], DeflateSettings())
    assert (response is None) == (codec is None)


def inflate(data: bytes) -> None:
    try:
        out = PerMessageDeflate().decompress(data, True, 4096)
    except ProtocolError as exc:
        assert exc.code in (1007, 1009)
    else:
        assert len(out) <= 4096


def multipart(data: bytes) -> None:
    for content_type in ("multipart/form-data; boundary=XyZ", "application/json",
                         "application/x-www-form-urlencoded", "text/plain"):
        BodyParser.parse_data(data, content_type)
        BodyParserMultiValue.parse_data(data, content_type)


def query(data: bytes) -> None:
    parse_query_multi(data.decode("utf-8", "surrogateescape"))


def cookies(data: bytes) -> None:
    parse_cookies([data.decode("latin-1")])


def url(data: bytes) -> None:
    target, _, host = data.partition(b"\n")
    if not valid_target(target) or not valid_host(host):
        return  # the connection answers 400
    request = RouterRequest(ServerRequest("GET", target, [(b"Host", host)], b"", "127.0.0.1", (1, 1), "http", 80))
    request.url_url
    request.query_parameters


def range_(data: bytes) -> None:
    ranges = parse_range_header(data.decode("latin-1"), 1000)
    for start, end in ranges or ():
        assert 0 <= start <= end < 1000


TARGETS = {
    "http": http, "websocket": websocket, "websocket-deflate": websocket_deflate, "handshake": handshake,
    "extensions": extensions, "inflate": inflate, "multipart": multipart, "query": query,
    "cookies": cookies, "url": url, "range": range_,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
