"""examples/kitura-sample's JWT routes (router.encoders/decoders) and OpenAPI wiring, over real sockets."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from kitura.net import HTTP

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kitura-sample"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def sample():
    sys.path.insert(0, str(SAMPLE))
    try:
        from application import App
    finally:
        sys.path.remove(str(SAMPLE))
    server = HTTP.create_server()
    server.delegate = App().router
    server.listen(on=0, address="127.0.0.1")
    from .conftest import Client
    try:
        yield Client(server.port)
    finally:
        server.stop()


def claims_of(token: bytes) -> dict:
    part = token.split(b".")[1]
    return json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))


def test_create_protected_and_refresh(sample):
    details = json.dumps({"sub": "Kitura", "kid": "0", "favourite": 7})
    reply = sample.post("/jwt/create_token", details, headers={**JSON, "Accept": "application/jwt"})
    assert reply.status == 201 and reply.header("Content-Type") == "application/jwt"
    token = reply.body
    claims = claims_of(token)
    assert claims["sub"] == "Kitura" and claims["favourite"] == 7 and claims["exp"] - claims["iat"] == 300

    protected = sample.get("/jwt/protected", headers={"Authorization": "Bearer " + token.decode()})
    assert protected.status == 200
    assert json.loads(protected.body)["claims"]["sub"] == "Kitura"      # no Accept: JSON

    refreshed = sample.post("/refreshJWT", token, headers={"Content-Type": "application/jwt",
                                                            "Accept": "application/jwt"})
    assert refreshed.status == 201 and claims_of(refreshed.body)["favourite"] == 7


def test_protected_refuses_missing_forged_and_tampered_tokens(sample):
    assert sample.get("/jwt/protected").status == 401
    assert sample.get("/jwt/protected?sub=Kitura&kid=0&favourite=1").status == 401
    reply = sample.post("/jwt/create_token", json.dumps({"sub": "a", "kid": "1", "favourite": 1}),
                        headers={**JSON, "Accept": "application/jwt"})
    header, claims, signature = reply.body.split(b".")
    forged = base64.urlsafe_b64encode(json.dumps({"sub": "admin", "kid": "1", "favourite": 1}).encode()).rstrip(b"=")
    tampered = b".".join([header, forged, signature]).decode()
    assert sample.get("/jwt/protected", headers={"Authorization": "Bearer " + tampered}).status == 401
    assert sample.post("/refreshJWT", tampered, headers={"Content-Type": "application/jwt"}).status == 422


def test_openapi_of_the_sample(sample):
    doc = json.loads(sample.get("/openapi").body)
    assert {"/books", "/jwt/create_token", "/jwt/protected", "/refreshJWT"} <= set(doc["paths"])
    assert "application/jwt" in doc["paths"]["/refreshJWT"]["post"]["consumes"]
    assert sample.get("/openapi/ui").status == 200
