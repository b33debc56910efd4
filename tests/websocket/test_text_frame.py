"""frames.text_frame (C) and frames.py_text_frame: a str framed as a server's final
uncompressed text frame, checked against encode_frame and read back by FrameReader."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.websocket import frames as frames_module
from kitura.websocket.frames import OP_TEXT, FrameReader, c_text_frame, encode_frame, py_text_frame

IMPLEMENTATIONS = [
    pytest.param(py_text_frame, id="python"),
    pytest.param(
        c_text_frame,
        id="c",
        marks=pytest.mark.skipif(c_text_frame is None, reason="_speedups not built"),
    ),
]


def test_the_c_version_is_chosen_when_built():
    expected = c_text_frame if c_text_frame is not None else py_text_frame
    assert frames_module.text_frame is expected


def read_back(frame: bytes):
    reader = FrameReader(require_mask=False)
    reader.feed(frame)
    parsed = reader.next_frame()
    assert reader.next_frame() is None and not reader.buf  # exactly one frame
    return parsed


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("length", [0, 1, 32, 125, 126, 127, 65535, 65536, 70000])
@pytest.mark.parametrize("char", ["x", "é", "€", "😀"])
def test_every_length_encoding_and_width(impl, length, char):
    text = char * length
    frame = impl(text)
    assert type(frame) is bytes
    assert frame == encode_frame(OP_TEXT, text.encode("utf-8"))
    parsed = read_back(frame)
    assert (parsed.fin, parsed.rsv, parsed.opcode) == (True, 0, OP_TEXT)
    assert parsed.payload.decode("utf-8") == text


@given(st.text(max_size=300))
def test_both_agree_with_encode_frame(text):
    expected = encode_frame(OP_TEXT, text.encode("utf-8"))
    assert py_text_frame(text) == expected
    if c_text_frame is not None:
        assert c_text_frame(text) == expected


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_lone_surrogate_fails_as_str_encode_does(impl):
    with pytest.raises(UnicodeEncodeError):
        impl("ab\ud800")


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_a_str_subclass_is_framed_as_its_value(impl):
    class Named(str):
        pass

    assert impl(Named("héllo")) == encode_frame(OP_TEXT, "héllo".encode("utf-8"))


def test_the_c_version_takes_only_a_str():
    if c_text_frame is None:
        pytest.skip("_speedups not built")
    with pytest.raises(TypeError):
        c_text_frame(b"bytes")  # type: ignore[arg-type]
