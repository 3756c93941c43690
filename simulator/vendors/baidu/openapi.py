"""Baidu's endpoints as OpenAPI path items (``BaiduVendor.openapi_paths``); see docs/baidu.md."""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import form_body, json_body, param, response

#: one segment of a path no Baidu API serves (any tail answers error 3; dot segments would be normalised)
SEGMENT = "^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$"
TOKEN_PARAMS = {
    "grant_type": ("always `client_credentials`", "client_credentials"),
    "client_id": ("the application's API Key", "demo-baidu-api-key"),
    "client_secret": ("the application's Secret Key", "demo-baidu-secret-key"),
}
REST_OK = "HTTP 200 for every answer: the result, or an error object (`error_code`, `error_msg`)"
#: the operations called with an access_token
REST_OPERATIONS = (
    "face_audit",
    "detect_gif",
    "spam",
    "antiporn",
    "antiterror",
    "img_censor_user_defined",
    "text_censor_user_defined",
    "img_censor_comb",
    "report",
)


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
        for name in REST_OPERATIONS
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


def _rest(
    operation: str, summary: str, fields: dict[str, str], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A POST with the access_token in the query; ``body``: a request body other than a form of ``fields``."""
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
            "requestBody": body
            or form_body(
                "form fields (strict UTF-8; a duplicate name keeps its first value)",
                {k: {"type": "string", "description": d} for k, d in fields.items()},
            ),
            "responses": {"200": response(REST_OK, f"baidu/{operation}.success", "baidu/error")},
        }
    }


def _unknown(prefix: str, suffix: str = "") -> dict[str, Any]:
    """Any method on any path under ``prefix`` that no API serves: error 3 (``suffix`` keeps the
    operationIds of the three prefixes apart)."""
    return {
        "parameters": [param("tail", "path", "any path no API serves", pattern=SEGMENT)],
        **{
            method: {
                "operationId": f"baidu.unknown_method.{method}{suffix}",
                "tags": ["baidu"],
                "summary": f"any other path under {prefix}: error 3 `Unsupported openapi method`",
                "responses": {"200": response("error 3", "baidu/error")},
            }
            for method in ("get", "post", "put", "delete", "patch")
        },
    }


def _comb_body() -> dict[str, Any]:
    from simulator.vendors.baidu.imagecensor import COMB_SCENES

    return json_body(
        "JSON (`Content-Type: application/json`): `image` (base64) or `imgUrl`, and `scenes`",
        {
            "type": "object",
            "properties": {
                "image": {"type": "string", "description": "base64 image; not with imgUrl"},
                "imgUrl": {"type": "string", "description": "image URL; not with image"},
                "scenes": {
                    "description": "the models to run, in the answer's order",
                    "type": "array",
                    "items": {"enum": list(COMB_SCENES)},
                },
                "sceneConf": {"type": "object", "description": "per-scene options; accepted, ignored"},
            },
        },
        required=False,
    )


def _report_body() -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "api_url": {"type": "string"},
            "correct": {"type": "integer", "enum": [0, 1]},
            "image": {"type": "string"},
            "image_md5": {"type": "string"},
            "log_id": {"type": "integer"},
            "level": {"type": "integer"},
        },
    }
    body = json_body(
        'JSON `{"feedback": [...]}` (Node, Java, C#, C++ SDKs); PHP\'s form `feedback[0][api_url]=...` is read too',
        {"type": "object", "properties": {"feedback": {"type": "array", "items": item}}},
        required=False,
    )
    body["content"]["application/x-www-form-urlencoded"] = {
        "schema": {"type": "object", "properties": {"feedback": {"type": "string"}}}
    }
    return body


def paths() -> dict[str, Any]:
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
        "/rest/2.0/antiporn/v1/detect": _rest(
            "antiporn", "色情识别 (antiPorn)", {"image": "a base64 image (PNG, JPEG, BMP; 4 MB)"}
        ),
        "/rest/2.0/antiterror/v1/detect": _rest(
            "antiterror", "暴恐识别 (antiTerror)", {"image": "a base64 image (PNG, JPEG, BMP; 4 MB)"}
        ),
        "/rest/2.0/solution/v1/img_censor/v2/user_defined": _rest(
            "img_censor_user_defined",
            "内容审核平台-图像 (imageCensorUserDefined)",
            {
                "image": "a base64 image (10 MB); not with imgUrl",
                "imgUrl": "an image URL; not with image",
                "imgType": "0 static (a GIF's first frame), 1 animated GIF (every frame)",
            },
        ),
        "/rest/2.0/solution/v1/text_censor/v2/user_defined": _rest(
            "text_censor_user_defined",
            "内容审核平台-文本 (textCensorUserDefined)",
            {"text": "UTF-8 text, at most 20000 bytes"},
        ),
        "/api/v1/solution/direct/img_censor": _rest(
            "img_censor_comb", "组合服务接口 (imageCensorComb)", {}, _comb_body()
        ),
        "/rpc/2.0/feedback/v1/report": _rest("report", "图像审核反馈 (report)", {}, _report_body()),
        "/rest/2.0/{tail}": _unknown("/rest/2.0/"),
        "/rpc/2.0/{tail}": _unknown("/rpc/2.0/", "_rpc"),
        "/api/v1/{tail}": _unknown("/api/v1/", "_api"),
    }
