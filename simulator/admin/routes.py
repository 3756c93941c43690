"""The admin/control API under /__modsim/. JSON in and out; request bodies schema-validated.

Loopback peers only unless ``Settings.admin_allow_remote``, and then remote peers only with
``Settings.admin_token`` set; with a token set, every call must carry ``X-Modsim-Token`` (compared in
constant time). The simulator's own outbound requests (``X-Modsim-Outbound``) are always refused.
Remote peers never see secrets (``masking``). Semantics follow LocalStack's chaos API: GET lists,
POST replaces, PATCH appends, DELETE clears.
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from simulator import __version__, jsonin, outbound, patterns
from simulator.admin import export, openapi
from simulator.admin.masking import Secrets, journal_masker, mask, reveals
from simulator.errors import AdminError
from simulator.forms import BodyTooLarge, read_capped
from simulator.keys import sim_of
from simulator.names import InvalidName
from simulator.observe import quota_rows
from simulator.outbound import is_loopback
from simulator.scenarios.loader import ScenarioRule
from simulator.schemas import errors as schema_errors
from simulator.state import MAX_QUEUE, MAX_RULES, Credential, QueuedOutcome
from simulator.vendors.base import Vendor

routes = web.RouteTableDef()
STARTED = web.AppKey("modsim_started", float)
OWN_OUTBOUND = "the admin API refuses the simulator's own outbound requests (callbacks, image fetches)"
LOOPBACK_ONLY = "the admin API answers loopback clients only (admin_allow_remote)"
REMOTE_NEEDS_TOKEN = "remote admin calls need a token: start with --admin-token (MODSIM_ADMIN_TOKEN)"


#: True when the request passed the boundary (loopback, or a remote client with the token)
AUTHORIZED: web.RequestKey[bool] = web.RequestKey("modsim_admin_authorized", bool)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The admin boundary. ``/health`` answers anyone, but only ``{"status": "ok"}`` to a caller that
    would be refused elsewhere (a container's health check, a load balancer's probe)."""
    if request.path == HEALTH_PATH:
        try:
            _check(request)
        except AdminError:
            request[AUTHORIZED] = False
            return await handler(request)
        request[AUTHORIZED] = True
        return await handler(request)
    _check(request, token=not _is_page(request.path))
    try:
        return await handler(request)
    except InvalidName as exc:  # a scenario, vendor or operation that does not exist, or cannot be used
        raise AdminError(400, "invalid_request", str(exc)) from exc


#: the dashboard's page (``admin.dashboard``): served to whoever passes the boundary, token or not (the
#: page holds no data; it asks for the token and sends it with every admin call it makes)
UI_PATH = "/__modsim/ui"


def _is_page(path: str) -> bool:
    return path in (UI_PATH, "/__modsim/") or path.startswith(UI_PATH + "/")


def _check(request: web.Request, token: bool = True) -> None:
    settings = sim_of(request).settings
    if outbound.MARK_HEADER in request.headers:
        raise AdminError(403, "forbidden", OWN_OUTBOUND)
    if not is_loopback(request.remote):
        if not settings.admin_allow_remote:
            raise AdminError(403, "forbidden", LOOPBACK_ONLY)
        if not settings.admin_token:
            raise AdminError(403, "forbidden", REMOTE_NEEDS_TOKEN)
    if settings.admin_token and token:
        given = request.headers.get("X-Modsim-Token", "")
        if not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
            raise AdminError(401, "unauthorized", "missing or wrong X-Modsim-Token")


#: an admin request body (faults, rules, scenarios, credentials) is small; anything over this is refused
ADMIN_MAX_BODY_BYTES = 1024 * 1024


