"""Alibaba Cloud Content Moderation (Green, 内容安全) API 2018-05-09: the POP gateway (ROA v1 and
ACS3 signatures), image scan (sync, async, results, callbacks), text scan, feedback, the custom face
library and upload credentials, on Green's real paths under ``/green/``; and Content Moderation 2.0
(API 2022-03-02, RPC style on ``/``, RPC v1 and ACS3 signatures: ``cip/``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.context import RequestCtx
from simulator.errors import AdminError, VendorError
from simulator.schemas import errors as schema_errors
from simulator.vendors.aliyun import signing
from simulator.vendors.aliyun.envelope import render_error, request_id
from simulator.vendors.aliyun.errors import GREEN_MESSAGES, POP_ERRORS, AliyunError, GreenError, PopError
from simulator.vendors.aliyun.policy import AliyunSettings
from simulator.vendors.base import PARAMS_BYTES, Route, Vendor

if TYPE_CHECKING:
    from simulator.sim import Sim

#: body room per scan task: a 2048-character URL JSON-escaped (6 bytes a character at most), a dataId
TASK_BYTES = 16 * 1024

LIBRARY_OPS = {
    "add_groups",
    "delete_groups",
    "add_person",
    "delete_person",
    "set_person",
    "get_person",
    "add_faces",
    "delete_faces",
    "get_faces",
    "get_groups",
    "get_persons",
    "search_person",
}


class AliyunVendor(Vendor):
    name = "aliyun"
    title = "Alibaba Cloud Green (内容安全, API 2018-05-09 and 2.0 API 2022-03-02)"
    hosts = ("green.aliyuncs.com", "green.*.aliyuncs.com", "green-cip.*.aliyuncs.com")
    #: Alibaba Cloud's front proxy (its error pages for ``{"type": "http", "body": "gateway"}`` faults)
    gateway_server = "Tengine"
    secret_headers = ("authorization", "x-acs-security-token")
    secret_fields = ("accessKeySecret", "securityToken")

    def routes(self) -> list[Route]:
        from simulator.vendors.aliyun.routes import ROUTES

        return ROUTES

    def configure(self, sim: Sim) -> None:
        section = sim.fixtures.vendors.get("aliyun", {})
        problems = schema_errors("aliyun/config.schema", section)
        if problems:
            raise ValueError("vendors.aliyun fixture section: " + "; ".join(problems[:5]))
        sim.state.vendor_state("aliyun")["settings"] = AliyunSettings.from_dict(section)

    async def shutdown(self, sim: Sim) -> None:
        from simulator.vendors.aliyun.callbacks import cancel_pending

        await cancel_pending(sim)

    async def render_error(self, err: VendorError, operation: str, sim: Sim, ctx: RequestCtx) -> web.Response:
        """Whoever raised the error (the gateway, Green, a fault rule, an unexpected exception), the
        answer's RequestId is the journal's request id and HostId the Host the client called."""
        from simulator.vendors.aliyun.handlers import wants_xml_from
        from simulator.vendors.aliyun.scan import settings_of

        aliyun_err = err if isinstance(err, AliyunError) else PopError("InternalError")
        headers = ctx.headers or {}
        aliyun_err.annotate(
            request_id(ctx.request_id or sim.rng.hex(32)),
            headers.get("Host") or settings_of(sim).gateway.host_id,
            wants_xml_from(headers.get("Accept", ""), ctx.query),
        )
        return render_error(aliyun_err, request_id(sim.rng.hex(32)))

    def internal_error(self, operation: str) -> VendorError:
        return PopError("InternalError")

    def error_from_code(self, code: int | str, operation: str) -> VendorError:
        from simulator.vendors.aliyun.cip import OPERATIONS
        from simulator.vendors.aliyun.cip.errors import CIP_CODES, CipError

        numeric = isinstance(code, int) or code.lstrip("-").isdigit()
        if numeric and operation in OPERATIONS:
            n = int(code)
            return CipError(n if n in CIP_CODES and n != 280 else 500, operation=operation)
        if isinstance(code, int) or code.lstrip("-").isdigit():
            n = int(code)
            return GreenError(n) if n in GREEN_MESSAGES and n != 200 else GreenError(500)
        if code in POP_ERRORS:
            return PopError(code, header="Date")
        return PopError("InternalError")

    def oversize_error(self, operation: str) -> VendorError:
        from simulator.vendors.aliyun.cip import OPERATIONS
        from simulator.vendors.aliyun.cip.errors import CipError

        if operation in OPERATIONS:
            return CipError(402, operation=operation)
        return GreenError(400)

    def max_body_bytes(self, operation: str, sim: Sim) -> int:
        """Green's JSON bodies name images by URL: at most ``limits.max_tasks`` tasks (or
        ``max_result_ids`` ids) of ``TASK_BYTES`` each, plus ``PARAMS_BYTES``."""
        if operation == "unknown_api":
            return super().max_body_bytes(operation, sim)
        from simulator.vendors.aliyun.scan import settings_of

        limits = settings_of(sim).limits
        if operation in ("text_scan", "text_feedback"):
            # a text JSON-escaped (6 bytes a character at most) and its dataId, per task
            return limits.max_tasks * (limits.max_text_chars * 6 + 1024) + PARAMS_BYTES
        return max(limits.max_tasks, limits.max_result_ids) * TASK_BYTES + PARAMS_BYTES

    def deadline(self, operation: str, sim: Sim) -> tuple[float, VendorError] | None:
        """Seed 004: "同步检测允许的最长检测时间是6秒 ... 系统会强制返回超时错误码" (``limits.sync_timeout_s``)."""
        if operation != "image_scan":
            return None
        from simulator.vendors.aliyun.scan import settings_of

        return settings_of(sim).limits.sync_timeout_s, GreenError(581)

    async def peek_credential(self, request: web.Request, sim: Sim) -> str | None:
        auth = request.headers.get("Authorization", "").strip()
        scheme, _, rest = auth.partition(" ")
        if scheme == "acs":
            return rest.strip().rpartition(":")[0] or None
        if scheme == signing.ACS3:
            parts = signing.parse_acs3(rest)
            return parts["Credential"] if parts else None
        return request.query.get("AccessKeyId")  # RPC v1 (Green 2022-03-02)

    def openapi_paths(self) -> dict[str, Any]:
        from simulator.vendors.aliyun.openapi import paths

        return paths()

    def schema_for(self, operation: str, body: Any) -> str | None:
        from simulator.vendors.aliyun.cip import OPERATIONS

        if isinstance(body, str):
            return "aliyun/pop_error.xml"
        if operation in OPERATIONS and isinstance(body, dict) and isinstance(body.get("Code"), int):
            ok = body["Code"] == 200 or (
                body["Code"] == 280 and operation == "describe_image_moderation_result"
            )
            return f"aliyun/cip/{operation}.success" if ok else "aliyun/cip/error"
        if isinstance(body, dict) and "Code" in body:
            return "aliyun/pop_error"
        if isinstance(body, dict) and body.get("code") != 200:
            return "aliyun/error"
        if operation in LIBRARY_OPS:
            return "aliyun/sface_library.success"
        return f"aliyun/{operation}.success"

    def admin_routes(self) -> list[web.RouteDef]:
        return [web.get("/tasks", _list_tasks), web.get("/facelib", _face_library)]

    def demo_credentials(self, sim: Sim) -> list[dict[str, Any]]:
        return [
            {"access_key_id": c.id, "access_key_secret": c.secret, "uid": c.attrs.get("uid")}
            for c in sim.state.credentials.all("aliyun")
        ]


async def _list_tasks(request: web.Request) -> web.Response:
    from simulator.keys import sim_of
    from simulator.vendors.aliyun.scan import task_table

    sim = sim_of(request)
    now = sim.clock.now()
    return web.json_response(
        {
            "tasks": [
                {
                    "taskId": t["taskId"],
                    "uid": t["uid"],
                    "age_s": round(now - t["created"], 3),
                    "polls": t["polls"],
                    "notified": t["notified"],
                    "code": t["result"].get("code"),
                }
                for t in await task_table(sim).values()
            ]
        }
    )


async def _face_library(request: web.Request) -> web.Response:
    """Per account (``?uid=`` for one): its groups, its number of persons and the first ``?limit=``
    persons (default 100, at most ``limits.max_persons``) with their groups and faces."""
    from simulator.keys import sim_of
    from simulator.vendors.aliyun.faces import libraries
    from simulator.vendors.aliyun.scan import settings_of

    sim = sim_of(request)
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError as exc:
        raise AdminError(400, "invalid_request", "limit must be an integer") from exc
    if limit < 1:
        raise AdminError(400, "invalid_request", "limit must be at least 1")
    limits = settings_of(sim).limits
    limit = min(limit, limits.max_persons)
    out: dict[str, Any] = {}
    for lib in await libraries(sim, limits, request.query.get("uid")):
        out[lib.uid] = {
            "groupIds": await lib.group_ids(),
            "persons_total": await lib.persons.count(),
            "persons": [
                {
                    "personId": p["personId"],
                    "name": p["name"],
                    "groupIds": list(p["groups"]),
                    "faces": [
                        {"faceId": fid, "url": f["url"], "sha256": f["sha256"]}
                        for fid, f in p["faces"].items()
                    ],
                }
                for p in await lib.persons.values(limit)
            ],
        }
    return web.json_response(out)


__all__ = ["AliyunVendor"]
