"""kitura.credentials over real sockets: Credentials with HTTP Basic and Digest, several
plugins, TypeSafeHTTPBasic, and a session-based redirecting plugin against a local fake
OAuth provider."""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import ClassVar

import pytest

from kitura.credentials import (Credentials, CredentialsHTTPBasic, CredentialsHTTPDigest, CredentialsPluginProtocol,
                                TypeSafeHTTPBasic, UserProfile)
from kitura.credentials.http_digest import parse_digest_params
from kitura.router import RequestError, Router
from kitura.session import InMemoryStore, Session, SessionCookie, TypeSafeSession

from .conftest import TIMEOUT
from .test_session import cookie_of

USERS = {"username": "password", "ann": "pa:ss"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def verify_password(user_id, password, callback):
    if USERS.get(user_id) == password:
        callback(UserProfile(id=user_id, display_name=user_id, provider="HTTPBasic"))
    else:
        callback(None)


def guarded_router(*plugins, options=None, session=False) -> Router:
    router = Router()
    if session:
        router.all(middleware=Session(secret="s"))
    credentials = Credentials(options=options)
    for plugin in plugins:
        credentials.register(plugin=plugin)
    router.all("/private", middleware=credentials)

    @router.get("/private")
    def private(request, response, next):
        user = request.user_profile
        response.send(f"authenticated {user.id} by {user.provider}").end()

    return router


def test_basic(serve):
    plugin = CredentialsHTTPBasic(verify_password=verify_password)
    plugin.realm = "HTTP Basic authentication: Username = username, Password = password"
    client = serve(guarded_router(plugin))
    none = client.get("/private")
    assert none.status == 401
    assert none.header("WWW-Authenticate") == f'Basic realm="{plugin.realm}"'
    assert client.get("/private", headers=basic("username", "password")).text == "authenticated username by HTTPBasic"
    assert client.get("/private", headers=basic("ann", "pa:ss")).status == 200      # the first colon splits
    wrong = client.get("/private", headers=basic("username", "wrong"))
    assert wrong.status == 401 and wrong.header("WWW-Authenticate").startswith("Basic realm=")
    assert client.get("/private", headers={"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()}
                      ).status == 400
    assert client.get("/private", headers={"Authorization": "Basic !!!"}).status == 401
    assert client.get("/private", headers={"Authorization": "Bearer abc"}).status == 401


class TokenPlugin(CredentialsPluginProtocol):
    name = "Token"

    def authenticate(self, request, response, options, on_success, on_failure, on_pass, in_progress):
        token = request.headers["X-Token"]
        if token is None:
            on_pass(None, None)
        elif token == "good":
            on_success(UserProfile(id="tok", display_name="Tok", provider=self.name))
        else:
            on_failure(403, {"X-Why": "bad token"})


def test_plugins_are_tried_in_order(serve):
    client = serve(guarded_router(TokenPlugin(), CredentialsHTTPBasic(verify_password=verify_password)))
    assert client.get("/private", headers={"X-Token": "good"}).text == "authenticated tok by Token"
    bad = client.get("/private", headers={"X-Token": "bad", **basic("username", "password")})
    assert bad.status == 403 and bad.header("X-Why") == "bad token"
    assert client.get("/private", headers=basic("username", "password")).text.endswith("by HTTPBasic")
    none = client.get("/private")
    assert none.status == 401 and none.header("WWW-Authenticate").startswith("Basic")   # the first pass with a status


def test_no_plugin_lets_the_request_through(serve):
    router = Router()
    router.all("/private", middleware=Credentials())
    router.get("/private", lambda request, response, next: response.send(repr(request.user_profile)).end())
    assert serve(router).get("/private").text == "None"


# -- Digest ---------------------------------------------------------------------
def load_profile(user_id, callback):
    if user_id in USERS:
        callback(UserProfile(id=user_id, display_name=user_id, provider="HTTPDigest"), USERS[user_id])
    else:
        callback(None, None)


def digest_get(port: int, user: str, password: str, path: str = "/private") -> tuple[int, str]:
    """urllib's own Digest client (an independent implementation) against the server."""
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, f"http://127.0.0.1:{port}/", user, password)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_digest_with_urllibs_client(serve):
    client = serve(guarded_router(CredentialsHTTPDigest(user_profile_loader=load_profile, opaque="0pq")))
    challenge = client.get("/private")
    assert challenge.status == 401
    params = parse_digest_params(challenge.header("WWW-Authenticate")[len("Digest "):])
    assert params["realm"] == "Users" and params["qop"] == "auth" and params["opaque"] == "0pq"
    assert digest_get(client.port, "username", "password") == (200, "authenticated username by HTTPDigest")
    assert digest_get(client.port, "username", "password", "/private?x=1")[0] == 200
    assert digest_get(client.port, "username", "nope")[0] == 401
    assert digest_get(client.port, "nobody", "password")[0] == 401


def test_digest_refuses_foreign_and_stale_nonces(serve):
    now = [1_000_000.0]
    plugin = CredentialsHTTPDigest(user_profile_loader=load_profile, clock=lambda: now[0])
    client = serve(guarded_router(plugin))
    nonce = parse_digest_params(client.get("/private").header("WWW-Authenticate")[7:])["nonce"]

    def header(nonce: str, uri: str = "/private", password: str = "password") -> dict[str, str]:
        import hashlib
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1, ha2 = md5(f"username:Users:{password}"), md5(f"GET:{uri}")
        response = md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
        return {"Authorization": f'Digest username="username", realm="Users", nonce="{nonce}", uri="{uri}", '
                                 f'qop=auth, nc=00000001, cnonce="abc", response="{response}", algorithm=MD5'}

    assert client.get("/private", headers=header(nonce)).status == 200
    assert client.get("/private", headers=header(nonce, password="x")).status == 401
    assert client.get("/private", headers=header("0a0b0c0d0e0f1a1b1c1d1e1f01234567")).status == 401   # not ours
    assert client.get("/private", headers=header(nonce, uri="/other")).status == 400
    now[0] += 301
    stale = client.get("/private", headers=header(nonce))
    assert stale.status == 401 and "stale=true" in stale.header("WWW-Authenticate")


def digest_header(nonce: str, nc: str = "00000001", password: str = "password", uri: str = "/private",
                  user: str = "username") -> str:
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    ha1, ha2 = md5(f"{user}:Users:{password}"), md5(f"GET:{uri}")
    response = md5(f"{ha1}:{nonce}:{nc}:abc:auth:{ha2}")
    return (f'Digest username="{user}", realm="Users", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc}, '
            f'cnonce="abc", response="{response}"')


def raw_status(client, authorization: str) -> tuple[bytes, bytes]:
    answer = client.raw(b"GET /private HTTP/1.1\r\nHost: a\r\nAuthorization: " + authorization.encode("utf-8")
                        + b"\r\nConnection: close\r\n\r\n")
    return answer.split(b"\r\n", 1)[0], answer


@pytest.mark.parametrize("nonce", ["1:\xe9", "\u0661\u0662:ab", "\xb2:x", "zz:" + "0" * 32, ":", ""])
def test_digest_malformed_nonces_get_a_challenge_never_a_500(serve, nonce):
    client = serve(guarded_router(CredentialsHTTPDigest(user_profile_loader=load_profile)))
    status, answer = raw_status(client, digest_header(nonce).replace("response=\"", 'response="\xe9'))
    assert status == b"HTTP/1.1 401 Unauthorized" and b"WWW-Authenticate: Digest" in answer


def test_digest_non_ascii_response_and_nc_get_a_challenge(serve):
    plugin = CredentialsHTTPDigest(user_profile_loader=load_profile)
    client = serve(guarded_router(plugin))
    nonce = plugin.generate_nonce()
    for header in (digest_header(nonce)[:-2] + '\xe9"', digest_header(nonce).replace("nc=00000001", "nc=\xb9"),
                   digest_header(nonce, user="\xe9")):
        status, answer = raw_status(client, header)
        assert status == b"HTTP/1.1 401 Unauthorized" and b"WWW-Authenticate: Digest" in answer


def test_digest_nc_must_grow_per_nonce(serve):
    plugin = CredentialsHTTPDigest(user_profile_loader=load_profile)
    client = serve(guarded_router(plugin))
    nonce = plugin.generate_nonce()
    ok = {"Authorization": digest_header(nonce)}
    assert client.get("/private", headers=ok).status == 200
    assert client.get("/private", headers=ok).status == 401                       # the same header replayed
    assert client.get("/private", headers={"Authorization": digest_header(nonce, "00000003")}).status == 200
    assert client.get("/private", headers={"Authorization": digest_header(nonce, "00000002")}).status == 401
    other = plugin.generate_nonce()
    assert client.get("/private", headers={"Authorization": digest_header(other)}).status == 200


def test_digest_tracked_nonces_are_bounded(serve):
    now = [1_000_000.0]
    plugin = CredentialsHTTPDigest(user_profile_loader=load_profile, clock=lambda: now[0])
    plugin.max_tracked_nonces = 2
    client = serve(guarded_router(plugin))
    first = plugin.generate_nonce()
    assert client.get("/private", headers={"Authorization": digest_header(first)}).status == 200
    now[0] += 1
    for _ in range(2):
        nonce = plugin.generate_nonce()
        assert client.get("/private", headers={"Authorization": digest_header(nonce)}).status == 200
    assert len(plugin._last_nc) == 2
    assert client.get("/private", headers={"Authorization": digest_header(first)}).status == 401   # forgotten: no replay
    now[0] += 301
    fresh = plugin.generate_nonce()
    assert client.get("/private", headers={"Authorization": digest_header(fresh)}).status == 200
    assert list(plugin._last_nc) == [fresh]                                           # the expired ones went


# -- TypeSafeHTTPBasic -------------------------------------------------------------------
@dataclass
class MyBasicAuth(TypeSafeHTTPBasic):
    id: str
    realm: ClassVar[str] = "HTTP Basic authentication: Username = username, Password = password"

    @classmethod
    def verify_password(cls, username, password, callback):
        if USERS.get(username) == password:
            callback(MyBasicAuth(id=username))
            return
        callback(None)


class FakeRequest:
    def __init__(self, headers: dict[str, str]) -> None:
        from kitura.router import Headers
        from kitura.net import HeadersContainer
        container = HeadersContainer()
        for key, value in headers.items():
            container[key] = value
        self.headers = Headers(container)
        self.url_url = urllib.parse.urlsplit("http://127.0.0.1/basic")


class FakeResponse:
    def __init__(self) -> None:
        from kitura.router import Headers
        from kitura.net import HeadersContainer, HTTPStatusCode
        self.headers = Headers(HeadersContainer())
        self.status_code = HTTPStatusCode.UNKNOWN


@pytest.mark.parametrize("headers, expected", [
    (basic("username", "password"), (MyBasicAuth(id="username"), None)),
    ({}, (None, RequestError.UNAUTHORIZED)),
    (basic("username", "wrong"), (None, RequestError.UNAUTHORIZED)),
    ({"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()}, (None, RequestError.BAD_REQUEST)),
])
def test_type_safe_http_basic_handle(headers, expected):
    out = []
    response = FakeResponse()
    MyBasicAuth.handle(FakeRequest(headers), response, lambda user, error: out.append((user, error)))
    assert out == [expected]
    if expected[1] == RequestError.UNAUTHORIZED:
        assert response.headers["WWW-Authenticate"] == f'Basic realm="{MyBasicAuth.realm}"'
    if expected[0] is not None:
        assert expected[0].provider == "HTTPBasic"


def test_type_safe_http_basic_through_a_raw_route(serve):
    router = Router()

    @router.get("/basic")
    def get_basic(request, response, next):
        def completion(user, error):
            if error is not None:
                response.status(error.http_code).end()
            else:
                response.send(json=user).end()
        MyBasicAuth.handle(request, response, completion)

    client = serve(router)
    assert json.loads(client.get("/basic", headers=basic("username", "password")).body) == {"id": "username"}
    assert client.get("/basic?id=admin").status == 401
    assert client.get("/basic?id=admin", headers=basic("admin", "x")).status == 401


# -- a redirecting (session-based) plugin against a local fake OAuth provider ---------------
def fake_provider() -> Router:
    """/authorize sends the browser back with a code; /token turns a code into a profile."""
    router = Router()

    @router.get("/authorize")
    def authorize(request, response, next):
        back = request.query_parameters["redirect_uri"]
        response.redirect(back + "?code=code-for-" + request.query_parameters["user"])

    @router.get("/token")
    def token(request, response, next):
        code = request.query_parameters.get("code", "")
        if not code.startswith("code-for-"):
            response.status(400).end()
            return
        user = code[len("code-for-"):]
        response.send(json={"id": user, "name": user.title()}).end()

    return router


class FakeOAuth(CredentialsPluginProtocol):
    """What an OAuth plugin does: redirect to the provider, then exchange the code."""
    name = "FakeOAuth"
    redirecting = True

    def __init__(self, provider_port: int, callback_url: str) -> None:
        self.provider = f"http://127.0.0.1:{provider_port}"
        self.callback_url = callback_url

    def authenticate(self, request, response, options, on_success, on_failure, on_pass, in_progress):
        code = request.query_parameters.get("code")
        if code is None:
            query = urllib.parse.urlencode({"redirect_uri": self.callback_url, "user": "ann"})
            response.redirect(f"{self.provider}/authorize?{query}")
            in_progress()
            return
        try:
            with urllib.request.urlopen(f"{self.provider}/token?code={code}", timeout=TIMEOUT) as reply:
                data = json.loads(reply.read())
        except urllib.error.HTTPError:
            on_failure(None, None)
            return
        on_success(UserProfile(id=data["id"], display_name=data["name"], provider=self.name))


def test_redirecting_plugin_with_a_fake_provider(serve):
    provider = serve(fake_provider())
    router = Router()
    router.all(middleware=Session(secret="s"))
    credentials = Credentials(options={"failureRedirect": "/login/fake"})
    router.get("/login/fake", credentials.authenticate(credentials_type="FakeOAuth"))
    router.get("/login/fake/callback", credentials.authenticate(credentials_type="FakeOAuth",
                                                                failure_redirect="/login/failed"))
    router.get("/logout", lambda request, response, next: (credentials.log_out(request=request),
                                                           response.redirect("/")))
    router.all("/private", middleware=credentials)
    router.get("/private", lambda request, response, next: response.send(
        f"hello {request.user_profile.display_name} via {request.user_profile.provider}").end())
    app = serve(router)
    credentials.register(plugin=FakeOAuth(provider.port, f"http://127.0.0.1:{app.port}/login/fake/callback"))

    first = app.get("/private/page?x=1")
    assert first.status == 302 and first.header("Location") == "/login/fake"
    jar = {"Cookie": cookie_of(first, "kitura-session-id")}
    login = app.get("/login/fake", headers=jar)
    assert login.status == 302 and login.header("Location").startswith(provider_url(provider))
    at_provider = provider.get(login.header("Location")[len(provider_url(provider)):])
    assert at_provider.status == 302
    back = at_provider.header("Location")
    assert back.startswith(f"http://127.0.0.1:{app.port}/login/fake/callback?code=")
    done = app.get(back[len(f"http://127.0.0.1:{app.port}"):], headers=jar)
    assert done.status == 302 and done.header("Location") == "/private/page?x=1"    # back where it was going
    planted = jar
    jar = {"Cookie": cookie_of(done, "kitura-session-id")}                           # a new id at login
    assert jar != planted and app.get("/private", headers=planted).status == 302    # the old id is nothing
    assert app.get("/private", headers=jar).text == "hello Ann via FakeOAuth"
    assert app.get("/private/page", headers=jar).status == 404                        # through: no such page
    assert app.get("/logout", headers=jar).status == 302
    assert app.get("/private", headers=jar).header("Location") == "/login/fake"
    bad = app.get("/login/fake/callback?code=forged", headers=jar)
    assert bad.status == 302 and bad.header("Location") == "/login/failed"


class InstantLogin(CredentialsPluginProtocol):
    """A redirecting plugin that logs every client in at once."""
    name = "Instant"
    redirecting = True

    def authenticate(self, request, response, options, on_success, on_failure, on_pass, in_progress):
        on_success(UserProfile(id="u", display_name="u", provider=self.name))


@pytest.mark.parametrize("target, back", [
    ("//evil.example/steal", "/"), ("/\\evil.example/steal", "/"), ("/%09/evil.example", "/%09/evil.example"),
    ("/private/page?next=//x", "/private/page?next=//x")])
def test_return_to_after_login_stays_on_the_site(serve, target, back):
    router = Router()
    router.all(middleware=Session(secret="s"))
    credentials = Credentials(options={"failureRedirect": "/login"})
    credentials.register(plugin=InstantLogin())
    router.get("/login", credentials.authenticate(credentials_type="Instant"))
    router.all(middleware=credentials)
    client = serve(router)
    first = client.raw(f"GET {target} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n".encode())
    assert first.startswith(b"HTTP/1.1 302") and b"\r\nLocation: /login\r\n" in first
    cookie = next(line.split(b":", 1)[1].split(b";")[0].strip().decode() for line in first.split(b"\r\n")
                  if line.lower().startswith(b"set-cookie:"))
    login = client.get("/login", headers={"Cookie": cookie})
    assert login.status == 302 and login.header("Location") == back


@pytest.mark.parametrize("options", [{"failure_redirect": "/login", "success_redirect": "/home"},
                                     {"failureRedirect": "/login", "successRedirect": "/home"}])   # Kitura's keys
def test_redirect_options_in_both_spellings(serve, options):
    router = Router()
    router.all(middleware=Session(secret="s"))
    credentials = Credentials(options=options)
    credentials.register(plugin=InstantLogin())
    router.get("/login", credentials.authenticate(credentials_type="Instant"))
    router.all("/private", middleware=credentials)
    client = serve(router)
    assert client.get("/private").header("Location") == "/login"
    login = client.get("/login")
    assert login.status == 302 and login.header("Location") == "/home"
    assert credentials.options["failure_redirect"] == credentials.options["failureRedirect"] == "/login"


def test_return_to_is_checked_when_read():
    class Request:
        session = {"returnTo": "//evil.example"}
    assert Credentials.get_redirecting_return_to(for_=Request()) == "/"
    Request.session = {"returnTo": "/ok"}
    assert Credentials.get_redirecting_return_to(for_=Request()) == "/ok"


def test_redirecting_plugin_without_a_session_is_a_500(serve):
    router = Router()
    credentials = Credentials()
    credentials.register(plugin=FakeOAuth(1, "http://127.0.0.1:1/cb"))
    router.get("/login", credentials.authenticate(credentials_type="FakeOAuth"))
    router.all("/private", middleware=credentials)
    client = serve(router)
    assert client.get("/login").status == 500
    assert client.get("/private").status == 401


def provider_url(client) -> str:
    return f"http://127.0.0.1:{client.port}"


def test_user_profile_round_trips_through_a_session():
    profile = UserProfile(id="1", display_name="Ann", provider="p",
                          name=UserProfile.UserProfileName("A", "B", "C"),
                          emails=[UserProfile.UserProfileEmail("a@b", "work")],
                          photos=[UserProfile.UserProfilePhoto("http://x/p.png")], extended_properties={"k": [1]})
    assert UserProfile.from_session(json.loads(json.dumps(profile.to_session()))) == profile
    assert UserProfile.from_session({"id": 1}) is None


class Visits(TypeSafeSession):
    session_cookie = SessionCookie(name="visits", secret="s")
    store = InMemoryStore()
    count: int

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.count = 0


def test_type_safe_basic_and_session_in_one_codable_route(serve):
    router = Router()

    @router.get("/me")
    def me(user: MyBasicAuth, visits: Visits, respond_with):
        visits.count += 1
        visits.save()
        respond_with({"id": user.id, "visits": visits.count}, None)

    client = serve(router)
    assert client.get("/me?id=admin").status == 401
    first = client.get("/me", headers=basic("username", "password"))
    assert json.loads(first.body) == {"id": "username", "visits": 1}
    again = client.get("/me", headers={**basic("username", "password"), "Cookie": cookie_of(first, "visits")})
    assert json.loads(again.body) == {"id": "username", "visits": 2}
