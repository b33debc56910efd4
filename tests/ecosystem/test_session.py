"""kitura.session over real sockets: Session and request.session, signed cookies, stores
(in memory, and Redis on a real redis-server), TypeSafeSession."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from kitura.router import RequestError, Router
from kitura.session import (CookieParameter, InMemoryStore, RedisStore, Session, SessionCookie, StoreError,
                            TypeSafeSession)
from kitura.session.cookie import CookieSigner

from .conftest import TIMEOUT
from .session_app import make_router

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Book:
    name: str
    author: str
    rating: int


def cookie_of(reply, name: str) -> str:
    """The `name=value` part of the reply's Set-Cookie for `name`."""
    for header in reply.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if pair.startswith(name + "="):
            return pair
    raise AssertionError(f"no Set-Cookie {name} in {reply.headers.get_all('Set-Cookie')}")


def counter_router(store=None, cookie=None) -> Router:
    router = Router()
    router.all(middleware=Session(secret="s3cret", cookie=cookie, store=store))

    @router.get("/count")
    def count(request, response, next):
        session = request.session
        session["count"] = (session["count"] or 0) + 1
        response.send(str(session["count"])).end()

    @router.delete("/count")
    def forget(request, response, next):
        request.session.destroy()
        response.send(status=204)
        next()

    return router


def test_a_session_lives_across_requests_through_its_signed_cookie(serve):
    client = serve(counter_router())
    first = client.get("/count")
    assert first.text == "1"
    set_cookie = next(h for h in first.headers.get_all("Set-Cookie") if h.startswith("kitura-session-id="))
    assert "HttpOnly" in set_cookie and "Path=/" in set_cookie and "SameSite=Lax" in set_cookie
    cookie = cookie_of(first, "kitura-session-id")
    assert client.get("/count", headers={"Cookie": cookie}).text == "2"
    assert client.get("/count", headers={"Cookie": cookie}).text == "3"
    assert client.get("/count").text == "1"                     # no cookie: another session


@pytest.mark.parametrize("forge", [
    lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),     # signature changed
    lambda value: "x" + value,                                                   # id changed
    lambda value: value.split(".")[0],                                           # signature dropped
    lambda value: "garbage",
    lambda value: CookieSigner("another secret").encode(value.split(".")[0]),    # signed under another secret
])
def test_a_tampered_cookie_is_a_new_session_never_an_error(serve, forge):
    client = serve(counter_router())
    cookie = cookie_of(client.get("/count"), "kitura-session-id")
    assert client.get("/count", headers={"Cookie": cookie}).text == "2"
    name, value = cookie.split("=", 1)
    reply = client.get("/count", headers={"Cookie": f"{name}={forge(value)}"})
    assert reply.status == 200 and reply.text == "1"
    assert cookie_of(reply, name) != cookie


def test_cookie_parameters(serve):
    client = serve(counter_router(cookie=[CookieParameter.name("Raw-cookie"), CookieParameter.path("/"),
                                          CookieParameter.secure(True), CookieParameter.max_age(600.0)]))
    reply = client.get("/count")
    header = next(h for h in reply.headers.get_all("Set-Cookie") if h.startswith("Raw-cookie="))
    assert "Max-Age=600" in header and "Secure" in header
    assert client.get("/count", headers={"Cookie": cookie_of(reply, "Raw-cookie")}).text == "2"


def test_cookie_parameter_is_checked():
    with pytest.raises(TypeError, match="CookieParameter"):
        Session(secret="s", cookie=[("name", "x")])
    with pytest.raises(ValueError, match="secret"):
        Session(secret="")


def test_destroy_forgets_the_session(serve):
    store = InMemoryStore()
    client = serve(counter_router(store=store))
    cookie = cookie_of(client.get("/count"), "kitura-session-id")
    assert client.get("/count", headers={"Cookie": cookie}).text == "2"
    assert len(store) == 1
    assert client.request("DELETE", "/count", headers={"Cookie": cookie}).status == 204
    assert len(store) == 0
    assert client.get("/count", headers={"Cookie": cookie}).text == "1"


def test_typed_values_and_removal(serve):
    router = Router()
    router.all(middleware=Session(secret="s"))

    @router.post("/books")
    def add(request, response, next):
        session = request.session
        books = session.get("books", as_=list[Book]) or []
        books.append(request.read(as_=Book))
        session["books"] = books
        response.status(201).send(json=books).end()

    @router.get("/books")
    def books(request, response, next):
        books = request.session.get("books", as_=list[Book]) or []
        assert all(isinstance(book, Book) for book in books)
        response.send(json=books).end()

    @router.delete("/books")
    def clear(request, response, next):
        request.session["books"] = None
        response.send(status=204).end()

    client = serve(router)
    body = json.dumps({"name": "n", "author": "a", "rating": 4})
    reply = client.post("/books", body=body, headers={"Content-Type": "application/json"})
    assert reply.status == 201
    cookie = {"Cookie": cookie_of(reply, "kitura-session-id")}
    client.post("/books", body=body, headers={"Content-Type": "application/json", **cookie})
    assert json.loads(client.get("/books", headers=cookie).body) == [json.loads(body)] * 2
    assert client.request("DELETE", "/books", headers=cookie).status == 204
    assert json.loads(client.get("/books", headers=cookie).body) == []


