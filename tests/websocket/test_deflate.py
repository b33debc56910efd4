"""Tests of kitura/websocket/deflate.py (RFC 7692)."""

from __future__ import annotations

import os
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from kitura.websocket.deflate import (
    DeflateSettings,
    PerMessageDeflate,
    negotiate,
    parse_extensions,
)
from kitura.websocket.errors import ProtocolError

TAIL = b"\x00\x00\xff\xff"
MiB = 1024 * 1024


# --- helpers: what a client does with zlib directly (RFC 7692 section 7.2) ---


class ZlibClient:
    """A client-side codec written straight from RFC 7692, with plain zlib."""

    def __init__(self, *, compress_bits: int = 15, inflate_bits: int = 15, reset_compressor: bool = False,
                 reset_inflater: bool = False) -> None:
        self.compress_bits = compress_bits
        self.inflate_bits = inflate_bits
        self.reset_compressor = reset_compressor
        self.reset_inflater = reset_inflater
        self.c = zlib.compressobj(6, zlib.DEFLATED, -compress_bits)
        self.d = zlib.decompressobj(-inflate_bits)

    def compress(self, data: bytes) -> bytes:
        if self.reset_compressor:
            self.c = zlib.compressobj(6, zlib.DEFLATED, -self.compress_bits)
        out = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]

    def decompress(self, payload: bytes) -> bytes:
        if self.reset_inflater:
            self.d = zlib.decompressobj(-self.inflate_bits)
        return self.d.decompress(payload + TAIL)


def strict_inflate(inflater: zlib._Decompress, data: bytes) -> bytes:
    """Inflate 16 bytes of output per call, so that every back reference
    must come from zlib's window (within one call, zlib may also reach back
    into the output buffer, whatever the window size)."""
    out = []
    while data:
        out.append(inflater.decompress(data, 16))
        data = inflater.unconsumed_tail
    return b"".join(out)


