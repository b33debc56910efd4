"""The Compression middleware: a written-data filter that compresses the body at end()."""
from __future__ import annotations

import enum
import zlib
from typing import Callable, Optional

from kitura.log import Log
from kitura.router import RouterMiddleware, RouterRequest, RouterResponse

__all__ = ["Compression", "CompressionLevel", "CompressionStrategy"]

#: Media types whose bodies are compressed already (or gain nothing): sent as they are.
# Bodies from this size on are compressed on a worker when the response ends on the event
# loop (an async def handler): zlib holds the loop about 1 ms per 100 KiB; below this, the
# thread hop costs more than it saves.
OFF_LOOP_AT = 128 * 1024
_COMPRESSED_PREFIXES = ("image/", "video/", "audio/", "font/woff")
_COMPRESSED_TYPES = frozenset({
    "application/zip", "application/gzip", "application/x-gzip", "application/x-bzip2", "application/x-xz",
    "application/x-7z-compressed", "application/x-rar-compressed", "application/vnd.rar", "application/zstd",
    "application/x-compress", "application/pdf", "application/wasm-gzip",
})
_UNCOMPRESSED_IMAGES = frozenset({"image/svg+xml", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon"})


class CompressionLevel(enum.Enum):
    NO_COMPRESSION = 0
    BEST_SPEED = 1
    BEST_COMPRESSION = 9
    DEFAULT_COMPRESSION = -1


class CompressionStrategy(enum.Enum):
    DEFAULT_STRATEGY = 0
    FILTERED = 1
    HUFFMAN_ONLY = 2
    RLE = 3
    FIXED = 4


def _is_compressed_type(content_type: Optional[str]) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _UNCOMPRESSED_IMAGES:
        return False
    return media in _COMPRESSED_TYPES or media.startswith(_COMPRESSED_PREFIXES)


class Compression(RouterMiddleware):
    """``Compression(threshold=1024, chunk_size=65536, compression_level=..., compression_strategy=...,
    memory_level=8)``, Kitura-Compression's parameters and defaults.

    Never compressed: bodies of ``threshold`` bytes or fewer, responses that already have a
    Content-Encoding, media types that are compressed already (images but SVG, audio,
    video, archives, PDF, WOFF), range requests and partial (206) responses, no-body
    statuses, and files large enough to be streamed from disk. Every response whose
    body could be compressed says ``Vary: Accept-Encoding`` (caches must not hand a
    gzip body to a client that did not ask for one); a strong ETag becomes weak.
    """

    def __init__(self, threshold: int = 1024, chunk_size: int = 65536,
                 compression_level: CompressionLevel = CompressionLevel.DEFAULT_COMPRESSION,
                 compression_strategy: CompressionStrategy = CompressionStrategy.DEFAULT_STRATEGY,
                 memory_level: int = 8) -> None:
        if not 1 <= memory_level <= 9:
            raise ValueError("memory_level must be 1..9 (zlib's memLevel)")
        self.threshold = threshold
        self.chunk_size = chunk_size
        self.compression_level = compression_level
        self.compression_strategy = compression_strategy
        self.memory_level = memory_level

    def handle(self, request: RouterRequest, response: RouterResponse, next: Callable[[], None]) -> None:
        encoding = request.accepts(header="Accept-Encoding", types=["gzip", "deflate", "identity"])
        if encoding == "identity":
            encoding = None
        if request.headers["Range"] is not None:
            next()
            return
        previous_filter: Callable[[bytes], bytes] = lambda body: body  # noqa: E731
        previous_end: Callable[[], None] = lambda: None  # noqa: E731

        def written_data_filter(body: bytes) -> bytes:
            if not self._compressible(response, body):
                return previous_filter(body)
            response.headers.append("Vary", "Accept-Encoding")
            if encoding is None:
                return previous_filter(body)
            compressed = self.compress(body, method=encoding)
            if compressed is None:
                return previous_filter(body)
            headers = response.headers
            headers["Content-Encoding"] = encoding
            headers["Content-Length"] = str(len(compressed))
            etag = headers["ETag"]
            if etag is not None and not etag.startswith("W/"):
                headers["ETag"] = "W/" + etag
            return previous_filter(compressed)

        def skip_streamed_file() -> None:
            # Called first thing in end(): a large file stays streamed from disk, uncompressed.
            if response.streamed_file_length is not None:
                current = response.set_written_data_filter(previous_filter)
                if current is not written_data_filter:         # a later filter wraps ours: keep it
                    response.set_written_data_filter(current)
            previous_end()

        previous_filter = response.set_written_data_filter(written_data_filter)
        previous_end = response.set_on_end_invoked(skip_streamed_file)
        if encoding is not None:
            response.end_off_loop(min_body=max(self.threshold, OFF_LOOP_AT))
        next()

    def _compressible(self, response: RouterResponse, body: bytes) -> bool:
        if len(body) <= self.threshold:
            return False
        status = int(response.status_code.value)
        if status == 206 or status in (204, 304) or status < 200:
            return False
        headers = response.headers
        if headers["Content-Encoding"] is not None or headers["Content-Range"] is not None:
            return False
        return not _is_compressed_type(headers["Content-Type"])

    def compress(self, data: bytes, method: str) -> Optional[bytes]:
        """``data`` compressed as ``gzip`` or ``deflate`` (zlib format, RFC 9110), or None on failure."""
        wbits = zlib.MAX_WBITS + 16 if method == "gzip" else zlib.MAX_WBITS
        try:
            compressor = zlib.compressobj(self.compression_level.value, zlib.DEFLATED, wbits, self.memory_level,
                                          self.compression_strategy.value)
            return compressor.compress(data) + compressor.flush()
        except zlib.error as exc:
            Log.info(f"Not compressed: compression failed: {exc}")
            return None
