"""The server side of the WebSocket opening handshake (RFC 6455 section 4).

This module checks an upgrade request that the HTTP layer has already parsed
and builds the ``101 Switching Protocols`` head. It is part of the websocket
core: no I/O, no asyncio, nothing from other kitura layers. Rejections are
raised as :class:`HandshakeError`, which carries the HTTP answer (status,
body, extra headers); the body texts are Kitura-WebSocket's.

``headers`` arguments follow Kitura's HeadersContainer: ``headers[name]`` is
case-insensitive and gives a list of str values or None; several values may
also arrive comma-merged in one string. A plain dict works too (a missing key
counts as absent, a str value as a one-item list).
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from .errors import WebSocketError
from .mask import NO_EXTENSIONS

__all__ = [
    "WEBSOCKET_GUID",
    "HandshakeError",
    "accept_key",
    "build_response",
    "check_origin",
    "check_request",
    "choose_subprotocol",
    "handshake_fields",
    "header_values",
    "no_service_body",
    "plain_handshake",
]

# RFC 6455 section 1.3 (and 4.2.2 step 5.4): the GUID appended to the key.
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_sha1 = hashlib.sha1
# What base64.b64decode(..., validate=True) accepts.
_BASE64 = re.compile(b"[A-Za-z0-9+/]*={0,2}")

# Kitura-WebSocket's texts for the 400 answers.
_NO_KEY = "Sec-WebSocket-Key header missing in the upgrade request"
_NO_VERSION = "Sec-WebSocket-Version header missing in the upgrade request"
_BAD_VERSION = "Only WebSocket protocol version 13 is supported"
_NO_SERVICE = "No service has been registered for the path "


class HandshakeError(WebSocketError):
    """A rejected upgrade request and the HTTP answer to send.

    ``status``: the HTTP status (400, or 405 for a method other than GET);
    ``body``: the text of the answer; ``headers``: extra response headers.
    """

    def __init__(self, status: int, body: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers: list[tuple[str, str]] = list(headers) if headers else []

    def __str__(self) -> str:
        return f"{self.status} {self.body}"


def header_values(headers: Any, name: str) -> list[str]:
    """All values of header ``name``, comma-merged values split, blanks dropped.

    Only for headers whose grammar is a comma-separated list (RFC 7230
    section 7); ``headers`` as described in the module docstring.
    """
    if headers.__class__ is dict:  # handshake_fields' answer: one list of one str per field
        values = headers.get(name)
        if values is None:
            return []
        if values.__class__ is list and len(values) == 1:
            value = values[0]
            if value.__class__ is str and "," not in value:
                value = value.strip()
                return [value] if value else []
    values = _raw_values(headers, name)
    if len(values) == 1 and "," not in values[0]:  # the common case: one plain value
        value = values[0].strip()
        return [value] if value else []
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


#: The fields the opening handshake reads, by lower-case raw name.
_HANDSHAKE_FIELDS = {
    b"sec-websocket-key": "Sec-WebSocket-Key",
    b"sec-websocket-version": "Sec-WebSocket-Version",
    b"sec-websocket-protocol": "Sec-WebSocket-Protocol",
    b"sec-websocket-extensions": "Sec-WebSocket-Extensions",
    b"origin": "Origin",
}


def handshake_fields(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    """The fields the handshake reads, from raw ``(name, value)`` header pairs (bytes, as
    parsed): ``{"Sec-WebSocket-Key": [value], ...}``, a mapping ``check_request`` and
    ``header_values`` take. A repeated field is merged into one value with ", ", as
    ``HeadersContainer`` merges it, so both give the same answers."""
    fields: dict[str, list[str]] = {}
    wanted = _HANDSHAKE_FIELDS
    for name, value in pairs:
        key = wanted.get(name.lower()) if len(name) > 5 else None
        if key is not None:
            text = value.decode("latin-1")
            old = fields.get(key)
            fields[key] = [text] if old is None else [f"{old[0]}, {text}"]
    return fields


#: The same fields by lower-case raw name, as indexes into plain_handshake's slots.
_PLAIN_SLOTS = {
    b"sec-websocket-key": 0,
    b"sec-websocket-version": 1,
    b"sec-websocket-protocol": 2,
    b"sec-websocket-extensions": 3,
    b"origin": 4,
}
#: A key as a client makes it: 16 random bytes in base64, 22 digits and "==".
_PLAIN_KEY = re.compile(b"[A-Za-z0-9+/]{22}==")


def py_plain_handshake(pairs: Iterable[tuple[bytes, bytes]]) -> tuple[str, bytes, Any, Any, Any] | None:
    """The pure-Python twin of ``_speedups.plain_handshake`` (and the reference for it).

    The fast path of an upgrade, from raw ``(name, value)`` header pairs (bytes, as
    parsed), in one pass: for a request whose Sec-WebSocket-Key and
    Sec-WebSocket-Version each appear exactly once, the version being exactly ``13``
    and the key exactly 22 base64 digits and ``==`` (16 bytes), and whose
    Sec-WebSocket-Protocol, Sec-WebSocket-Extensions and Origin appear at most once
    each, ``(key, head, protocol, extensions, origin)``: the key (str), the 101 head
    ``build_response(key)`` (without Sec-WebSocket-Protocol/-Extensions), and the
    three other fields' values (str, latin-1) or None where absent. ``None`` for every
    other request: ``check_request`` on ``handshake_fields(pairs)`` then gives its
    answer. For the requests it takes, that answer is the same key (so the two paths
    agree; tests/websocket/test_plain_handshake.py checks both twins against it).
    The method (GET only) is the caller's to check.
    """
    slots: list[Any] = [None, None, None, None, None]
    wanted = _PLAIN_SLOTS
    for name, value in pairs:
        size = len(name)
        if size != 6 and not 17 <= size <= 24:
            continue
        i = wanted.get(name.lower())
        if i is not None:
            if slots[i] is not None:
                return None  # repeated: the general path merges and checks
            slots[i] = value
    key, version, protocol, extensions, origin = slots
    if version != b"13" or key is None or not _PLAIN_KEY.fullmatch(key):
        return None
    text = key.decode("ascii")
    return (text, _HEAD_101 + _accept_key_bytes(text) + b"\r\n\r\n",
            None if protocol is None else protocol.decode("latin-1"),
            None if extensions is None else extensions.decode("latin-1"),
            None if origin is None else origin.decode("latin-1"))


def _raw_values(headers: Any, name: str) -> list[str]:
    try:
        values = headers[name]
    except KeyError:
        return []
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if values.__class__ is list and len(values) == 1 and values[0].__class__ is str:
        return values  # what the list below would be (HeadersContainer gives a fresh list)
    return [str(v) for v in values]


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 section 4.2.2, step 5.4)."""
    return _accept_key_bytes(key).decode("ascii")


