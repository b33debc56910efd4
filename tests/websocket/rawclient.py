"""A tiny raw WebSocket client for tests: exact frames out, parsed frames in, bounded waits."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time


def mask_payload(payload: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def client_frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, masked: bool = True,
                 mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if masked:
        return head + mask + mask_payload(payload, mask)
    return head + payload


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason



def take_server_frame(buf: bytes) -> tuple[tuple[int, bytes, bool, int], bytes] | None:
    """The first whole server frame in ``buf`` as ((opcode, payload, fin, rsv), the rest),
    or None while it is incomplete. Server frames are never masked."""
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    assert not b1 & 0x80, "server frames must not be masked"
    n, offset = b1 & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, offset = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, offset = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < offset + n:
        return None
    return (b0 & 0x0F, buf[offset:offset + n], bool(b0 & 0x80), (b0 >> 4) & 7), buf[offset + n:]

class RawClient:
    def __init__(self, port: int, path: str = "/echo", headers: str = "", timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n{headers}\r\n").encode())
        self.response_head = self._read_until(b"\r\n\r\n", timeout)
        assert self.response_head.startswith(b"HTTP/1.1 101"), self.response_head

    def _read_until(self, marker: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            self._recv(deadline)
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _recv(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kw) -> None:
        self.sock.sendall(client_frame(opcode, payload, **kw))

    def recv_frame(self, timeout: float = 5.0) -> tuple[int, bytes, bool, int]:
        """(opcode, payload, fin, rsv) of the next server frame."""
        deadline = time.monotonic() + timeout
        while (taken := take_server_frame(self.buf)) is None:
            self._recv(deadline)
        frame, self.buf = taken
        return frame

    def recv_close(self, timeout: float = 5.0) -> tuple[int | None, bytes]:
        """Skip data frames until a Close; its code (None if empty) and reason."""
        while True:
            opcode, payload, _, _ = self.recv_frame(timeout)
            if opcode == 8:
                if not payload:
                    return None, b""
                return struct.unpack("!H", payload[:2])[0], payload[2:]

    def wait_closed(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._recv(deadline)
            except (ConnectionError, OSError) as exc:
                if isinstance(exc, TimeoutError):
                    raise
                return

    def close(self) -> None:
        self.sock.close()