def split(data: bytes, n: int) -> list[bytes]:
    """data cut into n frames (some possibly empty)."""
    if n <= 1:
        return [data]
    step = max(1, len(data) // n)
    parts = [data[i * step:(i + 1) * step] for i in range(n - 1)]
    parts.append(data[(n - 1) * step:])
    return parts


def inflate_frames(codec: PerMessageDeflate, frames: list[bytes], max_length: int) -> bytes:
    """What protocol.py does: one call per frame, passing what is left of the limit."""
    out = b""
    for i, frame in enumerate(frames):
        out += codec.decompress(frame, i == len(frames) - 1, max_length - len(out))
    return out


# --- parse_extensions ---


class TestParseExtensions:
    def test_simple(self) -> None:
        assert parse_extensions("permessage-deflate") == [("permessage-deflate", [])]

    def test_params_and_several(self) -> None:
        value = 'permessage-deflate; client_max_window_bits; server_max_window_bits=10, foo; bar="baz"'
        assert parse_extensions(value) == [
            ("permessage-deflate", [("client_max_window_bits", None), ("server_max_window_bits", "10")]),
            ("foo", [("bar", "baz")]),
        ]

    def test_whitespace_and_empty_elements(self) -> None:
        value = " , permessage-deflate ;\tclient_max_window_bits = 10 ,, x ,"
        assert parse_extensions(value) == [
            ("permessage-deflate", [("client_max_window_bits", "10")]),
            ("x", []),
        ]

    def test_quoted_pair(self) -> None:
        assert parse_extensions('a; b="1\\0"') == [("a", [("b", "10")])]

    @pytest.mark.parametrize(
        "value",
        [
            'a; b="10',  # unterminated
            "a; b=",  # missing value
            "a; =1",  # missing name
            "a b",  # junk after the token
            'a; b="x y"',  # quoted value that is not a token (RFC 6455 9.1)
            'a; b=""',
            "a;",
            "; b",
        ],
    )
    def test_malformed(self, value: str) -> None:
        with pytest.raises(ValueError):
            parse_extensions(value)

    def test_empty(self) -> None:
        assert parse_extensions("") == []
        assert parse_extensions(" , ") == []


# --- negotiation (RFC 7692 section 7.1) ---

S = DeflateSettings
PMD = "permessage-deflate"

NEGOTIATION_TABLE = [
    # (offers, settings, expected response or None)
    (PMD, S(), PMD),
    ([PMD], S(), PMD),
    # client_max_window_bits without a value: may answer with a value or omit it.
    (f"{PMD}; client_max_window_bits", S(), PMD),
    (f"{PMD}; client_max_window_bits", S(client_max_window_bits=10), f"{PMD}; client_max_window_bits=10"),
    # ... with a value: answer with the same or smaller.
    (f"{PMD}; client_max_window_bits=12", S(), f"{PMD}; client_max_window_bits=12"),
    (f"{PMD}; client_max_window_bits=12", S(client_max_window_bits=10), f"{PMD}; client_max_window_bits=10"),
    (f"{PMD}; client_max_window_bits=12", S(client_max_window_bits=14), f"{PMD}; client_max_window_bits=12"),
    # not offered: never sent, whatever the settings say.
    (PMD, S(client_max_window_bits=10), PMD),
    # server_max_window_bits offered: must be answered with the same or smaller.
    (f"{PMD}; server_max_window_bits=10", S(), f"{PMD}; server_max_window_bits=10"),
    (f"{PMD}; server_max_window_bits=10", S(server_max_window_bits=12), f"{PMD}; server_max_window_bits=10"),
    (f"{PMD}; server_max_window_bits=10", S(server_max_window_bits=9), f"{PMD}; server_max_window_bits=9"),
    (f"{PMD}; server_max_window_bits=8", S(), f"{PMD}; server_max_window_bits=8"),
    # not offered: the server may still limit itself.
    (PMD, S(server_max_window_bits=11), f"{PMD}; server_max_window_bits=11"),
    # no_context_takeover: echoed when offered, forced by the settings.
    (f"{PMD}; server_no_context_takeover", S(), f"{PMD}; server_no_context_takeover"),
    (f"{PMD}; client_no_context_takeover", S(), f"{PMD}; client_no_context_takeover"),
    (PMD, S(server_no_context_takeover=True), f"{PMD}; server_no_context_takeover"),
    (PMD, S(client_no_context_takeover=True), f"{PMD}; client_no_context_takeover"),
    (
        f"{PMD}; client_max_window_bits",
        S(server_no_context_takeover=True, client_no_context_takeover=True, server_max_window_bits=12,
          client_max_window_bits=11),
        f"{PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; "
        "client_max_window_bits=11",
    ),
    # all four parameters offered, as Chrome and websockets may.
    (
        f"{PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; "
        "client_max_window_bits=13",
        S(),
        f"{PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; "
        "client_max_window_bits=13",
    ),
    # invalid values decline the offer.
    (f"{PMD}; server_max_window_bits=7", S(), None),
    (f"{PMD}; server_max_window_bits=16", S(), None),
    (f"{PMD}; server_max_window_bits=08", S(), None),
    (f"{PMD}; server_max_window_bits=abc", S(), None),
    (f"{PMD}; server_max_window_bits=-9", S(), None),
    (f"{PMD}; server_max_window_bits", S(), None),
    (f"{PMD}; client_max_window_bits=7", S(), None),
    (f"{PMD}; client_max_window_bits=1e1", S(), None),
    (f"{PMD}; server_no_context_takeover=1", S(), None),
    (f'{PMD}; client_no_context_takeover=""', S(), None),
    # unknown and repeated parameters decline the offer.
    (f"{PMD}; foo", S(), None),
    (f"{PMD}; x_max_window_bits=10", S(), None),
    (f"{PMD}; server_no_context_takeover; server_no_context_takeover", S(), None),
    (f"{PMD}; client_max_window_bits; client_max_window_bits=10", S(), None),
    (f"{PMD}; server_max_window_bits=10; server_max_window_bits=10", S(), None),
    # several offers: the first acceptable one wins.
    (f"{PMD}; server_max_window_bits=7, {PMD}; client_max_window_bits", S(client_max_window_bits=9),
     f"{PMD}; client_max_window_bits=9"),
    (f"{PMD}; foo, {PMD}; server_no_context_takeover, {PMD}", S(), f"{PMD}; server_no_context_takeover"),
    (f"{PMD}; server_max_window_bits=10, {PMD}", S(), f"{PMD}; server_max_window_bits=10"),
    (f"{PMD}; foo, {PMD}; bar", S(), None),
    # several header values.
    (["x-webkit-deflate-frame", f"{PMD}; server_no_context_takeover"], S(), f"{PMD}; server_no_context_takeover"),
    ([f"{PMD}; server_max_window_bits=99", f"{PMD}; client_no_context_takeover"], S(),
     f"{PMD}; client_no_context_takeover"),
    # a malformed header value contributes nothing; the others still count.
    ([f'{PMD}; client_max_window_bits="10', PMD], S(), PMD),
    (f'{PMD}; client_max_window_bits="10', S(), None),
    # quoted-string values (RFC 7230 3.2.6, RFC 6455 9.1).
    (f'{PMD}; client_max_window_bits="10"', S(), f"{PMD}; client_max_window_bits=10"),
    (f'{PMD}; server_max_window_bits="1\\2"', S(), f"{PMD}; server_max_window_bits=12"),
    # other extensions are ignored.
    (f"foo; bar=1, {PMD}", S(), PMD),
    ("foo, bar; baz", S(), None),
    # names compare case-insensitively.
    ("Permessage-Deflate; Server_No_Context_Takeover", S(), f"{PMD}; server_no_context_takeover"),
    # nothing offered, or disabled.
    (None, S(), None),
    ("", S(), None),
    ([], S(), None),
    (PMD, S(enabled=False), None),
]


@pytest.mark.parametrize("offers, settings, expected", NEGOTIATION_TABLE)
def test_negotiation_table(offers: list[str] | str | None, settings: DeflateSettings, expected: str | None) -> None:
    response, codec = negotiate(offers, settings)
    assert response == expected
    assert (codec is None) == (expected is None)


def test_negotiated_codec_state() -> None:
    response, codec = negotiate(
        f"{PMD}; server_max_window_bits=10; client_max_window_bits=12; client_no_context_takeover",
        S(compression_level=9, min_size=32, server_no_context_takeover=True),
    )
    assert codec is not None
    assert codec.server_no_context_takeover and codec.client_no_context_takeover
    assert codec.server_max_window_bits == 10
    assert codec.client_max_window_bits == 12
    assert codec.compression_level == 9
    assert codec.min_size == 32
    assert "PerMessageDeflate(" in repr(codec)


def test_negotiated_defaults_when_not_sent() -> None:
    _, codec = negotiate(f"{PMD}; client_max_window_bits", S())
    assert codec is not None
    assert codec.server_max_window_bits == 15 and codec.client_max_window_bits == 15
    assert not codec.server_no_context_takeover and not codec.client_no_context_takeover


def test_client_max_window_bits_setting_ignored_when_not_offered() -> None:
    # The client did not say it can limit its window: inflate with 15 bits.
    _, codec = negotiate(PMD, S(client_max_window_bits=9))
    assert codec is not None and codec.client_max_window_bits == 15
    client = ZlibClient(compress_bits=15)
    data = os.urandom(2000) * 4  # matches at distance 2000 need more than 9 bits
    assert codec.decompress(client.compress(data), True, len(data)) == data


@pytest.mark.parametrize(
    "kwargs",
    [
        {"server_max_window_bits": 7},
        {"client_max_window_bits": 16},
        {"server_max_window_bits": "10"},
        {"compression_level": 10},
        {"min_size": -1},
    ],
)
def test_settings_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DeflateSettings(**kwargs)  # type: ignore[arg-type]


def test_codec_validation() -> None:
    with pytest.raises(ValueError):
        PerMessageDeflate(server_max_window_bits=16)
    with pytest.raises(ValueError):
        PerMessageDeflate(client_max_window_bits=7)


# --- interop with the websockets library's negotiation (a real client) ---


def test_negotiation_with_websockets_client() -> None:
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    from websockets.headers import build_extension, parse_extension

    for factory in (
        ClientPerMessageDeflateFactory(),
        ClientPerMessageDeflateFactory(client_max_window_bits=True),
        ClientPerMessageDeflateFactory(server_max_window_bits=10, client_no_context_takeover=True),
        ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_max_window_bits=11),
    ):
        offer = build_extension([(factory.name, factory.get_request_params())])
        response, codec = negotiate(offer, S(server_max_window_bits=12, client_max_window_bits=13))
        assert response is not None and codec is not None
        [(name, params)] = parse_extension(response)
        client = factory.process_response_params(params, [])
        check_websockets_interop(client, codec)


