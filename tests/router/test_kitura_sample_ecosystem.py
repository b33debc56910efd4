"""examples/kitura-sample's session, basic-auth, health and compression routes, over real
sockets: Kitura-Sample's TestSessionsRoutes and TestAuthenticationRoutes ported, and the
forged `GET /basic?id=admin` refused."""
from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path

import pytest

from kitura.net import HTTP

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kitura-sample"
JSON = {"Content-Type": "application/json"}
BOOK = {"name": "bookName", "author": "bookAuthor", "rating": 4}
AUTH = {"Authorization": "Basic " + base64.b64encode(b"username:password").decode()}


@pytest.fixture(scope="module")
def sample():
    sys.path.insert(0, str(SAMPLE))
    try:
        from application import App
        from auth_models import UserPasswords
        from health_routes import health
    finally:
        sys.path.remove(str(SAMPLE))
    server = HTTP.create_server()
    server.delegate = App().router
    server.listen(on=0, address="127.0.0.1")
    from .conftest import Client
    client = Client(server.port)
    client.health = health
    client.user_passwords = UserPasswords
    try:
        yield client
    finally:
        server.stop()


def set_cookie(reply, name: str) -> str:
    for header in reply.headers.get_all("Set-Cookie") or []:
        if header.startswith(name + "="):
            return header.split(";", 1)[0]
    raise AssertionError(f"no {name} cookie")


# -- TestSessionsRoutes -----------------------------------------------------------
def test_get_type_safe_session(sample):
    reply = sample.get("/session")
    assert reply.status == 200 and json.loads(reply.body) == []


def test_type_safe_session_persistence(sample):
    reply = sample.post("/session", body=json.dumps(BOOK), headers=JSON)
    assert reply.status == 201 and json.loads(reply.body) == BOOK
    cookie = {"Cookie": set_cookie(reply, "MySession")}
    assert json.loads(sample.get("/session", headers={**cookie, **JSON}).body) == [BOOK]
    assert sample.request("DELETE", "/session", headers=cookie).status == 204
    assert json.loads(sample.get("/session", headers=cookie).body) == []


def test_type_safe_session_cannot_be_forged_from_the_request(sample):
    forged = sample.get("/session?session_id=x&books=1")
    assert forged.status == 200 and json.loads(forged.body) == []
    assert set_cookie(forged, "MySession")                      # a new session of its own
    tampered = sample.get("/session", headers={"Cookie": "MySession=someone-else.AAAA"})
    assert tampered.status == 200 and json.loads(tampered.body) == []


def test_raw_session_persistence(sample):
    assert json.loads(sample.get("/rawsession").body) == []
    reply = sample.post("/rawsession", body=json.dumps(BOOK), headers=JSON)
    assert reply.status == 201 and json.loads(reply.body) == BOOK
    cookie = {"Cookie": set_cookie(reply, "Raw-cookie")}
    assert json.loads(sample.get("/rawsession", headers={**cookie, **JSON}).body) == [BOOK]
    assert sample.request("DELETE", "/rawsession", headers=cookie).status == 204
    assert json.loads(sample.get("/rawsession", headers=cookie).body) == []


# -- TestAuthenticationRoutes ----------------------------------------------------------
def test_type_safe_failed_authentication(sample):
    reply = sample.get("/basic")
    assert reply.status == 401
    assert reply.header("WWW-Authenticate").startswith('Basic realm="HTTP Basic authentication')


def test_type_safe_authentication(sample):
    reply = sample.get("/basic", headers=AUTH)
    assert reply.status == 200 and json.loads(reply.body) == {"id": "username"}


@pytest.mark.parametrize("path, headers", [
    ("/basic?id=admin", {}),
    ("/basic?id=admin", {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}),
    ("/basic?id=admin&provider=HTTPBasic", {"Content-Type": "application/json"}),
])
def test_forged_type_safe_user_is_refused(sample, path, headers):
    reply = sample.get(path, headers=headers)
    assert reply.status == 401 and b"admin" not in reply.body


def test_forged_user_in_a_body_is_refused(sample):
    reply = sample.request("GET", "/basic", body=b'{"id": "admin"}', headers=JSON)
    assert reply.status == 401


def test_raw_authentication(sample):
    assert sample.get("/rawbasic").status == 401
    assert sample.get("/rawbasic?id=admin").status == 401
    assert sample.get("/rawbasic", headers=AUTH).text == "authenticated username"


def test_signup_then_authenticate(sample, walk_mode):
    name = f"zoe-{walk_mode}"
    signup = sample.post("/signup", body=json.dumps({"username": name, "password": "pw"}), headers=JSON)
    assert signup.status == 201 and json.loads(signup.body) == {"name": name}
    again = sample.post("/signup", body=json.dumps({"username": name, "password": "other"}), headers=JSON)
    assert again.status == 409
    zoe = {"Authorization": "Basic " + base64.b64encode(f"{name}:pw".encode()).decode()}
    assert json.loads(sample.get("/basic", headers=zoe).body) == {"id": name}
    assert sample.get("/rawbasic", headers=zoe).text == f"authenticated {name}"


# -- HealthRoutes ------------------------------------------------------------------------
def test_health(sample):
    reply = sample.get("/health")
    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["status"] == "UP" and body["details"] == [] and body["timestamp"]
    from kitura.health import State
    sample.health.add_check(check=lambda: State.DOWN)
    sample.health.force_update_status()
    try:
        down = sample.get("/health")
        assert down.status == 503
        assert json.loads(down.body)["status"] == "DOWN"
        assert json.loads(down.body)["details"] == ["A health check closure reported status as DOWN."]
    finally:
        sample.health._closure_checks.clear()
        sample.health.force_update_status()


# -- compression (an addition) -------------------------------------------------------------
def test_compressed_when_accepted(sample):
    plain = sample.get("/chat/chat.js")
    assert plain.header("Content-Encoding") is None
    reply = sample.get("/chat/chat.js", headers={"Accept-Encoding": "gzip"})
    assert reply.header("Content-Encoding") == "gzip" and reply.header("Vary") == "Accept-Encoding"
    assert gzip.decompress(reply.body) == plain.body


def test_clear_users(sample):
    try:
        assert sample.request("DELETE", "/clearusers").status == 204
        assert sample.get("/basic", headers=AUTH).status == 401
        assert sample.get("/rawbasic", headers=AUTH).status == 401
    finally:
        sample.user_passwords.add_password(username="username", password="password")
