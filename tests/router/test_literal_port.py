"""The literal-port traps (issue 10): each test is the Swift line a Kitura app has, ported as it is."""
from __future__ import annotations

import dataclasses
import io
import logging
from urllib.parse import ParseResult, SplitResult

import pytest


@dataclasses.dataclass
class Link:
    href: SplitResult
    title: str | None = None


@dataclasses.dataclass
class Page:
    url: ParseResult
    next_page: ParseResult | None = None
    note: str | None = None


class TestImportKituraGivesWhatSwiftsDoes:
    def test_http_status_code_from_kitura(self, serve):
        # import Kitura
        # router.get("/") { request, response, next in
        #     response.status(HTTPStatusCode.OK).send("Hello"); next() }
        from kitura import HTTPStatusCode, Router

        router = Router()

        def hello(request, response, next):
            response.status(HTTPStatusCode.OK).send("Hello")
            next()

        router.get("/", hello)
        reply = serve(router).get("/")
        assert (reply.status, reply.text) == (200, "Hello")

    def test_the_other_names_import_kitura_gives(self):
        import kitura
        from kitura import RequestError, ServerOptions, TypeSafeMiddleware
        from kitura.contracts import TypeSafeMiddleware as contracts_middleware
        from kitura.net import ServerOptions as net_options

        assert TypeSafeMiddleware is contracts_middleware and ServerOptions is net_options
        assert RequestError.NOT_FOUND.http_code == 404
        assert {"HTTPStatusCode", "ServerOptions", "TypeSafeMiddleware"} <= set(dir(kitura))


class TestHeliumLoggerAssignment:
    def test_log_logger_equals_helium_logger(self):
        # Log.logger = HeliumLogger(.info); Log.info("Server started")
        from kitura.log import HeliumLogger, Log, LoggerMessageType

        previous = Log.logger
        stream = io.StringIO()
        try:
            logger = HeliumLogger(LoggerMessageType.INFO)
            logger.stream = stream      # Swift would set .colored / .details here
            Log.logger = logger
            Log.info("Server started")
            Log.debug("not at INFO")
            logging.getLogger("kitura.net").warning("from the library")
            assert Log.logger is logger
            assert Log.is_logging(LoggerMessageType.INFO) and not Log.is_logging(LoggerMessageType.DEBUG)
        finally:
            root = logging.getLogger("kitura")
            root.removeHandler(HeliumLogger._handler)
            root.setLevel(logging.NOTSET)
            root.propagate = True
            HeliumLogger._handler = None
            Log.logger = previous
        lines = stream.getvalue().splitlines()
        assert len(lines) == 2
        assert "[INFO] [test_literal_port.py:" in lines[0] and lines[0].endswith("Server started")
        assert "[WARNING]" in lines[1] and lines[1].endswith("from the library")

    def test_log_logger_refuses_what_cannot_log(self):
        from kitura.log import Log

        with pytest.raises(TypeError, match="HeliumLogger or a logging.Logger"):
            Log.logger = "stderr"


class TestParsedBodyMatch:
    def test_match_reads_like_swifts_switch(self):
        # switch request.body { case .json(let obj): ...; case .text(let text): ...; default: ... }
        from kitura import ParsedBody

        def describe(body):
            match body:
                case ParsedBody.json(obj):
                    return f"json {obj}"
                case ParsedBody.text(text):
                    return f"text {text}"
                case ParsedBody.url_encoded(form):
                    return f"form {form}"
                case ParsedBody.multipart(parts):
                    return f"{len(parts)} parts"
                case _:
                    return "other"

        assert describe(ParsedBody.json({"a": 1})) == "json {'a': 1}"
        assert describe(ParsedBody.text("hi")) == "text hi"
        assert describe(ParsedBody.url_encoded({"k": "v"})) == "form {'k': 'v'}"
        assert describe(ParsedBody.multipart([])) == "0 parts"
        assert describe(ParsedBody.raw(b"x")) == "other"
        assert describe(None) == "other"
        assert ParsedBody.json([1]) == ParsedBody("json", [1]) and ParsedBody.json([1]).as_json == [1]
        assert repr(ParsedBody.url_encoded_multi_value({})) == "ParsedBody.url_encoded_multi_value({})"

    def test_match_on_the_parsed_request_body(self, serve):
        from kitura import BodyParser, ParsedBody, Router

        router = Router()
        router.all(middleware=BodyParser())

        def handler(request, response, next):
            match request.body:
                case ParsedBody.json({"name": str(name)}):
                    response.send(f"hello {name}")
                case ParsedBody.text(text):
                    response.send(f"text {text}")
                case _:
                    response.status(400)
            next()

        router.post("/", handler)
        client = serve(router)
        assert client.post("/", '{"name": "kitura"}', headers={"Content-Type": "application/json"}).text == \
            "hello kitura"
        assert client.post("/", "hi", headers={"Content-Type": "text/plain"}).text == "text hi"