def check_websockets_interop(client: object, codec: PerMessageDeflate) -> None:
    from websockets.frames import Frame, Opcode

    messages = [b"", b"hello " * 50, b"hello " * 50, os.urandom(3000), b"", b"x" * 70000]
    for message in messages:
        # client -> server
        frame = client.encode(Frame(Opcode.TEXT, message))  # type: ignore[attr-defined]
        assert frame.rsv1
        assert codec.decompress(frame.data, True, len(message)) == message
        # server -> client
        payload = codec.compress(message)
        decoded = client.decode(Frame(Opcode.TEXT, payload, rsv1=True), max_size=None)  # type: ignore[attr-defined]
        assert decoded.data == message


def test_websockets_accepts_our_empty_message() -> None:
    from websockets.extensions.permessage_deflate import PerMessageDeflate as WSDeflate
    from websockets.frames import Frame, Opcode

    codec = PerMessageDeflate()
    assert codec.compress(b"") == b"\x00"  # RFC 7692 section 7.2.3.6
    client = WSDeflate(False, False, 15, 15)
    for message in (b"abc", b"", b"abc", b""):
        decoded = client.decode(Frame(Opcode.BINARY, codec.compress(message), rsv1=True), max_size=None)
        assert decoded.data == message


# --- codec: round trips and context takeover ---


