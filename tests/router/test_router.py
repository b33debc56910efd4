"""kitura/router/router.py and walker.py: registration forms and chain semantics, over real sockets."""
from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from kitura.router import Router, RouterMiddleware, RouterMethod
from kitura.router import steps


def text_handler(text: str):
    def handler(request, response, next):
        response.send(text)
        next()
    return handler


class TestVerbs:
    @pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "options"])
    def test_each_verb_dispatches_on_its_method(self, serve, verb):
        router = Router()
        getattr(router, verb)("/r", text_handler(verb))
        client = serve(router)
        assert client.request(verb.upper(), "/r").text == verb
        other = "POST" if verb != "post" else "PUT"
        assert client.request(other, "/r").status == 404

    def test_extension_methods(self, serve):
        router = Router()
        router.mk_col("/dav", text_handler("mkcol"))
        router.prop_find("/dav", text_handler("propfind"))
        client = serve(router)
        assert client.request("MKCOL", "/dav").text == "mkcol"
        assert client.request("PROPFIND", "/dav").text == "propfind"

    def test_all_matches_every_method(self, serve):
        router = Router()
        router.all("/any", text_handler("any"))
        client = serve(router)
        for method in ("GET", "POST", "DELETE", "PATCH"):
            assert client.request(method, "/any").text == "any"

    def test_router_method_enum(self):
        assert RouterMethod.GET == "GET"
        assert f"{RouterMethod.MK_COL}" == "MKCOL"
        assert RouterMethod.from_raw_value("BREW") is RouterMethod.UNKNOWN


class TestHandlerForms:
    def test_several_handlers_run_in_order(self, serve):
        router = Router()
        router.get("/x", text_handler("a"), text_handler("b"), [text_handler("c")])
        assert serve(router).get("/x").text == "abc"

    def test_registration_returns_router_for_chaining(self):
        router = Router()
        assert router.get("/a", text_handler("a")).post("/b", text_handler("b")) is router

    def test_decorator(self, serve):
        router = Router()

        @router.get("/hello/:name")
        def hello(request, response, next):
            response.send(f"Hello, {request.parameters['name']}")
            next()

        assert callable(hello) and hello.__name__ == "hello"
        assert serve(router).get("/hello/Kitura").text == "Hello, Kitura"

    def test_decorator_without_path(self, serve):
        router = Router()

        @router.all()
        def everything(request, response, next):
            response.headers["X-Seen"] = "yes"
            next()

        router.get("/x", text_handler("x"))
        reply = serve(router).get("/x")
        assert reply.header("X-Seen") == "yes" and reply.text == "x"

    def test_handler_as_first_argument_means_no_path(self, serve):
        router = Router()
        router.all(text_handler("all-"))
        router.get("/p", text_handler("p"))
        assert serve(router).get("/p").text == "all-p"

    def test_async_handlers(self, serve):
        router = Router()

        @router.get("/slow")
        async def slow(request, response, next):
            await asyncio.sleep(0.01)
            response.send("done")
            next()

        assert serve(router).get("/slow").text == "done"

    def test_middleware_object_function_and_list(self, serve):
        class Mark(RouterMiddleware):
            def __init__(self, tag):
                self.tag = tag

            def handle(self, request, response, next):
                response.headers.append("X-Mark", self.tag)
                next()

        class AsyncMark:
            async def handle(self, request, response, next):
                response.headers.append("X-Mark", "async")
                next()

        def fn_middleware(request, response, next):
            response.headers.append("X-Mark", "fn")
            next()

        router = Router()
        router.all(middleware=Mark("one"))
        router.all("/m", middleware=[AsyncMark(), fn_middleware])
        router.get("/m/x", text_handler("x"))
        reply = serve(router).get("/m/x")
        assert reply.text == "x"
        assert reply.headers.get_all("X-Mark") == ["one", "async", "fn"] or \
            reply.header("X-Mark") == "one, async, fn"

    def test_middleware_prefix_and_exact(self, serve):
        router = Router()
        router.get("/pre", middleware=lambda req, res, nxt: (res.send("[pre]"), nxt()))
        router.get("/exact", allow_partial_match=False, middleware=lambda req, res, nxt: (res.send("[ex]"), nxt()))
        router.get("/pre/a", text_handler("a"))
        router.get("/exact/b", text_handler("b"))
        client = serve(router)
        assert client.get("/pre/a").text == "[pre]a"
        assert client.get("/exact/b").text == "b"

    def test_not_callable_handler_is_rejected(self):
        with pytest.raises(TypeError):
            Router().get("/x", 42)


