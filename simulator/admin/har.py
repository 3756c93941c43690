"""Journal entries as HAR 1.2 (HTTP Archive), for browser dev tools, Charles, Fiddler or har-validator.

Bodies are the first ``Settings.journal_body_bytes`` of each side (``_modsim.truncated`` says when
cut); the simulator's own facts (vendor, operation, vendor code, auth reason, scenario, fault) go in
the ``_modsim`` extension field of each entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl


def _headers(pairs: list[list[str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _mime(pairs: list[list[str]]) -> str:
    for k, v in pairs:
        if k.lower() == "content-type":
            return v
    return ""


def entry(e: dict[str, Any]) -> dict[str, Any]:
    ex = e.get("exchange") or {}
    req_headers = ex.get("request_headers", [])
    resp_headers = ex.get("response_headers", [])
    host = next((v for k, v in req_headers if k.lower() == "host"), "127.0.0.1")
    url = f"http://{host}{e['path']}" + (f"?{e['query']}" if e.get("query") else "")
    req_body = ex.get("request_body") or {"size": -1, "text": ""}
    resp_body = ex.get("response_body") or {"size": -1, "text": ""}
    status = e.get("status") or 0
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    request: dict[str, Any] = {
        "method": e["method"],
        "url": url,
        "httpVersion": ex.get("http_version", "HTTP/1.1"),
        "cookies": [],
        "headers": _headers(req_headers),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(e.get("query", ""), keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": req_body["size"],
    }
    if req_body["size"] > 0:
        request["postData"] = {"mimeType": _mime(req_headers), "text": req_body["text"]}
    return {
        "startedDateTime": datetime.fromtimestamp(e["time"], UTC).isoformat().replace("+00:00", "Z"),
        "time": e.get("latency_ms", 0),
        "request": request,
        "response": {
            "status": status,
            "statusText": reason,
            "httpVersion": ex.get("http_version", "HTTP/1.1"),
            "cookies": [],
            "headers": _headers(resp_headers),
            "content": {
                "size": max(resp_body["size"], 0),
                "mimeType": _mime(resp_headers),
                "text": resp_body["text"],
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": resp_body["size"],
        },
        "cache": {},
        "timings": {"send": 0, "wait": e.get("latency_ms", 0), "receive": 0},
        "_modsim": {
            k: e.get(k)
            for k in (
                "request_id",
                "vendor",
                "operation",
                "vendor_code",
                "credential",
                "auth",
                "scenario",
                "fault",
                "notes",
            )
        }
        | {"truncated": bool(req_body.get("truncated") or resp_body.get("truncated"))},
    }


def document(entries: list[dict[str, Any]], version: str) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "modsim", "version": version},
            "entries": [entry(e) for e in entries],
        }
    }
