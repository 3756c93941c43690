"""Baidu AI open platform: OAuth ``/oauth/2.0/token`` and ``/rest/2.0/solution/v1/face_audit``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.errors import AdminError, VendorError
from simulator.schemas import errors as schema_errors
from simulator.vendors.baidu import auth
from simulator.vendors.baidu.envelope import render_error
from simulator.vendors.baidu.errors import MESSAGES, BaiduError, OAuthError
from simulator.vendors.baidu.policy import BaiduSettings, max_body_bytes, settings_of
from simulator.vendors.base import Route, Vendor

if TYPE_CHECKING:
    from simulator.sim import Sim


class BaiduVendor(Vendor):
    name = "baidu"
    title = "Baidu AI (aip.baidubce.com)"
    hosts = ("aip.baidubce.com",)
    secret_params = ("client_secret", "access_token")
    secret_headers = ("authorization",)
    secret_fields = ("access_token", "refresh_token", "session_key", "session_secret")

    def routes(self) -> list[Route]:
        from simulator.vendors.baidu.routes import ROUTES

        return ROUTES

    def configure(self, sim: Sim) -> None:
        section = sim.fixtures.vendors.get("baidu", {})
        problems = schema_errors("baidu/config.schema", section)
        if problems:
            raise ValueError("vendors.baidu fixture section: " + "; ".join(problems[:5]))
        sim.state.vendor_state("baidu")["settings"] = BaiduSettings.from_dict(section)

    async def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        from simulator.vendors.baidu.models import log_id

        baidu_err = err if isinstance(err, BaiduError) else BaiduError(282000)
        return render_error(baidu_err, log_id(sim))

    def internal_error(self, operation: str) -> VendorError:
        if operation == "token":
            return OAuthError(
                "server_error", "The authorization server encountered an unexpected condition", 500
            )
        return BaiduError(282000)

    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        """REST operations: the code's ``error_code`` body (a word: 282000). The token endpoint has
        only OAuth errors: ``invalid_client``, ``invalid_request``, ``unsupported_grant_type`` with
        their texts and statuses; anything else there, numbers included, is the OAuth server's own
        failure (``server_error``, 500): never a REST body."""
        if operation == "token":
            texts = {
                "invalid_client": ("unknown client id", 401),
                "invalid_request": ("The request is missing a required parameter", 400),
                "unsupported_grant_type": ("The authorization grant type is not supported", 400),
            }
            name = code if isinstance(code, str) and code in texts else "server_error"
            desc, status = texts.get(
                name, ("The authorization server encountered an unexpected condition", 500)
            )
            return OAuthError(name, desc, status)
        if isinstance(code, str) and not code.lstrip("-").isdigit():
            return BaiduError(282000)
        return BaiduError(int(code))

    def oversize_error(self, operation: str) -> VendorError:
        if operation == "token":  # the OAuth server has no image codes: keep its own envelope
            return OAuthError("invalid_request", "The request is missing a required parameter", 400)
        return BaiduError(216202)

    def max_body_bytes(self, operation: str, sim: Sim) -> int:
        cap = max_body_bytes(settings_of(sim).limits, operation)
        return super().max_body_bytes(operation, sim) if cap is None else cap

    async def peek_credential(self, request: web.Request, sim: Sim) -> str | None:
        token = request.query.get("access_token")
        if token:
            rec = await auth.tokens(sim).get(auth.bare_token(token))
            return str(rec["api_key"]) if rec else None
        return request.query.get("client_id")

    def openapi_paths(self) -> dict[str, Any]:
        from simulator.vendors.baidu.openapi import paths

        return paths()

    def schema_for(self, operation: str, body: Any) -> str | None:
        if operation == "token":
            return (
                "baidu/token.success"
                if isinstance(body, dict) and "access_token" in body
                else "baidu/token.error"
            )
        if isinstance(body, dict) and "error_code" in body:
            return "baidu/error"
        return f"baidu/{operation}.success"

    def admin_routes(self) -> list[web.RouteDef]:
        return [web.post("/tokens/revoke", _revoke), web.get("/tokens", _list_tokens)]

    def demo_credentials(self, sim: Sim) -> list[dict[str, Any]]:
        return [
            {"app_id": c.attrs.get("app_id"), "api_key": c.id, "secret_key": c.secret}
            for c in sim.state.credentials.all("baidu")
        ]


async def _revoke(request: web.Request) -> web.Response:
    from simulator.admin.routes import read_json
    from simulator.keys import sim_of

    sim = sim_of(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not (body.get("token") or body.get("api_key")):
        raise AdminError(400, "invalid_request", 'give {"token": ...} or {"api_key": ...}')
    return web.json_response({"revoked": await auth.revoke(sim, body.get("token"), body.get("api_key"))})


async def _list_tokens(request: web.Request) -> web.Response:
    """The issued tokens, oldest first; ``?limit=`` the first N."""
    from simulator.admin.masking import mask, reveals
    from simulator.keys import sim_of

    sim = sim_of(request)
    raw = request.query.get("limit")
    limit = int(raw) if raw and raw.isascii() and raw.isdigit() else None
    if raw and limit is None:
        raise AdminError(400, "invalid_request", "limit must be a non-negative integer")
    tokens = [auth.Token.from_dict(t).to_dict() for t in await auth.tokens(sim).values(limit)]
    if not reveals(request):
        tokens = [{**t, "token": mask(t["token"])} for t in tokens]
    return web.json_response({"tokens": tokens})


__all__ = ["MESSAGES", "BaiduVendor"]