def test_round_trip_simple() -> None:
    codec = PerMessageDeflate()
    message = b"The quick brown fox jumps over the lazy dog. " * 20
    payload = codec.compress(message)
    assert len(payload) < len(message)
    assert not payload.endswith(TAIL)
    assert PerMessageDeflate().decompress(payload, True, len(message)) == message


def test_context_takeover_makes_second_message_smaller() -> None:
    codec = PerMessageDeflate()
    message = os.urandom(200).hex().encode()  # compresses only by back references
    first = codec.compress(message)
    second = codec.compress(message)
    assert len(second) < len(first) // 4
    client = ZlibClient()
    assert client.decompress(first) == message
    assert client.decompress(second) == message


def test_server_no_context_takeover_resets_between_messages() -> None:
    _, codec = negotiate(f"{PMD}; server_no_context_takeover", S())
    assert codec is not None
    message = os.urandom(200).hex().encode()
    first = codec.compress(message)
    second = codec.compress(message)
    assert len(second) == len(first)
    # Each message decodes on its own, with a fresh inflater (RFC 7692 7.1.1.1).
    client = ZlibClient(reset_inflater=True)
    assert client.decompress(first) == message
    assert client.decompress(second) == message
    assert client.decompress(codec.compress(b"")) == b""


def test_client_context_takeover_kept_by_our_inflater() -> None:
    codec = PerMessageDeflate()
    client = ZlibClient()
    message = os.urandom(300).hex().encode()
    payloads = [client.compress(message) for _ in range(3)]
    assert len(payloads[1]) < len(payloads[0]) // 4
    for payload in payloads:
        assert codec.decompress(payload, True, len(message)) == message


def test_client_no_context_takeover_resets_our_inflater() -> None:
    _, codec = negotiate(f"{PMD}; client_no_context_takeover", S())
    assert codec is not None
    message = os.urandom(300).hex().encode()
    good = ZlibClient(reset_compressor=True)
    for _ in range(3):
        assert codec.decompress(good.compress(message), True, len(message)) == message
    # A client that keeps its context anyway refers to data our inflater
    # dropped at the end of the previous message.
    bad = ZlibClient(reset_compressor=False)
    assert codec.decompress(bad.compress(message), True, len(message)) == message
    with pytest.raises(ProtocolError) as info:
        codec.decompress(bad.compress(message), True, len(message))
    assert info.value.code == 1007


def test_fragmented_message() -> None:
    codec = PerMessageDeflate()
    client = ZlibClient()
    message = b"fragmented message " * 500
    for n in (1, 2, 3, 7, 50):
        frames = split(client.compress(message), n)
        assert inflate_frames(codec, frames, len(message)) == message


def test_large_final_frame_takes_the_two_call_path() -> None:
    codec = PerMessageDeflate()
    client = ZlibClient()
    message = os.urandom(100_000)
    payload = client.compress(message)
    assert len(payload) >= 2048
    assert codec.decompress(memoryview(payload), True, len(message)) == message
    assert codec.decompress(bytearray(client.compress(message)), True, len(message)) == message


