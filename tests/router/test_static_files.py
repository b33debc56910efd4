"""kitura/router/static_files.py: StaticFileServer (types, caching, ranges, index, traversal)."""
from __future__ import annotations

import os
from email.utils import formatdate

import pytest

from kitura.router import Router, StaticFileServer
from kitura.router.static_files import CacheOptions, StaticFileServerOptions, parse_range_header

SECRET = b"TOP-SECRET-CONTENT"


@pytest.fixture
def public(tmp_path):
    root = tmp_path / "public"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "style.css").write_text("body{}")
    (root / "app.js").write_text("var x;")
    (root / "data.bin").write_bytes(bytes(range(256)) * 4)
    (root / "sub" / "index.html").write_text("sub index")
    (root / "hello world.txt").write_text("spaced")
    (root / "page.html").write_text("page")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    os.symlink(outside, root / "link")
    os.symlink(tmp_path / "secret.txt", root / "file-link.txt")
    return root


def static_router(root, mount="/static", **options):
    router = Router()
    sfs = StaticFileServer(path=str(root), options=StaticFileServerOptions(**options)) if options \
        else StaticFileServer(path=str(root))
    if mount is None:
        router.all(middleware=sfs)
    else:
        router.all(mount, middleware=sfs)
    return router


class TestServing:
    def test_content_types(self, serve, public):
        client = serve(static_router(public))
        reply = client.get("/static/style.css")
        assert reply.status == 200 and reply.text == "body{}" and reply.header("Content-Type") == "text/css"
        assert client.get("/static/app.js").header("Content-Type") == "application/javascript"
        assert client.get("/static/index.html").header("Content-Type") == "text/html"
        assert client.get("/static/hello%20world.txt").text == "spaced"

    def test_index_and_directory_redirect(self, serve, public):
        client = serve(static_router(public))
        assert client.get("/static/").text == "<h1>home</h1>"
        assert client.get("/static/sub/").text == "sub index"
        reply = client.get("/static/sub?x=1")
        assert reply.status == 302 and reply.header("Location") == "/static/sub/?x=1"

    def test_mounted_at_root(self, serve, public):
        client = serve(static_router(public, mount=None))
        assert client.get("/style.css").text == "body{}"
        assert client.get("/").text == "<h1>home</h1>"

    def test_missing_file_goes_on_to_404(self, serve, public):
        assert serve(static_router(public)).get("/static/nope.css").status == 404

    def test_later_routes_still_run(self, serve, public):
        router = static_router(public)
        router.get("/static/generated", lambda req, res, nxt: (res.send("generated"), nxt()))
        assert serve(router).get("/static/generated").text == "generated"

    def test_possible_extensions_and_default_index(self, serve, public):
        client = serve(static_router(public, possible_extensions=["html"], default_index="/index.html"))
        assert client.get("/static/page").text == "page"
        assert client.get("/static/some/client/route").text == "<h1>home</h1>"
        assert client.get("/static/missing.png").status == 404

    def test_no_index_for_directory(self, serve, public):
        assert serve(static_router(public, serve_index_for_directory=False)).get("/static/").status == 404

    def test_post_is_not_served(self, serve, public):
        assert serve(static_router(public)).post("/static/style.css").status == 404

    def test_head(self, serve, public):
        reply = serve(static_router(public)).request("HEAD", "/static/style.css")
        assert reply.status == 200 and reply.body == b"" and reply.header("Content-Length") == "6"
        assert reply.header("Content-Type") == "text/css"


class TestCaching:
    def test_etag_last_modified_and_304(self, serve, public):
        client = serve(static_router(public))
        first = client.get("/static/style.css")
        etag = first.header("ETag")
        assert etag and etag.startswith('W/"')
        assert first.header("Last-Modified") and first.header("Cache-Control") == "max-age=0"
        again = client.get("/static/style.css", headers={"If-None-Match": etag})
        assert again.status == 304 and again.body == b""
        assert client.get("/static/style.css", headers={"If-None-Match": 'W/"other"'}).status == 200

    def test_if_modified_since(self, serve, public):
        client = serve(static_router(public))
        mtime = os.stat(public / "style.css").st_mtime
        assert client.get("/static/style.css",
                          headers={"If-Modified-Since": formatdate(mtime + 10, usegmt=True)}).status == 304
        assert client.get("/static/style.css",
                          headers={"If-Modified-Since": formatdate(mtime - 100, usegmt=True)}).status == 200

    def test_cache_options(self, serve, public):
        options = CacheOptions(add_last_modified_header=False, max_age_cache_control_header=60, generate_etag=False)
        reply = serve(static_router(public, cache_options=options)).get("/static/style.css")
        assert reply.header("ETag") is None and reply.header("Last-Modified") is None
        assert reply.header("Cache-Control") == "max-age=60"


