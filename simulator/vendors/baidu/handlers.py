"""Baidu handlers: parse the request the way Baidu does and call one model function."""

from __future__ import annotations

from aiohttp import web

from simulator.context import RequestCtx
from simulator.forms import EncodingError, body_params, query_params
from simulator.keys import CTX, sim_of
from simulator.state import Credential
from simulator.vendors.baidu import auth, censor, models
from simulator.vendors.baidu.envelope import oauth_response, rest_response
from simulator.vendors.baidu.errors import BaiduError


async def token(request: web.Request) -> web.Response:
    """Any method; parameters in the query (Python/PHP SDKs) or a POST form body (Java SDK); query wins."""
    sim, ctx = sim_of(request), request[CTX]
    try:
        params = query_params(request)
        if request.method == "POST":
            for k, v in (await body_params(request)).values.items():
                params.setdefault(k, v)
    except EncodingError as exc:
        ctx.note(f"undecodable parameters: {exc}")
        params = {}
    return oauth_response(await auth.issue_token(sim, ctx, params))


async def authed(request: web.Request, operation: str) -> tuple[RequestCtx, Credential]:
    """The token (from the query), checked before any body is read."""
    sim, ctx = sim_of(request), request[CTX]
    try:
        query = query_params(request)
    except EncodingError as exc:
        raise BaiduError(282002) from exc
    cred = await auth.check_token(
        sim, ctx, query.get("access_token"), request.headers.get("authorization"), operation
    )
    return ctx, cred


async def _authed_form(request: web.Request, operation: str) -> tuple[dict[str, str], RequestCtx, Credential]:
    """Token first (from the query, before the body is read), then the UTF-8 form body."""
    ctx, cred = await authed(request, operation)
    try:
        form = (await body_params(request)).values
    except EncodingError as exc:
        ctx.note(f"body is not UTF-8 form data: {exc}")
        raise BaiduError(282002) from exc
    return form, ctx, cred


async def face_audit(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "face_audit")
    return rest_response(await models.face_audit(sim_of(request), ctx, cred.id, form))


async def detect_gif(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "detect_gif")
    return rest_response(await censor.detect_gif(sim_of(request), ctx, cred.id, form.get("image", "")))


async def spam(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "spam")
    return rest_response(await censor.spam(sim_of(request), ctx, cred.id, form.get("content")))


async def unknown_method(request: web.Request) -> web.Response:
    raise BaiduError(3)
