"""Tests of kitura/websocket/handshake.py (RFC 6455 section 4)."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.net.headers import HeadersContainer
from kitura.websocket.errors import WebSocketError
from kitura.websocket.handshake import (
    WEBSOCKET_GUID,
    HandshakeError,
    accept_key,
    build_response,
    check_origin,
    check_request,
    choose_subprotocol,
    handshake_fields,
    header_values,
    no_service_body,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def container(**headers: Any) -> HeadersContainer:
    h = HeadersContainer()
    for name, value in headers.items():
        h[name.replace("_", "-")] = value
    return h


def valid_headers() -> HeadersContainer:
    return container(Upgrade="websocket", Connection="Upgrade", Sec_WebSocket_Key=KEY, Sec_WebSocket_Version="13")


# --- accept_key ---


def test_accept_key_rfc_example() -> None:
    assert accept_key(KEY) == ACCEPT


def test_accept_key_matches_websockets() -> None:
    from websockets.utils import accept_key as ws_accept_key

    for _ in range(5):
        key = base64.b64encode(os.urandom(16)).decode()
        assert accept_key(key) == ws_accept_key(key)


# --- check_request ---


def test_valid_request_returns_key() -> None:
    assert check_request(valid_headers()) == KEY
    assert check_request(valid_headers(), method="GET") == KEY
    assert check_request(valid_headers(), method="get") == KEY


def test_plain_dict_headers() -> None:
    assert check_request({"Sec-WebSocket-Key": [KEY], "Sec-WebSocket-Version": "13"}) == KEY
    with pytest.raises(HandshakeError):
        check_request({"Sec-WebSocket-Version": ["13"]})


def test_header_names_case_insensitive() -> None:
    h = HeadersContainer()
    h["sec-websocket-key"] = KEY
    h["SEC-WEBSOCKET-VERSION"] = "13"
    assert check_request(h) == KEY


def rejection(headers: Any, method: str | None = None) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        check_request(headers, method=method)
    return info.value


def test_missing_key() -> None:
    h = valid_headers()
    h["Sec-WebSocket-Key"] = None
    err = rejection(h)
    assert (err.status, err.body, err.headers) == (400, "Sec-WebSocket-Key header missing in the upgrade request", [])


def test_missing_version() -> None:
    h = valid_headers()
    h["Sec-WebSocket-Version"] = None
    err = rejection(h)
    assert (err.status, err.body, err.headers) == (
        400, "Sec-WebSocket-Version header missing in the upgrade request", [])


def test_missing_both_reports_the_key_first() -> None:
    # Kitura-WebSocket-NIO checks the key before the version.
    err = rejection(container(Upgrade="websocket"))
    assert err.body == "Sec-WebSocket-Key header missing in the upgrade request"


@pytest.mark.parametrize("version", ["8", "12", "14", "", "thirteen"])
def test_wrong_version(version: str) -> None:
    h = valid_headers()
    h["Sec-WebSocket-Version"] = version
    err = rejection(h)
    if version == "":
        assert err.body == "Sec-WebSocket-Version header missing in the upgrade request"
        return
    assert err.status == 400
    assert err.body == "Only WebSocket protocol version 13 is supported"
    # RFC 6455 section 4.4: tell the client which version we speak.
    assert err.headers == [("Sec-WebSocket-Version", "13")]


def test_version_with_whitespace_accepted() -> None:
    h = valid_headers()
    h["Sec-WebSocket-Version"] = " 13 "
    assert check_request(h) == KEY


@pytest.mark.parametrize("versions", [["13", "13"], ["13, 8"], ["8", "13"]])
def test_repeated_version(versions: list[str]) -> None:
    h = valid_headers()
    h["Sec-WebSocket-Version"] = versions
    err = rejection(h)
    assert err.status == 400 and "Sec-WebSocket-Version" in err.body


@pytest.mark.parametrize("keys", [[KEY, KEY], [f"{KEY}, {KEY}"]])
def test_repeated_key(keys: list[str]) -> None:
    h = valid_headers()
    h["Sec-WebSocket-Key"] = keys
    err = rejection(h)
    assert err.status == 400 and "Sec-WebSocket-Key" in err.body


@pytest.mark.parametrize(
    "key",
    [
        "not base64!",
        base64.b64encode(os.urandom(15)).decode(),
        base64.b64encode(os.urandom(17)).decode(),
        "dGhlIHNhbXBsZSBub25jZQ",  # missing padding
        "dGhlIHNhbXBsZSBub25jZQ==x",
        "dGhlIHNhbXBsZSBub25jZQé=",
    ],
)
def test_invalid_key(key: str) -> None:
    h = valid_headers()
    h["Sec-WebSocket-Key"] = key
    err = rejection(h)
    assert err.status == 400
    assert err.body == "Sec-WebSocket-Key header must be the base64 encoding of 16 bytes"


def test_key_with_surrounding_whitespace_accepted() -> None:
    h = valid_headers()
    h["Sec-WebSocket-Key"] = f"  {KEY} "
    assert check_request(h) == KEY


@pytest.mark.parametrize("method", ["POST", "PUT", "HEAD"])
def test_method_must_be_get(method: str) -> None:
    err = rejection(valid_headers(), method=method)
    assert err.status == 405
    assert "GET" in err.body
    assert err.headers == [("Allow", "GET")]


def test_handshake_error_is_a_websocket_error() -> None:
    err = HandshakeError(400, "bad")
    assert isinstance(err, WebSocketError)
    assert err.headers == []
    assert str(err) == "400 bad"


def test_no_service_body() -> None:
    assert no_service_body("/x") == "No service has been registered for the path /x"
    assert no_service_body("x") == "No service has been registered for the path /x"
    assert no_service_body("chat/room") == "No service has been registered for the path /chat/room"


def test_header_values_helper() -> None:
    h = container(A=["x, y", " z ", ", ,"])
    assert header_values(h, "a") == ["x", "y", "z"]
    assert header_values(h, "missing") == []
    assert header_values({"A": "p,q"}, "A") == ["p", "q"]
    assert header_values({}, "A") == []


# --- build_response ---


def test_build_response_minimal() -> None:
    head = build_response(KEY)
    assert head == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + ACCEPT.encode() + b"\r\n"
        b"\r\n"
    )


def test_build_response_with_extensions_and_subprotocol() -> None:
    head = build_response(KEY, extensions="permessage-deflate; client_max_window_bits=15", subprotocol="chat")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert head.endswith(b"\r\n\r\n") and head.count(b"\r\n\r\n") == 1
    lines = head.split(b"\r\n")
    assert b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15" in lines
    assert b"Sec-WebSocket-Protocol: chat" in lines
    assert b"Sec-WebSocket-Accept: " + ACCEPT.encode() in lines


def test_build_response_parsed_by_websockets_client() -> None:
    # The websockets client accepts our 101 for its own key.
    from websockets.client import ClientProtocol
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    from websockets.http11 import Response
    from websockets.typing import Subprotocol
    from websockets.uri import parse_uri

    client = ClientProtocol(parse_uri("ws://localhost/chat"), subprotocols=[Subprotocol("chat")],
                            extensions=[ClientPerMessageDeflateFactory()])
    request = client.connect()
    head = build_response(request.headers["Sec-WebSocket-Key"], extensions="permessage-deflate",
                          subprotocol="chat")
    client.receive_data(head)
    [response] = client.events_received()
    assert isinstance(response, Response) and response.status_code == 101
    assert client.handshake_exc is None
    assert client.subprotocol == "chat"
    assert len(client.extensions) == 1


@pytest.mark.parametrize("field", ["extensions", "subprotocol"])
def test_build_response_rejects_header_injection(field: str) -> None:
    with pytest.raises(ValueError):
        build_response(KEY, **{field: "x\r\nSet-Cookie: a=b"})


# --- choose_subprotocol ---


@pytest.mark.parametrize(
    "offered, supported, expected",
    [
        (["chat, superchat"], ["superchat", "chat"], "superchat"),  # server preference wins
        (["chat, superchat"], ["chat", "superchat"], "chat"),
        (["chat", "superchat"], ["superchat"], "superchat"),  # several header values
        ("chat,superchat", ["superchat"], "superchat"),
        (["  chat  ,  json "], ["json"], "json"),
        (["chat"], ["json"], None),
        (["Chat"], ["chat"], None),  # case-sensitive
        ([], ["chat"], None),
        (None, ["chat"], None),
        (["chat"], [], None),
        ([", ,"], [""], None),
    ],
)
def test_choose_subprotocol(offered: Any, supported: list[str], expected: str | None) -> None:
    assert choose_subprotocol(offered, supported) == expected


# --- check_origin ---


@pytest.mark.parametrize(
    "origin, allowed, expected",
    [
        ("https://example.com", None, True),
        (None, None, True),
        ("https://evil.com", ["*"], True),
        (None, ["*"], True),
        ("https://example.com", ["https://example.com"], True),
        ("https://EXAMPLE.com", ["https://example.com"], True),  # host case-insensitive
        ("HTTPS://example.com", ["https://Example.COM"], True),
        ("https://example.com:443", ["https://example.com"], True),  # default port
        ("http://example.com", ["http://example.com:80"], True),
        ("https://example.com:8443", ["https://example.com:8443"], True),
        ("https://example.com/", ["https://example.com"], True),
        ("http://[::1]:8080", ["http://[::1]:8080"], True),
        ("https://example.com:8443", ["https://example.com"], False),  # port differs
        ("http://example.com", ["https://example.com"], False),  # scheme differs
        ("https://sub.example.com", ["https://example.com"], False),  # no wildcard subdomains
        ("https://example.com.evil.com", ["https://example.com"], False),
        ("https://example.com", ["https://example.co"], False),
        ("https://example.com", [], False),
        (None, ["https://example.com"], False),  # missing Origin with a list
        ("", ["https://example.com"], False),
        ("null", ["https://example.com"], False),
        ("null", ["null"], True),
        ("https://example.com/path", ["https://example.com"], False),
        ("https://user@example.com", ["https://example.com"], False),
        ("https://example.com:99999", ["https://example.com"], False),
        (["https://example.com"], ["https://example.com"], True),  # header value list
        (["https://example.com", "https://evil.com"], ["https://example.com"], False),
        ([], ["https://example.com"], False),
    ],
)
def test_check_origin(origin: Any, allowed: list[str] | None, expected: bool) -> None:
    assert check_origin(origin, allowed) is expected


def test_check_origin_accepts_any_iterable() -> None:
    assert check_origin("https://a.example", ("https://b.example", "https://a.example"))
    assert check_origin("https://a.example", {"https://a.example"})


# --- the trimmed helpers give what the straightforward versions gave -------------------

def _reference_key_ok(key: str) -> bool:
    import binascii

    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (binascii.Error, UnicodeEncodeError):
        return False


def _reference_header_values(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _reference_response(key: str, extensions: str | None, subprotocol: str | None) -> bytes:
    import hashlib

    accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept}"]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_KEYS = st.one_of(
    st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode()),
    st.binary(max_size=20).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet="ABCabc019+/=-_ \t\u00e9", max_size=26),
    st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode()[:-2] + "=="),
    st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode().rstrip("=")),
)


@given(key=_KEYS)
def test_key_check_matches_b64decode_validate(key: str) -> None:
    headers = {"Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    try:
        check_request(headers)
        ok = True
    except HandshakeError as err:
        ok = False
        if key.strip() and "," not in key:
            assert err.body == "Sec-WebSocket-Key header must be the base64 encoding of 16 bytes"
    if key.strip() and "," not in key:
        assert ok == _reference_key_ok(key.strip())


@given(values=st.lists(st.text(alphabet="ab, \t", max_size=8), max_size=3))
def test_header_values_matches_the_reference(values: list[str]) -> None:
    assert header_values({"X": values}, "X") == _reference_header_values(values)
    assert header_values(container(X=values) if values else container(), "x") == _reference_header_values(values)
    if len(values) == 1:
        assert header_values({"X": values[0]}, "X") == _reference_header_values(values)


@given(
    key=st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode()),
    extensions=st.sampled_from([None, "", "permessage-deflate", "permessage-deflate; server_no_context_takeover"]),
    subprotocol=st.sampled_from([None, "", "chat", "v2.chat"]),
)
def test_build_response_matches_the_reference(key: str, extensions: str | None, subprotocol: str | None) -> None:
    assert build_response(key, extensions=extensions, subprotocol=subprotocol) == \
        _reference_response(key, extensions, subprotocol)
    assert accept_key(key) == _reference_response(key, None, None).split(b"Accept: ")[1][:-4].decode()


_FIELD_NAMES = ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
                "Sec-WebSocket-Extensions", "Origin")


@given(st.lists(st.tuples(
    st.sampled_from([b"Sec-WebSocket-Key", b"sec-websocket-key", b"SEC-WEBSOCKET-VERSION", b"Origin",
                     b"Sec-WebSocket-Protocol", b"Sec-WebSocket-Extensions", b"Host", b"X-Other"]),
    st.sampled_from([KEY.encode(), b"13", b"8", b"chat, superchat", b"", b"http://a.example",
                     b"permessage-deflate; client_max_window_bits", b"\xe9t\xe9"])), max_size=6))
def test_handshake_fields_read_what_a_headers_container_reads(pairs: list[tuple[bytes, bytes]]) -> None:
    # The fields read from raw pairs give the answers the HeadersContainer of the same
    # pairs gives: repeated fields merged, names case-insensitive, values latin-1.
    fields = handshake_fields(pairs)
    container = HeadersContainer.from_raw(list(pairs))
    for name in _FIELD_NAMES:
        assert header_values(fields, name) == header_values(container, name)
        assert (fields[name] if name in fields else None) == container[name]

    def outcome(headers: Any) -> Any:
        try:
            return check_request(headers, "GET")
        except HandshakeError as err:
            return err.status, err.body, err.headers

    assert outcome(fields) == outcome(container)


def test_handshake_fields_ignore_other_fields() -> None:
    fields = handshake_fields([(b"Host", b"x"), (b"Sec-WebSocket-Key", KEY.encode()), (b"Upgrade", b"websocket"),
                               (b"Sec-WebSocket-Version", b"13")])
    assert fields == {"Sec-WebSocket-Key": [KEY], "Sec-WebSocket-Version": ["13"]}
    assert check_request(fields, "GET") == KEY