def _accept_key_bytes(key: str) -> bytes:
    # base64.b64encode without its wrapper: b2a_base64 is what it calls.
    return binascii.b2a_base64(_sha1((key + WEBSOCKET_GUID).encode("ascii")).digest(), newline=False)


def check_request(headers: Any, method: str | None = None) -> str:
    """Check an upgrade request (RFC 6455 section 4.2.1); return its key.

    Raises :class:`HandshakeError` with Kitura's 400 answers, checked in
    Kitura-WebSocket-NIO's order: key missing, key repeated, version missing,
    version repeated, version not 13 (that answer carries
    ``Sec-WebSocket-Version: 13``, RFC 6455 section 4.4). Also rejects a key
    that is not the base64 form of 16 bytes (section 4.1, item 7) and, when
    ``method`` is given, a method other than GET (section 4.1, item 2).
    """
    # Section 4.1, item 2: "The method of the request MUST be GET".
    if method is not None and method != "GET" and method.upper() != "GET":
        raise HandshakeError(405, "The WebSocket upgrade request must use the GET method", [("Allow", "GET")])
    keys = header_values(headers, "Sec-WebSocket-Key")
    if not keys:
        raise HandshakeError(400, _NO_KEY)
    if len(keys) > 1:
        raise HandshakeError(400, "Sec-WebSocket-Key header must appear exactly once in the upgrade request")
    key = keys[0]
    versions = header_values(headers, "Sec-WebSocket-Version")
    if not versions:
        raise HandshakeError(400, _NO_VERSION)
    if len(versions) > 1:
        raise HandshakeError(400, "Sec-WebSocket-Version header must appear exactly once in the upgrade request")
    # Section 4.2.2 / 4.4: answer an unsupported version with the one we speak.
    if versions[0] != "13":
        raise HandshakeError(400, _BAD_VERSION, [("Sec-WebSocket-Version", "13")])
    # Section 4.1, item 7: the key is a base64-encoded 16-byte random value.
    # base64.b64decode(..., validate=True), with its pattern compiled once.
    try:
        data = key.encode("ascii")
        if not _BASE64.fullmatch(data):
            raise binascii.Error("Non-base64 digit found")
        raw = binascii.a2b_base64(data)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise HandshakeError(400, "Sec-WebSocket-Key header must be the base64 encoding of 16 bytes")
    return key


