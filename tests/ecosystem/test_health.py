"""kitura.health: checks, the cached status, and the endpoint as Kitura-Starter mounts it."""
from __future__ import annotations

import json
import re

import pytest

from kitura.health import Health, HealthCheck, InvalidDataError, State, Status
from kitura.router import Router


class Flag(HealthCheck):
    name = "flag"
    description = "The flag is down"

    def __init__(self) -> None:
        self.up = True

    def evaluate(self) -> State:
        return State.UP if self.up else State.DOWN


def starter_router(health: Health) -> Router:
    """Kitura-Starter's /health route, line for line."""
    router = Router()

    @router.get("/health")
    def get_health(request, response, next):
        result = health.status.to_simple_dictionary()
        if health.status.state == State.UP:
            response.send(json=result).end()
        else:
            response.status(503).send(json=result).end()

    return router


def test_checks_and_the_starter_endpoint(serve):
    health = Health(status_expiration_time=0)
    flag = Flag()
    closure_state = [State.UP]
    health.add_check(check=flag)
    health.add_check(check=lambda: closure_state[0])
    assert health.number_of_checks == 2
    client = serve(starter_router(health))
    up = client.get("/health")
    assert up.status == 200 and json.loads(up.body) == {"status": "UP"}
    flag.up = False
    down = client.get("/health")
    assert down.status == 503 and json.loads(down.body) == {"status": "DOWN"}
    closure_state[0] = State.DOWN
    assert health.status.details == ["The flag is down", "A health check closure reported status as DOWN."]
    flag.up, closure_state[0] = True, State.UP
    assert client.get("/health").status == 200


def test_status_is_cached_until_it_expires():
    health = Health()                  # 30 s
    flag = Flag()
    health.add_check(check=flag)
    assert health.status.state is State.UP
    flag.up = False
    assert health.status.state is State.UP          # cached
    health.force_update_status()
    assert health.status.state is State.DOWN


def test_a_check_that_raises_is_down():
    health = Health(status_expiration_time=0)
    health.add_check(check=lambda: 1 / 0)
    assert health.status.state is State.DOWN
    with pytest.raises(TypeError):
        health.add_check(check="not a check")


def test_status_json_shape_and_round_trip():
    status = Status(State.DOWN, ["db"])
    data = status.to_dictionary()
    assert set(data) == {"status", "details", "timestamp"} and data["status"] == "DOWN"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", data["timestamp"])
    assert Status.from_dict(json.loads(json.dumps(data))) == status
    assert abs(status.ts_in_millis / 1000 - __import__("time").time()) < 5
    assert Status.from_dict({"status": "", "details": [], "timestamp": ""}).state is State.DOWN
    with pytest.raises(InvalidDataError):
        Status.from_dict({"status": "SIDEWAYS", "details": [], "timestamp": ""})
    assert Status(timestamp="not a time").timestamp != "not a time"


def test_status_sent_as_json(serve):
    health = Health()
    router = Router()
    router.get("/status", lambda request, response, next: response.send(json=health.status).end())
    body = json.loads(serve(router).get("/status").body)
    assert body["status"] == "UP" and body["details"] == [] and "timestamp" in body
