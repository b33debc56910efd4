"""kitura/router/pattern.py: route patterns, compiled once (after Kitura's TestRouteRegex)."""
from __future__ import annotations

import pytest

from kitura.router.pattern import compile_pattern


def m(pattern: str, path: str, partial: bool = False):
    return compile_pattern(pattern, partial).match(path)


class TestSimple:
    def test_plain_string_has_no_regex(self):
        cp = compile_pattern("/hello/world")
        assert cp.simple and cp.regex is None

    def test_exact(self):
        assert m("/hello", "/hello") == ("/hello", {})
        assert m("/hello", "/hello/") is None
        assert m("/hello", "/Hello") is None          # case-sensitive
        assert m("/hello", "/hello/x") is None

    def test_leading_slash_added(self):
        assert m("hello", "/hello") == ("/hello", {})

    def test_prefix_for_middleware(self):
        assert m("/api", "/api", True) == ("/api", {})
        assert m("/api", "/api/users", True) == ("/api", {})
        assert m("/api", "/apis", True) is None
        assert m("/", "/anything", True) == ("", {})

    def test_empty_path_is_root(self):
        assert m("/", "") == ("/", {})

    def test_none_matches_all(self):
        assert compile_pattern(None).match("/x/y") == ("", {})


class TestParameters:
    def test_named(self):
        assert m("/users/:id", "/users/42") == ("/users/42", {"id": "42"})
        assert m("/users/:id", "/users/42/") == ("/users/42/", {"id": "42"})
        assert m("/users/:id", "/users") is None
        assert m("/users/:id", "/users/42/x") is None

    def test_two(self):
        assert m("/a/:x/b/:y", "/a/1/b/2")[1] == {"x": "1", "y": "2"}

    def test_custom_regex(self):
        assert m("/users/:id(\\d+)", "/users/42")[1] == {"id": "42"}
        assert m("/users/:id(\\d+)", "/users/abc") is None

    def test_percent_decoded(self):
        assert m("/users/:name", "/users/J%C3%BCrgen%20K")[1] == {"name": "Jürgen K"}

    def test_plus_is_not_space_in_path(self):
        assert m("/users/:name", "/users/a+b")[1] == {"name": "a+b"}

    def test_optional(self):
        assert m("/a/:x?", "/a")[1] == {}
        assert m("/a/:x?", "/a/1")[1] == {"x": "1"}

    def test_one_or_more(self):
        assert m("/a/:x+", "/a") is None
        assert m("/a/:x+", "/a/1/2/3")[1] == {"x": "1/2/3"}

    def test_zero_or_more(self):
        assert m("/a/:x*", "/a")[1] == {}
        assert m("/a/:x*", "/a/1/2")[1] == {"x": "1/2"}

    def test_star_segment(self):
        assert m("/a/*", "/a/anything/at/all") is not None
        assert m("/a/*", "/b/x") is None
        assert m("/a/*/:id", "/a/x/7")[1] == {"id": "7"}   # the star does not shift parameter keys

    def test_unnamed_groups(self):
        assert m("/(\\d+)/x/(\\w+)", "/12/x/ab")[1] == {"0": "12", "1": "ab"}

    def test_alternation_in_custom_regex(self):
        assert m("/:a(x|y)/:b", "/y/z")[1] == {"a": "y", "b": "z"}
        assert m("/:a(x|y)/:b", "/w/z") is None

    def test_prefix_and_suffix_text(self):
        assert m("/file-:name", "/file-abc")[1] == {"name": "abc"}
        assert m("/files/:name.json", "/files/report.json")[1] == {"name": "report"}

    def test_partial_with_parameters(self):
        assert m("/api/:version", "/api/v2/users", True) == ("/api/v2", {"version": "v2"})
        assert m("/api/:version", "/api/v2x", True)[1] == {"version": "v2x"}

    def test_invalid_regex_raises_at_compile_time(self):
        with pytest.raises(ValueError):
            compile_pattern("/a/:x([)")
