"""AI绿洲's endpoints as OpenAPI path items (``AioasisVendor.openapi_paths``); see docs/aioasis.md."""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import form_body, param, response

API = "/fantabulous/touxiangshenhe"
SEGMENT = "^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$"
FIELDS = {
    "images": "base64 images (no `data:` prefix), comma-separated",
    "imgUrls": "image URLs, comma-separated",
}
ANSWERS = (
    "aioasis/touxiangshenhe.billed",
    "aioasis/touxiangshenhe.free",
    "aioasis/touxiangshenhe.upstream_error",
)
ENVELOPE = 'HTTP 200 for every answer: `code` "10000" with Baidu\'s body as `result`, or a gateway error'


def _appkey() -> dict[str, Any]:
    return param("appkey", "query", "the appkey (query only)", required=True, example="demo-aioasis-appkey")


def paths() -> dict[str, Any]:
    ok = {"200": response(ENVELOPE, *ANSWERS, "aioasis/error")}
    props = {k: {"type": "string", "description": d} for k, d in FIELDS.items()}
    return {
        API: {
            "get": {
                "operationId": "aioasis.touxiangshenhe.get",
                "tags": ["aioasis"],
                "summary": "用户头像审核 (avatar audit; Baidu face_audit resold)",
                "description": "GET reads the form body, then the query (minus `appkey`).",
                "parameters": [_appkey(), *(param(k, "query", d) for k, d in FIELDS.items())],
                "responses": ok,
            },
            "post": {
                "operationId": "aioasis.touxiangshenhe.post",
                "tags": ["aioasis"],
                "summary": "用户头像审核 (avatar audit; Baidu face_audit resold)",
                "description": "POST reads the form body only (multipart file parts are ignored).",
                "parameters": [_appkey()],
                "requestBody": form_body("the images as a form", props),
                "responses": ok,
            },
        },
        "/fantabulous/{tail}": {
            "parameters": [param("tail", "path", "any path the gateway has no API at", pattern=SEGMENT)],
            **{
                method: {
                    "operationId": f"aioasis.unknown_api.{method}",
                    "tags": ["aioasis"],
                    "summary": "any other path under /fantabulous/: 10003 `不存在相应的数据信息`",
                    "responses": {"200": response("a gateway error", "aioasis/error")},
                }
                for method in ("get", "post", "put", "delete", "patch")
            },
        },
    }
