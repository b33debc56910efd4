"""Port of KituraNet's ClientRequestTests (Tests/KituraNetTests/ClientRequestTests.swift)."""

from __future__ import annotations

import base64

from kitura.net import HTTP, ClientRequest, ServerDelegate

Options = ClientRequest.Options


def test_callback(_response) -> None:  # noqa: PT004 - Kitura's `testCallback`, not a test
    pass


test_callback.__test__ = False  # type: ignore[attr-defined]


def http_basic_auth_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_client_request_when_initialized_with_valid_url():
    options = [Options.method("GET"), Options.schema("https://"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "https://66o.tech"


def test_client_request_when_initialized_with_simple_schema():
    options = [Options.method("GET"), Options.schema("https"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "https://66o.tech"


def test_client_request_default_schema_is_http():
    options = [Options.method("GET"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "http://66o.tech"


def test_client_request_default_method_is_get():
    options = [Options.schema("https"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.method == "get"


def test_client_request_appends_path_correctly():
    options = [Options.schema("https"), Options.hostname("66o.tech"), Options.path("path/to/resource")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "https://66o.tech/path/to/resource"


def test_client_request_appends_misformatted_path_correctly():
    options = [Options.schema("https"), Options.hostname("66o.tech"), Options.path("/path/to/resource")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "https://66o.tech/path/to/resource"


def test_client_request_appends_port():
    options = [Options.schema("https"), Options.hostname("66o.tech"), Options.port(8080)]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "https://66o.tech:8080"


def test_client_request_set():
    test_request = ClientRequest(url="https://66o.tech:8080", callback=test_callback)
    # setting options that are not part of the URL leaves the URL alone
    test_request.set(Options.method("delete"))
    test_request.set(Options.headers({"X-Custom": "Swift"}))
    test_request.set(Options.max_redirects(3))
    test_request.set(Options.disable_ssl_verification)
    assert test_request.url == "https://66o.tech:8080/"
    assert (test_request.method, test_request.headers["X-Custom"], test_request.max_redirects) == ("delete", "Swift", 3)


def test_client_request_parse():
    options = ClientRequest.parse("https://username:password@66o.tech:8080/path?key=value")
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.url == "https://66o.tech:8080/path?key=value"
    auth_header_value = test_request.headers.get("Authorization", "")
    assert auth_header_value == http_basic_auth_header("username", "password")

    options1 = [Options.schema("https"), Options.hostname("66o.tech"), Options.path('/view/matching?key="viewTest"')]
    test_request1 = ClientRequest(options=options1, callback=test_callback)
    assert test_request1.url == 'https://66o.tech/view/matching?key="viewTest"'

    options2 = [Options.schema("https"), Options.hostname("66o.tech"), Options.path("/view/match?key?=value?")]
    test_request2 = ClientRequest(options=options2, callback=test_callback)
    assert test_request2.url == "https://66o.tech/view/match?key?=value?"


def test_client_request_basic_authentcation():
    # an empty password: no Authorization header
    options = [Options.username("myusername"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options, callback=test_callback)
    assert test_request.headers.get("Authorization") is None
    assert test_request.user_name == "myusername"
    assert test_request.url == "http://66o.tech"

    # an empty username: no Authorization header
    options2 = [Options.password("mypassword"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options2, callback=test_callback)
    assert test_request.headers.get("Authorization") is None
    assert test_request.password == "mypassword"
    assert test_request.url == "http://66o.tech"

    options3 = [Options.username("myusername"), Options.password("mypassword"), Options.hostname("66o.tech")]
    test_request = ClientRequest(options=options3, callback=test_callback)
    assert test_request.headers.get("Authorization", "") == http_basic_auth_header("myusername", "mypassword")
    assert test_request.url == "http://66o.tech"


class _Hello(ServerDelegate):
    def handle(self, request, response):
        response.end("hello")


def test_client_request_sync_behavior(kitura_net_test):
    # Kitura asks https://swift.org; tests here make no outside connections, so the
    # request goes to our own TLS server. The point is the same: end() returns after the callback.
    server, port = kitura_net_test.start_ephemeral_server(_Hello())
    options = [Options.schema("https"), Options.method("GET"), Options.hostname("localhost"), Options.port(port),
               Options.disable_ssl_verification]
    is_success = False
    responses = []

    def callback(response):
        nonlocal is_success
        is_success = True
        responses.append(response)

    test_request = HTTP.request(options, callback)
    test_request.end()
    assert is_success
    assert responses[0].read_string() == "hello"
