"""The one place Baidu bodies are serialised."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator import jsonout
from simulator.vendors.baidu.errors import BaiduError, OAuthError

JSON_UTF8 = "application/json"


def php_json(obj: Any) -> str:
    """PHP ``json_encode`` style, as the OAuth server writes: ``\\/`` and ``\\uXXXX`` escapes, no spaces."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def oauth_response(body: dict[str, Any], status: int = 200) -> web.Response:
    text = php_json(body)
    headers = {"Cache-Control": "no-store"}
    if status != 200:
        text += "\n"
    return web.Response(text=text, status=status, content_type=JSON_UTF8, charset="utf-8", headers=headers)


def rest_response(body: dict[str, Any]) -> web.Response:
    """Compact UTF-8 JSON. Floats print the shortest round trip without a padded exponent
    (``1.5e-7``), as Baidu's own answers do (``3.2677664307812e-7`` in the face_audit doc)."""
    return web.Response(body=jsonout.dumps(body), content_type=JSON_UTF8, charset="utf-8")


def error_body(err: BaiduError, log_id: int | None) -> dict[str, Any]:
    if isinstance(err, OAuthError):
        return {"error_description": err.message, "error": err.error}
    if err.gateway or log_id is None:
        return {"error_code": err.code, "error_msg": err.message}
    return {"log_id": log_id, "error_code": err.code, "error_msg": err.message}


def render_error(err: BaiduError, log_id: int | None) -> web.Response:
    body = error_body(err, log_id)
    if isinstance(err, OAuthError):
        return oauth_response(body, status=err.http_status)
    resp = rest_response(body)
    resp.set_status(err.http_status)
    return resp
