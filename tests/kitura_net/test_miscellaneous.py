"""Port of KituraNet's MiscellaneousTests (Tests/KituraNetTests/MiscellaneousTests.swift)."""

from kitura.net import HTTP, HeadersContainer


def _first_values(headers: HeadersContainer) -> list[str]:
    """Swift's ``headers[headers.startIndex].value``."""
    return next(iter(headers))[1]


def test_escape():
    test_string = "#%?"
    desired_result = "%23%25%3F"
    assert HTTP.escape(url=test_string) == desired_result


def test_headers_containers():
    headers = HeadersContainer()
    headers.append("Set-Cookie", value="plover=xyzzy")
    headers.append("Set-Cookie", value="kitura=great")
    headers.append("Content-Type", value="text/plain")
    found_set_cookie = found_content_type = False
    for key, value in headers:
        if key.lower() == "content-type":
            assert len(value) == 1
            assert value[0] == "text/plain"
            found_content_type = True
        elif key.lower() == "set-cookie":
            assert len(value) == 2
            found_set_cookie = True
        else:
            raise AssertionError(f"Found a header other than Content-Type or Set-Cookie ({key})")
    assert found_content_type
    assert found_set_cookie


def test_headers_container_dual_mode():
    headers = HeadersContainer()
    headers.append("Foo", value="Bar")
    headers.append("Foo", value="Baz")
    assert len(headers["Foo"] or []) == 1
    assert len(_first_values(headers)) == 1

    cookie_headers = HeadersContainer()
    cookie_headers.append("Set-Cookie", value="os=Linux")
    cookie_headers.append("Set-Cookie", value="browser=Safari")
    assert len(cookie_headers["Set-Cookie"] or []) == 2
    assert len(_first_values(cookie_headers)) == 2

    content_headers = HeadersContainer()
    content_headers.append("Content-Type", value="application/json")
    content_headers.append("Content-Type", value="application/xml")
    assert len(content_headers["Content-Type"] or []) == 1
    assert content_headers["Content-Type"][0] == "application/json"
    assert len(_first_values(content_headers)) == 1

    headers.append("Foo", value=["Cons", "Damn"])
    assert len(headers["Foo"] or []) == 1

    cookie_headers.append("Set-Cookie", value=["abx=xyz", "def=fgh"])
    assert len(cookie_headers["Set-Cookie"] or []) == 4

    headers1 = HeadersContainer()
    headers1.append("Foo", value="Bar")
    headers1.append("Foo", value=["Cons", "Damn"])
    assert len(_first_values(headers1)) == 1

    cookie_headers1 = HeadersContainer()
    cookie_headers1.append("Set-Cookie", value="os=Linux")
    cookie_headers1.append("Set-Cookie", value=["browser=Safari", "temp=xyz"])
    assert len(_first_values(cookie_headers1)) == 3

    headers2 = HeadersContainer()
    headers2.append("Foo", value="Bar")
    headers2["Foo"] = ["Baz"]
    assert headers2["Foo"] is not None
    assert len(headers2["Foo"]) == 1
    assert headers2["Foo"][0] == "Baz"
    assert len(_first_values(headers2)) == 1
    headers2["Foo"] = ["Bar", "Baz"]
    assert len(headers2["Foo"]) == 2
    assert headers2["Foo"][0] == "Bar"

    cookie_headers2 = HeadersContainer()
    cookie_headers2.append("Set-Cookie", value="os=Linux")
    cookie_headers2["Set-Cookie"] = ["browser=Safari", "temp=xyz"]
    assert len(_first_values(cookie_headers2)) == 2

    headers2.remove_all()
    cookie_headers2.remove_all()
    assert list(headers2) == [], "Headers2 must be empty!"
    assert list(cookie_headers2) == [], "cookieHeaders2 must be empty!"