async def read_json(request: web.Request) -> Any:
    """An admin request's JSON body: read within ``Settings.body_timeout_s`` (408 after), at most
    ``ADMIN_MAX_BODY_BYTES`` (413), strict JSON (400: no NaN or Infinity, no absurd nesting)."""
    try:
        raw = await read_capped(request, ADMIN_MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        raise AdminError(
            413, "body_too_large", f"admin request bodies are at most {exc.limit} bytes"
        ) from exc
    except web.RequestPayloadError as exc:
        raise AdminError(400, "invalid_body", str(exc)) from exc
    try:
        return jsonin.loads(raw or b"null")
    except ValueError as exc:
        raise AdminError(400, "invalid_json", str(exc)) from exc


async def _body(request: web.Request, schema: str) -> Any:
    data = await read_json(request)
    problems = schema_errors(schema, data)
    if problems:
        raise AdminError(400, "invalid_request", problems)
    return data


HEALTH_PATH = "/__modsim/health"


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    sim = sim_of(request)
    if not request.get(AUTHORIZED, False):
        return web.json_response({"status": "ok"})
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.monotonic() - request.app[STARTED], 3),
            "vendors": sorted(sim.vendors),
            "clock": sim.clock.snapshot(),
            "journal_entries": await sim.store.journal_len(),
            "state": sim.store.status(),
        }
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format (``simulator.observe``): requests by vendor, operation, status and vendor
    code, latency histograms per operation, fault rules' seen/hits, quota remaining per credential,
    journal size. Credentials that are themselves keys are masked for a remote reader."""
    sim = sim_of(request)
    mask_key = None
    if not reveals(request):

        def mask_key(vendor: str, cred: str) -> str:
            found = sim.state.credentials.get(vendor, cred)
            return mask(cred) if found is not None and found.secret is None else cred

    quotas = await quota_rows(sim)
    await sim.faults.counted(sim.store)  # the rules' seen and hits, as every instance counted them
    body = generate_latest(sim.metrics.registry(sim, mask_key, quotas, await sim.store.journal_len()))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of every vendor endpoint, with this server as ``servers[0]``."""
    sim = sim_of(request)
    return web.json_response(openapi.document(sim.vendors.values(), str(request.url.origin())), dumps=_dumps)


@routes.post("/reset")
async def reset(request: web.Request) -> web.Response:
    """Back to the fixtures; with a shared store, in every instance."""
    await sim_of(request).reset_everywhere()
    return web.json_response({"status": "reset"})


@routes.get("/clock")
async def clock_get(request: web.Request) -> web.Response:
    return web.json_response(sim_of(request).clock.snapshot())


@routes.post("/clock")
async def clock_post(request: web.Request) -> web.Response:
    body = await _body(request, "admin/clock.request")
    clock = sim_of(request).clock
    if "set" in body:
        clock.set(float(body["set"]))
    if "advance_s" in body:
        clock.advance(float(body["advance_s"]))
    if "freeze" in body:
        clock.freeze(bool(body["freeze"]))
    if "skew_s" in body:
        clock.skew_s = float(body["skew_s"])
    await sim_of(request).store.publish("clock")
    return web.json_response(clock.snapshot())


def _count(query: Any, name: str) -> int | None:
    if not query.get(name):
        return None
    try:
        value = int(query[name])
    except ValueError:
        value = -1
    if value < 0:
        raise AdminError(400, "invalid_request", f"{name} must be a non-negative integer")
    return value


@routes.get("/journal")
async def journal_get(request: web.Request) -> web.StreamResponse:
    """``format``: ``json`` (default, ``{"entries": [...]}``), ``jsonl`` (one entry per line) or ``har``.
    ``since``: entries with a greater ``seq`` only (``X-Modsim-Journal-Seq`` has the newest seq).
    Costs what it returns (``Journal.select``); long answers are streamed (``admin.export``)."""
    q = request.query
    limit, since = _count(q, "limit"), _count(q, "since")
    fmt = q.get("format", "json")
    if fmt not in export.FORMATS:
        raise AdminError(400, "invalid_request", "format is json, jsonl or har")
    filters = {k: q[k] for k in ("operation", "credential", "request_id") if q.get(k)}
    sim = sim_of(request)
    blobs = await sim.store.journal_select(
        vendor=q.get("vendor") or None, limit=limit, since=since, **filters
    )
    form = export.journal_format(fmt, _dumps, __version__)
    if not reveals(request):  # a remote reader: no secrets in what the clients sent
        form = export.masked(form, _journal_masker(sim))
    return await export.respond(request, blobs, form, await sim.store.journal_last_seq())