def test_empty_messages() -> None:
    codec = PerMessageDeflate()
    client = ZlibClient()
    assert codec.decompress(b"\x00", True, 0) == b""
    assert codec.decompress(client.compress(b""), True, 0) == b""
    assert codec.decompress(client.compress(b"abc"), True, 3) == b"abc"
    assert codec.decompress(b"\x00", True, 0) == b""
    assert codec.decompress(client.compress(b"abc"), True, 3) == b"abc"
    # ours, through our own inflater
    server = PerMessageDeflate()
    for message in (b"", b"x", b"", b"yy"):
        assert codec.decompress(server.compress(message), True, 10) == message


def test_bfinal_block_is_accepted() -> None:
    # RFC 7692 section 7.2.3.3: a message may end with a BFINAL block.
    codec = PerMessageDeflate()
    for message in (b"first " * 10, b"second " * 10):
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = c.compress(message) + c.flush(zlib.Z_FINISH)
        assert codec.decompress(payload, True, 1000) == message


def test_data_after_bfinal_is_rejected() -> None:
    codec = PerMessageDeflate()
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = c.compress(b"abc") + c.flush(zlib.Z_FINISH) + b"junk"
    with pytest.raises(ProtocolError) as info:
        codec.decompress(payload, True, 1000)
    assert info.value.code == 1007


def test_bfinal_in_a_middle_frame() -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = c.compress(b"abc") + c.flush(zlib.Z_FINISH)
    codec = PerMessageDeflate()
    assert codec.decompress(payload, False, 100) == b"abc"
    assert codec.decompress(b"", True, 97) == b""
    assert codec.decompress(payload, False, 100) == b"abc"
    with pytest.raises(ProtocolError) as info:
        codec.decompress(b"xyz", True, 97)
    assert info.value.code == 1007


@pytest.mark.parametrize("payload", [b"\xff\xff\xff\xff", b"\x07" + os.urandom(20), b"\x06\xff\xff"])
def test_corrupt_data(payload: bytes) -> None:
    codec = PerMessageDeflate()
    with pytest.raises(ProtocolError) as info:
        codec.decompress(payload, True, 1000)
    assert info.value.code == 1007
    # The codec stays usable (a fresh inflater) for whoever catches it.
    assert codec.decompress(ZlibClient().compress(b"ok"), True, 2) == b"ok"


def test_limit_exact_fit_and_one_over() -> None:
    message = b"a" * 1000
    payload = ZlibClient().compress(message)
    assert PerMessageDeflate().decompress(payload, True, 1000) == message
    with pytest.raises(ProtocolError) as info:
        PerMessageDeflate().decompress(payload, True, 999)
    assert info.value.code == 1009
    with pytest.raises(ProtocolError):
        PerMessageDeflate().decompress(payload, True, 0)
    with pytest.raises(ProtocolError):
        PerMessageDeflate().decompress(payload, True, -5)


def test_limit_counts_the_whole_fragmented_message() -> None:
    message = os.urandom(5000)
    frames = split(ZlibClient().compress(message), 4)
    assert inflate_frames(PerMessageDeflate(), frames, 5000) == message
    with pytest.raises(ProtocolError) as info:
        inflate_frames(PerMessageDeflate(), frames, 4999)
    assert info.value.code == 1009


# --- 8-bit windows ---


def test_server_window_8_stays_within_256_bytes() -> None:
    _, codec = negotiate(f"{PMD}; server_max_window_bits=8", S())
    assert codec is not None and codec.server_max_window_bits == 8
    block = os.urandom(300)  # repeats at distance 300: too far for 256 bytes
    message = block * 20 + os.urandom(100) + block[:200] * 10
    # Sanity: a 15-bit compressor uses distances an 8-bit inflater rejects.
    wide = ZlibClient(compress_bits=15).compress(message)
    with pytest.raises(zlib.error):
        strict_inflate(zlib.decompressobj(-8), wide + TAIL)
    # Ours (zlib with 9 bits, distances <= 250) decodes with a 256-byte window,
    # across messages too (context takeover).
    inflater = zlib.decompressobj(-8)
    for _ in range(3):
        assert strict_inflate(inflater, codec.compress(message) + TAIL) == message


