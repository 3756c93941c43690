"""itapi's endpoints as OpenAPI path items (``ItapiVendor.openapi_paths``); see docs/itapi.md."""

from __future__ import annotations

from typing import Any

from simulator.admin.openapi import form_body, param, response

KEY = ("the 密钥", "demo-itapi-key")
PIC = {
    "key": KEY,
    "data": ("an image URL (http/https) or base64 image data", None),
    "type": ("comma-separated models: porn, ads, politics, terror, sensitive, ocrtext", "porn,ads"),
    "sync": ("`yes`: the verdict at once; anything else: a taskid", "yes"),
}
RESULT = {"key": KEY, "taskid": ("a taskid from an asynchronous submit", None)}
ERROR_STATUS = "with `vendors.itapi.error_http_status: code`, an error's code is its HTTP status too"


def _op(
    operation: str, method: str, summary: str, fields: dict[str, tuple[str, str | None]]
) -> dict[str, Any]:
    answers = ("itapi/task", "itapi/verdict") if operation == "pic" else ("itapi/verdict",)
    err = response(ERROR_STATUS, "itapi/error")
    op: dict[str, Any] = {
        "operationId": f"itapi.{operation}.{method}",
        "tags": ["itapi"],
        "summary": summary,
        "parameters": [param(k, "query", d, example=ex) for k, (d, ex) in fields.items()],
        "responses": {
            "200": response("the answer, or an error (HTTP 200 by default)", *answers, "itapi/error"),
            "400": err,
            "403": err,
            "500": err,
        },
    }
    if method == "post":
        op["description"] = "Query and form body; a name in both takes the body's value."
        op["requestBody"] = form_body(
            "the parameters as a form (file parts are not form values)",
            {k: {"type": "string", "description": d} for k, (d, _) in fields.items()},
        )
    return op


def paths(result_path: str) -> dict[str, Any]:
    return {
        "/api/badword/pic": {
            m: _op("pic", m, "违规图片检测 (image moderation, sync or async)", PIC) for m in ("get", "post")
        },
        result_path: {
            m: _op("picresult", m, "违规图片检测结果查询 (result of an async task)", RESULT)
            for m in ("get", "post")
        },
    }