def _journal_masker(sim: Any) -> Any:
    vendors = sim.vendors.values()

    def bare_key(vendor: str, cred: str) -> bool:
        found = sim.state.credentials.get(vendor, cred)
        return found is not None and found.secret is None

    return journal_masker(
        {v.name: Secrets(v.secret_params, v.secret_headers, v.secret_fields) for v in vendors}, bare_key
    )


@routes.delete("/journal")
async def journal_clear(request: web.Request) -> web.Response:
    await sim_of(request).store.journal_clear()
    return web.json_response({"entries": []})


async def _faults_body(sim: Any, publish: bool = False, forget: bool = False) -> web.Response:
    """The fault rules with their counters (every instance's); ``publish``: after a change, shared
    with every instance first (``forget``: the rules were replaced, their counters start again)."""
    if forget:
        await sim.store.fault_forget()
    if publish:
        await sim.store.publish("faults")
    rules = await sim.faults.counted(sim.store)
    return web.json_response({"rules": [r.to_dict() for r in rules]})


@routes.get("/faults")
async def faults_get(request: web.Request) -> web.Response:
    return await _faults_body(sim_of(request))


async def _fault_specs(request: web.Request) -> list[dict[str, Any]]:
    body = await _body(request, "admin/faults.request")
    specs: list[dict[str, Any]] = body["rules"] if isinstance(body, dict) else body
    return specs


@routes.post("/faults")
async def faults_replace(request: web.Request) -> web.Response:
    sim = sim_of(request)
    sim.faults.replace(await _fault_specs(request))
    return await _faults_body(sim, publish=True, forget=True)


@routes.patch("/faults")
async def faults_append(request: web.Request) -> web.Response:
    sim = sim_of(request)
    sim.faults.append(await _fault_specs(request))
    return await _faults_body(sim, publish=True)


@routes.delete("/faults")
async def faults_clear(request: web.Request) -> web.Response:
    sim = sim_of(request)
    sim.faults.clear()
    return await _faults_body(sim, publish=True, forget=True)


@routes.delete("/faults/{id}")
async def faults_delete(request: web.Request) -> web.Response:
    sim = sim_of(request)
    if not sim.faults.delete(request.match_info["id"]):
        raise AdminError(404, "not_found", f"no fault rule {request.match_info['id']!r}")
    return await _faults_body(sim, publish=True)


@routes.get("/credentials")
async def credentials_get(request: web.Request) -> web.Response:
    vendor = request.query.get("vendor") or None
    creds = sim_of(request).state.credentials.all(vendor)
    reveal = reveals(request)
    return web.json_response({"credentials": [_credential(c, reveal) for c in creds]})


def _credential(cred: Credential, reveal: bool) -> dict[str, Any]:
    """``cred`` as listed; masked for a remote peer: the secret, or the id when it has no secret."""
    d = cred.to_dict(reveal)
    if not reveal and cred.secret is None:
        d["id"] = mask(cred.id)
    return d


