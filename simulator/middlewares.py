"""One aiohttp middleware, ``journal``, running three stages, outermost first:

- ``journal``: request id, RequestCtx, one journal entry per vendor request (whatever happens);
- ``errors``: the one error renderer dispatch. VendorError -> its vendor's envelope; aiohttp HTTP
  errors (404/405/413) -> the vendor's shape where a vendor owns the path, JSON otherwise; anything
  unexpected -> the vendor's internal-error shape, traceback journalled;
- ``faults``: body-size cap from Content-Length, then the first firing fault rule.

``errors`` and ``faults`` are plain coroutines called in turn, not aiohttp middlewares: each
middleware layer costs aiohttp a wrapper, a partial and a coroutine per request (about 6% of a
face_audit request's time for the two).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
import traceback
import zlib
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from simulator.context import CURRENT, RequestCtx
from simulator.errors import AdminError, VendorError
from simulator.faults import RequestKey, actions
from simulator.forms import body_cap, read_capped
from simulator.keys import CTX, RAW_BODY, ROUTE_OPS, root_app, sim_of
from simulator.schemas import errors as schema_errors
from simulator.sim import Sim
from simulator.store import StoreUnavailable
from simulator.vendors.base import OpRef, Vendor

log = logging.getLogger("modsim")
ADMIN_PREFIX = "/__modsim"
WARNING_HEADER = "X-Modsim-Warning"
#: the journal's ``vendor`` for a request no vendor's path matched (or that could not be parsed)
UNMATCHED = "unmatched"
SHUTDOWN = "no answer: the server shut down during a fault's wait"


def op_of(request: web.Request) -> OpRef | None:
    return root_app(request)[ROUTE_OPS].get(request.match_info.route)


def _is_admin(request: web.Request) -> bool:
    return request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")


def json_error(status: int, error: str, detail: Any = None) -> web.Response:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return web.json_response(body, status=status)


@web.middleware
async def journal(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_admin(request):
        return await errors(request, handler)
    sim = sim_of(request)
    t0 = time.perf_counter()
    ctx = RequestCtx(
        request_id=sim.rng.hex(32),
        started=sim.clock.now(),
        method=request.method,
        path=request.path,
        query=request.query_string[:2048],
        remote=request.remote,
        headers=request.headers,
    )
    ref = op_of(request)
    if ref is not None:
        ctx.vendor, ctx.operation, ctx.op_kind = ref.vendor, ref.operation, ref.kind
    request[CTX] = ctx
    current = CURRENT.set(ctx)
    status: int | None = None
    exchange: dict[str, Any] = {}
    try:
        resp = await errors(request, handler)
        status = None if ctx.no_answer else resp.status
        stamp(resp, ctx)
        if sim.settings.validate_responses and ref is not None:
            _check_schema(sim, ctx, ref, resp)
        exchange = _exchange(request, resp, sim.settings.journal_body_bytes)
        if ctx.no_answer:  # nothing went back: no response side (HAR: status 0)
            exchange.update(response_headers=[], response_body=_snippet(None, 0))
    except asyncio.CancelledError:
        ctx.error = "client went away (request cancelled)"
        raise
    except ConnectionResetError:  # the client closed (or half-closed) its side: no answer can go back
        got, want = request.content.total_bytes, request.content_length
        ctx.error = (
            f"no answer: the client closed the connection mid-request ({got} of "
            f"{want if want is not None else 'unknown'} body bytes received)"
        )
        raise
    finally:
        CURRENT.reset(current)
        _record(sim, ctx, status, (time.perf_counter() - t0) * 1000, exchange)
    if sim.store.shared:
        await sim.store.journal_written()
    return resp


def _header_text(text: str) -> str:
    """One header value: ASCII (``\\uXXXX`` escapes), one line, at most 300 characters."""
    return (
        text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")[:300]
    )


def stamp(resp: web.StreamResponse, ctx: RequestCtx) -> None:
    """The request id and the warnings, as headers of a response not yet sent."""
    if resp.prepared:
        return
    resp.headers.setdefault("X-Modsim-Request-Id", ctx.request_id)
    if ctx.warnings and WARNING_HEADER not in resp.headers:
        for w in ctx.warnings[:5]:
            resp.headers.add(WARNING_HEADER, _header_text(w))


def _snippet(raw: bytes | None, limit: int) -> dict[str, Any]:
    if raw is None:
        return {"size": -1, "text": ""}
    return {"size": len(raw), "text": raw[:limit].decode("utf-8", "replace"), "truncated": len(raw) > limit}


def _exchange(request: web.Request, resp: web.StreamResponse, limit: int) -> dict[str, Any]:
    """Headers and the first ``limit`` body bytes of both sides, for HAR export (bounded per entry)."""
    body = resp.body if isinstance(resp, web.Response) and isinstance(resp.body, bytes) else None
    return {
        "http_version": f"HTTP/{request.version.major}.{request.version.minor}",
        "request_headers": list(request.headers.items()),  # pairs: JSON arrays in the journal
        "request_body": _snippet(request.get(RAW_BODY, None), limit),
        "response_headers": list(resp.headers.items()),
        "response_body": _snippet(body, limit),
    }


def _check_schema(sim: Sim, ctx: RequestCtx, ref: OpRef, resp: web.StreamResponse) -> None:
    if ctx.fault and ctx.fault["action"]["type"] in ("http", "hang", "reset", "truncate", "close_after"):
        ctx.schema = {"skipped": f"a {ctx.fault['action']['type']} fault replaced the vendor's answer"}
        return
    if not isinstance(resp, web.Response) or not isinstance(resp.body, bytes):
        ctx.schema = {"skipped": "a streamed answer"}
        return
    raw = resp.body
    if resp.headers.get("Content-Encoding", "").lower() == "gzip":  # a vendor compressing its own body
        with contextlib.suppress(OSError, EOFError, zlib.error):
            raw = gzip.decompress(raw)
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw[:200].decode("utf-8", "replace")
    name = sim.vendors[ref.vendor].schema_for(ref.operation, body)
    problems = schema_errors(name, body) if name else [f"no schema for {ref.vendor}/{ref.operation}"]
    ctx.schema = {"name": name, "problems": problems}
    if problems:
        violation: dict[str, object] = {
            "request_id": ctx.request_id,
            "operation": ref.operation,
            "schema": name,
            "problems": problems,
        }
        sim.schema_violations.append(violation)
        ctx.note(f"response violates {name}: {problems[:3]}")


def _record(
    sim: Sim, ctx: RequestCtx, status: int | None, latency_ms: float, exchange: dict[str, Any]
) -> None:
    entry: dict[str, Any] = {
        "request_id": ctx.request_id,
        "time": ctx.started,
        "method": ctx.method,
        "path": ctx.path,
        "query": ctx.query,
        "remote": ctx.remote,
        "vendor": ctx.vendor or UNMATCHED,
        "operation": ctx.operation,
        "status": status,
        "vendor_code": ctx.vendor_code,
        "credential": ctx.credential,
        "auth": {"outcome": ctx.auth_outcome, "reason": ctx.auth_reason},
        "scenario": ctx.scenario,
        "scenario_source": ctx.scenario_source,
        "fault": ctx.fault,
        "latency_ms": round(latency_ms, 3),
        "notes": ctx.notes,
    }
    if ctx.warnings:
        entry["warnings"] = ctx.warnings
    if exchange:
        entry["exchange"] = exchange
    if ctx.no_answer:
        entry["error"] = ctx.no_answer
    elif ctx.error:
        entry["error"] = ctx.error
    if ctx.traceback:
        entry["traceback"] = ctx.traceback
    if ctx.schema is not None:
        entry["schema"] = ctx.schema
    if ctx.images:
        entry["images"] = len(ctx.images)
        sim.state.images.put(ctx.request_id, ctx.images)
    sim.store.journal_add(entry)
    sim.metrics.observe(entry)
    if sim.access is not None:
        sim.access.write(entry)


async def _claimed(vendor: Vendor, request: web.Request, sim: Sim) -> str | None:
    """The credential the request names, for fault rules and error envelopes (never raises)."""
    try:
        return await vendor.peek_credential(request, sim)
    except Exception:  # a request too malformed to name one
        return None


async def _render_vendor_error(
    request: web.Request, vendor: Vendor, err: VendorError, op: str, sim: Sim, ctx: RequestCtx | None
) -> web.Response:
    ctx = ctx or _bare_ctx(request)
    if ctx.claimed_credential is None:
        ctx.claimed_credential = await _claimed(vendor, request, sim)
    return await vendor.render_error(err, op, sim, ctx)


def _bare_ctx(request: web.Request) -> RequestCtx:
    return RequestCtx(
        "", 0.0, request.method, request.path, request.query_string, request.remote, request.headers
    )


def _vendor_for(request: web.Request) -> tuple[Sim, str | None, str]:
    sim = sim_of(request)
    ctx: RequestCtx | None = request.get(CTX)
    if ctx is not None and ctx.vendor:
        return sim, ctx.vendor, ctx.operation or ""
    return sim, None, ""


async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await faults(request, handler)
    except AdminError as exc:
        return json_error(exc.status, exc.error, exc.detail)
    except VendorError as exc:
        sim, vendor, op = _vendor_for(request)
        ctx: RequestCtx | None = request.get(CTX)
        if ctx is not None:
            ctx.vendor_code = exc.code
            ctx.error = exc.message
        name = vendor or exc.vendor
        return await _render_vendor_error(request, sim.vendors[name], exc, op, sim, ctx)
    except web.HTTPException as exc:
        sim, vendor, op = _vendor_for(request)
        if vendor is None or _is_admin(request):
            return json_error(exc.status, exc.reason, f"{request.method} {request.path}")
        v = sim.vendors[vendor]
        err = v.oversize_error(op) if exc.status == 413 else v.internal_error(op)
        ctx = request.get(CTX)
        if ctx is not None:
            ctx.vendor_code = err.code
            ctx.error = f"HTTP {exc.status} {exc.reason}"
        resp = await _render_vendor_error(request, v, err, op, sim, ctx)
        if exc.status == 408:
            resp.force_close()
        return resp
    except StoreUnavailable as exc:  # the shared store is gone: the vendor's own internal error
        sim, vendor, op = _vendor_for(request)
        if vendor is None:
            return json_error(503, "store_unavailable", str(exc))
        v = sim.vendors[vendor]
        err = v.internal_error(op)
        ctx = request.get(CTX)
        if ctx is not None:
            ctx.vendor_code = err.code
            ctx.error = f"shared state unavailable: {exc}"
        return await _render_vendor_error(request, v, err, op, sim, ctx)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        sim, vendor, op = _vendor_for(request)
        ctx = request.get(CTX)
        tb = traceback.format_exc()
        log.error("unexpected error in %s %s\n%s", request.method, request.path, tb)
        if vendor is None:
            return json_error(500, "internal_error", f"{type(exc).__name__}: {exc}")
        v = sim.vendors[vendor]
        err = v.internal_error(op)
        if ctx is not None:
            ctx.vendor_code = err.code
            ctx.error = f"unexpected {type(exc).__name__}: {exc}"
            ctx.traceback = tb
        return await _render_vendor_error(request, v, err, op, sim, ctx)


def _no_answer(request: web.Request, ctx: RequestCtx, why: str) -> web.StreamResponse:
    """Close the connection without a byte; the journal records no status and ``why``."""
    actions.abort(request)
    ctx.no_answer = why
    return web.Response(status=502)  # never sent: the transport is gone


async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx: RequestCtx | None = request.get(CTX)
    if ctx is None or ctx.vendor is None or ctx.operation is None:  # admin, or no vendor's path
        return await handler(request)
    sim = sim_of(request)
    vendor = sim.vendors[ctx.vendor]
    sim.store.ensure_available()  # a lost shared store: every vendor request gets its internal error
    if request.content_length and request.content_length > body_cap(request):  # Vendor.max_body_bytes
        raise vendor.oversize_error(ctx.operation)
    if not sim.faults.active:
        return await handler(request)
    ctx.claimed_credential = claimed = await _claimed(vendor, request, sim)
    fields: dict[str, tuple[str, ...]] = {}
    if sim.faults.needs_fields:
        raw = b""
        if not request.content_type.startswith("multipart/"):
            # within Settings.body_timeout_s, as every body read (408 after); a body that does not
            # decode or is too large matches on the query alone, and its handler answers it
            with contextlib.suppress(web.RequestPayloadError, web.HTTPRequestEntityTooLarge):
                raw = await read_capped(request, None)
        fields = actions.request_fields(request.query_string, raw, request.content_type)
    picked = await sim.faults.pick(
        RequestKey(ctx.vendor, ctx.operation, claimed, fields, ctx.op_kind), sim.store
    )
    if picked is None:
        return await handler(request)
    rule, action = picked
    ctx.fault = {"rule": rule.id, "action": action}
    kind = action["type"]
    cap_s = sim.settings.fault_max_wait_s
    if kind in actions.AFTER:
        resp = await handler(request)
        stamp(resp, ctx)
        return await actions.after(request, resp, action, cap_s, sim.wait)
    if kind == "latency":
        delay = min(actions.latency_ms(action, rule.draw()), cap_s * 1000)
        ctx.fault["latency_ms"] = round(delay, 3)
        deadline = vendor.deadline(ctx.operation, sim)
        if deadline is not None and delay / 1000 > deadline[0]:
            if not await sim.wait(deadline[0]):
                return _no_answer(request, ctx, SHUTDOWN)
            ctx.note(
                f"held {delay / 1000:g} s, past the vendor's {deadline[0]:g} s limit: its timeout answer"
            )
            raise deadline[1]
        if not await sim.wait(delay / 1000):
            return _no_answer(request, ctx, SHUTDOWN)
        return await handler(request)
    if kind == "error":
        raise vendor.error_from_code(action["code"], ctx.operation)
    if kind == "http":
        return actions.http_response(action, vendor.gateway_server)
    if kind == "hang":
        held = min(float(action.get("max_s", sim.settings.hang_max_s)), cap_s)
        if not await sim.wait(held):
            return _no_answer(request, ctx, SHUTDOWN)
        return _no_answer(
            request, ctx, f"no answer: a hang fault held the connection {held:g} s, then closed it"
        )
    if kind == "reset":
        return _no_answer(request, ctx, "no answer: a reset fault closed the connection")
    raise AssertionError(f"unknown fault action {kind!r}")  # the schema forbids this


class ProtocolLog(logging.Logger):
    """aiohttp's request-handler logger (``handler_args={"logger": ...}``).

    A request aiohttp cannot parse (an oversized request line or header, too many headers, control
    bytes, a duplicate Content-Length, Content-Length with Transfer-Encoding, TLS on the plain port)
    is answered by aiohttp itself with a plain 400, before any middleware, and aiohttp logs it with a
    traceback. Here it becomes one log line and a journal entry (vendor ``unmatched``, the parser's
    reason as ``error``); nothing else aiohttp logs prints a traceback either."""

    def __init__(self, sim: Sim) -> None:
        super().__init__("modsim.protocol")
        self.sim = sim

    def _refused(self, exc: HttpProcessingError, remote: object) -> None:
        reason = f"{type(exc).__name__}: {' '.join(str(exc.message).split())}"[:500]  # one line
        ctx = RequestCtx(self.sim.rng.hex(32), self.sim.clock.now(), "", "", "", str(remote))
        ctx.error = f"refused before routing: {reason}"
        ctx.vendor_code = exc.code
        _record(self.sim, ctx, exc.code, 0.0, {})
        log.warning("modsim: refused a malformed request from %s: %s", remote, reason)

    def _handle(self, msg: object, args: tuple[object, ...], exc_info: object) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        remote = args[0] if args else "?"
        if isinstance(exc, HttpProcessingError):
            self._refused(exc, remote)
        elif isinstance(exc, ConnectionError):  # a client that went away: journalled by ``journal``
            return
        elif exc is not None:
            log.warning("modsim: %s: %s: %s", str(msg) % args if args else msg, type(exc).__name__, exc)

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        self._handle(msg, args, exc_info)

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        if isinstance(kwargs.get("exc_info"), HttpProcessingError):  # TLS or garbage on the first request
            self._handle(msg, args, kwargs["exc_info"])
