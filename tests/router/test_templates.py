"""kitura/templates.py and the Router's template registry: JinjaTemplateEngine with response.render()."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from kitura.router import Router, TemplatingError
from kitura.templates import JinjaTemplateEngine


@pytest.fixture
def views(tmp_path):
    root = tmp_path / "Views"
    (root / "partials").mkdir(parents=True)
    (root / "hello.jinja").write_text("<p>Hello, {{ name }}!</p>")
    (root / "base.jinja").write_text("<html>{% block body %}{% endblock %}</html>")
    (root / "child.jinja").write_text('{% extends "base.jinja" %}{% block body %}{{ items|join(",") }}{% endblock %}')
    (root / "page.html").write_text("html file {{ x }}")
    (root / "partials" / "row.jinja").write_text("row {{ n }}")
    (root / "broken.jinja").write_text("{% for %}")
    (root / "undefined.jinja").write_text("{{ missing.attr }}")
    return root


def make_router(views) -> Router:
    router = Router()
    router.views_path = str(views)
    router.set_default(template_engine=JinjaTemplateEngine())
    return router


def test_render_default_extension(serve, views):
    router = make_router(views)
    router.get("/hello/:name", lambda req, res, nxt: res.render("hello", context={"name": req.parameters["name"]}).end())
    reply = serve(router).get("/hello/%3Cb%3E")
    assert reply.text == "<p>Hello, &lt;b&gt;!</p>"         # escaped by default
    assert reply.header("Content-Type") == "text/html; charset=utf-8"


def test_inheritance_and_subfolders(serve, views):
    router = make_router(views)
    router.get("/child", lambda req, res, nxt: res.render("child", context={"items": [1, 2]}).end())
    router.get("/row", lambda req, res, nxt: res.render("partials/row.jinja", context={"n": 3}).end())
    client = serve(router)
    assert client.get("/child").text == "<html>1,2</html>"
    assert client.get("/row").text == "row 3"


def test_add_for_other_extensions(serve, views):
    router = Router()
    router.views_path = str(views)
    router.add(template_engine=JinjaTemplateEngine(), for_file_extensions=["html"])
    router.get("/p", lambda req, res, nxt: res.render("page.html", context={"x": 1}).end())
    router.get("/noext", lambda req, res, nxt: res.render("page", context={}).end())
    client = serve(router)
    assert client.get("/p").text == "html file 1"
    assert client.get("/noext").status == 500      # no default engine


def test_render_with_a_model(serve, views):
    @dataclass
    class Person:
        name: str

    router = make_router(views)
    router.get("/m", lambda req, res, nxt: res.render("hello", with_=Person("Ann")).end())
    router.get("/k", lambda req, res, nxt: res.render("partials/row.jinja", with_=5, for_key="n").end())
    client = serve(router)
    assert client.get("/m").text == "<p>Hello, Ann!</p>"
    assert client.get("/k").text == "row 5"


@pytest.mark.parametrize("template", ["absent", "broken"])
def test_missing_or_broken_template_is_a_logged_500(serve, views, caplog, template):
    router = make_router(views)
    router.get("/t", lambda req, res, nxt: res.render(template, context={}).end())
    with caplog.at_level(logging.ERROR, logger="kitura.router"):
        reply = serve(router).get("/t")
    assert reply.status == 500 and reply.body == b""
    assert any(isinstance(r.exc_info[1], TemplatingError) for r in caplog.records if r.exc_info)


def test_sub_router_uses_the_parent_engine(serve, views):
    router = make_router(views)
    sub = router.route("/sub")
    sub.get("/h", lambda req, res, nxt: res.render("hello", context={"name": "sub"}).end())
    assert serve(router).get("/sub/h").text == "<p>Hello, sub!</p>"


def test_template_names_cannot_leave_the_views_folder(views):
    router = make_router(views)
    (views.parent / "outside.jinja").write_text("outside")
    with pytest.raises(TemplatingError):
        router.render_template("../outside", {})


def test_engine_protocol(views):
    engine = JinjaTemplateEngine(file_extension=".j2")
    assert engine.file_extension == "j2"
    engine.set_root_paths([str(views)])
    assert engine.render(str(views / "hello.jinja"), {"name": "x"}) == "<p>Hello, x!</p>"
    engine.environment.filters["shout"] = str.upper
    (views / "f.j2").write_text("{{ 'a'|shout }}")
    assert engine.render(str(views / "f.j2"), {}, template_name="f.j2") == "A"
