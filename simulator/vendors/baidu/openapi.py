"""Baidu's endpoints as OpenAPI path items (``BaiduVendor.openapi_paths``); see docs/baidu.md."""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import form_body, param, response

#: one segment of a path no Baidu API serves (any tail answers error 3; dot segments would be normalised)
SEGMENT = "^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$"
TOKEN_PARAMS = {
    "grant_type": ("always `client_credentials`", "client_credentials"),
    "client_id": ("the application's API Key", "demo-baidu-api-key"),
    "client_secret": ("the application's Secret Key", "demo-baidu-secret-key"),
}
REST_OK = "HTTP 200 for every answer: the result, or an error object (`error_code`, `error_msg`)"


def _token_params(where: str) -> list[dict[str, Any]]:
    return [param(k, where, d, example=ex) for k, (d, ex) in TOKEN_PARAMS.items()]


def _token_responses() -> dict[str, Any]:
    err = response("OAuth error (`error_description`, `error`)", "baidu/token.error")
    ok = response("the access token", "baidu/token.success")
    ok["headers"] = {"Cache-Control": {"description": "always `no-store`", "schema": {"const": "no-store"}}}
    ok["links"] = {
        name: {
            "operationId": f"baidu.{name}.post",
            "parameters": {"query.access_token": "$response.body#/access_token"},
        }
        for name in ("face_audit", "detect_gif", "spam")
    }
    return {"200": ok, "400": err, "401": err, "500": err}


def _token_op(method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"baidu.token.{method}",
        "tags": ["baidu"],
        "summary": "OAuth 2.0 client-credentials token",
        "description": "Parameters in the query (GET, POST) or a form body (POST); the query wins.",
        "parameters": _token_params("query"),
        "responses": _token_responses(),
    }
    if method == "post":
        op["requestBody"] = form_body(
            "the same parameters as a form (Java SDK)",
            {k: {"type": "string", "description": d} for k, (d, _) in TOKEN_PARAMS.items()},
        )
    return op


def _rest(operation: str, summary: str, fields: dict[str, str]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": f"baidu.{operation}.post",
            "tags": ["baidu"],
            "summary": summary,
            "parameters": [
                param("access_token", "query", "a token from /oauth/2.0/token", required=True),
                param("aipSdk", "query", "sent by the SDKs; ignored"),
                param("aipVersion", "query", "sent by the SDKs; ignored"),
            ],
            "requestBody": form_body(
                "form fields (strict UTF-8; a duplicate name keeps its first value)",
                {k: {"type": "string", "description": d} for k, d in fields.items()},
            ),
            "responses": {"200": response(REST_OK, f"baidu/{operation}.success", "baidu/error")},
        }
    }


def paths() -> dict[str, Any]:
    unknown = {
        method: {
            "operationId": f"baidu.unknown_method.{method}",
            "tags": ["baidu"],
            "summary": "any other path under /rest/2.0/: error 3 `Unsupported openapi method`",
            "responses": {"200": response("error 3", "baidu/error")},
        }
        for method in ("get", "post", "put", "delete", "patch")
    }
    return {
        "/oauth/2.0/token": {"get": _token_op("get"), "post": _token_op("post")},
        "/rest/2.0/solution/v1/face_audit": _rest(
            "face_audit",
            "用户头像审核 (avatar audit)",
            {
                "images": "base64 images, comma-separated",
                "imgUrls": "image URLs, comma-separated (each percent-decoded once more)",
                "configId": "the audit configuration; empty or absent: the default",
            },
        ),
        "/rest/2.0/antiporn/v1/detect_gif": _rest(
            "detect_gif", "GIF色情识别 (GIF porn)", {"image": "a base64 GIF"}
        ),
        "/rest/2.0/antispam/v2/spam": _rest(
            "spam", "文本审核 (text censor, antispam v2)", {"content": "UTF-8 text, at most 20000 bytes"}
        ),
        "/rest/2.0/{tail}": {
            "parameters": [param("tail", "path", "any path no API serves", pattern=SEGMENT)],
            **unknown,
        },
    }
