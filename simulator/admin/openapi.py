"""The OpenAPI 3.1 document of every vendor endpoint, served at ``GET /__modsim/openapi.json``.

Each vendor describes its own paths (``Vendor.openapi_paths``) with the builders below; response
schemas name files below schemas/ (``schema_ref("baidu/error")``). ``document`` assembles the paths
and inlines every named schema file, and the files those refer to, under ``components/schemas``
(``baidu/error`` -> ``baidu.error``), with each ``$ref`` rewritten to point there: the document
stands alone, readable by tools that know nothing of our schema registry.

A path item may carry ``x-security-schemes`` (name -> OpenAPI Security Scheme Object, for the
vendor's own auth header); the assembler moves those into ``components/securitySchemes``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

from simulator import __version__
from simulator.resources import schema as schema_file
from simulator.schemas import BASE

if TYPE_CHECKING:
    from simulator.vendors.base import Route, Vendor

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: what a route served on any method (``"*"``) is documented with, unless its vendor says otherwise
ANY_METHOD = ("get", "post")
SECURITY_KEY = "x-security-schemes"
REQUEST_ID_HEADER = {
    "description": "The simulator's request id (the journal entry's `request_id`); not a vendor header.",
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::((?:[^{}]|\{[^{}]*\})*))?\}")


# ------------------------------------------------------------------------------------------------
# builders for the vendors' path items


def schema_ref(name: str) -> dict[str, Any]:
    """A schema file by its path below schemas/ (``baidu/error``), inlined by ``document``."""
    return {"$ref": BASE + (name if name.endswith(".json") else name + ".json")}


def any_of_files(*names: str) -> dict[str, Any]:
    """A body valid for any of the schema files (``anyOf``: bodies may satisfy more than one)."""
    refs = [schema_ref(n) for n in names]
    return refs[0] if len(refs) == 1 else {"anyOf": refs}


def response(
    description: str, *names: str, media: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A Response Object whose JSON body is one of ``names``; ``media`` adds other media types."""
    content: dict[str, Any] = {}
    if names:
        content["application/json"] = {"schema": any_of_files(*names)}
    content.update(media or {})
    return {"description": description, "content": content}


def param(
    name: str,
    where: str,
    description: str,
    *,
    required: bool = False,
    example: str | None = None,
    **schema: Any,
) -> dict[str, Any]:
    """A Parameter Object; the schema defaults to a string (extra keywords refine it)."""
    out: dict[str, Any] = {
        "name": name,
        "in": where,
        "description": description,
        "required": required or where == "path",
        "schema": {"type": "string", **schema},
    }
    if example is not None:
        out["example"] = example
    return out


def form_body(
    description: str,
    properties: Mapping[str, dict[str, Any]],
    *,
    files: Mapping[str, dict[str, Any]] | None = None,
    media: Iterable[str] = ("application/x-www-form-urlencoded", "multipart/form-data"),
) -> dict[str, Any]:
    """A Request Body Object for form fields (urlencoded and multipart); ``files`` are multipart-only
    file parts. Unknown fields are allowed: the vendors ignore them."""
    content: dict[str, Any] = {}
    for m in media:
        props = dict(properties)
        if m.startswith("multipart/") and files:
            props.update(
                {
                    k: {"type": "string", "contentMediaType": "application/octet-stream", **v}
                    for k, v in files.items()
                }
            )
        content[m] = {"schema": {"type": "object", "properties": props}}
    return {"description": description, "required": False, "content": content}


