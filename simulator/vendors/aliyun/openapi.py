"""Green's endpoints as OpenAPI path items (``AliyunVendor.openapi_paths``); see docs/aliyun.md."""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import json_body, param, response, schema_ref
from simulator.vendors.aliyun.cip import openapi as cip_openapi
from simulator.vendors.aliyun.errors import GREEN_HTTP_STATUS, POP_ERRORS
from simulator.vendors.aliyun.policy import SCENES
from simulator.vendors.aliyun.routes import ROUTES

SCHEME = "aliyun.acs"
SECURITY = {
    SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "`acs AK:SIG` (ROA v1, HMAC-SHA1 over the canonical headers and resource) or"
            " `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=...,Signature=...`; see docs/aliyun.md"
        ),
    }
}
SEGMENT = "^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$"
HEADERS = {
    "x-acs-version": "the API version, `2018-05-09`",
    "Date": "RFC 2616 date (ROA v1), within 15 minutes of the simulator clock",
    "x-acs-date": "ISO 8601 date (ACS3)",
    "x-acs-signature-method": "`HMAC-SHA1` (ROA v1)",
    "x-acs-signature-version": "`1.0` (ROA v1)",
    "x-acs-signature-nonce": "a nonce, not reused within 15 minutes (required by ACS3)",
    "x-acs-region-id": "the region, e.g. `cn-shanghai`",
    "x-acs-action": "the action name (signed, not checked against the path)",
    "x-acs-content-sha256": "hex SHA-256 of the body (ACS3)",
    "Content-MD5": "base64 MD5 of the body; checked when sent",
}
STR = {"type": "string"}
STRS = {"type": "array", "items": STR}
TASK = {
    "type": "object",
    "required": ["url"],
    "properties": {
        "url": {"type": "string", "maxLength": 2048},
        "dataId": {"type": "string", "maxLength": 256},
        "extras": {"type": "object"},
    },
}
SCAN = {
    "scenes": {"type": "array", "minItems": 1, "items": {"enum": list(SCENES)}},
    "tasks": {"type": "array", "minItems": 1, "maxItems": 100, "items": TASK},
    "bizType": STR,
}
ASYNC = {
    **SCAN,
    "callback": STR,
    "seed": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,64}$"},
    "cryptType": STR,
}
#: operation -> (Action, request body properties, required properties)
BODIES: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "image_scan": ("ImageSyncScan", SCAN, ("scenes", "tasks")),
    "image_asyncscan": ("ImageAsyncScan", ASYNC, ("scenes", "tasks")),
    "upload_credentials": ("UploadCredentials", {}, ()),
    "add_groups": ("AddGroups", {"personId": STR, "groupIds": STRS}, ("personId", "groupIds")),
    "delete_groups": ("DeleteGroups", {"personId": STR, "groupIds": STRS}, ("personId", "groupIds")),
    "add_person": (
        "AddPerson",
        {"personId": STR, "groupIds": STRS, "name": STR, "note": STR},
        ("personId", "groupIds"),
    ),
    "delete_person": ("DeletePerson", {"personId": STR}, ("personId",)),
    "set_person": ("SetPerson", {"personId": STR, "name": STR, "note": STR}, ("personId",)),
    "get_person": ("GetPerson", {"personId": STR}, ("personId",)),
    "add_faces": ("AddFaces", {"personId": STR, "urls": STRS, "bizType": STR}, ("personId", "urls")),
    "delete_faces": ("DeleteFaces", {"personId": STR, "faceIds": STRS}, ("personId", "faceIds")),
    "get_faces": ("GetFaces", {"personId": STR}, ("personId",)),
    "get_groups": ("GetGroups", {}, ()),
    "get_persons": ("GetPersons", {"groupId": STR}, ("groupId",)),
    "search_person": ("SearchPerson", {"groupId": STR, "url": STR}, ("groupId", "url")),
    "text_scan": (
        "TextScan",
        {
            "scenes": {"type": "array", "items": {"const": "antispam"}},
            "tasks": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["content"],
                    "properties": {"content": {"type": "string", "maxLength": 10000}, "dataId": STR},
                },
            },
            "bizType": STR,
        },
        ("scenes", "tasks"),
    ),
    "image_feedback": (
        "ImageScanFeedback",
        {
            "taskId": STR,
            "dataId": STR,
            "url": STR,
            "suggestion": {"enum": ["pass", "block"]},
            "scenes": {"type": "array", "items": {"enum": ["porn", "terrorism", "ad"]}},
            "label": STR,
            "note": STR,
        },
        (),
    ),
}
TEXT_FEEDBACK_FIELDS: dict[str, Any] = {
    "taskId": STR,
    "dataId": STR,
    "content": STR,
    "label": STR,
    "note": STR,
}
TEXT_FEEDBACK = {"type": "object", "required": ["taskId"], "properties": TEXT_FEEDBACK_FIELDS}
BODIES["text_feedback"] = ("TextFeedback", TEXT_FEEDBACK_FIELDS, ("taskId",))


