"""AI绿洲 (gateway.aioasis.cn): ``/fantabulous/touxiangshenhe?appkey=...`` (用户头像审核), Baidu's
face_audit resold behind a JD-Wanxiang-style gateway. docs/aioasis.md has the code table, the order
of checks, the credential attrs and every choice made where the vendor says nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.errors import VendorError
from simulator.schemas import errors as schema_errors
from simulator.vendors.aioasis import models
from simulator.vendors.aioasis.envelope import error_body, response, success_body
from simulator.vendors.aioasis.errors import INTERNAL, MESSAGES, AioasisError
from simulator.vendors.baidu.errors import BaiduError
from simulator.vendors.base import Route, Vendor

if TYPE_CHECKING:
    from simulator.sim import Sim
    from simulator.state import Credential

NO_API = "10003"


class AioasisVendor(Vendor):
    name = "aioasis"
    secret_params = ("appkey",)
    title = "AI绿洲 gateway (gateway.aioasis.cn)"
    hosts = ("gateway.aioasis.cn", "gateway.market.aioasis.cn")

    def routes(self) -> list[Route]:
        from simulator.vendors.aioasis.routes import ROUTES

        return ROUTES

    def configure(self, sim: Sim) -> None:
        """Validates ``vendors.aioasis`` and the attrs of every fixture aioasis credential."""
        section = sim.fixtures.vendors.get(self.name, {})
        problems = schema_errors("aioasis/config.schema", section)
        if problems:
            raise ValueError("vendors.aioasis fixture section: " + "; ".join(problems[:5]))
        for cred in sim.state.credentials.all(self.name):
            problems = schema_errors("aioasis/credential.attrs.schema", cred.attrs)
            if problems:
                raise ValueError(f"aioasis credential {cred.id!r} attrs: " + "; ".join(problems[:5]))
        sim.state.vendor_state(self.name)["settings"] = models.AioasisSettings.from_dict(section)

    async def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        """Gateway errors: the Wanxiang error envelope with the caller's unchanged ``remain`` and a fresh
        ``requestId``. A Baidu error that reaches here (the handler normally catches them) is passed
        through as the gateway does: code "10000" with Baidu's error object as ``result``."""
        remain = await models.current_remain(sim, operation, ctx.claimed_credential)
        if isinstance(err, BaiduError):
            return response(success_body(models.passthrough(sim, err), charge=False, remain=remain))
        gw = err if isinstance(err, AioasisError) else AioasisError(INTERNAL)
        code = str(gw.code)
        if code == NO_API:  # no API there, so no data package to count
            remain = 0
        return response(error_body(code, gw.message, remain=remain, request_id=sim.rng.hex(32)))

    def internal_error(self, operation: str) -> VendorError:
        return AioasisError(INTERNAL)

    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        """``10020`` and ``"10020"`` alike; a code outside the table answers 11010."""
        return AioasisError(code)

    def oversize_error(self, operation: str) -> VendorError:
        return AioasisError("10090")

    async def peek_credential(self, request: web.Request, sim: Sim) -> str | None:
        from simulator.vendors.aioasis.handlers import claimed_appkey

        return claimed_appkey(request)

    def openapi_paths(self) -> dict[str, Any]:
        from simulator.vendors.aioasis.openapi import paths

        return paths()

    def schema_for(self, operation: str, body: Any) -> str | None:
        if not isinstance(body, dict) or "result" not in body:
            return "aioasis/error"
        if body.get("charge") is True:
            return "aioasis/touxiangshenhe.billed"
        result = body.get("result")
        if isinstance(result, dict) and "error_code" in result:
            return "aioasis/touxiangshenhe.upstream_error"
        return "aioasis/touxiangshenhe.free"

    async def balance(self, sim: Sim, cred: Credential) -> dict[str, int] | None:
        """Free trial calls and paid calls left (``models.left``)."""
        free, paid = await models.left(sim, cred)
        return {"free": free, "paid": paid}

    def demo_credentials(self, sim: Sim) -> list[dict[str, Any]]:
        """What each appkey's account holds (``remain``: its free and paid calls; what is left of them
        is in the store: ``balance``, the dashboard's quotas)."""
        return [
            {"appkey": c.id, **c.attrs, "remain": models.full_balance(c)}
            for c in sim.state.credentials.all(self.name)
        ]


__all__ = ["MESSAGES", "AioasisError", "AioasisVendor"]
