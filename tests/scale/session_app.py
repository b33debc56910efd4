"""A Router whose sessions live in Redis (``REDIS_URL``), for
``python -m kitura tests.scale.session_app:router --workers 2``: a session's count
goes on whichever worker answers."""

import os

from kitura import Router
from kitura.session import RedisStore, Session

router = Router()
router.all(middleware=Session(secret="scale-test-secret", store=RedisStore(os.environ["REDIS_URL"])))


@router.get("/count")
def count(request, response, next):
    request.session["count"] = (request.session["count"] or 0) + 1
    response.send(f"{os.getpid()}:{request.session['count']}")