def _pop_responses() -> dict[str, Any]:
    xml = {"text/xml": {"schema": schema_ref("aliyun/pop_error.xml")}}
    return {
        str(status): response(
            "a POP gateway error: JSON, or XML when the client asks for it (Accept, format=xml)",
            "aliyun/pop_error",
            media=xml,
        )
        for status in sorted({s for s, _ in POP_ERRORS.values()})
    }


def _success_schema(operation: str) -> str:
    from simulator.vendors.aliyun import LIBRARY_OPS

    return "aliyun/sface_library.success" if operation in LIBRARY_OPS else f"aliyun/{operation}.success"


def _body(operation: str) -> dict[str, Any]:
    if operation == "image_results":
        schema: dict[str, Any] = {"type": "array", "minItems": 1, "maxItems": 100, "items": STR}
        return json_body("a bare JSON array of taskIds", schema)
    if operation == "text_feedback":
        either = {"oneOf": [TEXT_FEEDBACK, {"type": "array", "minItems": 1, "items": TEXT_FEEDBACK}]}
        return json_body("a feedback object, or a JSON array of them", either)
    _, props, required = BODIES[operation]
    return json_body(
        "a JSON object (any Content-Type)",
        {"type": "object", "properties": props, "required": list(required)},
    )


def _common_params() -> list[dict[str, Any]]:
    out = [param(h, "header", d, required=h == "x-acs-version") for h, d in HEADERS.items()]
    out.append(param("RegionId", "query", "added by aliyunsdkcore; signed"))
    out.append(param("format", "query", "`xml`: gateway errors as XML"))
    return out


def paths() -> dict[str, Any]:
    pop = _pop_responses()
    green_err = {
        str(s): response("a Green error with this HTTP status", "aliyun/error")
        for s in set(GREEN_HTTP_STATUS.values())
    }
    out: dict[str, Any] = {}
    for r in ROUTES:
        if r.method != "POST" or r.path == "/":
            continue
        action = "ImageAsyncScanResults" if r.operation == "image_results" else BODIES[r.operation][0]
        out[r.path] = {
            "x-security-schemes": SECURITY,
            "post": {
                "operationId": f"aliyun.{r.operation}.post",
                "tags": ["aliyun"],
                "summary": action,
                "security": [{SCHEME: []}],
                "parameters": _common_params(),
                "requestBody": _body(r.operation),
                "responses": {
                    "200": response(
                        "Green's answer (`code` 200) or a Green error in the body",
                        _success_schema(r.operation),
                        "aliyun/error",
                    ),
                    **green_err,
                    **pop,
                },
            },
        }
    out["/"] = cip_openapi.path_item()
    out["/green/{tail}"] = {
        "parameters": [param("tail", "path", "a path Green 2018-05-09 has no API at", pattern=SEGMENT)],
        **{
            method: {
                "operationId": f"aliyun.unknown_api.{method}",
                "tags": ["aliyun"],
                "summary": "any other path under /green/: InvalidApi.NotFound (404), before any auth",
                "parameters": [param("format", "query", "`xml`: the error as XML")],
                "responses": {"404": pop["404"]},
            }
            for method in ("get", "post", "put", "delete", "patch")
        },
    }
    return out
