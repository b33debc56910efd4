"""The Kitura-Sample routes, ported to Kitura for Python.

Each ``initialize_*`` function mirrors one routes file of the Swift sample.
"""
from __future__ import annotations

import threading
from pathlib import Path

from kitura import BodyParser, Kitura, RequestError, Router, RouterMiddleware, StaticFileServer
from kitura.log import Log
from kitura.openapi import KituraOpenAPI
from kitura.net import HTTPStatusCode
from kitura.templates import JinjaTemplateEngine

from basic_auth_routes import initialize_basic_auth_routes
from compression_routes import initialize_compression
from health_routes import initialize_health_routes
from jwt_routes import initialize_jwt_routes
from sessions_routes import initialize_sessions_routes
from models import Book, BookQuery, JinjaSummary, Name

HERE = Path(__file__).resolve().parent


class SampleError(Exception):
    def __str__(self) -> str:
        return "Example of error being set"


class App:
    def __init__(self) -> None:
        self.router = Router()
        self._lock = threading.Lock()          # handlers run on worker threads: guard the shared state
        self._name: Name | None = None
        self._books = [Book(name="Sample", author="zzz", rating=5)]
        self.post_init()

    # -- shared state ----------------------------------------------------------
    def get_name(self) -> Name | None:
        with self._lock:
            return self._name

    def set_name(self, name: Name | None) -> None:
        with self._lock:
            self._name = name

    def get_books(self) -> list[Book]:
        with self._lock:
            return list(self._books)

    def add_book(self, book: Book) -> None:
        with self._lock:
            self._books.append(book)

    def delete_books(self) -> None:
        with self._lock:
            self._books = []

    # -- routes ----------------------------------------------------------------
    def post_init(self) -> None:
        initialize_compression(self)
        initialize_hello_world_routes(self)
        initialize_further_routes(self)
        initialize_jinja_routes(self)
        initialize_codable_routes(self)
        initialize_basic_auth_routes(self)
        initialize_sessions_routes(self)
        initialize_health_routes(self)
        initialize_jwt_routes(self)
        initialize_static_file_servers(self)
        KituraOpenAPI.add_endpoints(to=self.router)
        initialize_not_found_route(self)

    def run(self, port: int = 8080, address: str | None = None) -> None:
        Kitura.add_http_server(on_port=port, on_address=address, with_=self.router)
        Kitura.run()


def initialize_hello_world_routes(app: App) -> None:
    router = app.router

    @router.get("/hello")
    def hello(request, response, next):
        name = app.get_name()
        response.send(f"Hello {name.name if name else 'World'}, from Kitura!").end()

    @router.post("/hello")
    def set_hello(request, response, next):
        name = request.read(as_=Name)             # JSON or URL-encoded; a bad body is a 500, as in Swift
        app.set_name(name)
        response.send(name).end()

    @router.delete("/hello")
    def delete_hello(request, response, next):
        app.set_name(None)
        response.send("Got a DELETE request").end()


def custom_parameter_handler(request, response, next):
    response.send(f"{request.parameters.get('id', 'unknown')}|").status(200)
    next()


class CustomParameterMiddleware(RouterMiddleware):
    def handle(self, request, response, next):
        custom_parameter_handler(request, response, next)


