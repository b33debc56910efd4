"""kitura.openapi and Router.swagger_json: the Swagger 2.0 document of the Codable routes, Swagger UI."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Optional

from kitura import InclusiveRange, RequestError, Router, TypeSafeMiddleware
from kitura.openapi import KituraOpenAPI, KituraOpenAPIConfig


class Colour(Enum):
    GREEN = "green"
    RED = "red"


@dataclass
class Pear:
    name: str
    weight: int
    colour: Colour = Colour.GREEN
    tags: list[str] = field(default_factory=list)
    origin: Optional[str] = None


@dataclass
class PearQuery:
    weight: InclusiveRange[int]
    name: Optional[str] = None


class Auth(TypeSafeMiddleware):
    @classmethod
    def handle(cls, request, response, completion):
        completion(cls(), None)


def pear_router() -> Router:
    router = Router()

    def get_pears(query: PearQuery, completion: Callable[[Optional[list[Pear]], Optional[RequestError]], None]):
        """Pears by weight."""
        completion([], None)

    def get_pear(id: int, completion: Callable[[Optional[Pear], Optional[RequestError]], None]):
        completion(None, RequestError.NOT_FOUND)

    def add_pear(auth: Auth, pear: Pear, completion: Callable[[Optional[Pear], Optional[RequestError]], None]):
        completion(pear, None)

    def delete_pears(callback):
        callback(None)

    router.get("/pears", get_pears)
    router.get("/pears", get_pear)
    router.post("/pears", add_pear)
    router.delete("/pears", delete_pears)
    router.get("/raw", lambda request, response, next: response.send("not in the document"))
    return router


def test_swagger_json_describes_the_codable_routes():
    doc = json.loads(pear_router().swagger_json)
    assert doc["swagger"] == "2.0" and doc["info"]["title"] == "Kitura Project" and doc["basePath"] == "/"
    assert set(doc["paths"]) == {"/pears", "/pears/{id}"}
    get_all = doc["paths"]["/pears"]["get"]
    assert get_all["summary"] == "Pears by weight."
    assert get_all["responses"]["200"]["schema"] == {"type": "array", "items": {"$ref": "#/definitions/Pear"}}
    query = {p["name"]: p for p in get_all["parameters"]}
    assert query["weight"]["in"] == "query" and query["weight"]["required"] is True
    assert query["name"]["required"] is False and query["name"]["type"] == "string"
    get_one = doc["paths"]["/pears/{id}"]["get"]
    assert get_one["parameters"] == [{"in": "path", "name": "id", "required": True, "type": "integer"}]
    post = doc["paths"]["/pears"]["post"]
    assert post["parameters"] == [{"in": "body", "name": "input", "required": True,
                                   "schema": {"$ref": "#/definitions/Pear"}}]
    assert "201" in post["responses"] and post["consumes"] == ["application/json", "application/x-www-form-urlencoded"]
    assert "204" in doc["paths"]["/pears"]["delete"]["responses"]
    pear = doc["definitions"]["Pear"]
    assert pear["required"] == ["name", "weight"]
    assert pear["properties"]["colour"] == {"type": "string", "enum": ["green", "red"]}
    assert pear["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert pear["properties"]["weight"]["type"] == "integer"


def test_add_endpoints_serves_the_document_and_swagger_ui(serve):
    router = pear_router()
    KituraOpenAPI.add_endpoints(to=router)
    client = serve(router)
    reply = client.get("/openapi")
    assert reply.status == 200 and reply.header("Content-Type").startswith("application/json")
    assert json.loads(reply.body) == json.loads(router.swagger_json)
    page = client.get("/openapi/ui")
    assert page.status == 200 and 'url: "/openapi"' in page.text
    assert "/openapi/ui/swagger-ui-bundle.js" in page.text
    asset = client.get("/openapi/ui/swagger-ui-bundle.js")
    assert asset.status == 200 and b"SwaggerUIBundle" in asset.body
    assert client.get("/openapi/ui/swagger-ui.css").status == 200


def test_config_paths_and_write_openapi(serve, tmp_path):
    router = pear_router()
    KituraOpenAPI.add_endpoints(to=router, with_=KituraOpenAPIConfig(api_path="api.json", swagger_ui_path=None))
    client = serve(router)
    assert json.loads(client.get("/api.json").body)["swagger"] == "2.0"
    assert client.get("/openapi/ui").status == 404
    target = tmp_path / "openapi.json"
    KituraOpenAPI.write_openapi(from_=router, to=target)
    assert json.loads(target.read_text())["paths"].keys() == {"/pears", "/pears/{id}"}
