"""``GET /__modsim/openapi.json``: a valid OpenAPI 3.1 document of every vendor endpoint that stands
alone (every ``$ref`` internal, the schema files inlined) and says what the simulator serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from simulator import schemas
from simulator.admin.openapi import METHODS, component_name, document, paths_from_routes, route_path
from simulator.context import RequestCtx
from simulator.errors import VendorError
from simulator.resources import builtin_dir
from simulator.sim import Sim
from simulator.vendors.base import Route, Vendor
from tests.helpers import baidu_token, image_b64


async def _doc(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/__modsim/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    body: dict[str, Any] = await resp.json()
    return body


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    return own + [r for v in node.values() for r in _refs(v)]


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _validator(doc: dict[str, Any], component: str) -> Draft202012Validator:
    """A validator that reads the schema from the document alone (no access to schemas/)."""
    registry = Registry().with_resource(
        "urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{component}"}, registry=registry)


async def test_the_document_is_valid_openapi_3_1(client: TestClient) -> None:
    doc = await _doc(client)
    assert doc["openapi"] == "3.1.0"
    validate_spec(doc)
    assert doc["servers"][0]["url"] == str(client.make_url("/").origin())
    assert {t["name"] for t in doc["tags"]} == {"baidu", "showapi", "aioasis", "itapi", "aliyun"}


async def test_every_route_of_every_vendor_is_described(client: TestClient, sim: Sim) -> None:
    doc = await _doc(client)
    op_ids: dict[tuple[str, str], str] = {}
    for vendor in sim.vendors.values():
        for route in vendor.routes():
            path, _ = route_path(route.path)
            item = doc["paths"][path]
            methods = [m for m in METHODS if m in item]
            assert methods, path
            if route.method != "*":
                assert route.method.lower() in methods, (route.path, methods)
            # a route told apart by the request (an RPC Action) owns only its own method of the item
            for m in methods if route.select is None else [route.method.lower()]:
                op = item[m]
                op_ids[(path, m)] = op["operationId"]
                # such routes share one operation of the document, which lists them
                shared = route.select is not None and route.operation in op.get("x-modsim-operations", ())
                assert (
                    op["operationId"].startswith(f"{vendor.name}.{route.operation}.") or "{" in path or shared
                ), (path, m, route.operation)
                assert op["tags"] == [vendor.name]
                for status, resp in op["responses"].items():
                    assert status.isdigit(), (path, m, status)
                    assert "application/json" in resp["content"], (path, m, status)
                    assert "X-Modsim-Request-Id" in resp["headers"]
    assert len(op_ids) == len(set(op_ids.values()))


async def test_every_ref_is_internal_and_every_schema_file_is_inlined_whole(client: TestClient) -> None:
    doc = await _doc(client)
    refs = _refs(doc)
    assert refs
    for ref in refs:
        _resolve(doc, ref)  # no KeyError: resolvable inside the document
    root = builtin_dir("schemas")
    for name, inlined in doc["components"]["schemas"].items():
        path = next(
            p
            for p in root.rglob("*.json")
            if component_name(schemas.BASE + p.relative_to(root).as_posix()) == name
        )
        original = json.loads(path.read_text(encoding="utf-8"))
        assert set(inlined) == set(original) - {"$schema", "$id"}, name
        assert "$id" not in json.dumps(inlined)


async def test_the_inlined_schemas_judge_real_answers_like_the_registry(client: TestClient, sim: Sim) -> None:
    """The rewritten references mean what the originals meant: real bodies pass, a bogus one fails."""
    doc = await _doc(client)
    token = await baidu_token(client)
    ok = await client.post(
        f"/rest/2.0/solution/v1/face_audit?access_token={token}", data={"images": image_b64()}
    )
    err = await client.post("/rest/2.0/solution/v1/face_audit", data={})
    verdict = await client.post(
        "/api/badword/pic",
        data={"key": "demo-itapi-key", "data": image_b64(), "type": "porn,ads,ocrtext", "sync": "yes"},
    )
    for resp, component in [
        (ok, "baidu.face_audit.success"),
        (err, "baidu.error"),
        (verdict, "itapi.verdict"),
    ]:
        body = await resp.json()
        assert schemas.errors(component.replace(".", "/", 1), body) == []
        assert list(_validator(doc, component).iter_errors(body)) == [], component
        assert list(_validator(doc, component).iter_errors({"bogus": 1})), component


async def test_the_document_is_deterministic_and_follows_the_itapi_result_path(
    client: TestClient, sim: Sim
) -> None:
    assert await _doc(client) == await _doc(client)
    assert "/api/badword/picresult" in (await _doc(client))["paths"]
    sim.vendors["itapi"]._result_path = "/api/badword/picquery"  # as configure() sets it
    paths = document(sim.vendors.values())["paths"]
    assert "/api/badword/picquery" in paths and "/api/badword/picresult" not in paths


class _Minimal(Vendor):
    name = "minimal"
    title = "a vendor without an OpenAPI description of its own"

    def routes(self) -> list[Route]:
        async def h(request: web.Request) -> web.Response:
            return web.json_response({})

        return [Route("*", "/m/any", h, "any"), Route("POST", "/m/{tail:[\\s\\S]*}", h, "tail")]

    def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        raise NotImplementedError

    def internal_error(self, operation: str) -> VendorError:
        raise NotImplementedError

    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        raise NotImplementedError


def test_the_default_hook_derives_path_items_from_the_routes() -> None:
    v = _Minimal()
    paths = v.openapi_paths()
    assert paths == paths_from_routes(v, v.routes())
    assert set(paths["/m/any"]) == {"get", "post"}
    tail = paths["/m/{tail}"]
    assert set(tail) == {"parameters", "post"}
    assert tail["parameters"][0]["schema"]["pattern"] == "^(?:[\\s\\S]*)$"
    validate_spec(document([v]))


def test_two_vendors_cannot_describe_the_same_path() -> None:
    with pytest.raises(ValueError, match="described by both"):
        document([_Minimal(), _Minimal()])
