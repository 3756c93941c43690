"""itapi submit (``/api/badword/pic``) and result query: from parsed parameters to the body. No
aiohttp here.

Checks, in order: ``key`` (403), ``data`` present, ``type`` valid, the key's quota, then the content
(base64 at most ``limits.max_image_bytes`` decoded, or an http(s) URL resolved without network by
default), all 400. Then the scenario is resolved (vendor ``itapi``, operation ``pic``), the verdict
rendered and stored as a task; ``sync=yes`` answers it at once, anything else answers the ``taskid``.
"""

from __future__ import annotations

import hmac
import re
import uuid
from typing import TYPE_CHECKING, Any

from simulator.content import DecodedTooLarge, InvalidBase64, decode_base64, inspect_image
from simulator.context import RequestCtx
from simulator.scenarios.matcher import (
    ContentRef,
    Resolution,
    Target,
    load_url,
    record,
    resolve,
    standing_in,
    take_queued,
    url_ref,
)
from simulator.state import Credential
from simulator.store import Table
from simulator.vendors.itapi import envelope, verdict
from simulator.vendors.itapi.errors import SUCCESS_MSG, ItapiError
from simulator.vendors.itapi.policy import MODELS, ItapiSettings
from simulator.vendors.itapi.tasks import TASKS, Task, poll

if TYPE_CHECKING:
    from simulator.sim import Sim

VENDOR = "itapi"
DATA_URI = re.compile(r"data:image/[A-Za-z0-9.+-]*;base64,", re.IGNORECASE)
QUOTA_TEXT = {"qps": "calls per second", "daily": "calls today", "total": "calls in total"}


def settings_of(sim: Sim) -> ItapiSettings:
    st: ItapiSettings = sim.state.vendor_state(VENDOR).get("settings") or ItapiSettings.from_dict(
        sim.fixtures.vendors.get(VENDOR, {})
    )
    return st


def tasks_of(sim: Sim) -> Table:
    """The tasks (``tasks.TASKS``), at most ``tasks.max_tasks``, the oldest dropped first."""
    return sim.store.table(TASKS, settings_of(sim).tasks.max_tasks)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def authenticate(sim: Sim, ctx: RequestCtx, key: str | None) -> Credential:
    """The key is the credential id; every itapi credential is compared in constant time."""
    if not key:
        ctx.auth("rejected", "no key in the query or the form body")
        raise ItapiError("key_missing")
    found = None
    for cred in sim.state.credentials.all(VENDOR):
        if _same(cred.id, key) and found is None:
            found = cred
    if found is None:
        ctx.auth("rejected", f"no itapi credential has key {key[:64]!r}")
        raise ItapiError("key_invalid")
    ctx.auth("ok", f"key {found.id!r}", found.id)
    return found


def requested_models(raw: str | None, st: ItapiSettings) -> tuple[str, ...]:
    names = [n.strip() for n in (raw or "").split(",")]
    names = [n for n in names if n]
    if not names:
        if st.empty_type == "all":
            return MODELS
        raise ItapiError("type_missing")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ItapiError("type_invalid", unknown[0][:40])
    return tuple(m for m in MODELS if m in names)


async def _take_quota(sim: Sim, ctx: RequestCtx, cred: Credential) -> bool:
    """Count this call against the key's quota (checked and counted at once, so concurrent calls on
    any instance never exceed it; a key without a quota is counted too, for the dashboard); True.
    A submission that fails after this gives the call back (``submit``)."""
    limits = sim.state.quotas.limits(VENDOR, cred.attrs)
    broken = await sim.store.consume(VENDOR, cred.id, limits, sim.clock.now())
    if broken:
        ctx.note(
            f"quota: key {cred.id!r} is over its {broken} limit ({limits.get(broken)} {QUOTA_TEXT[broken]})"
        )
        raise ItapiError("quota")
    return True


def _checked_image(data: bytes, st: ItapiSettings, url: str | None = None) -> ContentRef:
    if not data:
        raise ItapiError("image_invalid", "空图片")
    if len(data) > st.limits.max_image_bytes:
        raise ItapiError("data_too_large")
    info = inspect_image(data)
    if not info.valid or info.format not in st.limits.formats:
        raise ItapiError("image_invalid")
    return ContentRef(sha256=info.sha256, url=url, marker=info.marker)


def _from_base64(ctx: RequestCtx, data: str, st: ItapiSettings) -> ContentRef:
    if st.accept_data_uri:
        m = DATA_URI.match(data.lstrip())
        if m:
            data = data.lstrip()[m.end() :]
    try:
        raw = decode_base64(data, max_decoded=st.limits.max_image_bytes)
    except DecodedTooLarge as exc:
        ctx.note(f"data: {exc}")
        raise ItapiError("data_too_large") from exc
    except InvalidBase64 as exc:
        ctx.note(f"data is neither an http(s) URL nor valid base64: {exc}")
        raise ItapiError("data_invalid") from exc
    return _checked_image(raw, st)


