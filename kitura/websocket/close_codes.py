"""Close status codes (RFC 6455 section 7.4).

This module owns ``WebSocketCloseReasonCode`` (the public enum of Kitura's
``WebSocketCloseReasonCode``) and ``is_valid_close_code``. It imports only
the standard library.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["WebSocketCloseReasonCode", "is_valid_close_code"]


class WebSocketCloseReasonCode(enum.Enum):
    """The reason a WebSocket connection closed, as in Kitura-WebSocket.

    Swift's ``.userDefined(UInt16)`` case becomes the factory
    ``WebSocketCloseReasonCode.user_defined(code)``; it gives one cached
    pseudo-member per code, so ``user_defined(4000) == user_defined(4000)``,
    ``user_defined(4000) is user_defined(4000)`` and both hash alike.
    ``WebSocketCloseReasonCode(4000)`` gives the same object.
    """

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    INVALID_DATA_TYPE = 1003
    NO_REASON_CODE_SENT = 1005
    CLOSED_ABNORMALLY = 1006
    INVALID_DATA_CONTENTS = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_LARGE = 1009
    EXTENSION_MISSING = 1010
    SERVER_ERROR = 1011

    @classmethod
    def _missing_(cls, value: Any) -> WebSocketCloseReasonCode | None:
        # Any other 16-bit code is "user defined": build a pseudo-member once
        # and cache it in the value map so later lookups return the same object.
        if type(value) is not int or not 0 <= value <= 0xFFFF:
            return None
        member = object.__new__(cls)
        member._value_ = value
        member._name_ = f"user_defined({value})"
        return cls._value2member_map_.setdefault(value, member)  # type: ignore[return-value,unused-ignore]

    @classmethod
    def user_defined(cls, code: int) -> WebSocketCloseReasonCode:
        """The code ``code`` (0..65535) as a member; Kitura's ``.userDefined(code)``.

        A code that has a named member gives that member
        (``user_defined(1000) is NORMAL``). Raises ``ValueError`` outside 0..65535.
        """
        return cls(code)

    @classmethod
    def from_code(cls, code: int) -> WebSocketCloseReasonCode:
        """Kitura's ``from(code:)``: the named member for a code a Close frame may carry
        (1000-1003, 1007-1011), ``PROTOCOL_ERROR`` for any other code below 3000 (1005
        and 1006 included: they never appear on the wire), else ``user_defined(code)``.

        ``WebSocketCloseReasonCode(code)`` gives the member of any code as it is.
        """
        member = cls(code)
        if code < 3000 and (member.is_user_defined or code in (1005, 1006)):
            return cls.PROTOCOL_ERROR
        return member

    def code(self) -> int:
        """The numeric close code (Kitura's ``code()``)."""
        return self._value_

    @property
    def is_user_defined(self) -> bool:
        """True for codes made by ``user_defined`` (no named member)."""
        return self._name_.startswith("user_defined(")


# RFC 6455 7.4.1 / 7.4.2: codes an endpoint may put in a Close frame.
# 1004 is reserved, 1005/1006/1015 must never be sent, 1016-2999 are reserved
# for future RFCs (1012-1014 are registered with IANA and allowed),
# 3000-3999 are registered by libraries, 4000-4999 are private.
_VALID_STANDARD = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


def is_valid_close_code(code: int) -> bool:
    """True when ``code`` may appear in a Close frame (RFC 6455 section 7.4)."""
    return code in _VALID_STANDARD or 3000 <= code <= 4999
