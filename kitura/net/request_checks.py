"""RFC 9112 checks of a request's target and ``Host`` value, free of I/O.

A server answers 400 to a ``Host`` with an invalid value (RFC 9112 3.2) and to a
request target that is none of the forms it serves (3.2). Checked once when the head is
parsed, so that what the application later derives from them (``url_url``, the
Router's path) cannot fail on malformed input.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["valid_host", "valid_target"]

# RFC 3986 reg-name or IPv4 (unreserved / pct-encoded / sub-delims), then an optional port.
_REG_NAME_HOST = re.compile(rb"[A-Za-z0-9\-._~!$&'()*+,;=%]*(?::[0-9]*)?")

_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*://")


#: Host values found valid (a server sees few): checked once each (every request has one).
_valid_hosts: set[bytes] = set()


def valid_host(value: bytes) -> bool:
    """True when ``value`` is a valid ``Host`` field value (``uri-host [":" port]``)."""
    if value in _valid_hosts:
        return True
    if _REG_NAME_HOST.fullmatch(value) is None:
        if value[:1] != b"[":
            return False
        try:  # an IP literal: rare, so let urlsplit judge it as url_url will
            if not urlsplit("//" + value.decode("ascii")).hostname:
                return False
        except (ValueError, UnicodeDecodeError):
            return False
    if len(_valid_hosts) < 256:
        _valid_hosts.add(value)
    return True


def valid_target(target: bytes) -> bool:
    """True for an origin-form (``/p?q``), absolute-form (``scheme://...``) or ``*`` target.

    Authority-form is for CONNECT only, which this server does not serve.
    """
    if target[:1] == b"/" or target == b"*":
        return True
    if _SCHEME.match(target) is None:
        return False
    try:
        urlsplit(target.decode("latin-1"))
    except ValueError:
        return False
    return True
