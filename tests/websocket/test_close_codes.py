"""Tests of kitura/websocket/close_codes.py (RFC 6455 7.4)."""

from __future__ import annotations

import pickle

import pytest

from kitura.websocket.close_codes import WebSocketCloseReasonCode as Code
from kitura.websocket.close_codes import is_valid_close_code

NAMED = {
    "NORMAL": 1000,
    "GOING_AWAY": 1001,
    "PROTOCOL_ERROR": 1002,
    "INVALID_DATA_TYPE": 1003,
    "NO_REASON_CODE_SENT": 1005,
    "CLOSED_ABNORMALLY": 1006,
    "INVALID_DATA_CONTENTS": 1007,
    "POLICY_VIOLATION": 1008,
    "MESSAGE_TOO_LARGE": 1009,
    "EXTENSION_MISSING": 1010,
    "SERVER_ERROR": 1011,
}


def test_named_members_and_codes() -> None:
    assert {m.name: m.value for m in Code} == NAMED
    for name, value in NAMED.items():
        member = Code[name]
        assert member.code() == value
        assert Code(value) is member
        # Kitura's from(code:): 1005 and 1006 never appear in a Close frame
        assert Code.from_code(value) is (Code.PROTOCOL_ERROR if value in (1005, 1006) else member)
        assert not member.is_user_defined


def test_user_defined_is_equal_and_hashable_per_code() -> None:
    a = Code.user_defined(4000)
    b = Code.user_defined(4000)
    assert a == b and a is b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a != Code.user_defined(4001)
    assert a.code() == 4000
    assert a.is_user_defined
    assert isinstance(a, Code)
    assert Code(4000) is a
    assert Code.from_code(4000) is a
    assert "user_defined(4000)" in repr(a)
    assert pickle.loads(pickle.dumps(a)) is a


def test_from_code_maps_unknown_codes_as_kitura() -> None:
    # WebSocketCloseReasonCode.from(code:): below 3000 an unknown code is a protocol error
    for code in (0, 999, 1004, 1012, 1015, 2999):
        assert Code.from_code(code) is Code.PROTOCOL_ERROR
    for code in (3000, 4000, 4999, 5000, 65535):
        assert Code.from_code(code) is Code.user_defined(code) and Code.from_code(code).code() == code


def test_user_defined_of_a_named_code_is_the_member() -> None:
    assert Code.user_defined(1000) is Code.NORMAL
    assert Code.from_code(1009) is Code.MESSAGE_TOO_LARGE


def test_user_defined_does_not_add_members() -> None:
    Code.user_defined(3123)
    assert len(list(Code)) == len(NAMED)


@pytest.mark.parametrize("bad", [-1, 65536, 1.5, "1000", True])
def test_user_defined_rejects_non_16_bit_codes(bad: object) -> None:
    with pytest.raises(ValueError):
        Code.user_defined(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code",
    [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999],
)
def test_valid_close_codes(code: int) -> None:
    assert is_valid_close_code(code)


@pytest.mark.parametrize(
    "code", [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_invalid_close_codes(code: int) -> None:
    assert not is_valid_close_code(code)


def test_valid_close_codes_exhaustive() -> None:
    valid = {c for c in range(0x10000) if is_valid_close_code(c)}
    expected = {1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)}
    assert valid == expected
