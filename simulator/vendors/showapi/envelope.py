"""The one place showapi answers are serialised.

Wire shape (key order from captures): ``{"showapi_res_error":"","showapi_res_id":"<24 hex>",
"showapi_res_code":0,"showapi_res_body":{...}}``, compact JSON, UTF-8 with non-ASCII unescaped, HTTP 200.
``showapi_res_id`` is 24 lowercase hex (a Mongo ObjectId, as 2021+ captures show; older answers had
32 hex). With ``showapi_res_gzip=1`` the bytes are gzip-compressed here (mtime 0, so the same answer
always compresses to the same bytes) and sent with ``Content-Encoding: gzip``.
"""

from __future__ import annotations

import gzip as gzip_module
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator import jsonout

if TYPE_CHECKING:
    from simulator.sim import Sim

JSON = "application/json"


def envelope(sim: Sim, code: int, error: str, body: dict[str, Any]) -> dict[str, Any]:
    """The envelope dict in wire key order; draws the request id from the simulator's sequence."""
    return {
        "showapi_res_error": error,
        "showapi_res_id": sim.rng.hex(24),
        "showapi_res_code": code,
        "showapi_res_body": body,
    }


def respond(env: dict[str, Any], *, gzip: bool = False) -> web.Response:
    data = jsonout.dumps(env)
    headers = {}
    if gzip:
        data = gzip_module.compress(data, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=data, content_type=JSON, charset="utf-8", headers=headers)


def success(sim: Sim, body: dict[str, Any], *, gzip: bool = False) -> web.Response:
    return respond(envelope(sim, 0, "", body), gzip=gzip)
