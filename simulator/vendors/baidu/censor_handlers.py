"""Handlers of antiporn, antiterror, the 内容审核平台 (image and text), the combination API and report:
parse the request the way Baidu does and call one model function.

Form operations read the token from the query first, then the UTF-8 form body (``handlers._authed_form``,
as face_audit). The combination API and report take a JSON body: the token first, then the body,
read whole; bytes that are not UTF-8 are 282002, JSON that does not parse 216100 ``invalid param``
(inferred). report also reads a form (PHP and Python SDKs send one; see ``feedback``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator import jsonin
from simulator.context import RequestCtx
from simulator.forms import EncodingError, parse_qs_strict, read_capped
from simulator.keys import sim_of
from simulator.vendors.baidu import feedback, imagecensor, usercensor
from simulator.vendors.baidu.envelope import rest_response
from simulator.vendors.baidu.errors import BaiduError
from simulator.vendors.baidu.handlers import _authed_form, authed


async def antiporn(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "antiporn")
    return rest_response(await imagecensor.antiporn(sim_of(request), ctx, cred.id, form.get("image", "")))


async def antiterror(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "antiterror")
    return rest_response(await imagecensor.antiterror(sim_of(request), ctx, cred.id, form.get("image", "")))


async def img_censor_user_defined(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "img_censor_user_defined")
    return rest_response(await usercensor.img_censor_user_defined(sim_of(request), ctx, cred.id, form))


async def text_censor_user_defined(request: web.Request) -> web.Response:
    form, ctx, cred = await _authed_form(request, "text_censor_user_defined")
    return rest_response(
        await usercensor.text_censor_user_defined(sim_of(request), ctx, cred.id, form.get("text"))
    )


async def _authed_body(request: web.Request, operation: str) -> tuple[bytes, RequestCtx, str]:
    """Token first (from the query, before the body is read), then the whole body."""
    ctx, cred = await authed(request, operation)
    try:
        raw = await read_capped(request, None) if request.body_exists else b""
    except web.RequestPayloadError as exc:
        ctx.note(f"undecodable body: {exc}")
        raise BaiduError(282002) from exc
    return raw, ctx, cred.id


def _json(raw: bytes, ctx: RequestCtx) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.note(f"body is not UTF-8: {exc}")
        raise BaiduError(282002) from exc
    try:
        return jsonin.loads(text)
    except ValueError as exc:
        ctx.note(f"body is not JSON: {str(exc)[:200]}")
        raise BaiduError(216100) from exc


async def img_censor_comb(request: web.Request) -> web.Response:
    raw, ctx, cred = await _authed_body(request, "img_censor_comb")
    body = _json(raw, ctx)
    return rest_response(await imagecensor.img_censor_comb(sim_of(request), ctx, cred, body))


async def report(request: web.Request) -> web.Response:
    if request.content_type.startswith("multipart/"):
        form, ctx, _ = await _authed_form(request, "report")
        return rest_response(feedback.report(sim_of(request), ctx, feedback.from_form(form)))
    raw, ctx, _ = await _authed_body(request, "report")
    if request.content_type == "application/json" or raw.lstrip()[:1] in (b"{", b"["):
        doc = _json(raw, ctx)
        if not isinstance(doc, dict):
            ctx.note("the body is not a JSON object")
            raise BaiduError(216100)
        items = doc.get("feedback")
    else:
        try:
            items = feedback.from_form(parse_qs_strict(raw))
        except EncodingError as exc:
            ctx.note(f"body is not UTF-8 form data: {exc}")
            raise BaiduError(282002) from exc
    return rest_response(feedback.report(sim_of(request), ctx, items))