def test_client_window_8_inflates() -> None:
    _, codec = negotiate(f"{PMD}; client_max_window_bits=8", S())
    assert codec is not None and codec.client_max_window_bits == 8
    client = ZlibClient(compress_bits=9)  # what a zlib client does for 8
    message = os.urandom(100) * 30
    for _ in range(3):
        assert codec.decompress(client.compress(message), True, len(message)) == message


# --- compression bomb ---


@pytest.fixture(scope="module")
def gib_bomb() -> bytes:
    """1 GiB of zeros, deflated (about 1 MB), built 1 MiB at a time."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MiB)
    parts = [c.compress(chunk) for _ in range(1024)]
    parts.append(c.flush(zlib.Z_SYNC_FLUSH))
    bomb = b"".join(parts)
    assert bomb.endswith(TAIL)
    return bomb[:-4]


def test_bomb_one_frame_bounded(gib_bomb: bytes) -> None:
    assert len(gib_bomb) < 2 * MiB
    limit = 16 * MiB
    codec = PerMessageDeflate()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with pytest.raises(ProtocolError) as info:
            codec.decompress(gib_bomb, True, limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == 1009
    assert peak - before < limit + MiB


def test_bomb_fragmented_bounded(gib_bomb: bytes) -> None:
    limit = 4 * MiB
    codec = PerMessageDeflate()
    frames = [gib_bomb[i:i + 65536] for i in range(0, len(gib_bomb), 65536)]
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with pytest.raises(ProtocolError) as info:
            total = 0
            for i, frame in enumerate(frames):
                total += len(codec.decompress(frame, i == len(frames) - 1, limit - total))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == 1009
    assert peak - before < limit + MiB


# --- hypothesis round trips ---

messages_st = st.lists(st.binary(max_size=3000) | st.text(max_size=500).map(str.encode), min_size=1, max_size=6)
bits_st = st.integers(min_value=8, max_value=15)


header_alphabet = st.sampled_from(list(' ,;="\\\t=8915xabc_-') + ["permessage-deflate", "server_max_window_bits",
                                   "client_max_window_bits", "server_no_context_takeover",
                                   "client_no_context_takeover", "\x7f", "é"])


@hsettings(max_examples=300, deadline=None)
@given(values=st.lists(st.lists(header_alphabet, max_size=25).map("".join), max_size=3))
def test_hypothesis_negotiate_never_raises(values: list[str]) -> None:
    response, codec = negotiate(values, S())
    if response is None:
        assert codec is None
    else:
        # Whatever we answer parses back as one permessage-deflate extension.
        [(name, params)] = parse_extensions(response)
        assert name == PMD and codec is not None


@hsettings(max_examples=60, deadline=None)
@given(messages=messages_st, server_nct=st.booleans(), bits=bits_st, level=st.integers(-1, 9))
def test_hypothesis_server_to_client(messages: list[bytes], server_nct: bool, bits: int, level: int) -> None:
    codec = PerMessageDeflate(server_no_context_takeover=server_nct, server_max_window_bits=bits,
                              compression_level=level)
    # A client inflating with exactly the negotiated window, resetting only
    # when the server said it will not keep context.
    client = ZlibClient(inflate_bits=bits, reset_inflater=server_nct)
    for message in messages:
        assert client.decompress(codec.compress(message)) == message


@hsettings(max_examples=60, deadline=None)
@given(messages=messages_st, client_nct=st.booleans(), bits=st.integers(9, 15), frames=st.integers(1, 5))
def test_hypothesis_client_to_server(messages: list[bytes], client_nct: bool, bits: int, frames: int) -> None:
    codec = PerMessageDeflate(client_no_context_takeover=client_nct, client_max_window_bits=bits)
    client = ZlibClient(compress_bits=bits, reset_compressor=client_nct)
    for message in messages:
        assert inflate_frames(codec, split(client.compress(message), frames), len(message)) == message


@hsettings(max_examples=60, deadline=None)
@given(messages=messages_st, nct=st.booleans())
def test_hypothesis_ours_to_ours(messages: list[bytes], nct: bool) -> None:
    sender = PerMessageDeflate(server_no_context_takeover=nct)
    receiver = PerMessageDeflate(client_no_context_takeover=nct)
    for message in messages:
        assert receiver.decompress(sender.compress(message), True, len(message)) == message