def no_service_body(path: str) -> str:
    """Kitura's 400 text for a path without a registered service, e.g.
    ``No service has been registered for the path /x``."""
    if not path.startswith("/"):
        path = "/" + path
    return _NO_SERVICE + path


def _check_header_value(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{name} value must not contain CR, LF or NUL: {value!r}")
    return value


_HEAD_101 = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: "
)


def build_response(key: str, *, extensions: str | None = None, subprotocol: str | None = None) -> bytes:
    """The full 101 response head (RFC 6455 section 4.2.2, step 5), ending with CRLF CRLF."""
    head = _HEAD_101 + _accept_key_bytes(key)
    if not subprotocol and not extensions:
        return head + b"\r\n\r\n"
    lines = [head.decode("latin-1")]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {_check_header_value('Sec-WebSocket-Protocol', subprotocol)}")
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {_check_header_value('Sec-WebSocket-Extensions', extensions)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


#: The C twin (kitura/websocket/_speedups.c) unless KITURA_NO_EXTENSIONS=1 or not built.
plain_handshake: Callable[[Iterable[tuple[bytes, bytes]]], tuple[str, bytes, Any, Any, Any] | None] = \
    py_plain_handshake
if not NO_EXTENSIONS:
    try:
        from ._speedups import plain_handshake  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # the optional extension was not built
        pass


def choose_subprotocol(offered: Iterable[str] | str | None, supported: Sequence[str]) -> str | None:
    """Pick the subprotocol to answer with (RFC 6455 section 4.2.2, step 5.3 /subprotocol/).

    ``offered``: the Sec-WebSocket-Protocol header values (comma-separated
    tokens). The server's preference wins: the first entry of ``supported``
    that the client offered, since the server knows best which of its
    implementations to use and RFC 6455 leaves the choice to it. Names are
    compared exactly (they are case-sensitive tokens). None if there is no
    match, in which case the response has no Sec-WebSocket-Protocol header.
    """
    if not offered or not supported:
        return None
    if isinstance(offered, str):
        offered = [offered]
    tokens = {item.strip() for value in offered for item in value.split(",")}
    tokens.discard("")
    for name in supported:
        if name in tokens:
            return name
    return None


_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _normalize_origin(origin: str) -> str:
    """scheme://host[:port] with lower-case scheme and host and no default port.

    Anything that is not such a URL (for example ``null``, RFC 6454 section
    7.1) is compared as its lower-cased text.
    """
    text = origin.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.lower()
    if not parts.scheme or not parts.hostname or parts.username or parts.password:
        return text.lower()
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return text.lower()
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def check_origin(origin: str | Sequence[str] | None, allowed_origins: Iterable[str] | None) -> bool:
    """Whether a request's Origin (RFC 6455 section 4.2.1, item 8; RFC 6454) is allowed.

    ``allowed_origins`` None allows everything, and so does an entry ``"*"``.
    Otherwise the Origin must equal one entry as ``scheme://host[:port]``:
    scheme and host are compared case-insensitively, a default port (80 for
    http/ws, 443 for https/wss) equals no port, and no wildcard subdomains.
    A missing Origin is rejected when a list is configured: browsers always
    send it on WebSocket requests, and the check exists to stop other sites'
    pages; clients that are not browsers can set the header themselves.
    ``origin`` may be the header's list of values: exactly one is required.
    """
    if allowed_origins is None:
        return True
    allowed = list(allowed_origins)
    if "*" in allowed:
        return True
    if origin is not None and not isinstance(origin, str):
        values = list(origin)
        if len(values) != 1:
            return False
        origin = values[0]
    if not origin:
        return False
    wanted = _normalize_origin(origin)
    return any(_normalize_origin(entry) == wanted for entry in allowed)
