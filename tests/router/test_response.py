"""kitura/router/response.py: RouterResponse send forms, status, cookies, redirect, lifecycle."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import Enum

import pytest

from kitura.router import AdditionalCookieAttribute, Router


def route(handler, path="/r", method="get"):
    router = Router()
    getattr(router, method)(path, handler)
    return router


class Colour(Enum):
    RED = "red"


@dataclass
class Item:
    name: str
    colour: Colour
    when: dt.date


class TestSend:
    def test_text_gets_text_plain(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send("héllo").end())).get("/r")
        assert reply.text == "héllo"
        assert reply.header("Content-Type") == "text/plain; charset=utf-8"
        assert reply.header("Content-Length") == str(len("héllo".encode()))

    def test_html_text_is_sniffed(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send("<!DOCTYPE html><p>x").end())).get("/r")
        assert reply.header("Content-Type") == "text/html; charset=utf-8"

    def test_explicit_content_type_is_kept(self, serve):
        def h(req, res, nxt):
            res.headers["Content-Type"] = "text/csv"
            res.send("a,b").end()
        assert serve(route(h)).get("/r").header("Content-Type") == "text/csv"

    def test_sends_accumulate_and_chain(self, serve):
        reply = serve(route(lambda req, res, nxt: res.status(201).send("a").send(b"b").send(data=b"c").end())).get("/r")
        assert reply.status == 201 and reply.body == b"abc"

    def test_bytes_have_no_default_type(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send(b"\x00\x01").end())).get("/r")
        assert reply.body == b"\x00\x01" and reply.header("Content-Type") is None

    def test_json(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send(json={"a": [1, 2], "b": None}).end())).get("/r")
        assert reply.header("Content-Type") == "application/json"
        assert json.loads(reply.body) == {"a": [1, 2], "b": None}

    def test_json_of_a_dataclass_and_codable_send(self, serve):
        item = Item("x", Colour.RED, dt.date(2024, 1, 2))
        expected = {"name": "x", "colour": "red", "when": "2024-01-02"}
        client = serve(route(lambda req, res, nxt: res.send(json=item).end()))
        assert json.loads(client.get("/r").body) == expected
        client = serve(route(lambda req, res, nxt: res.send(item).end()))
        assert json.loads(client.get("/r").body) == expected
        client = serve(route(lambda req, res, nxt: res.send([item]).end()))
        assert json.loads(client.get("/r").body) == [expected]

    def test_send_status(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send(status=404).end())).get("/r")
        assert reply.status == 404 and reply.text == "Not Found"

    def test_status_keyword_with_body(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send("made", status=201).end())).get("/r")
        assert reply.status == 201 and reply.text == "made"

    def test_file_name_and_download(self, serve, tmp_path):
        f = tmp_path / "report.json"
        f.write_text('{"ok": true}')
        client = serve(route(lambda req, res, nxt: res.send(file_name=str(f)).end()))
        reply = client.get("/r")
        assert reply.header("Content-Type") == "application/json" and reply.text == '{"ok": true}'
        client = serve(route(lambda req, res, nxt: res.send(download=str(f)).end()))
        reply = client.get("/r")
        assert reply.header("Content-Disposition") == 'attachment; filename="report.json"'
        assert reply.text == '{"ok": true}'

    def test_missing_file_is_a_500(self, serve, tmp_path):
        client = serve(route(lambda req, res, nxt: res.send(file_name=str(tmp_path / "nope")).end()))
        assert client.get("/r").status == 500

    def test_jsonp(self, serve):
        client = serve(route(lambda req, res, nxt: res.send(jsonp={"a": 1}).end()))
        reply = client.get("/r?callback=cb")
        assert reply.text == '/**/ cb({"a":1})'
        assert reply.header("X-Content-Type-Options") == "nosniff"
        assert client.get("/r?callback=alert(1)").status == 500

    def test_send_after_end_is_ignored(self, serve):
        def h(req, res, nxt):
            res.send("one").end()
            res.send("two")
            res.end()
        assert serve(route(h)).get("/r").text == "one"

    def test_204_and_304_have_no_body(self, serve):
        assert serve(route(lambda req, res, nxt: res.status(204).send("x").end())).get("/r").body == b""
        reply = serve(route(lambda req, res, nxt: res.status(304).end())).get("/r")
        assert reply.status == 304 and reply.body == b""


class TestStatusCode:
    def test_status_code_property(self, serve):
        seen = []

        def h(req, res, nxt):
            seen.append(int(res.status_code))
            res.status_code = 202
            seen.append(int(res.status_code))
            res.end()
        assert serve(route(h)).get("/r").status == 202
        assert seen == [-1, 202]


class TestHeaders:
    def test_helpers(self, serve):
        def h(req, res, nxt):
            res.headers.set_type("json", charset="utf-8")
            res.headers.add_link("/next", {"rel": "next"})
            res.headers["X-Remove"] = "x"
            res.headers["X-Remove"] = None
            res.send("{}").end()
        reply = serve(route(h)).get("/r")
        assert reply.header("Content-Type") == "application/json; charset=utf-8"
        assert reply.header("Link") == '</next>; rel="next"'
        assert reply.header("X-Remove") is None


class TestCookies:
    def test_add_cookie_with_attributes(self, serve):
        expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

        def h(req, res, nxt):
            res.add_cookie("session", "abc", domain="example.com", path="/",
                           other_attributes=[AdditionalCookieAttribute.is_secure(True),
                                             AdditionalCookieAttribute.expires(expires),
                                             AdditionalCookieAttribute.same_site("Lax")])
            res.add_cookie("plain", "1")
            res.end()
        reply = serve(route(h)).get("/r")
        cookies = reply.headers.get_all("Set-Cookie")
        assert "session=abc; Path=/; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Secure; HttpOnly; " \
               "SameSite=Lax" in cookies
        assert "plain=1; Path=/" in cookies

    def test_request_cookies_round_trip(self, serve):
        reply = serve(route(lambda req, res, nxt: res.send(req.cookies["a"].value).end())).get(
            "/r", headers={"Cookie": "a=hello; b=2"})
        assert reply.text == "hello"


class TestRedirect:
    def test_redirect_default_302(self, serve):
        reply = serve(route(lambda req, res, nxt: res.redirect("/elsewhere"))).get("/r")
        assert reply.status == 302 and reply.header("Location") == "/elsewhere"

    def test_redirect_status_and_back(self, serve):
        client = serve(route(lambda req, res, nxt: res.redirect("back", status=303)))
        reply = client.get("/r", headers={"Referer": "/from"})
        assert reply.status == 303 and reply.header("Location") == "/from"
        assert client.get("/r").header("Location") == "/"


class TestLifecycle:
    def test_on_end_and_data_filter(self, serve):
        def h(req, res, nxt):
            previous = res.set_on_end_invoked(lambda: res.headers.__setitem__("X-Ended", "yes"))
            assert callable(previous)
            res.set_written_data_filter(lambda body: body.upper())
            res.send("quiet").end()
        reply = serve(route(h)).get("/r")
        assert reply.text == "QUIET" and reply.header("X-Ended") == "yes"

    def test_format(self, serve):
        def h(req, res, nxt):
            res.format({
                "text/html": lambda rq, rs: rs.send("<b>html</b>"),
                "application/json": lambda rq, rs: rs.send(json={"j": 1}),
                "default": lambda rq, rs: rs.send("default"),
            })
            res.end()
        client = serve(route(h))
        assert client.get("/r", headers={"Accept": "application/json"}).text == '{"j":1}'
        assert client.get("/r", headers={"Accept": "text/html"}).text == "<b>html</b>"
        assert client.get("/r", headers={"Accept": "image/png"}).text == "default"

    def test_format_without_default_is_406(self, serve):
        client = serve(route(lambda req, res, nxt: res.format({"text/html": lambda rq, rs: rs.send("x")})))
        assert client.get("/r", headers={"Accept": "image/png"}).status == 406

    def test_user_info_is_shared_along_the_chain(self, serve):
        router = Router()
        router.all(lambda req, res, nxt: (req.user_info.__setitem__("who", "mw"), nxt()))
        router.get("/r", lambda req, res, nxt: res.send(req.user_info["who"]).end())
        assert serve(router).get("/r").text == "mw"


def test_render_without_engine_is_a_500(serve):
    assert serve(route(lambda req, res, nxt: res.render("page", context={}).end())).get("/r").status == 500


@pytest.mark.parametrize("path", ["/r", "/r/"])
def test_trailing_slash_with_regex_routes(serve, path):
    assert serve(route(lambda req, res, nxt: res.send("ok").end(), path="/:x")).get(path).status == 200


def test_large_post_echo(serve):
    payload = bytes(range(256)) * 4096           # 1 MiB
    router = Router()
    router.post("/large", lambda req, res, nxt: res.send(data=req.body_bytes()).end())
    reply = serve(router).post("/large", body=payload, headers={"Content-Type": "application/octet-stream"})
    assert reply.status == 200 and reply.body == payload


def test_send_sets_200_only_when_no_status_was_set(serve):
    router = Router()
    router.get("/ok", lambda req, res, nxt: (res.send("x"), nxt()))
    router.get("/nf", lambda req, res, nxt: (res.status(404), res.send("x"), nxt()))
    client = serve(router)
    assert client.get("/ok").status == 200
    assert client.get("/nf").status == 404
