"""A Router with a Redis-backed Session, served by `python -m tests.ecosystem.session_app REDIS_URL`:
prints its port, serves until stdin closes. Used by the tests that share sessions between processes."""
from __future__ import annotations

import sys

from kitura.net import HTTP
from kitura.router import Router
from kitura.session import CookieParameter, RedisStore, Session

SECRET = "shared secret of the session tests"


def make_router(redis: object) -> Router:
    router = Router()
    router.all(middleware=Session(secret=SECRET, cookie=[CookieParameter.name("sid")], store=RedisStore(redis)))

    @router.get("/count")
    def count(request, response, next):
        session = request.session
        if session is None:
            response.status(500).send("no session").end()
            return
        session["count"] = (session["count"] or 0) + 1
        response.send(json={"count": session["count"]}).end()

    return router


def main() -> None:
    server = HTTP.create_server()
    server.delegate = make_router(sys.argv[1])
    server.listen(on=0, address="127.0.0.1")
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
