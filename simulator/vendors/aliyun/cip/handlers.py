"""Content Moderation 2.0 handlers: read the request once, pass it through the POP gateway (RPC v1 or
ACS3), call one model function. Errors are rendered by ``AliyunVendor.render_error``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.forms import BodyTooLarge, read_capped
from simulator.keys import CTX, sim_of
from simulator.sim import Sim
from simulator.state import Credential
from simulator.vendors.aliyun import gateway, signing
from simulator.vendors.aliyun.cip import ACTIONS, image, text
from simulator.vendors.aliyun.cip import envelope as cip_envelope
from simulator.vendors.aliyun.cip.errors import CipError
from simulator.vendors.aliyun.cip.gateway import authenticate
from simulator.vendors.aliyun.envelope import request_id
from simulator.vendors.aliyun.errors import PopError
from simulator.vendors.aliyun.handlers import origin_form
from simulator.vendors.aliyun.scan import settings_of

FORM = "application/x-www-form-urlencoded"
#: what an action's model function returns: ``(Code, Data)``
Model = Callable[[Sim, RequestCtx, Credential, str, signing.Query], Awaitable[tuple[int, dict[str, Any]]]]


def action_of(request: web.BaseRequest) -> str | None:
    """The RPC action: the ``Action`` query parameter (RPC v1) or the ``x-acs-action`` header (ACS3)."""
    return request.query.get("Action") or request.headers.get("x-acs-action")


def selects(action: str) -> Callable[[web.BaseRequest], bool]:
    """The route predicate of ``action`` (``vendors.base.Route.select``)."""

    def select(request: web.BaseRequest) -> bool:
        return action_of(request) == action

    return select


def rpc(operation: str, fn: Model) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        sim, ctx = sim_of(request), request[CTX]
        try:
            raw = await read_capped(request, sim.settings.max_body_bytes)
        except BodyTooLarge as exc:
            ctx.note(f"body over {exc.limit} bytes")
            raise CipError(402, operation=operation) from exc
        except web.RequestPayloadError as exc:
            ctx.note(f"undecodable body: {exc}")
            raise CipError(401, operation=operation) from exc
        target = origin_form(request.raw_path)
        raw_query = target.partition("?")[2]
        params = signing.parse_query(raw_query)
        if request.content_type == FORM:
            params += signing.parse_query(raw.decode("utf-8", "replace"))
        wire = gateway.Wire(
            method=request.method,
            path=request.path,
            raw_path=target.partition("?")[0],
            raw_query=raw_query,
            headers=tuple(request.headers.items()),
            body=raw,
        )
        cred = await authenticate(sim, ctx, wire, params, settings_of(sim).gateway)
        if cred.attrs.get("disabled"):
            ctx.note(f"account of {cred.id!r} is disabled (attrs.disabled): 408")
            raise CipError(408, operation=operation)
        uid = str(cred.attrs.get("uid", cred.id))
        code, data = await fn(sim, ctx, cred, uid, params)
        ctx.vendor_code = code
        return cip_envelope.success(operation, data, request_id(ctx.request_id), code=code)

    return handler


def _ok(
    fn: Callable[[Sim, RequestCtx, str, str, signing.Query], Awaitable[dict[str, Any]]],
) -> Model:
    async def model(
        sim: Sim, ctx: RequestCtx, cred: Credential, uid: str, params: signing.Query
    ) -> tuple[int, dict[str, Any]]:
        return 200, await fn(sim, ctx, cred.id, uid, params)

    return model


async def _describe(
    sim: Sim, ctx: RequestCtx, cred: Credential, uid: str, params: signing.Query
) -> tuple[int, dict[str, Any]]:
    return await image.describe(sim, ctx, uid, params)


image_moderation = rpc("image_moderation", _ok(image.moderate))
text_moderation = rpc("text_moderation", _ok(text.moderate))
image_async_moderation = rpc("image_async_moderation", _ok(image.submit))
describe_image_moderation_result = rpc("describe_image_moderation_result", _describe)


async def rpc_entry(request: web.Request) -> web.Response:
    """Whatever reaches ``/`` that no action's route took: no action (``MissingAction``), an action
    the product does not have (``InvalidAction.NotFound``, HTTP 404), or a known action on another
    method than POST (``InvalidApi.NotFound``); before any auth check."""
    ctx = request[CTX]
    action = action_of(request)
    if action is None:
        ctx.auth("not_checked", f"{request.method} / without Action (query) nor x-acs-action (header)")
        raise PopError("MissingAction")
    if action in ACTIONS:
        ctx.auth("not_checked", f"{action} is served on POST only, not {request.method[:16]}")
        raise PopError("InvalidApi.NotFound")
    ctx.auth("not_checked", f"no Green 2022-03-02 action {action[:80]!r}")
    raise PopError("InvalidAction.NotFound", http_status=404)