class TestChain:
    def test_all_matching_elements_run_while_next_is_called(self, serve):
        router = Router()
        router.get("/x", text_handler("1"))
        router.get("/:p", text_handler("2"))
        router.all("/x", text_handler("3"))
        assert serve(router).get("/x").text == "123"

    def test_a_handler_that_ends_stops_the_chain(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: res.send("first").end())
        router.get("/x", text_handler("second"))
        assert serve(router).get("/x").text == "first"

    def test_default_404_message(self, serve):
        client = serve(Router())
        reply = client.get("/nowhere")
        assert reply.status == 404 and reply.text == "Cannot GET /nowhere."
        assert client.post("/a/b").text == "Cannot POST /a/b."

    def test_404_when_chain_runs_through_without_sending(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: nxt())
        assert serve(router).get("/x").status == 404

    def test_welcome_page(self, serve):
        reply = serve(Router()).get("/")
        assert reply.status == 200 and "text/html" in reply.header("Content-Type")
        reply = serve(Router(enable_welcome_page=False)).get("/")
        assert reply.status == 404 and reply.text == "Cannot GET /."

    def test_503_when_a_handler_neither_ends_nor_calls_next(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: None)
        reply = serve(router).get("/x")
        assert reply.status == 503 and reply.body == b""

    def test_sent_but_not_ended_is_ended_with_200(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: res.send("partial"))
        router.get("/x", text_handler("never"))
        reply = serve(router).get("/x")
        assert reply.status == 200 and reply.text == "partial"

    def test_status_without_body(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: (res.status(418), nxt()))
        reply = serve(router).get("/x")
        assert reply.status == 418 and reply.body == b""

    def test_exception_gives_500_without_traceback(self, serve, caplog):
        router = Router()

        @router.get("/boom")
        def boom(request, response, next):
            response.send("half")
            raise RuntimeError("secret detail")

        with caplog.at_level(logging.ERROR, logger="kitura.router"):
            reply = serve(router).get("/boom")
        assert reply.status == 500
        assert b"secret" not in reply.body and b"Traceback" not in reply.body
        assert any("secret detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)

    def test_async_exception_gives_500(self, serve):
        router = Router()

        @router.get("/boom")
        async def boom(request, response, next):
            await asyncio.sleep(0)
            raise ValueError("x")

        assert serve(router).get("/boom").status == 500

    def test_error_handlers_run_after_an_exception(self, serve):
        router = Router()
        router.get("/boom", lambda req, res, nxt: 1 / 0)
        router.get("/boom", text_handler("skipped"))

        @router.error()
        def on_error(request, response, next):
            response.status(500).send(f"Caught: {type(response.error).__name__}")
            next()

        router.error(lambda req, res, nxt: (res.send("!"), nxt()))
        client = serve(router)
        reply = client.get("/boom")
        assert reply.status == 500 and reply.text == "Caught: ZeroDivisionError!"
        assert client.get("/fine").status == 404   # error handlers do not run without an error

    def test_head_falls_back_to_get_without_body(self, serve):
        router = Router()
        router.get("/page", text_handler("twelve bytes"))
        client = serve(router)
        get = client.get("/page")
        head = client.request("HEAD", "/page")
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Length") == get.header("Content-Length") == "12"

    def test_head_handler_wins_when_registered(self, serve):
        router = Router()
        router.head("/page", lambda req, res, nxt: (res.headers.__setitem__("X-Head", "1"), res.end()))
        router.get("/page", text_handler("get"))
        assert serve(router).request("HEAD", "/page").header("X-Head") == "1"

    def test_matching_is_case_sensitive_on_the_raw_path(self, serve):
        router = Router()
        router.get("/Case", text_handler("yes"))
        router.get("/a%2Fb", text_handler("encoded"))
        client = serve(router)
        assert client.get("/Case").text == "yes"
        assert client.get("/case").status == 404
        assert client.get("/a%2Fb").text == "encoded"
        assert client.get("/a/b").status == 404

    def test_defer_then_next_from_another_thread(self, serve):
        router = Router()

        @router.get("/later")
        def later(request, response, next):
            response.defer()

            def work():
                response.send("from a thread, ")
                next()
            threading.Timer(0.02, work).start()

        router.get("/later", text_handler("then the next handler"))
        assert serve(router).get("/later").text == "from a thread, then the next handler"

    def test_defer_then_end_from_another_thread(self, serve):
        router = Router()

        @router.get("/later")
        def later(request, response, next):
            response.defer()
            threading.Timer(0.02, lambda: response.send("ended later").end()).start()

        assert serve(router).get("/later").text == "ended later"

    def test_handler_returning_a_future_is_awaited(self, serve):
        import concurrent.futures
        router = Router()

        @router.get("/f")
        def f(request, response, next):
            fut = concurrent.futures.Future()

            def work():
                response.send("future")
                next()
                fut.set_result(None)
            threading.Timer(0.01, work).start()
            return fut

        assert serve(router).get("/f").text == "future"

    def test_blocking_sync_handler_does_not_stall_others(self, serve):
        release = threading.Event()
        router = Router()

        @router.get("/block")
        def block(request, response, next):
            assert release.wait(10)
            response.send("released")
            next()

        @router.get("/release")
        def do_release(request, response, next):
            release.set()
            response.send("ok")
            next()

        client = serve(router)
        results = {}
        t = threading.Thread(target=lambda: results.setdefault("b", client.get("/block")))
        t.start()
        assert client.get("/release").text == "ok"
        t.join(10)
        assert results["b"].text == "released"

    def test_async_only_router_never_uses_a_worker_thread(self, serve, monkeypatch, walk_mode):
        if walk_mode != "auto":
            pytest.skip("the walk is forced")
        def no_threads(*args):
            raise AssertionError("a worker thread was used")
        monkeypatch.setattr(steps, "run_sync", no_threads)
        seen = []
        router = Router()

        @router.get("/a")
        async def a(request, response, next):
            seen.append(threading.current_thread().name)
            response.send("async")
            next()

        assert serve(router).get("/a").text == "async"
        assert seen and "worker" not in seen[0]

    def test_next_called_twice_is_harmless(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: (nxt(), nxt()))
        router.get("/x", text_handler("once"))
        assert serve(router).get("/x").text == "once"


class TestSubRouters:
    def test_route_mounts_a_sub_router(self, serve):
        router = Router()
        api = router.route("/api")
        api.get("/users", text_handler("users"))
        api.get("/", text_handler("api root"))
        client = serve(router)
        assert client.get("/api/users").text == "users"
        assert client.get("/api").text == "api root"
        assert client.get("/users").status == 404

    def test_nested_and_paths_restored(self, serve):
        router = Router()
        v1 = router.route("/api").route("/v1")
        v1.get("/ping", text_handler("pong"))
        router.get("/api/v1/ping", lambda req, res, nxt: (res.send(f"+{req.path}"), nxt()))
        assert serve(router).get("/api/v1/ping").text == "pong+/api/v1/ping"

    def test_sub_router_registered_with_all(self, serve):
        sub = Router()
        sub.get("/x", text_handler("sub-x"))
        router = Router()
        router.all("/mount", middleware=sub)
        assert serve(router).get("/mount/x").text == "sub-x"

    def test_merge_parameters(self, serve):
        router = Router()
        merged = router.route("/m/:owner", merge_parameters=True)
        merged.get("/items/:id", lambda req, res, nxt: (res.send(str(sorted(req.parameters.items()))), nxt()))
        plain = router.route("/p/:owner")
        plain.get("/items/:id", lambda req, res, nxt: (res.send(str(sorted(req.parameters.items()))), nxt()))
        client = serve(router)
        assert client.get("/m/ann/items/3").text == "[('id', '3'), ('owner', 'ann')]"
        assert client.get("/p/ann/items/3").text == "[('id', '3')]"

    def test_404_path_is_the_full_path(self, serve):
        router = Router()
        router.route("/api").get("/x", text_handler("x"))
        assert serve(router).get("/api/nope").text == "Cannot GET /api/nope."


class TestParameterHandlers:
    def test_parameter_handler_runs_once_before_routes(self, serve):
        calls = []
        router = Router()

        def load_user(request, response, value, next):
            calls.append(value)
            request.user_info["user"] = value.upper()
            next()

        router.parameter("id", load_user)
        router.get("/users/:id", lambda req, res, nxt: (res.send(req.user_info["user"]), nxt()))
        router.get("/users/:id", lambda req, res, nxt: (res.send("!"), nxt()))
        assert serve(router).get("/users/bob").text == "BOB!"
        assert calls == ["bob"]

    def test_parameter_handler_can_stop_the_chain(self, serve):
        router = Router()

        @router.parameter("id")
        def check(request, response, value, next):
            if not value.isdigit():
                response.status(400).send("bad id").end()
                return
            next()

        router.get("/items/:id", text_handler("item"))
        client = serve(router)
        assert client.get("/items/12").text == "item"
        reply = client.get("/items/xx")
        assert reply.status == 400 and reply.text == "bad id"

    def test_parameter_handlers_are_inherited_by_sub_routers(self, serve):
        router = Router()
        router.parameter(["id"], lambda req, res, value, nxt: (req.user_info.setdefault("v", value), nxt()))
        sub = router.route("/sub")
        sub.get("/:id", lambda req, res, nxt: (res.send(req.user_info["v"]), nxt()))
        assert serve(router).get("/sub/9").text == "9"


def test_defer_then_next_at_once_does_not_leave_the_chain_waiting(serve):
    router = Router()
    router.get("/x", lambda req, res, nxt: (res.defer(), nxt()))
    router.get("/x", lambda req, res, nxt: res.send("done"))   # neither next nor end: ended on return
    assert serve(router).get("/x").text == "done"


def test_status_code_of_an_unnamed_status(serve):
    router = Router()
    seen = []

    @router.get("/x")
    def h(request, response, next):
        response.status(299)
        seen.append(response.status_code)
        response.end()

    assert serve(router).get("/x").status == 299
    assert seen == [299]


def test_kitura_labels_handler_and_handlers(serve):
    router = Router()
    router.parameter(["id"], handlers=[
        lambda req, res, value, nxt: (req.user_info.__setitem__("h1", value), nxt()),
        lambda req, res, value, nxt: (req.user_info.__setitem__("h2", value), nxt())])
    router.parameter(["name"], handler=lambda req, res, value, nxt: (req.user_info.__setitem__("h3", value), nxt()))
    router.get("/item/:id", handler=[lambda req, res, nxt: (res.send(str(sorted(req.user_info))), nxt())])
    router.get("/user/:name", handler=lambda req, res, nxt: (res.send(str(sorted(req.user_info))), nxt()))
    client = serve(router)
    assert client.get("/item/1").text == "['h1', 'h2']"
    assert client.get("/user/x").text == "['h3']"


class TestServerEntry:
    """kitura.net calls the Router through loop_entry (no coroutine per request), unless a
    subclass overrides handle()."""

    def test_a_subclass_that_overrides_handle_is_called_through_it(self, serve):
        seen = []

        class Logged(Router):
            async def handle(self, request, response, next=None):
                seen.append(request.url)
                await super().handle(request, response, next)

        router = Logged()
        router.get("/r", text_handler("ok"))
        assert router.loop_entry(None) is None
        client = serve(router)
        assert client.get("/r").text == "ok"
        assert seen == [b"/r"]

    def test_a_plain_router_uses_the_loop_entry_and_answers_from_either_walk(self, serve):
        router = Router()
        router.get("/sync", text_handler("from a def"))

        @router.get("/async")
        async def suspended(request, response, next):
            await asyncio.sleep(0.01)   # the walk suspends: the rest runs in a Task
            response.send("from an async def")
            next()

        assert router.loop_entry(None) is not None
        client = serve(router)
        assert client.get("/sync").text == "from a def"
        assert client.get("/async").text == "from an async def"
        assert client.get("/missing").status == 404
