"""kitura/router/body_parser.py: BodyParser middleware and ParsedBody."""
from __future__ import annotations

import json

from kitura.router import BodyParser, BodyParserMultiValue, ParsedBody, Router


def echo_router(parser=None):
    router = Router()
    router.all(middleware=parser or BodyParser())

    @router.post("/echo")
    def echo(request, response, next):
        body = request.body
        if body is None:
            response.send(json={"kind": None})
        elif body.as_multi_part is not None:
            response.send(json={"kind": "multipart", "parts": [
                {"name": p.name, "filename": p.filename, "type": p.type, "kind": p.body.kind,
                 "value": p.body.value.decode("latin-1") if isinstance(p.body.value, bytes) else p.body.value}
                for p in body.as_multi_part]})
        else:
            value = body.value.decode("latin-1") if isinstance(body.value, bytes) else body.value
            response.send(json={"kind": body.kind, "value": value, "again": request.read_string()})
        next()
    return router


def post(client, body: bytes, content_type: str | None):
    headers = {"Content-Type": content_type} if content_type else {}
    return json.loads(client.post("/echo", body=body, headers=headers).body)


class TestKinds:
    def test_json(self, serve):
        data = post(serve(echo_router()), b'{"a": [1, {"b": null}]}', "application/json")
        assert data["kind"] == "json" and data["value"] == {"a": [1, {"b": None}]}
        assert data["again"] == '{"a": [1, {"b": null}]}'     # the body can be read again

    def test_json_array_and_charset_parameter(self, serve):
        data = post(serve(echo_router()), b"[1,2]", "application/json; charset=utf-8")
        assert data["value"] == [1, 2]

    def test_invalid_json_gives_no_body_not_500(self, serve):
        assert post(serve(echo_router()), b"{nope", "application/json") == {"kind": None}

    def test_url_encoded(self, serve):
        data = post(serve(echo_router()), b"a=1&b=x+y&a=2&c=%26", "application/x-www-form-urlencoded")
        assert data["kind"] == "urlEncoded" and data["value"] == {"a": "1,2", "b": "x y", "c": "&"}

    def test_url_encoded_multi_value(self, serve):
        data = post(serve(echo_router(BodyParserMultiValue())), b"a=1&a=2", "application/x-www-form-urlencoded")
        assert data["kind"] == "urlEncodedMultiValue" and data["value"] == {"a": ["1", "2"]}

    def test_text(self, serve):
        data = post(serve(echo_router()), "héllo".encode(), "text/plain; charset=utf-8")
        assert data == {"kind": "text", "value": "héllo", "again": "héllo"}

    def test_raw(self, serve):
        data = post(serve(echo_router()), b"\x00\xffbin", "application/octet-stream")
        assert data["kind"] == "raw" and data["value"] == "\x00\xffbin"

    def test_no_content_type_no_body(self, serve):
        assert post(serve(echo_router()), b"abc", None)["kind"] is None

    def test_multipart_with_file(self, serve):
        boundary = "XyZ123"
        body = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="title"\r\n\r\n'
            "My holiday\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="pic.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode() + b"\x89PNG\r\n\x00data" + (
            f"\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="meta"\r\n'
            "Content-Type: application/json\r\n\r\n"
            '{"tags": ["sea"]}\r\n'
            f"--{boundary}--\r\n"
        ).encode()
        data = post(serve(echo_router()), body, f'multipart/form-data; boundary="{boundary}"')
        assert data["kind"] == "multipart"
        parts = data["parts"]
        assert parts[0] == {"name": "title", "filename": "", "type": "text/plain", "kind": "text", "value": "My holiday"}
        assert parts[1]["name"] == "photo" and parts[1]["filename"] == "pic.png"
        assert parts[1]["kind"] == "raw" and parts[1]["value"] == "\x89PNG\r\n\x00data"
        assert parts[2]["kind"] == "json" and parts[2]["value"] == {"tags": ["sea"]}

    def test_multipart_without_closing_delimiter(self, serve):
        body = b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nv\r\n'
        assert post(serve(echo_router()), body, "multipart/form-data; boundary=b")["kind"] is None

    def test_chunked_request_body(self, serve):
        client = serve(echo_router())
        payload = b'{"chunked": true}'
        request = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   + b"%x\r\n%s\r\n" % (5, payload[:5]) + b"%x\r\n%s\r\n" % (len(payload) - 5, payload[5:])
                   + b"0\r\n\r\n")
        answer = client.raw(request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert json.loads(body)["value"] == {"chunked": True}


class TestParsedBody:
    def test_accessors(self):
        body = ParsedBody.json({"a": 1})
        assert body.as_json == {"a": 1}
        assert body.as_text is None and body.as_raw is None and body.as_url_encoded is None
        assert body.as_multi_part is None
        assert ParsedBody.text("t").as_text == "t"
        assert ParsedBody.raw(b"r").as_raw == b"r"

    def test_parse_data(self):
        assert BodyParser.parse_data(b"a=1", "application/x-www-form-urlencoded") == ParsedBody.url_encoded({"a": "1"})
        assert BodyParser.parse_data(b"", "text/plain") is None
        assert BodyParser.parse_data(b"x", "multipart/form-data") is None   # no boundary


def test_body_parser_and_read_string_in_any_order(serve):
    router = Router()
    router.post("/x", lambda req, res, nxt: (res.send(req.read_string() or ""), nxt()))
    router.post("/x", middleware=BodyParser())
    router.post("/x", lambda req, res, nxt: (res.send("|" + str(req.body.as_json)), nxt()))
    reply = serve(router).post("/x", body=b'{"k": 1}', headers={"Content-Type": "application/json"})
    assert reply.text == "{\"k\": 1}|{'k': 1}"


def test_a_subclass_that_overrides_handle_runs_its_own_and_awaits_the_parent(serve):
    """A built-in's handle is one @walk_steps generator for both walks; a subclass that
    overrides it is an ordinary async def handler and may await the parent's."""
    seen = []

    class Counting(BodyParser):
        async def handle(self, request, response, next):
            seen.append(request.method)
            await super().handle(request, response, next)

    reply = post(serve(echo_router(Counting())), b'{"a": 1}', "application/json")
    assert (reply["kind"], reply["value"]) == ("json", {"a": 1})
    assert seen == ["POST"]
