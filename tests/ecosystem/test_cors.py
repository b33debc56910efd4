"""kitura.cors over real sockets: simple requests, preflights, each AllowedOrigins form."""
from __future__ import annotations

import re

import pytest

from kitura.cors import CORS, AllowedOrigins, Options
from kitura.router import Router


def cors_router(options: Options | None = None) -> Router:
    router = Router()
    router.all(middleware=CORS(options=options) if options is not None else CORS())
    router.get("/cors", lambda request, response, next: response.send("data").end())
    router.options("/cors", lambda request, response, next: response.send("routed preflight").end())
    return router


def test_a_request_without_origin_is_untouched(serve):
    reply = serve(cors_router()).get("/cors")
    assert reply.text == "data" and reply.header("Access-Control-Allow-Origin") is None


def test_defaults_allow_all(serve):
    client = serve(cors_router())
    simple = client.get("/cors", headers={"Origin": "https://a.example"})
    assert simple.text == "data" and simple.header("Access-Control-Allow-Origin") == "*"
    assert simple.header("Access-Control-Allow-Credentials") is None
    preflight = client.request("OPTIONS", "/cors", headers={
        "Origin": "https://a.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "X-Custom, Content-Type"})
    assert preflight.status == 204 and preflight.body == b""
    assert preflight.header("Access-Control-Allow-Methods") == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert preflight.header("Access-Control-Allow-Headers") == "X-Custom, Content-Type"   # echoed
    assert preflight.header("Access-Control-Max-Age") is None


def test_every_option(serve):
    client = serve(cors_router(Options(allowed_origin=AllowedOrigins.origin("https://a.example"), credentials=True,
                                       methods=["GET", "PUT"], allowed_headers=["Content-Type"], max_age=600,
                                       exposed_headers=["X-Total", "X-Page"])))
    simple = client.get("/cors", headers={"Origin": "https://a.example"})
    assert simple.header("Access-Control-Allow-Origin") == "https://a.example"
    assert simple.header("Vary") == "Origin"
    assert simple.header("Access-Control-Allow-Credentials") == "true"
    assert simple.header("Access-Control-Expose-Headers") == "X-Total,X-Page"
    assert simple.header("Access-Control-Allow-Methods") is None               # only on preflights
    preflight = client.request("OPTIONS", "/cors", headers={"Origin": "https://a.example",
                                                            "Access-Control-Request-Method": "PUT",
                                                            "Access-Control-Request-Headers": "X-Other"})
    assert preflight.status == 204
    assert preflight.header("Access-Control-Allow-Methods") == "GET,PUT"
    assert preflight.header("Access-Control-Allow-Headers") == "Content-Type"  # the option wins over the request
    assert preflight.header("Access-Control-Max-Age") == "600"
    other = client.get("/cors", headers={"Origin": "https://evil.example"})
    assert other.text == "data" and other.header("Access-Control-Allow-Origin") is None
    assert other.header("Access-Control-Allow-Credentials") is None
    refused = client.request("OPTIONS", "/cors", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "PUT"})
    assert refused.status == 204 and refused.header("Access-Control-Allow-Methods") is None


@pytest.mark.parametrize("allowed, origin, expected", [
    (AllowedOrigins.SAME_AS_ORIGIN, "https://x.example", "https://x.example"),
    (AllowedOrigins.set({"https://a.example", "https://b.example"}), "https://b.example", "https://b.example"),
    (AllowedOrigins.set({"https://a.example"}), "https://c.example", None),
    (AllowedOrigins.regex(r"https://[a-z]+\.example"), "https://abc.example", "https://abc.example"),
    (AllowedOrigins.regex(re.compile(r"https://[a-z]+\.example")), "https://abc.example.evil", None),  # whole match
    (AllowedOrigins.origin("https://a.example"), "https://a.example.evil", None),
])
def test_allowed_origins(serve, allowed, origin, expected):
    reply = serve(cors_router(Options(allowed_origin=allowed))).get("/cors", headers={"Origin": origin})
    assert reply.header("Access-Control-Allow-Origin") == expected


def test_preflight_continue_reaches_the_routes(serve):
    client = serve(cors_router(Options(preflight_continue=True, max_age=5)))
    reply = client.request("OPTIONS", "/cors", headers={"Origin": "https://a.example",
                                                        "Access-Control-Request-Method": "GET"})
    assert reply.status == 200 and reply.text == "routed preflight"
    assert reply.header("Access-Control-Allow-Origin") == "*" and reply.header("Access-Control-Max-Age") == "5"


@pytest.mark.parametrize("allowed", [AllowedOrigins.origin("https://a.example"), AllowedOrigins.SAME_AS_ORIGIN,
                                     AllowedOrigins.set({"https://a.example"}), AllowedOrigins.regex(r"https://a\..*")])
def test_vary_origin_on_every_answer_unless_all_origins_are_allowed(serve, allowed):
    client = serve(cors_router(Options(allowed_origin=allowed)))
    assert client.get("/cors").header("Vary") == "Origin"                                   # no Origin
    assert client.get("/cors", headers={"Origin": "https://a.example"}).header("Vary") == "Origin"
    assert client.get("/cors", headers={"Origin": "https://evil.example"}).header("Vary") == "Origin"
    refused = client.request("OPTIONS", "/cors", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "PUT"})
    assert refused.header("Vary") == "Origin"
    everyone = serve(cors_router())
    assert everyone.get("/cors").header("Vary") is None
    assert everyone.get("/cors", headers={"Origin": "https://a.example"}).header("Vary") is None


def test_options_without_access_control_request_method_reaches_the_app(serve):
    client = serve(cors_router())
    reply = client.request("OPTIONS", "/cors", headers={"Origin": "https://a.example"})
    assert reply.status == 200 and reply.text == "routed preflight"     # the app's own OPTIONS route
    assert reply.header("Access-Control-Allow-Origin") == "*"           # a cross-origin request all the same
    assert reply.header("Access-Control-Allow-Methods") is None         # not a preflight
