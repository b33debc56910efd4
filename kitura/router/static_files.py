"""StaticFileServer middleware (Kitura's staticFileServer folder).

Serves files below one folder: Content-Type from the file name, ETag and
Last-Modified with 304 answers, Range requests (206, multipart/byteranges,
416), index files, directory redirects and HEAD. A request that would leave
the folder (``..``, ``%2e%2e``, a symlink pointing out, a NUL byte) is not
served: the chain goes on, so it ends as a 404.
"""
from __future__ import annotations

import logging
import os
import stat
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Callable, Protocol
from urllib.parse import unquote

from .content_type import ContentType
from .element import RouterMethod
from .paths import absolute_path
from .steps import BLOCKING, Steps, walk_steps

__all__ = ["StaticFileServer", "CacheOptions", "StaticFileServerOptions", "ResponseHeadersSetter",
           "absolute_path", "parse_range_header"]

logger = logging.getLogger("kitura.router")


class ResponseHeadersSetter(Protocol):
    """Sets extra headers on each file response."""

    def set_custom_response_headers(self, response: Any, file_path: str, file_attributes: os.stat_result) -> None: ...


@dataclass(frozen=True)
class CacheOptions:
    add_last_modified_header: bool = True
    max_age_cache_control_header: int = 0
    generate_etag: bool = True


@dataclass(frozen=True)
class StaticFileServerOptions:
    possible_extensions: list[str] = field(default_factory=list)
    serve_index_for_directory: bool = True
    redirect: bool = True
    cache_options: CacheOptions = field(default_factory=CacheOptions)
    accept_ranges: bool = True
    default_index: str | None = None


def calculate_etag(st: os.stat_result) -> str:
    """A weak ETag from the size and the modification time, as Kitura computes it."""
    return f'W/"{st.st_size:x}-{int(st.st_mtime):x}"'


def parse_range_header(value: str, size: int) -> list[tuple[int, int]] | None:
    """``bytes=0-99,-50`` -> inclusive ``(start, end)`` pairs, merged and clamped to the size.

    Returns None when the header is not a bytes range, ``[]`` when nothing in
    it is satisfiable (a 416).
    """
    unit, sep, spec = value.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[tuple[int, int, int]] = []
    for index, item in enumerate(spec.split(",")):
        first, dash, last = item.strip().partition("-")
        if not dash:
            continue
        try:
            if first and last:
                start, end = int(first), int(last)
            elif first:
                start, end = int(first), size - 1
            elif last:
                start, end = max(size - int(last), 0), size - 1
            else:
                continue
        except ValueError:
            continue
        if start < 0 or end < 0:
            continue
        end = min(end, size - 1)
        if start <= end:
            ranges.append((start, end, index))
    if not ranges:
        return []
    ranges.sort()
    merged: list[list[int]] = []
    for start, end, index in ranges:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = min(merged[-1][2], index)
        else:
            merged.append([start, end, index])
    merged.sort(key=lambda r: r[2])
    return [(s, e) for s, e, _ in merged]


