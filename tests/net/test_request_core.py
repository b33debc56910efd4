"""ServerRequest's two cores: the C ``_speedups.RequestCore`` and its pure-Python
reference ``PyRequestCore`` hold the same fields and raise the same errors for the
same calls; ServerRequest's methods work on either."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from kitura.net import request as request_module
from kitura.net.request import PyRequestCore, RequestMethods, ServerRequest

C_CORE = request_module.RequestCore if request_module.RequestCore is not PyRequestCore else None
needs_c = pytest.mark.skipif(C_CORE is None, reason="kitura.net._speedups not built (or KITURA_NO_EXTENSIONS=1)")

PyRequest = type("PyRequest", (RequestMethods, PyRequestCore), {"__slots__": ()})
CRequest = type("CRequest", (RequestMethods, C_CORE), {"__slots__": ()}) if C_CORE else None

FIELDS = ("method", "url", "remote_address", "http_version_major", "http_version_minor", "keep_alive",
          "wants_upgrade", "url_url", "unread_header_pairs")

CALLS = [
    (("GET", b"/a?b=1", [(b"Host", b"example.org")], b"body", "10.0.0.1", (1, 0), "https", 8443), {}),
    (("POST", b"/", []), {}),
    (("PUT", b"/x", [(b"Host", b"h")]), {"body": b"abc", "http_version": [1, 1], "local_port": 80}),
    (("GET", b"/"), {"raw_headers": [], "scheme": "http", "remote_address": "uds"}),
    (("GET", b"http://other/p", []), {}),
    (("GET", b"/", [], b"", "", (1,)), {}),
    (("GET", b"/", [], b"", "", (1, 1, 1)), {}),
    (("GET", b"/", [], b"", "", 11), {}),
    (("GET", b"/"), {}),
    (("GET", b"/", [], b"", "", (1, 1), "http", None, "extra"), {}),
    (("GET", b"/", []), {"unknown": 1}),
]


def observe(cls, args, kwargs):
    try:
        request = cls(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared
        return ("raised", type(exc).__name__)
    seen = [(name, getattr(request, name)) for name in FIELDS]
    into = bytearray()
    seen.append(("read", request.read(into), bytes(into), request.read_all_data(into), request.read_string()))
    seen.append(("headers", list(request.headers), request.unread_header_pairs))
    request.keep_alive = False
    request.wants_upgrade = "any object"
    request.method = "DELETE"
    seen.append(("assigned", request.keep_alive, request.wants_upgrade, request.method))
    del request.method
    try:
        request.method
    except AttributeError:
        seen.append(("deleted", True))
    return seen


@needs_c
@pytest.mark.parametrize("args,kwargs", CALLS)
def test_the_cores_hold_the_same_fields_and_raise_the_same_errors(args, kwargs):
    assert observe(CRequest, args, kwargs) == observe(PyRequest, args, kwargs)


@pytest.mark.parametrize("cls", [PyRequest, pytest.param(CRequest, marks=needs_c)], ids=["py", "c"])
def test_a_request_reads_its_body_once_and_is_freed_by_reference_counts(cls):
    body = bytes(bytearray(b"payload"))
    before = sys.getrefcount(body)
    gc.disable()
    try:
        request = cls("POST", b"/", [(b"Host", b"h")], body, "127.0.0.1", (1, 1), "http", 8080)
        ref = weakref.ref(request)
        into = bytearray()
        assert request.read(into) == 7 and into == b"payload"
        assert request.read(into) == 0 and request.read_string() is None
        assert repr(request) == "<ServerRequest POST b'/' from 127.0.0.1>"
        del request
        assert ref() is None and sys.getrefcount(body) == before
    finally:
        gc.enable()


def test_server_request_uses_the_selected_core():
    assert issubclass(ServerRequest, request_module.RequestCore)
    assert ServerRequest("GET", b"/", []).http_version_minor == 1


@needs_c
def test_the_c_parser_makes_the_request_the_class_would_make():
    from kitura.net._speedups import parse_request

    data = b"GET /p?q=1 HTTP/1.0\r\nHost: example.org\r\nX-A: b\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n"
    fields = parse_request(data, 0, 8192, 8192, 100, None)
    method, url, headers, body, minor, keep_alive, end, upgrade = fields

    class WithInit(ServerRequest):  # a subclass of its own: made by calling it
        __slots__ = ()

        def __init__(self, *args):
            super().__init__(*args)
            self.wants_upgrade = "made by __init__"

    for request_type in (ServerRequest, WithInit):
        made = parse_request(data, 0, 8192, 8192, 100, None, request_type, "10.0.0.1", "https", 8443)
        request, alive, made_end, made_upgrade = made
        expected = request_type(method, url, headers, body, "10.0.0.1", (1, minor), "https", 8443)
        assert type(request) is request_type
        assert (alive, made_end, made_upgrade) == (keep_alive, end, upgrade) == (False, 72, False)
        assert observe(lambda *a: request, (), {}) == observe(lambda *a: expected, (), {})
    with pytest.raises(TypeError):
        parse_request(data, 0, 8192, 8192, 100, None, "not a type", "", "http", None)
