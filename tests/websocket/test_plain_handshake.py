"""``plain_handshake``, the fast path of the upgrade: the C version against its Python
twin (the reference), and both against the general path (``check_request`` on
``handshake_fields``, ``build_response``), on the same raw header pairs, bad ones included.
"""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitura.websocket import handshake
from kitura.websocket.handshake import (
    HandshakeError, build_response, check_request, handshake_fields, header_values, py_plain_handshake,
)

from ..fuzz.conftest import FUZZ

try:
    from kitura.websocket._speedups import plain_handshake as c_plain_handshake
except ImportError:  # the optional extension was not built
    c_plain_handshake = None

needs_c = pytest.mark.skipif(c_plain_handshake is None, reason="the C extension is not built")

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
PLAIN = [(b"Host", b"example.com"), (b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
         (b"Sec-WebSocket-Key", KEY), (b"Sec-WebSocket-Version", b"13")]


def twins() -> list:
    return [py_plain_handshake] + ([c_plain_handshake] if c_plain_handshake is not None else [])


def general(pairs: list[tuple[bytes, bytes]]) -> tuple[str, bytes] | int:
    """The general path's key and 101, or its error status."""
    try:
        key = check_request(handshake_fields(pairs), "GET")
    except HandshakeError as err:
        return err.status
    return key, build_response(key)


def agree(pairs: list[tuple[bytes, bytes]]) -> tuple | None:
    """Both twins' answer (equal), checked against the general path where they take the request."""
    answers = [fn(pairs) for fn in twins()]
    assert all(answer == answers[0] for answer in answers), answers
    plain = answers[0]
    if plain is not None:
        key, head, protocol, extensions, origin = plain
        assert general(pairs) == (key, head)
        fields = handshake_fields(pairs)
        for name, value in (("Sec-WebSocket-Protocol", protocol), ("Sec-WebSocket-Extensions", extensions),
                            ("Origin", origin)):
            assert fields.get(name) == (None if value is None else [value])
    return plain


def test_the_rfc_example_is_taken_with_its_accept_key():
    # RFC 6455 1.3: this key's accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
    plain = agree(PLAIN)
    assert plain is not None
    assert plain[0] == KEY.decode()
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" in plain[1]
    assert plain[2:] == (None, None, None)


def test_protocol_extensions_and_origin_come_back_as_latin_1_str():
    pairs = PLAIN + [(b"sec-websocket-protocol", b"chat, superchat"),
                     (b"SEC-WEBSOCKET-EXTENSIONS", b"permessage-deflate; client_max_window_bits"),
                     (b"Origin", b"http://caf\xe9.example")]
    plain = agree(pairs)
    assert plain is not None
    assert plain[2:] == ("chat, superchat", "permessage-deflate; client_max_window_bits", "http://caf\xe9.example")
    assert header_values({"Sec-WebSocket-Protocol": [plain[2]]}, "Sec-WebSocket-Protocol") == ["chat", "superchat"]


@pytest.mark.parametrize("change", [
    [(b"Sec-WebSocket-Key", KEY)],                                  # key repeated
    [(b"Sec-WebSocket-Version", b"13")],                            # version repeated
    [(b"Origin", b"a")] * 2,                                        # origin repeated
    [(b"Sec-WebSocket-Protocol", b"a"), (b"Sec-WebSocket-Protocol", b"b")],
    [(b"Sec-WebSocket-Extensions", b"a"), (b"sec-websocket-extensions", b"b")],
])
def test_a_repeated_field_takes_the_general_path(change):
    assert agree(PLAIN + change) is None


@pytest.mark.parametrize("key, version", [
    (None, b"13"), (KEY, None), (KEY, b"8"), (KEY, b" 13"), (KEY, b"13, 13"), (KEY, b"013"),
    (b"", b"13"), (KEY[:-1], b"13"), (KEY + b"=", b"13"), (KEY[:-2] + b"AA", b"13"),
    (b" " + KEY, b"13"), (KEY[:5] + b"-" + KEY[6:], b"13"), (KEY[:21] + b"===", b"13"),
    (base64.b64encode(b"x" * 15), b"13"), (base64.b64encode(b"x" * 17), b"13"),
])
def test_other_keys_and_versions_take_the_general_path(key, version):
    pairs = [(name, value) for name, value in PLAIN if name not in (b"Sec-WebSocket-Key", b"Sec-WebSocket-Version")]
    if key is not None:
        pairs.append((b"Sec-WebSocket-Key", key))
    if version is not None:
        pairs.append((b"Sec-WebSocket-Version", version))
    assert agree(pairs) is None


def test_many_random_keys_give_the_general_paths_accept_value():
    for _ in range(300):
        pairs = [(b"Sec-WebSocket-Key", base64.b64encode(os.urandom(16))), (b"Sec-WebSocket-Version", b"13")]
        assert agree(pairs) is not None


def test_the_module_uses_the_c_version_unless_told_not_to():
    if os.environ.get("KITURA_NO_EXTENSIONS") or c_plain_handshake is None:
        assert handshake.plain_handshake is py_plain_handshake
    else:
        assert handshake.plain_handshake is c_plain_handshake


_NAMES = st.sampled_from([b"Sec-WebSocket-Key", b"sec-websocket-key", b"SEC-WEBSOCKET-VERSION",
                          b"Sec-WebSocket-Version", b"Sec-WebSocket-Protocol", b"Sec-WebSocket-Extensions",
                          b"Origin", b"origin", b"Host", b"Upgrade", b"Sec-WebSocket-Keys", b"X-Origin"])
_VALUES = st.one_of(
    st.sampled_from([KEY, b"13", b"8", b"", b" 13", b"chat", b"permessage-deflate", KEY + b" "]),
    st.builds(lambda raw: base64.b64encode(raw), st.binary(min_size=14, max_size=18)),
    st.binary(max_size=30),
)


@settings(FUZZ, max_examples=400)
@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8), st.booleans())
def test_random_pairs_agree(extra, plain_first):
    agree((PLAIN + extra) if plain_first else extra)


@needs_c
def test_the_c_version_declines_pairs_that_are_not_bytes_tuples_and_rejects_non_sequences():
    assert c_plain_handshake([(b"Sec-WebSocket-Key", KEY, b"x")]) is None
    assert c_plain_handshake([("Sec-WebSocket-Key", "x")]) is None
    with pytest.raises(TypeError):
        c_plain_handshake(5)
