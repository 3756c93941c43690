"""The one place AI绿洲 bodies are serialised: the Wanxiang envelope around Baidu's face_audit body.

Key order is the captured one: ``code, charge, remain, [remainTimes, remainSeconds,] msg, result`` on
success and ``code, charge, remain, msg, requestId`` on errors. Compact JSON, UTF-8, non-ASCII
unescaped (the captures show raw Chinese), HTTP 200 always.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator import jsonout
from simulator.vendors.aioasis.errors import SUCCESS

MSG_FREE = "查询成功"
MSG_BILLED = "查询成功,扣费"  # ASCII comma, as captured
#: ``remainSeconds`` of a count-based pack: -1 means no time limit
UNLIMITED_SECONDS = -1


def success_body(result: dict[str, Any], *, charge: bool, remain: int) -> dict[str, Any]:
    """Billed: ``remainTimes``/``remainSeconds`` appear and msg says 扣费; unbilled (free trial call, or
    an upstream error passed through): the short form."""
    if charge:
        return {
            "code": SUCCESS,
            "charge": True,
            "remain": remain,
            "remainTimes": remain,
            "remainSeconds": UNLIMITED_SECONDS,
            "msg": MSG_BILLED,
            "result": result,
        }
    return {"code": SUCCESS, "charge": False, "remain": remain, "msg": MSG_FREE, "result": result}


def error_body(code: str, msg: str, *, remain: int, request_id: str) -> dict[str, Any]:
    """No ``result``; never billed; ``remain`` is the caller's unchanged balance."""
    return {"code": code, "charge": False, "remain": remain, "msg": msg, "requestId": request_id}


def response(body: dict[str, Any]) -> web.Response:
    return web.Response(body=jsonout.dumps(body), content_type="application/json", charset="utf-8")
