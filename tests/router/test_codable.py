"""kitura/router/codable.py: Codable routes (models in and out as JSON), RequestError, the model codec."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Optional

import pytest

from kitura.router import RequestError, Router
from kitura.router.codec import decode_model, to_jsonable
from kitura.router.errors import DecodingError

JSON = {"Content-Type": "application/json"}


class Kind(Enum):
    APPLE = "apple"
    PEAR = "pear"


@dataclass
class Fruit:
    name: str
    weight: int
    kind: Kind = Kind.APPLE
    tags: list[str] = field(default_factory=list)


@dataclass
class FruitQuery:
    kind: Kind
    max_weight: Optional[int] = None


@dataclass
class Problem:
    message: str


def store_router():
    store: dict[int, Fruit] = {1: Fruit("gala", 150)}
    router = Router()

    @router.get("/fruits")
    def list_fruits(respond_with):
        respond_with(list(store.values()), None)

    @router.get("/fruits")
    def get_fruit(id: int, respond_with):
        if id in store:
            respond_with(store[id], None)
        else:
            respond_with(None, RequestError.NOT_FOUND)

    @router.post("/fruits")
    def add_fruit(fruit: Fruit, respond_with):
        store[max(store) + 1] = fruit
        respond_with(fruit, None)

    @router.put("/fruits")
    def replace_fruit(id: int, fruit: Fruit, respond_with):
        store[id] = fruit
        respond_with(fruit, None)

    @router.patch("/fruits")
    async def patch_fruit(id: int, fruit: Fruit, respond_with):
        await asyncio.sleep(0)
        respond_with(fruit, None)

    @router.delete("/fruits")
    def delete_fruit(id: int, respond_with):
        if store.pop(id, None) is None:
            respond_with(RequestError(RequestError.NOT_FOUND, body=Problem("no such fruit")))
        else:
            respond_with(None)

    @router.delete("/all-fruits")
    def delete_all(respond_with):
        store.clear()
        respond_with(None)

    return router


class TestCRUD:
    def test_get_all_and_one(self, serve):
        client = serve(store_router())
        reply = client.get("/fruits")
        assert reply.status == 200 and reply.header("Content-Type") == "application/json"
        assert json.loads(reply.body) == [{"name": "gala", "weight": 150, "kind": "apple", "tags": []}]
        assert json.loads(client.get("/fruits/1").body)["name"] == "gala"
        assert client.get("/fruits/9").status == 404

    def test_post_is_201(self, serve):
        client = serve(store_router())
        reply = client.post("/fruits", body=json.dumps({"name": "conf", "weight": 90, "kind": "pear"}), headers=JSON)
        assert reply.status == 201
        assert json.loads(reply.body) == {"name": "conf", "weight": 90, "kind": "pear", "tags": []}
        assert len(json.loads(client.get("/fruits").body)) == 2

    def test_put_and_patch(self, serve):
        client = serve(store_router())
        body = json.dumps({"name": "fuji", "weight": 200})
        assert client.request("PUT", "/fruits/1", body=body, headers=JSON).status == 200
        assert json.loads(client.get("/fruits/1").body)["name"] == "fuji"
        assert client.request("PATCH", "/fruits/1", body=body, headers=JSON).status == 200

    def test_delete_is_204(self, serve):
        client = serve(store_router())
        reply = client.request("DELETE", "/fruits/1")
        assert reply.status == 204 and reply.body == b""
        reply = client.request("DELETE", "/fruits/1")
        assert reply.status == 404 and json.loads(reply.body) == {"message": "no such fruit"}
        assert client.request("DELETE", "/all-fruits").status == 204

    def test_bad_identifier_is_422(self, serve):
        assert serve(store_router()).get("/fruits/abc").status == 422


class TestBadInput:
    @pytest.mark.parametrize("body, reason", [
        (b'{"name": "x"}', b"Key 'weight' not found"),
        (b'{"name": "x", "weight": "heavy"}', b"Expected int at weight"),
        (b'{"name": "x", "weight": 1, "kind": "plum"}', b"invalid value 'plum'"),
        (b'{"name": "x", "weight": 1, "tags": [1]}', b"tags[0]"),
        (b"{not json", b"not valid JSON"),
        (b"[]", b"Expected an object"),
    ])
    def test_undecodable_body_is_422_with_a_reason(self, serve, body, reason):
        reply = serve(store_router()).post("/fruits", body=body, headers=JSON)
        assert reply.status == 422
        assert reply.body.startswith(b"Could not decode received data: ") and reason in reply.body

    def test_wrong_content_type_is_415(self, serve):
        reply = serve(store_router()).post("/fruits", body=b"name=x", headers={"Content-Type": "text/plain"})
        assert reply.status == 415

    def test_url_encoded_body(self, serve):
        reply = serve(store_router()).post("/fruits", body=b"name=gala&weight=3",
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == 201 and json.loads(reply.body)["weight"] == 3


class TestQueries:
    def make(self):
        router = Router()

        @router.get("/search")
        def search(query: FruitQuery, respond_with):
            respond_with([Fruit("x", query.max_weight or 0, query.kind)], None)

        @router.get("/maybe")
        def maybe(query: Optional[FruitQuery], respond_with):
            respond_with({"query": query}, None)

        return router

    def test_query_model(self, serve):
        client = serve(self.make())
        reply = client.get("/search?kind=pear&max_weight=12")
        assert json.loads(reply.body) == [{"name": "x", "weight": 12, "kind": "pear", "tags": []}]

    def test_bad_query_is_400(self, serve):
        client = serve(self.make())
        assert client.get("/search").status == 400
        assert client.get("/search?kind=pear&max_weight=lots").status == 400

    def test_optional_query(self, serve):
        client = serve(self.make())
        assert json.loads(client.get("/maybe").body) == {"query": None}
        assert json.loads(client.get("/maybe?kind=apple").body) == {"query": {"kind": "apple"}}  # nil left out


class TestRespondWith:
    def test_identifier_output_sets_location(self, serve):
        router = Router()

        @router.post("/items")
        def add(fruit: Fruit, respond_with):
            respond_with(7, fruit, None)

        reply = serve(router).post("/items", body=b'{"name":"a","weight":1}', headers=JSON)
        assert reply.status == 201 and reply.header("Location") == "7"

    def test_identifier_pairs(self, serve):
        router = Router()
        router.get("/pairs", lambda respond_with: respond_with([(1, Fruit("a", 1)), (2, Fruit("b", 2))], None))
        assert json.loads(serve(router).get("/pairs").body) == [
            {"1": {"name": "a", "weight": 1, "kind": "apple", "tags": []}},
            {"2": {"name": "b", "weight": 2, "kind": "apple", "tags": []}}]

    def test_respond_later_from_another_thread(self, serve):
        router = Router()

        @router.get("/later")
        def later(respond_with):
            threading.Timer(0.02, lambda: respond_with(Fruit("late", 1), None)).start()

        assert json.loads(serve(router).get("/later").body)["name"] == "late"

    def test_raising_request_error(self, serve):
        router = Router()

        @router.get("/teapot")
        def teapot(respond_with):
            raise RequestError(418, "I'm a teapot", body=Problem("short and stout"))

        reply = serve(router).get("/teapot")
        assert reply.status == 418 and json.loads(reply.body) == {"message": "short and stout"}

    def test_raw_handler_raising_request_error(self, serve):
        router = Router()
        router.get("/x", lambda req, res, nxt: (_ for _ in ()).throw(RequestError.CONFLICT))
        assert serve(router).get("/x").status == 409

    def test_exception_is_500(self, serve):
        router = Router()
        router.get("/x", lambda respond_with: 1 / 0)
        assert serve(router).get("/x").status == 500

    def test_codable_routes_reject_path_parameters(self):
        with pytest.raises(ValueError):
            Router().get("/fruits/:name", lambda respond_with: None)
        with pytest.raises(ValueError):
            Router().get("/fruits/:name", lambda id, respond_with: None)

    def test_explicit_id_path(self, serve):
        router = Router()
        router.get("/f/:id", lambda id, respond_with: respond_with({"id": id}, None))
        assert json.loads(serve(router).get("/f/5").body) == {"id": "5"}


class TestRequestError:
    def test_values(self):
        err = RequestError(RequestError.NOT_FOUND, body=Problem("x"))
        assert err.http_code == 404 and err.reason == "Not Found" and err.body == Problem("x")
        assert RequestError(404) == RequestError.NOT_FOUND
        assert RequestError(777).status == 500
        assert str(RequestError(400, "nope")) == "400 : nope"


class TestCodec:
    def test_round_trip(self):
        @dataclass
        class Nested:
            when: dt.datetime
            fruits: dict[str, Fruit]
            maybe: Optional[int] = None

        value = Nested(dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc), {"a": Fruit("a", 1)})
        data = json.loads(json.dumps(to_jsonable(value)))
        assert decode_model(Nested, data) == value

    def test_bool_is_not_an_int(self):
        with pytest.raises(DecodingError):
            decode_model(Fruit, {"name": "a", "weight": True})

    def test_null_for_optional(self):
        @dataclass
        class O:
            x: Optional[int]
        assert decode_model(O, {}) == O(None) and decode_model(O, {"x": None}) == O(None)


def test_codable_route_after_body_parser(serve):
    from kitura.router import BodyParser
    router = Router()
    router.all(middleware=BodyParser())

    @router.post("/fruits")
    def add(fruit: Fruit, respond_with):
        respond_with(fruit, None)

    reply = serve(router).post("/fruits", body=b'{"name":"a","weight":1}', headers=JSON)
    assert reply.status == 201 and json.loads(reply.body)["name"] == "a"
