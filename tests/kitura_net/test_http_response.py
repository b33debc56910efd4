"""Port of KituraNet's HTTPResponseTests (Tests/KituraNetTests/HTTPResponseTests.swift)."""

from kitura.net import HeadersContainer, HTTPStatusCode, ServerDelegate


def wire_values(headers: HeadersContainer, name: str) -> list[str]:
    """What goes on the wire for ``name``: Swift compares with ``headers.nioHeaders[name]``."""
    return [value for line_name, value in headers._lines() if line_name.lower() == name.lower()]


def test_content_type_headers():
    headers = HeadersContainer()
    headers.append("Content-Type", value="text/html")
    values = headers["Content-Type"]
    assert values is not None, "Couldn't retrieve just set Content-Type header"
    assert len(values) == 1
    assert values[0] == "text/html"
    headers.append("Content-Type", value="text/plain; charset=utf-8")
    assert headers["Content-Type"][0] == "text/html"
    headers["Content-Type"] = None
    assert headers["Content-Type"] is None
    headers.append("Content-Type", value="text/plain, image/png")
    assert headers["Content-Type"][0] == "text/plain, image/png"
    headers.append("Content-Type", value="text/html, image/jpeg")
    assert headers["Content-Type"][0] == "text/plain, image/png"
    headers.append("Content-Type", value="charset=UTF-8")
    assert headers["Content-Type"][0] == "text/plain, image/png"
    headers["Content-Type"] = None
    headers.append("Content-Type", value="text/html")
    assert headers["Content-Type"][0] == "text/html"
    headers.append("Content-Type", value="image/png, text/plain")
    assert headers["Content-Type"][0] == "text/html"


def test_headers_container_http_headers():
    headers = HeadersContainer()
    headers["Content-Type"] = ["image/png, text/plain"]
    assert wire_values(headers, "Content-Type") == headers["Content-Type"]
    headers["Content-Type"] = ["text/html"]
    assert wire_values(headers, "Content-Type") == headers["Content-Type"]
    headers["Content-Type"] = None
    assert wire_values(headers, "Content-Type") == []
    headers["Set-Cookie"] = ["ID=123BAS; Path=/; Secure; HttpOnly"]
    headers.append("Set-Cookie", value=["ID=KI9H12; Path=/; Secure; HttpOnly"])
    assert headers["Set-Cookie"] == wire_values(headers, "Set-Cookie")
    headers["Content-Type"] = ["text/html"]
    headers.append("Content-Type", value="text/json")
    assert wire_values(headers, "Content-Type") == headers["Content-Type"]
    headers["foo"] = ["bar0"]
    headers.append("foo", value="bar1")
    assert wire_values(headers, "foo") == headers["foo"]
    headers.append("foo", value=["bar2", "bar3"])
    assert wire_values(headers, "foo") == headers["foo"]
    headers.remove_all()
    assert wire_values(headers, "foo") == []


class WriteTwiceServerDelegate(ServerDelegate):
    def handle(self, request, response):
        response.status_code = HTTPStatusCode.OK
        response.headers["Content-Type"] = ["text/plain"]
        response.headers["Content-Length"] = ["13"]
        response.write(from_=b"Hello, ")
        response.write(from_=b"World!")
        response.end()


def test_multiple_writes_to_response(kitura_net_test):
    t = kitura_net_test

    def task(expectation):
        def callback(response):
            assert response.status_code == HTTPStatusCode.OK
            data = bytearray()
            response.read_all_data(into=data)
            assert data.decode() == "Hello, World!"
            expectation.fulfill()

        t.perform_request("get", "/writetwice", callback)

    t.perform_server_test(WriteTwiceServerDelegate(), task, use_ssl=False)