def test_request_session_is_none_without_the_middleware(serve):
    router = Router()
    router.get("/", lambda request, response, next: response.send(repr(request.session)).end())
    assert serve(router).get("/").text == "None"


# -- the in-memory store ---------------------------------------------------------
def test_in_memory_store_is_bounded_and_expires():
    now = [0.0]
    store = InMemoryStore(max_sessions=3, ttl=10.0, clock=lambda: now[0])
    got = []
    for i in range(4):
        store.save(f"s{i}", b"{}", got.append)
    assert got == [None] * 4 and len(store) == 3
    store.load("s0", lambda data, error: got.append(data))           # the least recently used went first
    store.load("s1", lambda data, error: got.append(data))
    assert got[-2:] == [None, b"{}"]
    now[0] = 9.0
    store.touch("s1", got.append)                                     # renewed at 9: lives until 19
    now[0] = 15.0
    store.load("s2", lambda data, error: got.append(data))
    store.load("s1", lambda data, error: got.append(data))
    assert got[-2:] == [None, b"{}"] and len(store) == 1
    with pytest.raises(ValueError):
        InMemoryStore(max_sessions=0)


# -- TypeSafeSession ------------------------------------------------------------------
class MySession(TypeSafeSession):
    session_cookie = SessionCookie(name="MySession", secret="Top Secret")
    store = None
    books: list[Book]

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.books = []


def typesafe_router() -> Router:
    """MySession through raw routes: what a Codable route with a `session: MySession` parameter does."""
    router = Router()

    def with_session(request, response, then):
        def completion(session, error):
            if error is not None:
                response.status(error.http_code).end()
            else:
                then(session)
        MySession.handle(request, response, completion)

    @router.get("/session")
    def get_books(request, response, next):
        with_session(request, response, lambda session: response.send(json=session.books).end())

    @router.post("/session")
    def post_book(request, response, next):
        def add(session):
            book = request.read(as_=Book)
            session.books.append(book)
            session.save()
            response.status(201).send(json=book).end()
        with_session(request, response, add)

    @router.delete("/session")
    def delete(request, response, next):
        def destroy(session):
            session.destroy()
            response.send(status=204).end()
        with_session(request, response, destroy)

    return router


def test_type_safe_session_persists_typed_fields(serve):
    MySession.store = InMemoryStore()
    client = serve(typesafe_router())
    assert json.loads(client.get("/session").body) == []
    book = {"name": "bookName", "author": "bookAuthor", "rating": 4}
    reply = client.post("/session", body=json.dumps(book), headers={"Content-Type": "application/json"})
    assert reply.status == 201 and json.loads(reply.body) == book
    cookie = {"Cookie": cookie_of(reply, "MySession")}
    assert json.loads(client.get("/session", headers=cookie).body) == [book]
    client.post("/session", body=json.dumps(book), headers={"Content-Type": "application/json", **cookie})
    assert json.loads(client.get("/session", headers=cookie).body) == [book, book]
    assert client.request("DELETE", "/session", headers=cookie).status == 204
    assert json.loads(client.get("/session", headers=cookie).body) == []
    forged = {"Cookie": cookie["Cookie"][:-1] + ("A" if not cookie["Cookie"].endswith("A") else "B")}
    assert json.loads(client.get("/session", headers=forged).body) == []


def test_type_safe_session_handle_directly():
    class Req:
        cookies: dict = {}

    class Resp:
        def __init__(self):
            self.cookies = {}

    MySession.store = store = InMemoryStore()
    out = []
    response = Resp()
    MySession.handle(Req(), response, lambda session, error: out.append((session, error)))
    session, error = out[0]
    assert error is None and isinstance(session, MySession) and "MySession" in response.cookies
    session.books.append(Book("n", "a", 1))
    session.save(out.append)
    assert out[-1] is None and len(store) == 1
    Req.cookies = {"MySession": response.cookies["MySession"]}
    MySession.handle(Req(), Resp(), lambda session, error: out.append((session, error)))
    assert out[-1][0].books == [Book("n", "a", 1)] and out[-1][0].session_id == session.session_id
    store.save(session.session_id, b'{"books": 7}', out.append)           # not a list of books: 500, as Kitura
    MySession.handle(Req(), Resp(), lambda session, error: out.append((session, error)))
    assert out[-1] == (None, RequestError.INTERNAL_SERVER_ERROR)


def test_type_safe_session_without_a_store_says_so():
    class Unstored(TypeSafeSession):
        session_cookie = SessionCookie(name="u", secret="s")
    errors = []
    Unstored("id").save(errors.append)
    assert isinstance(errors[0], StoreError)


