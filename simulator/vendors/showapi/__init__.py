"""showapi / 易源 (route.showapi.com): the 2054-x connectors reselling Baidu's image and text censoring.

``/2054-1`` (avatar audit = Baidu face_audit), ``/2054-2`` (GIF porn = Baidu detect_gif) and
``/2054-3`` (text censor = Baidu antispam v2), any method; any other ``/<digits>-<digits>`` path is
-6 ``服务不存在或未上线``. Every answer is HTTP 200 with the showapi envelope; see ``envelope``,
``auth`` (check order) and docs/showapi.md.

Apps are ``showapi`` credentials: the id is the ``showapi_appid`` (digits), the secret the app
secret; ``attrs.apis`` lists the subscribed APIs (absent: all), ``attrs.quota`` the call limits
(``qps`` -> -1009, ``daily`` / ``total`` -> -2).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.errors import VendorError
from simulator.schemas import errors as schema_errors
from simulator.vendors.baidu.envelope import error_body
from simulator.vendors.baidu.errors import BaiduError, OAuthError
from simulator.vendors.base import Route, Vendor
from simulator.vendors.showapi.envelope import envelope, respond
from simulator.vendors.showapi.errors import MESSAGES, ShowapiError, UpstreamError

if TYPE_CHECKING:
    from simulator.sim import Sim


class ShowapiVendor(Vendor):
    name = "showapi"
    title = "showapi 易源 (route.showapi.com): Baidu censoring connectors 2054-1/2/3"
    hosts = ("route.showapi.com",)
    secret_params = ("showapi_sign", "secret")

    def routes(self) -> list[Route]:
        from simulator.vendors.showapi.routes import ROUTES

        return ROUTES

    def configure(self, sim: Sim) -> None:
        """showapi has no fixture section of its own (``vendors.showapi`` must be absent or empty);
        the fixture apps' ``attrs`` are checked against ``showapi/app.schema``."""
        if sim.fixtures.vendors.get("showapi"):
            raise ValueError("vendors.showapi fixture section: showapi has no settings (remove it)")
        for (vendor, cid), spec in sim.fixtures.credentials.items():
            if vendor != "showapi":
                continue
            problems = schema_errors("showapi/app.schema", {"id": cid, **spec.get("attrs", {})})
            if problems:
                raise ValueError(f"showapi app {cid!r}: " + "; ".join(problems[:5]))

    async def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        """Gateway errors: their code and text with body ``{}``. A Baidu error (the upstream refused,
        or a fault rule with a positive code): code 0 and Baidu's error object as the body."""
        from simulator.vendors.baidu.models import log_id

        if isinstance(err, BaiduError) and not isinstance(err, OAuthError):
            err = UpstreamError(err)
        if isinstance(err, UpstreamError):
            body = error_body(err.upstream, log_id(sim))
            return respond(envelope(sim, 0, "", body), gzip=err.gzip)
        if isinstance(err, ShowapiError) and isinstance(err.code, int) and err.code < 0:
            return respond(envelope(sim, err.code, err.message, {}), gzip=err.gzip)
        return respond(envelope(sim, -1, MESSAGES[-1], {}))

    def internal_error(self, operation: str) -> VendorError:
        return ShowapiError(-1)

    def oversize_error(self, operation: str) -> VendorError:
        """A body over the cap is refused by the gateway itself: -1 ``系统调用错误`` (not counted)."""
        return ShowapiError(-1)

    def max_body_bytes(self, operation: str, sim: Sim) -> int:
        """A connector's cap is the Baidu operation's it relays (``baidu.policy.max_body_bytes``)."""
        from simulator.vendors.baidu.policy import max_body_bytes, settings_of

        upstream = {"2054-1": "face_audit", "2054-2": "detect_gif", "2054-3": "spam"}.get(operation)
        cap = max_body_bytes(settings_of(sim).limits, upstream) if upstream else None
        return super().max_body_bytes(operation, sim) if cap is None else cap

    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        """Negative codes of the table -> that gateway error; positive -> Baidu's error with that code,
        passed through (code 0); anything else (0, unknown negatives, words) -> -1."""
        if isinstance(code, str):
            if not re.fullmatch(r"-?[0-9]{1,9}", code.strip()):
                return ShowapiError(-1)
            code = int(code)
        if code > 0:
            return BaiduError(code)
        return ShowapiError(code if code in MESSAGES else -1)

    async def peek_credential(self, request: web.Request, sim: Sim) -> str | None:
        """The query's ``showapi_appid`` (a form-body appid is not seen by fault matching)."""
        return request.query.get("showapi_appid") or None

    def openapi_paths(self) -> dict[str, Any]:
        from simulator.vendors.showapi.openapi import paths

        return paths()

    def schema_for(self, operation: str, body: Any) -> str | None:
        from simulator.vendors.showapi.routes import APIS

        if not isinstance(body, dict) or body.get("showapi_res_code") != 0 or operation not in APIS:
            return "showapi/error"
        inner = body.get("showapi_res_body")
        if isinstance(inner, dict) and "error_code" in inner:
            return "showapi/upstream_error"
        return f"showapi/{operation}.success"

    def demo_credentials(self, sim: Sim) -> list[dict[str, Any]]:
        return [
            {"showapi_appid": c.id, "secret": c.secret, "apis": c.attrs.get("apis", "all")}
            for c in sim.state.credentials.all("showapi")
        ]


__all__ = ["MESSAGES", "ShowapiVendor"]
