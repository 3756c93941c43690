"""itapi.cn (顺为数据) 违规图片检测: ``/api/badword/pic`` (sync and async) and its result query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.errors import VendorError
from simulator.schemas import errors as schema_errors
from simulator.vendors.base import PARAMS_BYTES, Route, Vendor, b64_chars, form_bytes
from simulator.vendors.itapi import envelope
from simulator.vendors.itapi.errors import CODE_REASONS, MESSAGES, ItapiError
from simulator.vendors.itapi.policy import DEFAULT_RESULT_PATH, ItapiSettings

if TYPE_CHECKING:
    from simulator.sim import Sim


class ItapiVendor(Vendor):
    name = "itapi"
    secret_params = ("key",)
    title = "itapi.cn 违规图片检测 (api.itapi.cn)"
    hosts = ("api.itapi.cn",)

    def __init__(self) -> None:
        self._result_path = DEFAULT_RESULT_PATH

    def routes(self) -> list[Route]:
        from simulator.vendors.itapi.routes import routes

        return routes(self._result_path)

    def configure(self, sim: Sim) -> None:
        section = sim.fixtures.vendors.get("itapi", {})
        problems = schema_errors("itapi/config.schema", section)
        if problems:
            raise ValueError("vendors.itapi fixture section: " + "; ".join(problems[:5]))
        settings = ItapiSettings.from_dict(section)
        sim.state.vendor_state("itapi")["settings"] = settings
        self._result_path = settings.result_path

    async def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        from simulator.vendors.itapi.models import settings_of

        e = err if isinstance(err, ItapiError) else ItapiError("internal")
        st = settings_of(sim)
        msg = st.messages.get(e.reason) or st.messages.get(str(e.code)) or e.message
        status = int(e.code) if st.error_http_status == "code" else 200
        return envelope.response(envelope.error_body(sim, e, msg, ctx.remote), status)

    def internal_error(self, operation: str) -> VendorError:
        return ItapiError("internal")

    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        """400 / 403 / 500 (as numbers or digit strings); anything else is the internal error."""
        try:
            number = int(code)
        except ValueError:
            number = 500
        return ItapiError(CODE_REASONS.get(number, "internal"))

    def oversize_error(self, operation: str) -> VendorError:
        return ItapiError("too_large")

    def max_body_bytes(self, operation: str, sim: Sim) -> int:
        """``pic``: one image of ``limits.max_image_bytes`` as urlencoded base64 (a bigger image within
        that is ``data_too_large``); the result query: its parameters."""
        from simulator.vendors.itapi.models import settings_of

        if operation == "pic":
            return form_bytes(b64_chars(settings_of(sim).limits.max_image_bytes))
        if operation == "picresult":
            return PARAMS_BYTES
        return super().max_body_bytes(operation, sim)

    async def peek_credential(self, request: web.Request, sim: Sim) -> str | None:
        """The query's ``key`` (a key sent in the form body is not seen by fault rules)."""
        return request.query.get("key") or None

    def openapi_paths(self) -> dict[str, Any]:
        from simulator.vendors.itapi.openapi import paths

        return paths(self._result_path)

    def schema_for(self, operation: str, body: Any) -> str | None:
        if not isinstance(body, dict) or body.get("code") != 200:
            return "itapi/error"
        data = body.get("data")
        if operation == "pic" and not (isinstance(data, dict) and "conclusion" in data):
            return "itapi/task"
        return "itapi/verdict"

    def admin_routes(self) -> list[web.RouteDef]:
        return [web.get("/tasks", _list_tasks)]

    def demo_credentials(self, sim: Sim) -> list[dict[str, Any]]:
        return [{"key": c.id} for c in sim.state.credentials.all("itapi")]


async def _list_tasks(request: web.Request) -> web.Response:
    from simulator.admin.masking import mask, reveals
    from simulator.keys import sim_of
    from simulator.vendors.itapi.models import settings_of, tasks_of
    from simulator.vendors.itapi.tasks import snapshot

    sim = sim_of(request)
    tasks = snapshot(await tasks_of(sim).values(), sim.clock.now(), settings_of(sim).tasks)
    if not reveals(request):  # the credential is the key itself
        tasks = [{**t, "credential": mask(t["credential"]) if t["credential"] else None} for t in tasks]
    return web.json_response({"tasks": tasks}, dumps=envelope.dumps)


__all__ = ["MESSAGES", "ItapiVendor"]
