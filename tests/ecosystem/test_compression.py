"""kitura.compression over real sockets: negotiation, threshold, what is never compressed, Vary."""
from __future__ import annotations

import gzip
import threading
import zlib

import pytest

from kitura.compression import Compression, CompressionLevel
from kitura.compression.compression import OFF_LOOP_AT
from kitura.router import Router, StaticFileServer

TEXT = ("Kitura for Python compresses this line. " * 100).encode()


def compressed_router(tmp_path=None, **options) -> Router:
    router = Router()
    router.all(middleware=Compression(**options))
    router.get("/text", lambda request, response, next: response.send(TEXT.decode()).end())
    router.get("/small", lambda request, response, next: response.send("tiny").end())

    @router.get("/png")
    def png(request, response, next):
        response.headers["Content-Type"] = "image/png"
        response.send(data=TEXT).end()

    @router.get("/svg")
    def svg(request, response, next):
        response.headers["Content-Type"] = "image/svg+xml"
        response.send(data=TEXT).end()

    @router.get("/encoded")
    def encoded(request, response, next):
        response.headers["Content-Encoding"] = "br"
        response.send(data=TEXT).end()

    @router.get("/partial")
    def partial(request, response, next):
        response.headers["Content-Range"] = f"bytes 0-{len(TEXT) - 1}/{len(TEXT) * 2}"
        response.status(206).send(data=TEXT).end()

    @router.get("/etag")
    def etag(request, response, next):
        response.headers["ETag"] = '"abc"'
        response.send(data=TEXT).end()

    router.get("/nocontent", lambda request, response, next: response.status(204).end())
    if tmp_path is not None:
        router.get("/files", middleware=StaticFileServer(path=str(tmp_path)))
    return router


@pytest.mark.parametrize("accept, encoding, decode", [
    ("gzip", "gzip", gzip.decompress),
    ("deflate", "deflate", zlib.decompress),
    ("deflate;q=1, gzip;q=0.5", "deflate", zlib.decompress),
    ("br, gzip", "gzip", gzip.decompress),
    ("*", "gzip", gzip.decompress),
])
def test_compressed_by_accept_encoding(serve, accept, encoding, decode):
    reply = serve(compressed_router()).get("/text", headers={"Accept-Encoding": accept})
    assert reply.header("Content-Encoding") == encoding
    assert reply.header("Vary") == "Accept-Encoding"
    assert int(reply.header("Content-Length")) == len(reply.body) < len(TEXT)
    assert decode(reply.body) == TEXT


@pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0, deflate;q=0"])
def test_not_compressed_without_an_accepted_encoding(serve, accept):
    reply = serve(compressed_router()).get("/text", headers={"Accept-Encoding": accept} if accept else {})
    assert reply.header("Content-Encoding") is None and reply.body == TEXT
    assert reply.header("Vary") == "Accept-Encoding"          # another client may get gzip


@pytest.mark.parametrize("path", ["/small", "/png", "/encoded", "/partial"])
def test_never_compressed(serve, path):
    reply = serve(compressed_router()).get(path, headers={"Accept-Encoding": "gzip"})
    assert reply.header("Content-Encoding") in (None, "br")
    assert reply.header("Vary") is None


def test_svg_is_compressed_and_a_strong_etag_becomes_weak(serve):
    client = serve(compressed_router())
    assert client.get("/svg", headers={"Accept-Encoding": "gzip"}).header("Content-Encoding") == "gzip"
    reply = client.get("/etag", headers={"Accept-Encoding": "gzip"})
    assert reply.header("ETag") == 'W/"abc"' and gzip.decompress(reply.body) == TEXT


def test_range_requests_and_no_body_statuses(serve, tmp_path):
    (tmp_path / "page.txt").write_bytes(TEXT)
    client = serve(compressed_router(tmp_path))
    ranged = client.get("/files/page.txt", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert ranged.status == 206 and ranged.header("Content-Encoding") is None and ranged.body == TEXT[:100]
    whole = client.get("/files/page.txt", headers={"Accept-Encoding": "gzip"})
    assert whole.header("Content-Encoding") == "gzip" and gzip.decompress(whole.body) == TEXT
    assert client.get("/nocontent", headers={"Accept-Encoding": "gzip"}).header("Content-Encoding") is None


def test_head_says_what_get_sends(serve):
    client = serve(compressed_router())
    get = client.get("/text", headers={"Accept-Encoding": "gzip"})
    head = client.request("HEAD", "/text", headers={"Accept-Encoding": "gzip"})
    assert head.body == b"" and head.header("Content-Encoding") == "gzip"
    assert head.header("Content-Length") == get.header("Content-Length")


def test_a_large_file_stays_streamed_uncompressed(serve, tmp_path):
    big = TEXT * 300                    # over 1 MiB: kitura streams it from disk
    (tmp_path / "big.txt").write_bytes(big)
    reply = serve(compressed_router(tmp_path)).get("/files/big.txt", headers={"Accept-Encoding": "gzip"})
    assert reply.header("Content-Encoding") is None and reply.body == big


def test_threshold_and_level(serve):
    client = serve(compressed_router(threshold=0, compression_level=CompressionLevel.BEST_SPEED))
    reply = client.get("/small", headers={"Accept-Encoding": "gzip"})
    assert reply.header("Content-Encoding") == "gzip" and gzip.decompress(reply.body) == b"tiny"
    with pytest.raises(ValueError):
        Compression(memory_level=0)


class RecordingCompression(Compression):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def compress(self, data, method):
        self.threads.append(threading.get_ident())
        return super().compress(data, method)


def test_large_bodies_of_async_handlers_are_compressed_off_the_loop(serve):
    compression = RecordingCompression()
    loop_threads = []
    router = Router()
    router.all(middleware=compression)

    @router.get("/:size")
    async def body(request, response, next):
        loop_threads.append(threading.get_ident())
        response.send("x" * int(request.parameters["size"])).end()

    client = serve(router)
    large = client.get(f"/{OFF_LOOP_AT}", headers={"Accept-Encoding": "gzip"})
    assert large.header("Content-Encoding") == "gzip" and gzip.decompress(large.body) == b"x" * OFF_LOOP_AT
    assert compression.threads[0] != loop_threads[0]
    small = client.get("/4000", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(small.body) == b"x" * 4000
    assert compression.threads[1] == loop_threads[1]        # small: no thread hop
