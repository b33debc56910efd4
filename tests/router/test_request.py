"""kitura/router/request.py: RouterRequest members (unit tests on kitura.net ServerRequest, and over sockets)."""
from __future__ import annotations

from dataclasses import dataclass

from kitura.net import ServerRequest
from kitura.router import Router, RouterRequest
from kitura.router.request import parse_query, parse_query_multi


def make(url: str = "/", method: str = "GET", headers: list[tuple[str, str]] | None = None,
         body: bytes = b"") -> RouterRequest:
    raw = [(k.encode(), v.encode()) for k, v in (headers or [("Host", "example.com:8080")])]
    return RouterRequest(ServerRequest(method, url.encode(), raw, body, remote_address="10.1.2.3"))


class TestQuery:
    def test_plus_and_percent(self):
        assert parse_query("a=x+y&b=%C3%A9t%C3%A9&c=1%2B1") == {"a": "x y", "b": "été", "c": "1+1"}

    def test_repeated_keys(self):
        assert parse_query("a=1&a=2&b=3") == {"a": "1,2", "b": "3"}
        assert parse_query_multi("a=1&a=2&b=3") == {"a": ["1", "2"], "b": ["3"]}

    def test_items_without_equals_are_skipped(self):
        assert parse_query("flag&a=1&=empty-key") == {"a": "1", "": "empty-key"}
        assert parse_query("") == {} and parse_query(None) == {}

    def test_request_members(self):
        req = make("/p?x=1&x=2&y=a+b")
        assert req.query_parameters == {"x": "1,2", "y": "a b"}
        assert req.query_parameters_multi_values == {"x": ["1", "2"], "y": ["a b"]}

    def test_query_model(self):
        @dataclass
        class Q:
            page: int
            tags: list[str]
            verbose: bool = False

        req = make("/p?page=2&tags=a,b")
        assert req.get_query_parameters(as_=Q) == Q(page=2, tags=["a", "b"])
        assert make("/p?page=x").get_query_parameters(as_=Q) is None


class TestURL:
    def test_url_members(self):
        req = make("/a/b?q=1", headers=[("Host", "www.shop.example.com:8080")])
        assert req.url == "/a/b?q=1"
        assert req.path == "/a/b"
        assert req.hostname == "www.shop.example.com"
        assert req.port == 8080
        assert req.original_url == "http://www.shop.example.com:8080/a/b?q=1"
        assert req.url_url.path == "/a/b"
        assert req.domain == "example.com"
        assert req.subdomains == ["www", "shop"]
        assert req.remote_address == "10.1.2.3"
        assert str(req.http_version) == "HTTP/1.1"

    def test_default_port(self):
        assert make("/", headers=[("Host", "h")]).port == 80


class TestHeadersAndCookies:
    def test_headers_first_value_case_insensitive(self):
        req = make(headers=[("Host", "h"), ("X-Thing", "one"), ("x-thing", "two")])
        assert req.headers["x-THING"] == "one, two"     # kitura.net merges repeated headers, as Kitura does
        assert req.headers.get_all("X-Thing") == ["one, two"]
        assert req.headers["Missing"] is None and "Missing" not in req.headers

    def test_cookies(self):
        req = make(headers=[("Host", "h"), ("Cookie", 'a=1; b="quoted value"'), ("Cookie", "c=3")])
        assert {k: v.value for k, v in req.cookies.items()} == {"a": "1", "b": "quoted value", "c": "3"}


class TestBody:
    def test_read_string_more_than_once(self):
        req = make(method="POST", body=b"hello")
        assert req.read_string() == "hello"
        assert req.read_string() == "hello"

    def test_read_into(self):
        req = make(method="POST", body=b"abc")
        buf = bytearray()
        assert req.read(into=buf) == 3 and buf == b"abc"
        assert req.read(into=buf) == 0
        assert req.read(into=buf) == 3     # after the end was reported, reading starts again

    def test_empty_body(self):
        assert make().read_string() is None

    def test_read_as_model(self):
        @dataclass
        class P:
            name: str
            age: int

        req = make(method="POST", body=b'{"name":"a","age":3}',
                   headers=[("Host", "h"), ("Content-Type", "application/json")])
        assert req.read(as_=P) == P("a", 3)
        form = make(method="POST", body=b"name=b+c&age=4",
                    headers=[("Host", "h"), ("Content-Type", "application/x-www-form-urlencoded")])
        assert form.read(as_=P) == P("b c", 4)


class TestAccepts:
    def accepts(self, header_value: str, *types: str, header: str = "Accept") -> str | None:
        return make(headers=[("Host", "h"), (header, header_value)]).accepts(header=header, types=list(types))

    def test_exact_beats_wildcards(self):
        assert self.accepts("text/*, application/json", "text/html", "application/json") == "application/json"

    def test_q_values(self):
        assert self.accepts("text/html;q=0.5, application/json;q=0.9", "text/html", "application/json") \
            == "application/json"
        assert self.accepts("text/html;q=0", "text/html") is None

    def test_extensions(self):
        assert self.accepts("application/json", "html", "json") == "json"

    def test_match_all(self):
        assert self.accepts("*/*", "text/plain") == "text/plain"

    def test_other_headers(self):
        assert self.accepts("gzip, br;q=0.5", "br", "gzip", header="Accept-Encoding") == "gzip"

    def test_no_header(self):
        assert make().accepts(types=["text/html"]) is None

    def test_single_type(self):
        assert make(headers=[("Host", "h"), ("Accept", "text/html")]).accepts(type="html") == "html"


def test_members_over_a_socket(serve):
    router = Router()

    @router.get("/info/:id")
    def info(request, response, next):
        response.send(json={
            "method": request.method, "id": request.parameters["id"], "route": request.route,
            "matched": request.matched_path, "host": request.hostname, "remote": request.remote_address,
            "q": request.query_parameters,
        })
        next()

    reply = serve(router).get("/info/7?a=1")
    import json
    data = json.loads(reply.body)
    assert data == {"method": "GET", "id": "7", "route": "/info/:id", "matched": "/info/7", "host": "127.0.0.1",
                    "remote": "127.0.0.1", "q": {"a": "1"}}
