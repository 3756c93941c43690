"""showapi handlers: read the parameters the way the gateway does, check them, call one model.

Parameters are the query's, then the body's for keys the query lacks (POST only: other methods are
read from the query alone). A body is ``application/x-www-form-urlencoded`` (any non-multipart body
is read as such) or ``multipart/form-data``, whose file parts are excluded from the signature and
handed to the model as the image. Undecodable parameters (not UTF-8, broken multipart) answer -1
``系统调用错误`` before any other check, and are not counted: the gateway's own behaviour is unknown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.forms import BodyTooLarge, EncodingError, body_params, query_params
from simulator.keys import CTX, sim_of
from simulator.sim import Sim
from simulator.vendors.baidu.errors import BaiduError
from simulator.vendors.showapi import auth, models
from simulator.vendors.showapi.envelope import success
from simulator.vendors.showapi.errors import ShowapiError, UpstreamError

Model = Callable[[Sim, RequestCtx, str, dict[str, str], dict[str, bytes]], Awaitable[dict[str, Any]]]


MODELS: dict[str, Model] = {
    "2054-1": models.avatar_audit,
    "2054-2": models.gif_porn,
    "2054-3": models.text_censor,
}


async def read_params(
    request: web.Request, sim: Sim, ctx: RequestCtx
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Text parameters (query first, then the POST body) and uploaded files."""
    try:
        params = query_params(request)
        files: dict[str, bytes] = {}
        if request.method == "POST":
            body = await body_params(request, sim.settings.max_body_bytes)
            for k, v in body.values.items():
                params.setdefault(k, v)
            files = body.files
    except BodyTooLarge as exc:
        ctx.note(f"request body over the {exc.limit}-byte cap")
        raise ShowapiError(-1) from exc
    except EncodingError as exc:
        ctx.note(f"undecodable parameters: {exc}")
        raise ShowapiError(-1) from exc
    return params, files


def _wants_gzip(params: dict[str, str]) -> bool:
    return params.get("showapi_res_gzip") == "1"


async def api(request: web.Request) -> web.Response:
    """``/2054-1``, ``/2054-2``, ``/2054-3``: any method."""
    sim, ctx = sim_of(request), request[CTX]
    operation = ctx.operation or ""
    params, files = await read_params(request, sim, ctx)
    gzip = _wants_gzip(params)
    try:
        cred = await auth.authenticate(sim, ctx, params, operation)
        body = await MODELS[operation](sim, ctx, cred.id, params, files)
    except BaiduError as exc:
        ctx.note(f"Baidu answered {exc.code} {exc.message!r}: passed through as showapi_res_body")
        raise UpstreamError(exc, gzip=gzip) from exc
    except ShowapiError as exc:
        exc.gzip = gzip
        raise
    return success(sim, body, gzip=gzip)


async def unknown_api(request: web.Request) -> web.Response:
    """``/<digits>-<digits>`` that is not a 2054-x connector: -6, before any parameter check (even
    undecodable parameters); compressed when ``showapi_res_gzip=1`` could be read."""
    sim, ctx = sim_of(request), request[CTX]
    ctx.auth("not_checked", f"no API {request.path.lstrip('/')!r} on this gateway")
    try:
        params, _ = await read_params(request, sim, ctx)
    except ShowapiError:  # unreadable parameters: still -6, uncompressed
        params = {}
    raise ShowapiError(-6, gzip=_wants_gzip(params))