async def _from_url(
    sim: Sim, ctx: RequestCtx, url: str, st: ItapiSettings, target: Target
) -> ContentRef | Resolution:
    """The URL's content, or the scenario decided without it (queued; a rule when it cannot be loaded)."""
    queued = await take_queued(sim, target)
    if queued is not None:
        return queued
    d = await load_url(
        sim, ctx, target, url, timeout_s=st.limits.url_timeout_s, max_bytes=st.limits.max_image_bytes
    )
    if not d.ok:
        ctx.note(f"download {d.url[:200]!r}: {d.outcome} ({d.reason})")
        rule = standing_in(sim.state, target, url, d.outcome)
        if rule is not None:
            return rule
        raise ItapiError("data_too_large" if d.outcome == "too_large" else "download_failed", d.outcome)
    if d.data is None:
        return url_ref(url, d.scenario)
    ref = _checked_image(d.data, st, url)
    return ContentRef(ref.sha256, url, None, d.scenario or ref.marker)


def _is_url(data: str) -> bool:
    head = data[:8].lower()
    return head.startswith("http://") or head.startswith("https://")


def new_taskid(sim: Sim) -> str:
    return str(uuid.UUID(int=sim.rng.randint(0, 2**128 - 1), version=4))


async def submit(sim: Sim, ctx: RequestCtx, params: dict[str, str], *, user_ip: str | None) -> dict[str, Any]:
    """The submit body: the verdict (``sync=yes``) or the task id with the vendor's ``debug`` hint."""
    st = settings_of(sim)
    cred = authenticate(sim, ctx, params.get("key"))
    data = params.get("data", "")
    if not data.strip():
        raise ItapiError("data_missing")
    models = requested_models(params.get("type"), st)
    counted = await _take_quota(sim, ctx, cred)
    try:
        return await _submit(sim, ctx, cred, st, data, models, params.get("sync") == "yes", user_ip)
    except BaseException:
        if counted:  # not answered with a task after all: the call is not counted
            await sim.store.refund(VENDOR, cred.id, sim.clock.now())
        raise


async def _submit(
    sim: Sim,
    ctx: RequestCtx,
    cred: Credential,
    st: ItapiSettings,
    data: str,
    models: tuple[str, ...],
    sync: bool,
    user_ip: str | None,
) -> dict[str, Any]:
    stripped = data.strip()
    target = Target(VENDOR, "pic", cred.id)
    got = (
        await _from_url(sim, ctx, stripped, st, target) if _is_url(stripped) else _from_base64(ctx, data, st)
    )
    res = got if isinstance(got, Resolution) else await resolve(sim, target, got)
    scenario = record(ctx, res)
    if scenario.service_error is not None:
        ctx.note(f"scenario {scenario.name!r}: the analysis fails inside (service_error)")
        raise ItapiError("internal", scenario.service_error.msg or "")
    taskid = new_taskid(sim)
    result = verdict.render(st, scenario, models, sim.lexicon, sim.rng, taskid)
    now = sim.clock.now()
    await tasks_of(sim).put(taskid, Task(taskid, cred.id, now, result, ready=sync).to_dict(), now)
    ctx.vendor_code = 200
    ctx.note(f"{'sync' if sync else 'async'} {','.join(models)}: {result['conclusion']} ({result['label']})")
    if sync:
        return envelope.body(sim, 200, SUCCESS_MSG, result, kind="verdict")
    return envelope.body(
        sim, 200, SUCCESS_MSG, {"taskid": taskid}, kind="submit", debug=envelope.ASYNC_DEBUG, user_ip=user_ip
    )


async def result(sim: Sim, ctx: RequestCtx, params: dict[str, str]) -> dict[str, Any]:
    """The result-query body: the stored verdict once the task is ready. One store operation: the
    poll is counted (``tasks.poll``) in the same atomic update that reads the task."""
    st = settings_of(sim)
    cred = authenticate(sim, ctx, params.get("key"))
    taskid = params.get("taskid", "").strip()
    if not taskid:
        raise ItapiError("taskid_missing")
    now = sim.clock.now()
    rec = await tasks_of(sim).update(taskid, poll(now, st.tasks, lambda owner: _same(owner, cred.id)))
    task = Task.from_dict(rec) if rec is not None else None
    if task is None or not _same(task.credential, cred.id):
        ctx.note(
            f"taskid {taskid[:64]!r}: "
            + ("never issued, or dropped (tasks.max_tasks)" if task is None else "submitted with another key")
        )
        raise ItapiError("task_not_found")
    if now >= task.created + st.tasks.ttl_s:
        ctx.note(
            f"task {taskid} expired {now - task.created - st.tasks.ttl_s:.0f}s ago (tasks.ttl_s {st.tasks.ttl_s})"
        )
        raise ItapiError("task_expired")
    if not task.ready:
        waited = now - task.created
        ctx.note(
            f"task {taskid} processing: poll {task.polls} of {st.tasks.pending_polls} pending, "
            f"{waited:.1f}s of {st.tasks.ready_after_s}s"
        )
        raise ItapiError("task_processing")
    ctx.vendor_code = 200
    return envelope.body(sim, 200, SUCCESS_MSG, task.data, kind="result")
