"""The one place Content Moderation 2.0 bodies are serialised.

``{"RequestId":...,"Code":200,"Msg":"success","Data":{...}}`` (TextModeration: ``"Message":"OK"``),
keys in the order of the API's own response demos, compact, UTF-8 unescaped,
``Content-Type: application/json;charset=utf-8``, HTTP 200 whatever the ``Code``. The success texts
are the ones seen from the real service (``success`` for the image actions, ``OK`` for
TextModeration).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator import jsonout
from simulator.vendors.aliyun.cip import MESSAGE_KEY_OPS
from simulator.vendors.aliyun.cip.errors import CipError
from simulator.vendors.aliyun.envelope import JSON_CT


def _response(body: dict[str, Any]) -> web.Response:
    return web.Response(body=jsonout.dumps(body), status=200, headers={"Content-Type": JSON_CT})


def success(operation: str, data: dict[str, Any], rid: str, *, code: int = 200) -> web.Response:
    """``code``: 280 for a DescribeImageModerationResult task still being moderated."""
    if operation in MESSAGE_KEY_OPS:
        return _response({"RequestId": rid, "Code": code, "Message": "OK", "Data": data})
    msg = "success" if code == 200 else CipError(code).message
    return _response({"RequestId": rid, "Code": code, "Msg": msg, "Data": data})


def error_body(err: CipError, rid: str) -> dict[str, Any]:
    return {"RequestId": rid, "Code": err.code, err.message_key: err.message}


def render_error(err: CipError, rid: str) -> web.Response:
    return _response(error_body(err, rid))
