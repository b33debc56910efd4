"""The Kitura-WebSocket test suite's WebSocketClient, ported: exact frames out, bounded waits in.

Synchronous: where the Swift client calls ``onMessage``/``onClose``/``onPong`` back, this one
is asked for the next message, close payload or pong (``next_message`` and friends), each
wait bounded. Like the Swift client it sends what it is told, bit for bit (unmasked frames,
RSV1 without a negotiated extension, reserved opcodes), and answers a server Close with the
same payload. With compression negotiated, a frame sent ``compressed=True`` is deflated
(RFC 7692) and server messages are inflated.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import zlib
from dataclasses import asdict, is_dataclass
from typing import Any

from tests.websocket.rawclient import client_frame, take_server_frame

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
TIMEOUT = 5.0


def valid_key() -> str:
    """A Sec-WebSocket-Key as RFC 6455 4.1 item 7 requires: 16 random bytes, base64."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


class ContextTakeover:
    """The Swift test client's ContextTakeover: which side keeps its compression context."""

    NONE, CLIENT, SERVER, BOTH = "none", "client", "server", "both"
    HEADERS = {NONE: "; client_no_context_takeover; server_no_context_takeover",
               CLIENT: "; server_no_context_takeover", SERVER: "; client_no_context_takeover", BOTH: ""}