class TestRanges:
    def test_parse(self):
        assert parse_range_header("bytes=0-9", 100) == [(0, 9)]
        assert parse_range_header("bytes=-10", 100) == [(90, 99)]
        assert parse_range_header("bytes=95-", 100) == [(95, 99)]
        assert parse_range_header("bytes=90-200", 100) == [(90, 99)]
        assert parse_range_header("bytes=0-4,5-9,20-29", 100) == [(0, 9), (20, 29)]
        assert parse_range_header("bytes=200-300", 100) == []
        assert parse_range_header("items=0-1", 100) is None

    def test_single_range(self, serve, public):
        reply = serve(static_router(public)).get("/static/data.bin", headers={"Range": "bytes=10-19"})
        assert reply.status == 206 and reply.body == bytes(range(10, 20))
        assert reply.header("Content-Range") == "bytes 10-19/1024"
        assert reply.header("Accept-Ranges") == "bytes"

    def test_multiple_ranges(self, serve, public):
        reply = serve(static_router(public)).get("/static/data.bin", headers={"Range": "bytes=0-1,100-101"})
        assert reply.status == 206
        assert reply.header("Content-Type").startswith("multipart/byteranges; boundary=")
        assert b"Content-Range: bytes 0-1/1024" in reply.body and b"Content-Range: bytes 100-101/1024" in reply.body

    def test_unsatisfiable(self, serve, public):
        reply = serve(static_router(public)).get("/static/data.bin", headers={"Range": "bytes=5000-6000"})
        assert reply.status == 416 and reply.header("Content-Range") == "bytes */1024"

    def test_if_range_mismatch_sends_whole_file(self, serve, public):
        reply = serve(static_router(public)).get("/static/data.bin",
                                                 headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
        assert reply.status == 200 and len(reply.body) == 1024


class TestTraversal:
    @pytest.mark.parametrize("target", [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/sub/../../secret.txt",
        "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/link/secret.txt",
        "/static/file-link.txt",
        "/static/..%5csecret.txt",
        "/static/%00/../secret.txt",
        "/static/%ff%fe",
    ])
    def test_requests_that_leave_the_folder_get_404(self, serve, public, target):
        client = serve(static_router(public))
        answer = client.raw(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert SECRET not in answer
        assert answer.startswith(b"HTTP/1.1 404") or answer.startswith(b"HTTP/1.1 400"), answer[:60]

    def test_mounted_at_root(self, serve, public):
        client = serve(static_router(public, mount=None))
        answer = client.raw(b"GET /%2e%2e/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert SECRET not in answer and answer.startswith(b"HTTP/1.1 404")


class TestLargeFiles:
    """Files over STREAM_FILES_OVER are streamed from disk at end(), with Content-Length,
    instead of being read into the body buffer."""

    @pytest.fixture
    def big(self, tmp_path):
        root = tmp_path / "big"
        root.mkdir()
        data = os.urandom(3 * 1024 * 1024 + 123)
        (root / "big.bin").write_bytes(data)
        return root, data

    def test_a_large_file_arrives_whole_with_content_length(self, serve, big):
        root, data = big
        reply = serve(static_router(root)).get("/static/big.bin")
        assert reply.status == 200 and reply.body == data
        assert reply.header("Content-Length") == str(len(data))
        assert reply.header("Transfer-Encoding") is None

    def test_head_and_a_large_single_range(self, serve, big):
        root, data = big
        client = serve(static_router(root))
        head = client.request("HEAD", "/static/big.bin")
        assert head.status == 200 and head.body == b"" and head.header("Content-Length") == str(len(data))
        start, end = 1000, 2 * 1024 * 1024 + 999
        reply = client.get("/static/big.bin", headers={"Range": f"bytes={start}-{end}"})
        assert reply.status == 206 and reply.body == data[start:end + 1]
        assert reply.header("Content-Range") == f"bytes {start}-{end}/{len(data)}"

    def test_send_file_name_streams_and_is_not_held_in_the_body_buffer(self, serve, big):
        root, data = big
        router = Router()
        seen = {}

        @router.get("/f")
        def send_file(request, response, next):
            response.send(file_name=str(root / "big.bin"))
            seen["buffered"] = len(response._buffer)
            seen["streamed"] = response._file_body is not None
            next()

        reply = serve(router).get("/f")
        assert reply.body == data and reply.header("Content-Type") == "application/octet-stream"
        assert seen == {"buffered": 0, "streamed": True}

    def test_sending_more_after_a_large_file_reads_it_in(self, serve, big):
        root, data = big
        router = Router()

        @router.get("/f")
        def send_file(request, response, next):
            response.send(file_name=str(root / "big.bin")).send(data=b"<tail>")
            next()

        reply = serve(router).get("/f")
        assert reply.body == data + b"<tail>"

    def test_a_file_that_shrinks_after_it_was_sized_cuts_the_connection(self, serve, big, monkeypatch):
        root, data = big
        router = Router()

        @router.get("/f")
        def send_file(request, response, next):
            response.send(file_name=str(root / "big.bin"))
            (root / "big.bin").write_bytes(data[:100_000])   # shrinks before end() streams it
            next()

        reply = serve(router).raw(b"GET /f HTTP/1.1\r\nHost: h\r\n\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")
        assert b"Content-Length: %d" % len(data) in head
        assert len(body) < len(data)   # cut short: the client can tell the body is incomplete