def initialize_further_routes(app: App) -> None:
    router = app.router

    def here(request, response, next):
        response.send("I'm here!\n")
        next()

    def me_too(request, response, next):
        response.send("Me too!\n")
        next()

    router.get("/multi", here, me_too)
    router.get("/multi", lambda request, response, next: response.send("I come afterward..\n").end())

    @router.get("/redirect")
    def redirect(request, response, next):
        response.redirect("https://www.kitura.io")
        next()

    @router.get("/users/:user")
    def user(request, response, next):
        response.headers["Content-Type"] = "text/html"
        from html import escape
        user = escape(request.parameters.get("user", "(nil)"))
        response.send(f"<!DOCTYPE html><html><body><b>User:</b> {user}</body></html>\n\n").end()

    router.get("/user/:id", allow_partial_match=False, middleware=CustomParameterMiddleware())
    router.get("/user/:id", custom_parameter_handler)

    @router.get("/error")
    def error(request, response, next):
        Log.error("Example of error being set")
        response.status(500)
        response.error = SampleError()
        response.status_code = 200      # so a browser shows the message
        next()

    @router.get("/exception")
    def exception(request, response, next):
        raise RuntimeError("an uncaught exception")   # logged with its traceback; the error handler answers

    @router.error()
    def on_error(request, response, next):
        if response.status_code == HTTPStatusCode.UNKNOWN:     # an exception: nothing was set
            response.status(HTTPStatusCode.INTERNAL_SERVER_ERROR)
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        response.send(f"Caught the error: {response.error or 'Unknown error'}").end()


def initialize_jinja_routes(app: App) -> None:
    router = app.router
    router.views_path = str(HERE / "Views")
    router.add(template_engine=JinjaTemplateEngine())
    router.add(template_engine=JinjaTemplateEngine(), for_file_extensions=["html"], use_default_file_extension=False)

    @router.get("/jinja")
    def summary(request, response, next):
        value = JinjaSummary(name=app.get_name() or Name("not set to any value"), books=app.get_books())
        response.render("summary.jinja", with_=value).end()

    router.post("/jinjaname", middleware=BodyParser())

    @router.post("/jinjaname")
    def jinja_name(request, response, next):
        form = request.body.as_url_encoded if request.body else None
        app.set_name(Name(form["name"]) if form and "name" in form else None)
        response.redirect("/jinja", status=303)

    @router.post("/jinjabook")
    def jinja_book(request, response, next):
        try:
            book = request.read(as_=Book)
        except ValueError:
            response.send(status=400).end()
            return
        app.add_book(book)
        response.redirect("/jinja", status=303)

    articles = {"articles": [
        {"title": "Porting a Kitura server to Python", "author": "Kitura for Python"},
        {"title": "Routers, middleware and next()", "author": "Kitura for Python"},
    ]}

    router.get("/articles", lambda req, res, nxt: res.render("document.jinja", context=articles).end())
    router.get("/articles.html", lambda req, res, nxt: res.render("document.html", context=articles).end())
    router.get("/articles_subdirectory",
               lambda req, res, nxt: res.render("subdirectory/documentInSubdirectory.jinja", context=articles).end())
    router.get("/articles_include", lambda req, res, nxt: res.render("includingDocument.jinja", context=articles).end())


def initialize_codable_routes(app: App) -> None:
    router = app.router

    @router.get("/books")
    def query_get_handler(query: BookQuery, respond_with):
        books = app.get_books()
        if query.name is not None:
            books = [b for b in books if b.name == query.name]
        respond_with(books, None)

    @router.post("/books")
    def post_book_handler(book: Book, respond_with):
        if book.rating < 0 or book.rating > 5:
            respond_with(None, RequestError(RequestError.UNPROCESSABLE_ENTITY, body={"error": "rating is 0 to 5"}))
            return
        app.add_book(book)
        respond_with(book, None)

    @router.delete("/books")
    def delete_all_book_handler(respond_with):
        app.delete_books()
        respond_with(None)


def initialize_static_file_servers(app: App) -> None:
    app.router.all("/static", middleware=StaticFileServer(path=str(HERE / "public")))
    app.router.all("/chat", middleware=StaticFileServer(path=str(HERE / "chat")))
    app.router.all("/", middleware=StaticFileServer(path=str(HERE / "public")))


def initialize_not_found_route(app: App) -> None:
    @app.router.all()
    def not_found(request, response, next):
        if response.status_code == HTTPStatusCode.UNKNOWN and request.path not in ("/", ""):
            response.status(404).send("Route not found in Sample application!").end()
            return
        next()