@routes.post("/credentials")
async def credentials_put(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _body(request, "admin/credential.request")
    if body["vendor"] not in sim.vendors:
        raise AdminError(400, "invalid_request", f"unknown vendor {body['vendor']!r}")
    cred = Credential(body["vendor"], body["id"], body.get("secret"), dict(body.get("attrs", {})))
    sim.state.credentials.put(cred)
    await sim.store.publish("credentials")
    return web.json_response(cred.to_dict(), status=201)


@routes.delete("/credentials/{vendor}/{id}")
async def credentials_delete(request: web.Request) -> web.Response:
    sim = sim_of(request)
    if not sim.state.credentials.delete(request.match_info["vendor"], request.match_info["id"]):
        raise AdminError(404, "not_found", "no such credential")
    await sim.store.publish("credentials")
    return web.json_response({"deleted": True})


@routes.get("/scenarios")
async def scenarios_get(request: web.Request) -> web.Response:
    scenarios = sim_of(request).state.scenarios
    return web.json_response(
        {
            "scenarios": [
                {"name": s.name, "description": s.description, "tags": list(s.tags)}
                for s in scenarios.values()
            ]
        }
    )


@routes.post("/scenarios")
async def scenarios_put(request: web.Request) -> web.Response:
    body = await _body(request, "scenario.schema")
    sim = sim_of(request)
    sim.state.set_added_scenarios(
        [*(v for k, v in sim.state.added_scenarios.items() if k != body["name"]), body]
    )
    await sim.store.publish("scenarios")
    return web.json_response({"name": body["name"]}, status=201)


@routes.get("/queue")
async def queue_get(request: web.Request) -> web.Response:
    return web.json_response({"queue": [q.to_dict() for q in await sim_of(request).store.queue_list()]})


@routes.post("/queue")
async def queue_add(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _body(request, "admin/queue.request")
    sim.scenario_for(body["scenario"], body.get("vendor"), body.get("operation"))
    queued = await sim.store.queue_list()
    if len(queued) >= MAX_QUEUE:
        raise AdminError(400, "invalid_request", f"the queue holds {MAX_QUEUE} entries, its cap")
    q = QueuedOutcome(
        scenario=body["scenario"],
        vendor=body.get("vendor"),
        operation=body.get("operation"),
        credential=body.get("credential"),
        remaining=int(body.get("count", 1)),
    )
    await sim.store.queue_add(q)
    await sim.store.publish("queue")
    return web.json_response({"queue": [x.to_dict() for x in await sim.store.queue_list()]}, status=201)


@routes.delete("/queue")
async def queue_clear(request: web.Request) -> web.Response:
    await sim_of(request).store.queue_clear()
    return web.json_response({"queue": []})


def _rules_body(rules: list[ScenarioRule]) -> web.Response:
    return web.json_response(
        {
            "rules": [
                {
                    "name": r.name,
                    "match": r.match,
                    "scenario": r.scenario,
                    "download": r.download,
                    "file": str(r.file) if r.file else None,
                }
                for r in rules
            ]
        }
    )


@routes.get("/rules")
async def rules_get(request: web.Request) -> web.Response:
    return _rules_body(sim_of(request).state.rules)


@routes.patch("/rules")
async def rules_append(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _body(request, "admin/rules.request")
    for r in body["rules"]:
        vendor, operation = r["match"].get("vendor"), r["match"].get("operation")
        if "text" in r["match"]:
            try:
                patterns.compiled(r["match"]["text"])
            except patterns.PatternError as exc:
                raise AdminError(400, "invalid_request", f"match.text: {exc}") from exc
        if r.get("scenario"):
            sim.scenario_for(r["scenario"], vendor, operation)
        else:
            sim.targets(vendor, operation)
        if "file" in r:
            raise AdminError(400, "invalid_request", "file rules belong in fixture files")
    # admin rules go first: they are the test's intent and should override fixture defaults
    added = [{k: r[k] for k in ("match", "scenario", "download", "name") if k in r} for r in body["rules"]]
    if len(sim.state.rules) + len(added) > MAX_RULES:
        raise AdminError(
            400, "invalid_request", f"{len(sim.state.rules)} rules + {len(added)}: at most {MAX_RULES}"
        )
    sim.state.set_added_rules([*added, *sim.state.added_rules])
    await sim.store.publish("rules")
    return _rules_body(sim.state.rules)


@routes.delete("/rules")
async def rules_reset(request: web.Request) -> web.Response:
    sim = sim_of(request)
    sim.state.set_added_rules([])
    await sim.store.publish("rules")
    return _rules_body(sim.state.rules)


def _dumps(obj: Any) -> str:
    """JSON text that encodes: request bytes that were not UTF-8 (aiohttp's surrogate escapes in
    journalled headers) become U+FFFD."""
    text = json.dumps(obj, ensure_ascii=False, default=str)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def create_admin_app(vendors: list[Vendor]) -> web.Application:
    from simulator.admin import dashboard  # it builds on this module

    admin = web.Application(middlewares=[guard])
    admin.add_routes(routes)
    dashboard.install(admin)
    for v in vendors:
        for r in v.admin_routes():
            assert isinstance(r, web.RouteDef)
            admin.router.add_route(r.method, f"/vendors/{v.name}{r.path}", r.handler)
    admin[STARTED] = time.monotonic()
    return admin