class TestDefectsFoundOnTheWay:
    def test_m_search(self, serve):
        # router.mSearch("/x") { request, response, next in ... }
        from kitura import Router, RouterMethod

        router = Router()

        def found(request, response, next):
            response.send(f"{request.method}")
            next()

        router.m_search("/x", found)
        client = serve(router)
        reply = client.request("M-SEARCH", "/x")
        assert (reply.status, reply.text) == (200, "MSEARCH")
        assert RouterMethod.from_raw_value("M-SEARCH") is RouterMethod.M_SEARCH
        assert client.request("M-SEARCH", "/y").text == "Cannot MSEARCH /y."

    def test_cookie_assigned_a_plain_str(self, serve):
        # response.cookies["name"] = HTTPCookie(...) ported with a plain value
        from kitura import Router

        router = Router()

        def handler(request, response, next):
            response.cookies["name"] = "value"
            response.send("ok")
            next()

        router.get("/", handler)
        reply = serve(router).get("/")
        assert reply.status == 200 and reply.header("Set-Cookie") == "name=value; Path=/"

    def test_cookie_assigned_something_else_is_refused_at_assignment(self):
        from kitura.router.cookies import Cookie, ResponseCookies

        cookies = ResponseCookies()
        with pytest.raises(TypeError, match=r"response.cookies\['n'\] takes a Cookie or a str"):
            cookies["n"] = 42
        with pytest.raises(TypeError):
            cookies.update(n=42)
        cookies.update(a="1")
        cookies |= {"b": Cookie(name="b", value="2")}
        assert [c.header_value() for c in cookies.values()] == ["a=1; Path=/", "b=2; Path=/"]

    def test_multipart_part_without_headers_is_kept(self, serve):
        from kitura import BodyParser, Router

        router = Router()
        router.all(middleware=BodyParser())

        def handler(request, response, next):
            response.send(json=[[p.name, p.body.as_text] for p in request.body.as_multi_part])
            next()

        router.post("/", handler)
        body = ("--b\r\n\r\nno headers here\r\n"
                "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nnamed\r\n--b--\r\n")
        reply = serve(router).post("/", body, headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert reply.status == 200
        import json
        assert json.loads(reply.body) == [["", "no headers here"], ["n", "named"]]


class TestHeldNextKeepsTheResponseOpen:
    """A handler that hands ``next`` to a timer, thread or callback and returns: the response
    stays open while ``next`` is referenced (Swift's reference counting), as Kitura's does."""

    def test_sync_handler_finishes_200_ms_later_from_a_timer(self, serve):
        # router.get("/late") { request, response, next in
        #     DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { response.send("late"); next() } }
        import threading

        from kitura import Router

        router = Router()

        def late(request, response, next):
            def finish():
                response.send("late")
                next()
            threading.Timer(0.2, finish).start()

        router.get("/late", late)
        reply = serve(router).get("/late")
        assert (reply.status, reply.text) == (200, "late")

    def test_async_handler_finishes_200_ms_later_from_a_timer(self, serve):
        import threading

        from kitura import Router

        router = Router()

        async def late(request, response, next):
            def finish():
                response.send("late async")
                next()
            threading.Timer(0.2, finish).start()

        router.get("/late", late)
        reply = serve(router).get("/late")
        assert (reply.status, reply.text) == (200, "late async")

    def test_next_called_from_a_callback_runs_the_rest_of_the_chain(self, serve):
        # database.query(...) { rows in request.userInfo["rows"] = rows; next() }
        import concurrent.futures

        from kitura import Router

        pool = concurrent.futures.ThreadPoolExecutor(1)
        router = Router()

        def load(request, response, next):
            def query():
                import time
                time.sleep(0.05)
                return ["a", "b"]

            def done(future):
                request.user_info["rows"] = future.result()
                next()
            pool.submit(query).add_done_callback(done)

        def show(request, response, next):
            response.send(",".join(request.user_info["rows"]))
            next()

        router.get("/rows", load, show)
        try:
            reply = serve(router).get("/rows")
        finally:
            pool.shutdown()
        assert (reply.status, reply.text) == (200, "a,b")

    def test_response_ended_from_a_timer_that_holds_next(self, serve):
        import threading

        from kitura import Router

        router = Router()

        async def late(request, response, next):
            def finish():
                assert next is not None     # the closure holds next, as Swift's would
                response.send("ended").end()
            threading.Timer(0.1, finish).start()

        router.get("/late", late)
        reply = serve(router).get("/late")
        assert (reply.status, reply.text) == (200, "ended")

    def test_dropped_next_ends_with_503(self, serve):
        from kitura import Router

        router = Router()

        def forgets(request, response, next):
            response.headers["X-Seen"] = "yes"

        router.get("/drop", forgets)
        reply = serve(router).get("/drop")
        assert reply.status == 503 and reply.header("X-Seen") == "yes"

    def test_next_released_by_a_timer_without_a_call_ends_with_503(self, serve):
        import threading

        from kitura import Router

        router = Router()

        def holds(request, response, next):
            threading.Timer(0.1, lambda: next).start()   # holds next, then lets it go

        router.get("/release", holds)
        assert serve(router).get("/release").status == 503

    def test_next_kept_forever_ends_after_the_fallback_timeout(self, serve, monkeypatch, caplog):
        from kitura import Router
        from kitura.router import walker

        monkeypatch.setattr(walker, "HELD_NEXT_TIMEOUT", 0.2)
        kept = []
        router = Router()

        def keeps(request, response, next):
            kept.append(next)

        router.get("/kept", keeps)
        with caplog.at_level(logging.WARNING, logger="kitura.router"):
            assert serve(router).get("/kept").status == 503
        assert "kept next() for 0.2s" in caplog.text
        kept[0]()       # too late: nothing happens


class TestCodableModelsAsSwiftsJSONEncoder:
    def test_url_field_is_sent_as_a_string_and_read_back(self, serve):
        # struct Link: Codable { let href: URL; let title: String? }
        # router.post("/links") { (link: Link, respondWith: (Link?, RequestError?) -> Void) in respondWith(link, nil) }
        import json
        from urllib.parse import urlsplit

        from kitura import Router

        router = Router()
        seen = []

        def add_link(link: Link, respond_with):
            seen.append(link)
            respond_with(link, None)

        router.post("/links", add_link)
        reply = serve(router).post("/links", '{"href": "https://kitura.dev/docs?x=1#top"}',
                                   headers={"Content-Type": "application/json"})
        assert reply.status == 201
        assert seen == [Link(href=urlsplit("https://kitura.dev/docs?x=1#top"))]
        # the URL as a string, the nil title left out (Swift's JSONEncoder)
        assert json.loads(reply.body) == {"href": "https://kitura.dev/docs?x=1#top"}

    def test_codec_urls_and_nulls(self, monkeypatch):
        from urllib.parse import urlparse

        from kitura.router import codec as codable

        page = Page(url=urlparse("http://a/b;p?q"))
        assert codable.to_jsonable(page) == {"url": "http://a/b;p?q"}
        assert codable.decode_model(Page, {"url": "http://a/b;p?q", "note": None}) == page
        assert codable.to_jsonable([None, {"k": None}]) == [None, {"k": None}]   # only model fields are left out
        with pytest.raises(codable.DecodingError, match="Invalid URL at url"):
            codable.decode_model(Page, {"url": "http://[::1"})
        monkeypatch.setattr(codable, "KEEP_NULLS", True)
        assert codable.to_jsonable(page) == {"url": "http://a/b;p?q", "next_page": None, "note": None}
