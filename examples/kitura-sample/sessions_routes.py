"""Kitura-Sample's Routes/SessionsRoutes.swift, ported line for line: the Codable
(TypeSafeSession) routes on /session and the raw Session routes on /rawsession."""
from __future__ import annotations

from typing import Any

from kitura.net import HTTPStatusCode
from kitura.session import CookieParameter, Session

from auth_models import MySession
from models import Book


def initialize_sessions_routes(app: Any) -> None:
    # Codable Session
    @app.router.get("/session")
    def get_session(session: MySession, respond_with):
        respond_with(session.books, None)

    @app.router.post("/session")
    def post_session(session: MySession, book: Book, respond_with):
        session.books.append(book)
        session.save()
        respond_with(book, None)

    @app.router.delete("/session")
    def delete_session(session: MySession, respond_with):
        session.destroy()
        respond_with(None)

    # Raw session
    session = Session(secret="secret", cookie=[CookieParameter.name("Raw-cookie")])
    app.router.all(middleware=session)

    @app.router.get("/rawsession")
    def get_raw_session(request, response, next):
        session = request.session
        if session is None:
            response.status(HTTPStatusCode.INTERNAL_SERVER_ERROR).end()
            return
        books: list[Book] = session.get("books", as_=list[Book]) or []
        response.send(json=books)
        next()

    @app.router.post("/rawsession")
    def post_raw_session(request, response, next):
        session = request.session
        if session is None:
            response.status(HTTPStatusCode.INTERNAL_SERVER_ERROR).end()
            return
        books: list[Book] = session.get("books", as_=list[Book]) or []
        input_book = request.read(as_=Book)
        books.append(input_book)
        session["books"] = books
        response.status(HTTPStatusCode.CREATED)
        response.send(input_book)
        next()

    @app.router.delete("/rawsession")
    def delete_raw_session(request, response, next):
        session = request.session
        if session is None:
            response.status(HTTPStatusCode.INTERNAL_SERVER_ERROR).end()
            return
        session["books"] = None
        response.send(status=HTTPStatusCode.NO_CONTENT)
        next()