# -- Redis ------------------------------------------------------------------------------
def test_redis_sessions_survive_a_server_restart(serve, redis_server):
    client = serve(make_router(redis_server.url))
    cookie = {"Cookie": cookie_of(client.get("/count"), "sid")}
    assert json.loads(client.get("/count", headers=cookie).body) == {"count": 2}
    restarted = serve(make_router(redis_server.url))                 # a new server, a new store, same Redis
    assert json.loads(restarted.get("/count", headers=cookie).body) == {"count": 3}


def test_redis_sessions_are_shared_by_two_processes(serve, redis_server):
    here = serve(make_router(redis_server.url))
    other = subprocess.Popen([sys.executable, "-m", "tests.ecosystem.session_app", redis_server.url], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(other.stdout.readline())
        from .conftest import Client
        there = Client(port)
        cookie = {"Cookie": cookie_of(here.get("/count"), "sid")}
        assert json.loads(there.get("/count", headers=cookie).body) == {"count": 2}
        assert json.loads(here.get("/count", headers=cookie).body) == {"count": 3}
        assert json.loads(there.get("/count", headers=cookie).body) == {"count": 4}
    finally:
        other.stdin.close()
        try:
            other.wait(timeout=10)
        except subprocess.TimeoutExpired:
            other.kill()
            other.wait(timeout=5)


def test_redis_store_down_is_an_error_to_the_callback_and_back_up_is_used_again(serve, redis_server):
    import redis
    store = RedisStore(redis.Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=2))
    errors = []
    store.save("id", b'{"a":1}', errors.append)
    redis_server.stop()
    store.load("id", lambda data, error: errors.append(error))
    assert errors[0] is None and errors[1] is not None
    redis_server.start()
    store.load("id", lambda data, error: errors.append((data, error)))
    assert errors[2] == (None, None)                                 # this Redis keeps nothing across restarts
    client = serve(make_router(redis_server.url))
    assert json.loads(client.get("/count").body) == {"count": 1}


def test_async_handlers_see_and_change_the_session(serve):
    router = Router()
    router.all(middleware=Session(secret="s"))

    @router.get("/count")
    async def count(request, response, next):
        session = request.session
        session["count"] = (session["count"] or 0) + 1
        response.send(str(session["count"])).end()

    client = serve(router)
    cookie = {"Cookie": cookie_of(client.get("/count"), "kitura-session-id")}
    assert client.get("/count", headers=cookie).text == "2"


class GatedStore(InMemoryStore):
    """A store whose save waits (as a network store may) until the test lets it go."""
    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.saved_on: list[int] = []

    def save(self, session_id, data, callback):
        self.saved_on.append(threading.get_ident())
        self.entered.set()
        self.release.wait(TIMEOUT)
        super().save(session_id, data, callback)


def test_a_blocking_store_saves_off_the_event_loop_and_before_the_answer(serve):
    store = GatedStore()
    loop_threads = []
    router = Router()
    router.all(middleware=Session(secret="s", store=store))

    @router.get("/count")
    async def count(request, response, next):
        loop_threads.append(threading.get_ident())
        session = request.session
        session["count"] = (session["count"] or 0) + 1
        response.send(str(session["count"])).end()

    @router.get("/ping")
    async def ping(request, response, next):
        response.send("pong").end()

    client = serve(router)
    first = []
    saving = threading.Thread(target=lambda: first.append(client.get("/count")))
    saving.start()
    try:
        assert store.entered.wait(TIMEOUT)
        assert client.get("/ping").text == "pong"       # the loop serves others while the save waits
        assert not store.release.is_set() and not first  # and that answer is held until the save is done
    finally:
        store.release.set()
        saving.join(TIMEOUT)
    assert store.saved_on[0] != loop_threads[0]
    cookie = {"Cookie": cookie_of(first[0], "kitura-session-id")}
    assert client.get("/count", headers=cookie).text == "2"


class RedisSession(TypeSafeSession):
    session_cookie = SessionCookie(name="rs", secret="s")
    books: list[Book]

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.books = []


def codable_session_router() -> Router:
    router = Router()

    @router.post("/books")
    def add(session: RedisSession, book: Book, respond_with):
        session.books.append(book)
        session.save()
        respond_with(book, None)

    @router.get("/books")
    def books(session: RedisSession, respond_with):
        respond_with(session.books, None)

    return router


def test_type_safe_session_in_codable_routes_on_redis(serve, redis_server):
    RedisSession.store = RedisStore(redis_server.url)
    client = serve(codable_session_router())
    book = {"name": "n", "author": "a", "rating": 3}
    reply = client.post("/books", body=json.dumps(book), headers={"Content-Type": "application/json"})
    assert reply.status == 201
    cookie = {"Cookie": cookie_of(reply, "rs")}
    RedisSession.store = RedisStore(redis_server.url)                # as after a restart: a new client
    restarted = serve(codable_session_router())
    assert json.loads(restarted.get("/books", headers=cookie).body) == [book]
    assert json.loads(restarted.get("/books?books=%5B%5D&session_id=x", headers=cookie).body) == [book]
