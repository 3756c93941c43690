"""Aliyun handlers: read the request once, pass it through the POP gateway, call one model function.

Every Green operation is ``POST`` with a JSON body (any Content-Type: aliyunsdkcore sends
``application/octet-stream`` when the caller only sets the content). Errors raised anywhere are
rendered by the error middleware (``AliyunVendor.render_error``: the journal's request id, the
client's Host and XML preference).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from simulator import jsonin
from simulator.context import RequestCtx
from simulator.forms import BodyTooLarge, read_capped
from simulator.keys import CTX, sim_of
from simulator.sim import Sim
from simulator.state import Credential
from simulator.vendors.aliyun import callbacks, faces, gateway, scan
from simulator.vendors.aliyun.envelope import green_response, request_id
from simulator.vendors.aliyun.errors import GreenError, PopError, bad_request
from simulator.vendors.aliyun.policy import Limits
from simulator.vendors.aliyun.upload import upload_credentials


@dataclass
class Call:
    sim: Sim
    ctx: RequestCtx
    cred: Credential
    uid: str
    body: Any
    wire: gateway.Wire


Op = Callable[[Call], Awaitable[Any]]


def wants_xml(request: web.Request) -> bool:
    return wants_xml_from(request.headers.get("Accept", ""), request.query_string)


def wants_xml_from(accept: str, query: str) -> bool:
    """The client asked for XML: ``Format=XML`` in the query, or an Accept with xml and no json."""
    accept = accept.lower()
    fmt = next((v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() == "format"), "")
    return fmt.lower() == "xml" or ("xml" in accept and "json" not in accept)


def _json(ctx: RequestCtx, raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return jsonin.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError too; NaN, Infinity and deep nesting (jsonin)
        raise bad_request(ctx, f"body is not UTF-8 JSON: {type(exc).__name__}: {str(exc)[:200]}") from exc


async def _read(request: web.Request, sim: Sim, ctx: RequestCtx) -> bytes:
    try:
        return await read_capped(request, sim.settings.max_body_bytes)
    except BodyTooLarge as exc:
        raise bad_request(ctx, f"body over {exc.limit} bytes") from exc
    except web.RequestPayloadError as exc:
        raise bad_request(ctx, f"undecodable body: {exc}") from exc


def origin_form(target: str) -> str:
    """The request target as path and query: an absolute-form target (``POST http://host/path?q``,
    what a client sends through a plain-HTTP proxy) loses its scheme and host, as a proxy forwards
    it; signatures are computed over the path."""
    if not target[:8].lower().startswith(("http://", "https://")):
        return target
    rest = target.split("://", 1)[1]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    tail = rest[cut:]
    return tail if tail.startswith("/") else "/" + tail


def green(fn: Op) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        sim, ctx = sim_of(request), request[CTX]
        raw = await _read(request, sim, ctx)
        target = origin_form(request.raw_path)
        wire = gateway.Wire(
            method=request.method,
            path=request.path,
            raw_path=target.partition("?")[0],
            raw_query=target.partition("?")[2],
            headers=tuple(request.headers.items()),
            body=raw,
        )
        cred = await gateway.authenticate(sim, ctx, wire, scan.settings_of(sim).gateway)
        if cred.attrs.get("disabled"):
            ctx.note(f"account of {cred.id!r} is disabled (attrs.disabled): 596")
            raise GreenError(596)
        uid = str(cred.attrs.get("uid", cred.id))
        data = await fn(Call(sim, ctx, cred, uid, _json(ctx, raw), wire))
        ctx.vendor_code = 200
        return green_response(data, request_id(ctx.request_id))

    return handler


async def _image_scan(c: Call) -> Any:
    return await scan.scan_sync(c.sim, c.ctx, c.cred.id, c.uid, c.body)


async def _image_asyncscan(c: Call) -> Any:
    done = await scan.submit_async(c.sim, c.ctx, c.cred.id, c.uid, c.body)
    for job in done.callbacks:
        c.ctx.note(f"callback for task {job.task_id} scheduled to {job.url[:200]}")
    callbacks.schedule(c.sim, done.callbacks, scan.settings_of(c.sim).callback, c.ctx.remote)
    return done.data


async def _image_results(c: Call) -> Any:
    return await scan.poll(c.sim, c.ctx, c.uid, c.body)


#: ``green.<region>.aliyuncs.com`` (and ``green-cip.<region>``): the region a client called
HOST_REGION = re.compile(r"green(?:-cip)?\.([a-z0-9-]+)\.aliyuncs\.com(?::\d+)?", re.IGNORECASE)


async def _upload_credentials(c: Call) -> Any:
    """The bucket of the caller's region: ``x-acs-region-id`` (aliyunsdkcore sends it), else the
    region in the Host called (the Tea clients, pop-core and the Java/Go cores send no region header;
    inferred), else cn-shanghai."""
    h = c.wire.first()
    called = HOST_REGION.fullmatch(h.get("host", ""))
    region = h.get("x-acs-region-id") or (called.group(1).lower() if called else "cn-shanghai")
    return upload_credentials(c.sim, c.uid, region if region.replace("-", "").isalnum() else "cn-shanghai")


def _library(fn: Callable[[Sim, RequestCtx, str, Any, Limits], Awaitable[dict[str, Any]]]) -> Op:
    async def op(c: Call) -> Any:
        return await fn(c.sim, c.ctx, c.uid, c.body, scan.settings_of(c.sim).limits)

    return op


async def _add_faces(c: Call) -> Any:
    return await faces.add_faces(c.sim, c.ctx, c.cred.id, c.uid, c.body, scan.settings_of(c.sim).limits)


async def _search_person(c: Call) -> Any:
    return await faces.search_person(c.sim, c.ctx, c.cred.id, c.uid, c.body, scan.settings_of(c.sim).limits)


image_scan = green(_image_scan)
image_asyncscan = green(_image_asyncscan)
image_results = green(_image_results)
upload = green(_upload_credentials)
add_person = green(_library(faces.add_person))
delete_person = green(_library(faces.delete_person))
set_person = green(_library(faces.set_person))
get_person = green(_library(faces.get_person))
add_groups = green(_library(faces.add_groups))
delete_groups = green(_library(faces.delete_groups))
add_faces = green(_add_faces)
delete_faces = green(_library(faces.delete_faces))
get_faces = green(_library(faces.get_faces))
get_groups = green(_library(faces.get_groups))
get_persons = green(_library(faces.get_persons))
search_person = green(_search_person)


async def unknown_api(request: web.Request) -> web.Response:
    """Any other path under /green/, or a known path with another method: routing fails first."""
    ctx = request[CTX]
    ctx.auth("not_checked", f"no Green 2018-05-09 API at {request.method} {request.path[:200]}")
    raise PopError("InvalidApi.NotFound")
