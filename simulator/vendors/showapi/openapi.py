"""showapi's endpoints as OpenAPI path items (``ShowapiVendor.openapi_paths``); see docs/showapi.md."""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import form_body, param, response
from simulator.vendors.showapi.routes import APIS

GATEWAY = {
    "showapi_appid": ("the app id (ASCII digits)", "100001"),
    "showapi_sign": ("the app secret itself, or the MD5 signature of the parameters", "demo-showapi-secret"),
    "showapi_timestamp": ("optional, yyyyMMddHHmmss in UTC+8, within 600 s of the clock", None),
    "showapi_res_gzip": ("`1` gzips the answer (Content-Encoding: gzip)", None),
    "showapi_sign_method": ("optional; only MD5 (the default) is simulated", None),
}
FIELDS: dict[str, dict[str, str]] = {
    "2054-1": {
        "images": "base64 images, comma-separated",
        "imgUrls": "image URLs, comma-separated",
        "configId": "optional Baidu configId",
    },
    "2054-2": {"image": "a base64 GIF"},
    "2054-3": {"content": "UTF-8 text, at most 20000 bytes"},
}
SUMMARY = {
    "2054-1": "用户头像审核 (avatar audit; Baidu face_audit)",
    "2054-2": "GIF色情识别 (GIF porn; Baidu detect_gif)",
    "2054-3": "文本审核 (text censor; Baidu antispam v2)",
}
ENVELOPE = "HTTP 200 for every answer, in the showapi envelope (`showapi_res_code` 0 or a negative code)"
#: the upload part names are free: every file part is an image (2054-1) or the first one is (2054-2)
FILES: dict[str, dict[str, dict[str, Any]]] = {
    "2054-1": {"file": {"description": "an image file (any part name)"}},
    "2054-2": {"file": {}},
}


def _params(api: str) -> list[dict[str, Any]]:
    out = [param(k, "query", d, example=ex) for k, (d, ex) in GATEWAY.items()]
    out += [param(k, "query", d) for k, d in FIELDS[api].items()]
    return out


def _api(api: str) -> dict[str, Any]:
    responses = {
        "200": response(ENVELOPE, f"showapi/{api}.success", "showapi/upstream_error", "showapi/error")
    }
    props = {k: {"type": "string", "description": d} for k, (d, _) in GATEWAY.items()}
    props.update({k: {"type": "string", "description": d} for k, d in FIELDS[api].items()})
    common = {
        "tags": ["showapi"],
        "summary": SUMMARY[api],
        "parameters": _params(api),
        "responses": responses,
    }
    return {
        "get": {"operationId": f"showapi.{api}.get", **common},
        "post": {
            "operationId": f"showapi.{api}.post",
            **common,
            "description": "Parameters from the query, then the form body for names the query lacks.",
            "requestBody": form_body("the parameters as a form", props, files=FILES.get(api)),
        },
    }


def paths() -> dict[str, Any]:
    out = {f"/{api}": _api(api) for api in APIS}
    out["/{api}"] = {
        "parameters": [
            param("api", "path", "an API id this gateway does not have", pattern="^[0-9]+-[0-9]+$")
        ],
        **{
            method: {
                "operationId": f"showapi.unknown_api.{method}",
                "tags": ["showapi"],
                "summary": "any other /<digits>-<digits>: -6 `服务不存在或未上线`",
                "parameters": [param("showapi_res_gzip", "query", "`1` gzips the answer")],
                "responses": {"200": response(ENVELOPE, "showapi/error")},
            }
            for method in ("get", "post")
        },
    }
    return out