class StaticFileServer:
    """Middleware: ``router.all("/static", middleware=StaticFileServer(path="./public"))``."""

    Options = StaticFileServerOptions
    CacheOptions = CacheOptions

    def __init__(self, path: str = "./public", options: StaticFileServerOptions | None = None,
                 custom_response_headers_setter: ResponseHeadersSetter | None = None) -> None:
        self.absolute_root_path = absolute_path(path)
        self.options = options or StaticFileServerOptions()
        self.custom_response_headers_setter = custom_response_headers_setter
        if not os.path.exists(self.absolute_root_path):
            logger.warning("StaticFileServer being initialised with invalid path: %s", self.absolute_root_path)
        elif not os.path.isdir(self.absolute_root_path):
            logger.error("StaticFileServer should not be initialised with a path that resolves to a file")
        self._real_root = os.path.realpath(self.absolute_root_path)

    @walk_steps
    def handle(self, request: Any, response: Any, next: Callable[[], None]) -> Steps:
        """Serve the file the request names, if there is one; then ``next()``, as Kitura does.
        File I/O runs on a worker thread, never on the event loop (see steps.py)."""
        try:
            if request.method in (RouterMethod.GET, RouterMethod.HEAD):
                file_path = self.get_file_path(request)
                if file_path is not None:
                    yield BLOCKING, (self._serve, (file_path, request, response))
        finally:
            next()

    def get_file_path(self, request: Any) -> str | None:
        """The file a request asks for, or None when it asks for nothing servable."""
        request_path: str = request.path
        matched = request.matched_path
        if matched.endswith("*"):
            matched = matched[:-1]
        if not matched.endswith("/"):
            matched += "/"
        file_path = self.absolute_root_path
        if request_path.startswith(matched):
            relative = request_path[len(matched):]
            if "%" in relative:
                try:
                    relative = unquote(relative, errors="strict")
                except UnicodeDecodeError:
                    return None
            if "\x00" in relative or "\\" in relative:
                return None
            if any(seg == ".." for seg in relative.split("/")):
                return None
            file_path += "/" + relative
        if file_path.endswith("/"):
            if not self.options.serve_index_for_directory:
                return None
            file_path += "index.html"
        return file_path

    def _inside_root(self, file_path: str) -> bool:
        real = os.path.realpath(file_path)
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def _serve(self, file_path: str, request: Any, response: Any) -> None:
        try:
            st = os.stat(file_path)
        except (OSError, ValueError):
            st = None
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                if self.options.redirect and self._inside_root(file_path):
                    original_path = request.url.partition("?")[0]
                    query = request.url.partition("?")[2]
                    response.redirect(original_path + "/" + (f"?{query}" if query else ""))
                return
            self._serve_file(file_path, st, request, response)
            return
        for ext in self.options.possible_extensions:
            candidate = f"{file_path}.{ext}"
            try:
                cst = os.stat(candidate)
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(cst.st_mode):
                self._serve_file(candidate, cst, request, response)
                return
        default_index = self.options.default_index
        if default_index is not None and "." not in file_path.rsplit("/", 1)[-1]:
            index = os.path.join(self.absolute_root_path, default_index.lstrip("/"))
            try:
                ist = os.stat(index)
            except OSError:
                return
            self._serve_file(index, ist, request, response)

    def _serve_file(self, file_path: str, st: os.stat_result, request: Any, response: Any) -> None:
        if not self._inside_root(file_path) or not stat.S_ISREG(st.st_mode):
            return
        options = self.options
        headers = response.headers
        cache = options.cache_options
        headers["Accept-Ranges"] = "bytes" if options.accept_ranges else "none"
        etag = calculate_etag(st)
        if cache.add_last_modified_header:
            headers["Last-Modified"] = formatdate(st.st_mtime, usegmt=True)
        if cache.generate_etag:
            headers["ETag"] = etag
        headers["Cache-Control"] = f"max-age={cache.max_age_cache_control_header}"
        if self.custom_response_headers_setter is not None:
            self.custom_response_headers_setter.set_custom_response_headers(response, file_path, st)
        content_type = ContentType.shared_instance.get_content_type(for_file_name=file_path)
        if self._not_modified(request, st, etag):
            response.status(304)
            response.invoked_send = True
            return
        size = st.st_size
        range_header = request.headers["Range"]
        if (options.accept_ranges and request.method == RouterMethod.GET and range_header is not None
                and range_header.lstrip(" ").startswith("bytes=")):
            ranges = parse_range_header(range_header, size)
            if ranges is not None and not self._if_range_prevents(request, st, etag):
                if not ranges:
                    headers["Content-Range"] = f"bytes */{size}"
                    response.send(status=416)
                    return
                self._send_ranges(file_path, size, ranges, content_type, response)
                return
        if content_type is not None:
            headers["Content-Type"] = content_type
        if request.method == RouterMethod.HEAD:
            headers["Content-Length"] = str(size)
            response.status(200)
            response.invoked_send = True
            return
        response.send_file_part(file_path, 0, size)   # large files are streamed at end()
        response.status(200)

    @staticmethod
    def _not_modified(request: Any, st: os.stat_result, etag: str) -> bool:
        if_none_match = request.headers["If-None-Match"]
        if if_none_match is not None:
            tags = [t.strip() for t in if_none_match.split(",")]
            weak = etag[2:] if etag.startswith("W/") else etag
            return "*" in tags or any((t[2:] if t.startswith("W/") else t) == weak for t in tags)
        if_modified_since = request.headers["If-Modified-Since"]
        if if_modified_since is not None:
            try:
                since = parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                return False
            return int(st.st_mtime) <= since
        return False

    @staticmethod
    def _if_range_prevents(request: Any, st: os.stat_result, etag: str) -> bool:
        if_range = request.headers["If-Range"]
        if not if_range:
            return False
        if '"' in if_range:
            return etag not in if_range
        try:
            when = parsedate_to_datetime(if_range).timestamp()
        except (TypeError, ValueError):
            return True
        return int(st.st_mtime) > when

    @staticmethod
    def _send_ranges(file_path: str, size: int, ranges: list[tuple[int, int]], content_type: str | None,
                     response: Any) -> None:
        headers = response.headers
        if len(ranges) == 1:
            start, end = ranges[0]
            if content_type is not None:
                headers["Content-Type"] = content_type
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            response.send_file_part(file_path, start, end - start + 1)
            response.status(206)
            return
        # Several ranges: one multipart body, read whole (each range is what the client asked).
        boundary = "KituraBoundary" + uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
        body = bytearray()
        with open(file_path, "rb") as f:
            for start, end in ranges:
                body += f"--{boundary}\r\nContent-Range: bytes {start}-{end}/{size}\r\n".encode()
                if content_type is not None:
                    body += f"Content-Type: {content_type}\r\n".encode()
                f.seek(start)
                body += b"\r\n" + f.read(end - start + 1) + b"\r\n"
        body += f"--{boundary}--".encode()
        response.send(data=bytes(body))
        response.status(206)
