"""The RPC entry ``/`` as an OpenAPI path item (merged by ``aliyun.openapi.paths``).

OpenAPI has one operation per method and path, and RPC serves every action on ``POST /``: the item's
``post`` (``aliyun.rpc_entry.post``) describes them all, lists their modsim operations under
``x-modsim-operations`` and takes the action as ``Action`` (query) or ``x-acs-action`` (header).
"""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import form_body, param, response, schema_ref
from simulator.vendors.aliyun.cip import ACTIONS, ENTRY, VERSION
from simulator.vendors.aliyun.errors import POP_ERRORS

SCHEME = "aliyun.rpc"
SECURITY = {
    SCHEME: {
        "type": "apiKey",
        "in": "query",
        "name": "Signature",
        "description": (
            "RPC v1: HMAC-SHA1 over the parameters (`AccessKeyId`, `SignatureMethod=HMAC-SHA1`,"
            " `SignatureVersion=1.0`, `SignatureNonce`, `Timestamp`), or an ACS3-HMAC-SHA256"
            " `Authorization` header; see docs/aliyun.md"
        ),
    }
}
QUERY: dict[str, tuple[str, dict[str, Any]]] = {
    "Action": ("the action (RPC v1); or the `x-acs-action` header", {"enum": sorted(ACTIONS)}),
    "Version": (f"`{VERSION}`; or the `x-acs-version` header", {}),
    "Format": ("`json` (default) or `xml` (gateway errors as XML)", {}),
    "AccessKeyId": ("RPC v1", {}),
    "SignatureMethod": ("RPC v1: `HMAC-SHA1`", {}),
    "SignatureVersion": ("RPC v1: `1.0`", {}),
    "SignatureNonce": ("RPC v1: not reused within 15 minutes", {}),
    "Timestamp": ("RPC v1: ISO 8601 UTC, `2026-01-01T00:00:00Z`", {}),
    "ReqId": ("DescribeImageModerationResult: ImageAsyncModeration's `ReqId`", {}),
    "Service": ("ImageAsyncModeration (query); the other actions take it in the form body", {}),
    "ServiceParameters": ("a JSON object as a string (ImageAsyncModeration: here; others: the form)", {}),
}
HEADERS = {
    "x-acs-action": "the action (ACS3; the Tea client sends it with RPC v1 too)",
    "x-acs-version": f"`{VERSION}`",
    "x-acs-date": "ACS3: ISO 8601 date",
    "x-acs-signature-nonce": "ACS3: a nonce",
    "x-acs-content-sha256": "ACS3: hex SHA-256 of the body",
}
SUCCESS = [f"aliyun/cip/{op}.success" for op in ACTIONS.values()]


def _pop(statuses: set[int]) -> dict[str, Any]:
    xml = {"text/xml": {"schema": schema_ref("aliyun/pop_error.xml")}}
    return {
        str(s): response("a POP gateway error (XML with `Format=XML`)", "aliyun/pop_error", media=xml)
        for s in sorted(statuses)
    }


def path_item() -> dict[str, Any]:
    params = [param(k, "query", d, **extra) for k, (d, extra) in QUERY.items()]
    params += [param(h, "header", d) for h, d in HEADERS.items()]
    post = {
        "operationId": f"aliyun.{ENTRY}.post",
        "tags": ["aliyun"],
        "summary": "Green 2022-03-02 (内容安全 2.0), RPC: " + ", ".join(ACTIONS),
        "x-modsim-operations": sorted(ACTIONS.values()),
        "security": [{SCHEME: []}],
        "parameters": params,
        "requestBody": form_body(
            "ImageModeration and TextModeration: `Service` and `ServiceParameters`",
            {"Service": {"type": "string"}, "ServiceParameters": {"type": "string"}},
            media=("application/x-www-form-urlencoded",),
        ),
        "responses": {
            "200": response(
                "the action's answer, or a business error (`Code` other than 200) in an HTTP 200 body",
                *SUCCESS,
                "aliyun/cip/error",
            ),
            **_pop({s for s, _ in POP_ERRORS.values()}),
        },
    }
    others = {
        method: {
            "operationId": f"aliyun.{ENTRY}.{method}",
            "tags": ["aliyun"],
            "summary": "/ on another method: MissingAction (400), InvalidApi.NotFound or InvalidAction.NotFound (404)",
            "parameters": [param("Action", "query", "any action"), param("Format", "query", "`xml`: XML")],
            "responses": _pop({400, 404}),
        }
        for method in ("get", "put", "delete", "patch")
    }
    return {"x-security-schemes": SECURITY, "post": post, **others}