class WebSocketClient:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, uri: str = "/wstester",
                 request_key: str | None = None, negotiate_compression: bool = False,
                 context_takeover: str = ContextTakeover.BOTH, max_window_bits: int = 15) -> None:
        self.host, self.port, self.uri = host, port, uri
        self.request_key = request_key if request_key is not None else valid_key()
        self.negotiate_compression = negotiate_compression
        self.context_takeover = context_takeover
        self.max_window_bits = max_window_bits
        self.mask_frame = True
        self.sock: socket.socket | None = None
        self.status: int | None = None          # the status of the answer to the upgrade
        self.response_head = b""
        self.close_sent = False
        self.peer_closed = False
        self._buf = b""
        self._deflate: Any = None                # negotiated: client compressor settings
        self._client_no_takeover = False
        self._server_no_takeover = False
        self._compressor: Any = None
        self._inflater: Any = None
        self._unflushed = b""
        self.pongs: list[bytes] = []
        self.pings: list[bytes] = []

    # -- the handshake -------------------------------------------------------
    def connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
        head = (f"GET {self.uri} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.request_key}\r\nSec-WebSocket-Version: 13\r\n")
        if self.negotiate_compression:
            offer = "permessage-deflate"
            if 8 <= self.max_window_bits < 15:
                offer += f"; client_max_window_bits; server_max_window_bits={self.max_window_bits}"
            head += f"Sec-WebSocket-Extensions: {offer}{ContextTakeover.HEADERS[self.context_takeover]}\r\n"
        self.sock.sendall((head + "\r\n").encode("latin-1"))
        deadline = time.monotonic() + TIMEOUT
        while b"\r\n\r\n" not in self._buf:
            self._recv(deadline)
        self.response_head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        self.status = int(self.response_head.split(b" ", 2)[1])
        if self.status != 101:
            self.peer_closed = True
            return
        extensions = [line.split(b":", 1)[1].strip().decode("latin-1") for line in self.response_head.split(b"\r\n")
                      if line.lower().startswith(b"sec-websocket-extensions:")]
        if extensions:
            params = [p.strip() for p in extensions[0].split(";")]
            assert params[0] == "permessage-deflate", extensions
            self._deflate = True
            self._client_no_takeover = "client_no_context_takeover" in params
            self._server_no_takeover = "server_no_context_takeover" in params
            bits = [int(p.split("=")[1]) for p in params if p.startswith("client_max_window_bits=")]
            self._client_bits = bits[0] if bits else 15
            self._inflater = zlib.decompressobj(wbits=-15)

    @property
    def is_connected(self) -> bool:
        """True while the TCP connection is open (the peer has not closed it)."""
        if self.sock is None or self.peer_closed or self.status != 101:
            return False
        self.sock.setblocking(False)
        try:
            while True:     # read what is there (kept for next_event) down to the end, if any
                data = self.sock.recv(65536)
                if not data:
                    self.peer_closed = True
                    return False
                self._buf += data
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            self.peer_closed = True
            return False
        finally:
            if not self.peer_closed:
                self.sock.setblocking(True)

    # -- sending ---------------------------------------------------------------
    def send_message(self, message: str | bytes | list[int]) -> None:
        """``sendMessage(_ string)`` / ``sendMessage(_ binary)``: one uncompressed frame."""
        if isinstance(message, str):
            self.send_raw(message, OP_TEXT)
        else:
            self.send_raw(bytes(message), OP_BINARY)

    def send_model(self, model: Any) -> None:
        """``sendMessage(model:)``: the model as JSON text."""
        self.send_raw(json.dumps(asdict(model) if is_dataclass(model) else model), OP_TEXT)

    def send_raw(self, data: str | bytes | list[int], opcode: int, final_frame: bool = True,
                 compressed: bool = False) -> None:
        """``sendMessage(raw:opcode:finalFrame:compressed:)`` and ``sendMessage(data:...)``."""
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        rsv = 0
        if compressed:
            if self._deflate and opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                payload = self._compress(payload, final_frame)
                # RFC 7692 6.1: RSV1 on the first frame of the message only.
                rsv = 4 if opcode != OP_CONTINUATION else 0
            else:
                rsv = 4     # the bit alone, as the Swift client sends it without the extension
        frame = client_frame(opcode, payload, fin=final_frame, rsv=rsv, masked=self.mask_frame, mask=os.urandom(4))
        # As the Swift client: a frame that is not final is written, the final one flushes.
        self._unflushed += frame
        if final_frame:
            data, self._unflushed = self._unflushed, b""
            self.sock.sendall(data)

    def _compress(self, payload: bytes, final: bool) -> bytes:
        if self._compressor is None:
            self._compressor = zlib.compressobj(wbits=-self._client_bits)
        out = self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if final:
            assert out.endswith(b"\x00\x00\xff\xff")
            out = out[:-4]
            if self._client_no_takeover:
                self._compressor = None
        return out

    def ping(self, data: bytes = b"") -> None:
        self.send_raw(data, OP_PING)

    def pong(self, data: bytes = b"") -> None:
        self.send_raw(data, OP_PONG)

    def close(self, data: bytes = b"") -> None:
        self.close_sent = True
        self.send_raw(data, OP_CLOSE)

    # -- receiving -----------------------------------------------------------------
    def _recv(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            self.peer_closed = True
            raise ConnectionError("closed by the server")
        self._buf += data

    def _frame(self, deadline: float) -> tuple[int, bytes, bool, int]:
        while (taken := take_server_frame(self._buf)) is None:
            self._recv(deadline)
        frame, self._buf = taken
        return frame

    def next_event(self, timeout: float = TIMEOUT) -> tuple[str, bytes]:
        """The next of: ("message", data), ("pong", data), ("ping", data), ("close", payload).
        A Close from the server is answered with its own payload, as the Swift client does."""
        deadline = time.monotonic() + timeout
        parts: list[bytes] = []
        compressed = False
        while True:
            opcode, payload, fin, rsv = self._frame(deadline)
            if opcode == OP_CLOSE:
                if not self.close_sent:
                    self.close(payload)
                return "close", payload
            if opcode == OP_PING:
                self.pings.append(payload)
                return "ping", payload
            if opcode == OP_PONG:
                self.pongs.append(payload)
                return "pong", payload
            if opcode != OP_CONTINUATION:
                compressed = bool(rsv & 4)
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if compressed:
                    if self._server_no_takeover:
                        self._inflater = zlib.decompressobj(wbits=-15)
                    data = self._inflater.decompress(data + b"\x00\x00\xff\xff")
                return "message", data

    def _next(self, kind: str, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            got, data = self.next_event(max(deadline - time.monotonic(), 0.001))
            if got == kind:
                return data

    def next_message(self, timeout: float = TIMEOUT) -> bytes:
        """``onMessage``: the next whole message (pings and pongs on the way are recorded)."""
        return self._next("message", timeout)

    def next_pong(self, timeout: float = TIMEOUT) -> bytes:
        """``onPong``: the payload of the next pong."""
        return self._next("pong", timeout)

    def next_close(self, timeout: float = TIMEOUT) -> bytes:
        """``onClose``: the payload of the server's Close frame."""
        return self._next("close", timeout)

    def wait_closed(self, timeout: float = TIMEOUT) -> None:
        """Until the server closes the TCP connection."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._recv(deadline)
                self._buf = b""
        except (ConnectionError, ConnectionResetError):
            return

    def disconnect(self) -> None:
        if self.sock is not None:
            self.sock.close()
