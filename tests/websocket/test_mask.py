"""Tests of kitura/websocket/mask.py: the C and the pure-Python apply_mask (RFC 6455 5.3)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.websocket import mask as mask_module
from kitura.websocket.mask import c_apply_mask, py_apply_mask

IMPLEMENTATIONS = [
    pytest.param(py_apply_mask, id="python"),
    pytest.param(
        c_apply_mask,
        id="c",
        marks=pytest.mark.skipif(c_apply_mask is None, reason="_speedups not built"),
    ),
]

MASKS = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x37\xfa\x21\x3d", b"abcd"]


def reference(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def test_apply_mask_is_the_c_version_when_built() -> None:
    if c_apply_mask is not None:
        assert mask_module.apply_mask is c_apply_mask
    else:
        assert mask_module.apply_mask is py_apply_mask


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("size", list(range(0, 18)) + [31, 32, 33, 125, 126, 4095, 65536, 65537])
@pytest.mark.parametrize("mask", MASKS)
def test_matches_reference(impl: Callable[[bytes, bytes], bytes], size: int, mask: bytes) -> None:
    data = os.urandom(size)
    out = impl(data, mask)
    assert type(out) is bytes
    assert out == reference(data, mask)
    assert impl(out, mask) == data


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_empty(impl: Callable[[bytes, bytes], bytes]) -> None:
    assert impl(b"", b"abcd") == b""


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_buffer_types(impl: Callable[[bytes, bytes], bytes], wrap: Callable[[bytes], object]) -> None:
    data = os.urandom(1000)
    mask = b"\x01\x02\x03\x04"
    assert impl(wrap(data), wrap(mask)) == reference(data, mask)  # type: ignore[arg-type]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("offset", range(8))
def test_unaligned_memoryview_slices(impl: Callable[[bytes, bytes], bytes], offset: int) -> None:
    data = os.urandom(300)
    mask = b"\x9a\xbc\xde\xf0"
    view = memoryview(bytearray(data))[offset : offset + 257]
    assert impl(view, mask) == reference(data[offset : offset + 257], mask)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("bad_mask", [b"", b"abc", b"abcde"])
def test_mask_must_have_4_bytes(impl: Callable[[bytes, bytes], bytes], bad_mask: bytes) -> None:
    with pytest.raises(ValueError):
        impl(b"data", bad_mask)


@pytest.mark.skipif(c_apply_mask is None, reason="_speedups not built")
def test_c_and_python_agree_on_large_input() -> None:
    data = os.urandom((1 << 20) + 13)  # past the C version's GIL-release threshold
    assert c_apply_mask(data, b"wxyz") == py_apply_mask(data, b"wxyz")  # type: ignore[misc]


@pytest.mark.skipif(c_apply_mask is None, reason="_speedups not built")
@given(data=st.binary(max_size=300), mask=st.binary(min_size=4, max_size=4))
def test_c_and_python_agree(data: bytes, mask: bytes) -> None:
    assert c_apply_mask(data, mask) == py_apply_mask(data, mask)  # type: ignore[misc]


def test_fallback_when_extension_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import sys

    monkeypatch.setitem(sys.modules, "kitura.websocket._speedups", None)  # import fails
    spec = importlib.util.spec_from_file_location("kitura.websocket._mask_copy", mask_module.__file__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    assert copy.c_apply_mask is None
    assert copy.apply_mask is copy.py_apply_mask
    assert copy.apply_mask(b"\x00\x01\x02\x03\x04", b"abcd") == reference(b"\x00\x01\x02\x03\x04", b"abcd")
