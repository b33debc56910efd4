"""HeadersContainer's two cores: the C ``_speedups.HeadersCore`` and its pure-Python
reference ``PyHeadersCore`` give the same map, results and errors for the same calls
(generated sequences of operations, and the edge cases by hand)."""

from __future__ import annotations

import gc
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitura.net import headers as headers_module
from kitura.net.headers import HeadersContainer, HeadersMethods, PyHeadersCore

C_CORE = headers_module.HeadersCore if headers_module.HeadersCore is not PyHeadersCore else None
needs_c = pytest.mark.skipif(C_CORE is None, reason="kitura.net._speedups not built (or KITURA_NO_EXTENSIONS=1)")

PyHeaders = type("PyHeaders", (HeadersMethods, PyHeadersCore), {"__slots__": ()})
CHeaders = type("CHeaders", (HeadersMethods, C_CORE), {"__slots__": ()}) if C_CORE else None

NAMES = st.sampled_from(["Content-Type", "content-type", "Set-Cookie", "Cookie", "X-A", "x-a", "Host", "Via",
                         "bad name", "", "Ünicode"])
VALUES = st.one_of(st.sampled_from(["text/plain", "a=1", "", "x\r\ny", "nul\0", "☃", "é"]),
                   st.lists(st.sampled_from(["1", "2", "a\nb"]), max_size=3), st.none(), st.integers(0, 9))
OPS = st.lists(st.tuples(st.sampled_from(["set", "del", "get", "append", "contains", "first", "len", "iter",
                                          "remove_all", "entry_map"]), NAMES, VALUES), max_size=12)
RAW = st.lists(st.tuples(st.sampled_from([b"Host", b"Cookie", b"cookie", b"Set-Cookie", b"X-A", b"Content-Type",
                                          b"\xe9t\xe9"]),
                         st.sampled_from([b"a", b"b=2", b"", b"caf\xe9"])), max_size=6)


def apply(headers, ops):
    """What each operation returned or raised, then the map."""
    out = []
    for op, name, value in ops:
        try:
            if op == "set":
                headers[name] = value
                result = None
            elif op == "del":
                del headers[name]
                result = None
            elif op == "get":
                result = headers[name]
            elif op == "append":
                headers.append(name, value)
                result = None
            elif op == "contains":
                result = name in headers
            elif op == "first":
                result = headers.first(name, "default")
            elif op == "len":
                result = len(headers)
            elif op == "iter":
                result = list(headers)
            elif op == "remove_all":
                result = headers.remove_all()
            else:
                result = dict(headers.entry_map())
            out.append(("ok", result))
        except Exception as exc:  # noqa: BLE001 - part of what is compared
            out.append(("raised", type(exc).__name__, str(exc)))
    out.append(("map", headers.entry_map(), repr(headers), bool(headers)))
    return out


@needs_c
@given(OPS)
def test_the_cores_agree_on_generated_operations(ops):
    assert apply(CHeaders(), ops) == apply(PyHeaders(), ops)


@needs_c
@given(RAW, OPS)
def test_the_cores_agree_on_parsed_headers(raw, ops):
    assert apply(CHeaders.from_raw(list(raw)), ops) == apply(PyHeaders.from_raw(list(raw)), ops)


@needs_c
def test_the_cores_agree_on_construction_and_odd_arguments():
    for cls in (CHeaders, PyHeaders):
        assert list(cls([("A", "1"), ("a", ["2", "3"]), ("Set-Cookie", "x"), ("Set-Cookie", "y")])) == \
            [("A", ["1, 2, 3"]), ("Set-Cookie", ["x", "y"])]
    for args in ([("A",)], [("bad name", "1")], 5, [("A", None)]):
        errors = []
        for cls in (CHeaders, PyHeaders):
            try:
                cls(args)
            except Exception as exc:  # noqa: BLE001 - compared
                errors.append(type(exc).__name__)
        assert errors[0] == errors[1], args
    for name in (b"bytes", 5, None):
        outcomes = []
        for cls in (CHeaders, PyHeaders):
            headers = cls([("A", "1")])
            outcome = []
            for op in ("set", "get", "contains", "del"):
                outcome.extend(apply(headers, [(op, name, "v")])[:1])
            outcomes.append([entry[:2] for entry in outcome])
        assert outcomes[0] == outcomes[1], name


@pytest.mark.parametrize("cls", [PyHeaders, pytest.param(CHeaders, marks=needs_c)], ids=["py", "c"])
def test_parsed_headers_are_decoded_once_with_kitura_merge_rules(cls):
    raw = [(b"Host", b"example.org"), (b"Cookie", b"a=1"), (b"cookie", b"b=2"), (b"Set-Cookie", b"s=1"),
           (b"Set-Cookie", b"t=2"), (b"Content-Type", b"text/plain"), (b"content-type", b"text/html"),
           (b"X-Caf\xe9", b"caf\xe9")]
    headers = cls.from_raw(raw)
    assert headers._raw is raw
    assert headers["cookie"] == ["a=1; b=2"]
    assert headers._raw is None
    assert headers["Set-Cookie"] == ["s=1", "t=2"]
    assert headers["CONTENT-TYPE"] == ["text/plain"]  # a second single-value header is discarded
    assert headers.first("x-café") == "café"
    headers["Host"] = "other"
    assert headers.entry_map()["host"] == ["Host", ["other"]]


@pytest.mark.parametrize("cls", [PyHeaders, pytest.param(CHeaders, marks=needs_c)], ids=["py", "c"])
def test_a_container_is_freed_by_reference_counts(cls):
    value = "".join(["a value ", "of its own"])
    before = sys.getrefcount(value)
    gc.disable()
    try:
        headers = cls([("A", value)])
        headers["B"] = value
        assert sys.getrefcount(value) == before + 2
        del headers
        assert sys.getrefcount(value) == before
    finally:
        gc.enable()


def test_the_public_container_uses_the_selected_core():
    assert issubclass(HeadersContainer, headers_module.HeadersCore)
    assert issubclass(HeadersContainer, HeadersMethods)


@pytest.mark.parametrize("cls", [PyHeaders, pytest.param(CHeaders, marks=needs_c)], ids=["py", "c"])
def test_a_container_copies_into_one_of_its_own(cls):
    import copy

    headers = cls.from_raw([(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"), (b"X-A", b"1")])
    headers["X-List"] = ["1", "2"]
    for copied in (copy.copy(headers), copy.deepcopy(headers)):
        assert type(copied) is cls and list(copied) == list(headers)
        copied["X-A"] = "changed"
        assert headers["X-A"] == ["1"]


def test_the_public_container_pickles():
    import pickle

    pickled = pickle.loads(pickle.dumps(HeadersContainer([("Set-Cookie", "a"), ("Set-Cookie", "b")])))
    assert type(pickled) is HeadersContainer and pickled["set-cookie"] == ["a", "b"]