def json_body(description: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {
        "description": description,
        "required": required,
        "content": {"application/json": {"schema": schema}},
    }


def route_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """An aiohttp route path as an OpenAPI path template plus its path parameters:
    ``/rest/2.0/{tail:[\\s\\S]*}`` -> ``/rest/2.0/{tail}`` with ``tail`` a string of that pattern."""
    params: list[dict[str, Any]] = []

    def sub(m: re.Match[str]) -> str:
        extra: dict[str, Any] = {"pattern": f"^(?:{m.group(2)})$"} if m.group(2) else {}
        params.append(param(m.group(1), "path", f"path segment `{m.group(1)}`", **extra))
        return "{" + m.group(1) + "}"

    return _PARAM.sub(sub, path), params


def paths_from_routes(vendor: Vendor, routes: Iterable[Route]) -> dict[str, Any]:
    """Minimal path items: each route's methods (``"*"``: GET and POST), path parameters, and one
    ``default`` response whose body is the vendor's (the ``Vendor.openapi_paths`` default)."""
    out: dict[str, Any] = {}
    for r in routes:
        path, params = route_path(r.path)
        item = out.setdefault(path, {})
        if params:
            item["parameters"] = params
        for method in ANY_METHOD if r.method == "*" else (r.method.lower(),):
            item[method] = {
                "operationId": f"{vendor.name}.{r.operation}.{method}",
                "tags": [vendor.name],
                "summary": r.operation,
                "responses": {"default": {"description": f"{vendor.title}: the vendor's own answer"}},
            }
    return out


# ------------------------------------------------------------------------------------------------
# assembly


def component_name(uri: str) -> str:
    """``https://modsim.invalid/schemas/showapi/2054-1.success.json`` -> ``showapi.2054-1.success``."""
    if not uri.startswith(BASE) or not uri.endswith(".json"):
        raise ValueError(f"not a schema file of the registry: {uri!r}")
    return uri[len(BASE) : -len(".json")].replace("/", ".")


class _Inliner:
    """Copies schema files into ``components/schemas`` and rewrites every ``$ref`` to point there."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, target: str) -> str:
        doc, fragment = urldefrag(target)
        name = component_name(doc)
        if name not in self.components:
            self.components[name] = {}  # placeholder: files may refer to each other
            body = copy.deepcopy(schema_file(doc[len(BASE) : -len(".json")]))
            body.pop("$id", None)
            body.pop("$schema", None)
            self.components[name] = self.rewrite(body, doc)
        return f"#/components/schemas/{name}{fragment}"

    def rewrite(self, node: Any, base: str) -> Any:
        if isinstance(node, list):
            return [self.rewrite(x, base) for x in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and not value.startswith("#/components/"):
                out[key] = self.ref(urljoin(base, value))
            else:
                out[key] = self.rewrite(value, base)
        return out


def document(vendors: Iterable[Vendor], server_url: str | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document; ``server_url`` fills ``servers`` (the caller's base URL)."""
    inliner = _Inliner()
    paths: dict[str, Any] = {}
    owner: dict[str, str] = {}
    security: dict[str, Any] = {}
    tags = []
    for vendor in vendors:
        tags.append({"name": vendor.name, "description": vendor.title})
        for path, item in vendor.openapi_paths().items():
            if path in paths:
                raise ValueError(f"path {path!r} described by both {owner[path]!r} and {vendor.name!r}")
            item = copy.deepcopy(item)
            security.update(item.pop(SECURITY_KEY, {}))
            for method in METHODS:
                if method in item:
                    _add_request_id(item[method])
            owner[path] = vendor.name
            paths[path] = inliner.rewrite(item, BASE)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "modsim: simulated Chinese content-moderation APIs",
            "version": __version__,
            "description": (
                "Every vendor endpoint the simulator serves, on the vendor's real paths. Bodies are"
                " the vendors' own envelopes; their schemas are the simulator's schemas/ files,"
                " inlined under components/schemas. See docs/<vendor>.md for codes and choices."
            ),
        },
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(inliner.components.items()))},
    }
    if server_url:
        doc["servers"] = [{"url": server_url, "description": "this simulator"}]
    if security:
        doc["components"]["securitySchemes"] = security
    return doc


def _add_request_id(op: dict[str, Any]) -> None:
    for resp in op.get("responses", {}).values():
        if isinstance(resp, dict) and "$ref" not in resp:
            resp.setdefault("headers", {}).setdefault("X-Modsim-Request-Id", REQUEST_ID_HEADER)
