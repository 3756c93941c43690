"""Image moderation: /green/image/scan, /green/image/asyncscan, /green/image/results. No aiohttp here.

Top-level codes (the whole request): 400 for a body that is not what the API takes (not a JSON
object, scenes missing/unknown, tasks absent/empty/over ``limits.max_tasks``, a task without url,
a dataId repeated or over 256 characters, sface-n without ``extras.groupId``, callback without a
valid seed ...); 588 when the caller's images in the last simulator second would exceed
``limits.qps``; 581 at ``limits.sync_timeout_s`` when a latency fault holds a synchronous scan
longer (``AliyunVendor.deadline``: the answer comes at the limit, not after the whole delay).

Per-task codes (the task's own ``code``/``msg``) come from loading the task's URL (loading.py).
Async tasks are scanned at submission and revealed by ``poll`` on the simulator clock.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from simulator.context import RequestCtx
from simulator.scenarios.matcher import Target, record
from simulator.scenarios.model import Scenario
from simulator.store import Record, Table
from simulator.vendors.aliyun import faces, loading, scenes
from simulator.vendors.aliyun.errors import GREEN_MESSAGES, GreenError, bad_request
from simulator.vendors.aliyun.jsonfmt import dumps
from simulator.vendors.aliyun.loading import load
from simulator.vendors.aliyun.policy import SCENES, AliyunSettings, BizType, Limits

if TYPE_CHECKING:
    from simulator.sim import Sim

SEED = re.compile(r"[A-Za-z0-9_]{1,64}")
#: a task whose scenario has a ``service_error`` (without a Green code of its own): the algorithm failed
SERVICE_ERROR_CODE = 586
#: the store's window of images per account (``Store.consume``, key: the account uid)
IMAGES = "aliyun:images"
#: the store's table of async tasks (taskId -> ``task_record``)
TASKS = "aliyun:tasks"


def settings_of(sim: Sim) -> AliyunSettings:
    s: AliyunSettings = sim.state.vendor_state("aliyun").get("settings") or AliyunSettings.from_dict(
        sim.fixtures.vendors.get("aliyun", {})
    )
    return s


def sync_task_ids(sim: Sim, n: int) -> list[str]:
    """``n`` synchronous task ids (``img`` + 22 + ``-`` + 6 base-62 characters), drawn in one go (the
    same ids as drawing them one at a time)."""
    chars = sim.rng.b62(28 * n)
    return [f"img{chars[i : i + 22]}-{chars[i + 22 : i + 28]}" for i in range(0, 28 * n, 28)]


def async_task_id(sim: Sim) -> str:
    h = sim.rng.hex(32)
    return f"img{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}-{int(sim.clock.now() * 1000)}"


class TaskIn(NamedTuple):
    url: str
    data_id: str | None = None
    group_id: str | None = None


class ScanIn(NamedTuple):
    scenes: tuple[str, ...]
    tasks: tuple[TaskIn, ...]
    biz_type: str | None = None
    callback: str | None = None
    seed: str | None = None


def _opt_str(body: dict[str, Any], key: str, ctx: RequestCtx) -> str | None:
    v = body.get(key)
    if v is not None and not isinstance(v, str):
        raise bad_request(ctx, f"{key} is {type(v).__name__}, not a string")
    return v


def parse_scan(ctx: RequestCtx, body: Any, limits: Limits, *, async_: bool) -> ScanIn:
    if not isinstance(body, dict):
        raise bad_request(ctx, f"body is a JSON {type(body).__name__}, not an object")
    raw_scenes = body.get("scenes")
    if not isinstance(raw_scenes, list) or not raw_scenes:
        raise bad_request(ctx, "scenes must be a non-empty array")
    wanted: list[str] = []
    for sc in raw_scenes:
        if not isinstance(sc, str) or sc not in SCENES:
            raise bad_request(ctx, f"scene {str(sc)[:40]!r} is not one of {', '.join(SCENES)}")
        if sc not in wanted:
            wanted.append(sc)
    raw_tasks = body.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise bad_request(ctx, "tasks must be a non-empty array")
    if len(raw_tasks) > limits.max_tasks:
        raise bad_request(ctx, f"{len(raw_tasks)} tasks, at most {limits.max_tasks}")
    tasks: list[TaskIn] = []
    seen: set[str] = set()
    max_url, max_data_id, needs_group = limits.max_url, limits.max_data_id, "sface-n" in wanted
    for i, t in enumerate(raw_tasks):
        if not isinstance(t, dict):
            raise bad_request(ctx, f"tasks[{i}] is not an object")
        url = t.get("url")
        if not isinstance(url, str) or not (stripped := url.strip()):
            raise bad_request(ctx, f"tasks[{i}].url is missing or not a string")
        if len(url) > max_url:
            raise bad_request(ctx, f"tasks[{i}].url is longer than {max_url}")
        data_id = t.get("dataId")
        if data_id is not None:
            if not isinstance(data_id, str):
                raise bad_request(ctx, f"dataId is {type(data_id).__name__}, not a string")
            if len(data_id) > max_data_id:
                raise bad_request(ctx, f"[task.dataId] is too long(>{max_data_id})")
            if data_id in seen:
                raise bad_request(ctx, f"dataId {data_id[:64]!r} repeated within the request")
            seen.add(data_id)
        extras = t.get("extras")
        group_id = None
        if extras is not None:
            if not isinstance(extras, dict):
                raise bad_request(ctx, f"tasks[{i}].extras is not an object")
            group_id = extras.get("groupId")
        if needs_group and (not isinstance(group_id, str) or not group_id):
            raise bad_request(ctx, f"tasks[{i}]: scene sface-n needs extras.groupId")
        tasks.append(TaskIn(stripped, data_id, group_id if isinstance(group_id, str) else None))
    biz_type = _opt_str(body, "bizType", ctx)
    callback = seed = None
    if async_:
        callback = _opt_str(body, "callback", ctx)
        seed = _opt_str(body, "seed", ctx)
        if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
            raise bad_request(ctx, "callback is not an http(s) URL")
        if callback is not None and seed is None:
            raise bad_request(ctx, "callback given without seed")
        if seed is not None and not SEED.fullmatch(seed):
            raise bad_request(ctx, "seed must be 1-64 letters, digits or underscores")
        crypt = body.get("cryptType", "SHA256")
        if crypt != "SHA256":
            raise bad_request(ctx, f"cryptType {str(crypt)[:20]!r}: only SHA256 is simulated")
    return ScanIn(tuple(wanted), tuple(tasks), biz_type, callback, seed)


async def check_qps(sim: Sim, ctx: RequestCtx, uid: str, images: int, limits: Limits) -> None:
    """588 when this request's images would take the caller past ``limits.qps`` in one second (counted
    by the store, on every instance sharing it); a refused request counts nothing."""
    if limits.qps is None:
        return
    now = sim.clock.now()
    if await sim.store.consume(IMAGES, uid, {"qps": limits.qps}, now, n=images) is None:
        return
    used = (await sim.store.usage(IMAGES, uid, now))["qps"]
    ctx.note(f"588: {used} images in the last second + {images} > {limits.qps} (limits.qps)")
    raise GreenError(588)


async def run_tasks(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    uid: str,
    req: ScanIn,
    biz: BizType,
    operation: str,
    task_ids: list[str],
) -> list[dict[str, Any]]:
    limits = settings_of(sim).limits
    target = Target("aliyun", operation, credential)
    # no face-library search (the one wait between two tasks' resolutions): the markers may decide
    marked = (
        None
        if any(t.group_id for t in req.tasks)
        else loading.marked(sim, target, [t.url for t in req.tasks])
    )
    if marked is not None:
        out = []
        for task, task_id, scenario in zip(req.tasks, task_ids, marked, strict=True):
            ctx.scenario.append(scenario.name)  # matcher.record of the marker's Resolution: no notes
            ctx.scenario_source.append("marker")
            out.append(_item(sim, ctx, req, biz, task, task_id, 200, scenario))
        return out
    if sim.settings.fetch_allowlist:  # a download may wait on the network: load the tasks side by side
        loaded = await asyncio.gather(*(load(sim, ctx, t.url, target, limits) for t in req.tasks))
    else:  # nothing is fetched (no network by default): one after the other, without a task each
        loaded = [await load(sim, ctx, t.url, target, limits) for t in req.tasks]
    out = []
    for task, task_id, got in zip(req.tasks, task_ids, loaded, strict=True):
        s = record(ctx, await got.resolution(sim, target)) if got.ref is not None else None
        if s is None or got.ref is None or not task.group_id:
            out.append(_item(sim, ctx, req, biz, task, task_id, got.code, s))
            continue
        item = _item(sim, ctx, req, biz, task, task_id, got.code, s, searched=True)
        if item["code"] == 200:
            text = sim.lexicon.truth(s, sim.rng) if s.has_text else None
            matches = await faces.search(sim, uid, task.group_id, got.ref, s, limits)
            item["extras"] = {}
            item["results"] = (
                [scenes.render(sc, s, biz, text=text, matches=matches) for sc in req.scenes]
                if matches or "sface-n" in req.scenes
                else scenes.render_all(req.scenes, s, biz, text=text)
            )
        out.append(item)
    return out


def _item(
    sim: Sim,
    ctx: RequestCtx,
    req: ScanIn,
    biz: BizType,
    task: TaskIn,
    task_id: str,
    code: int,
    s: Scenario | None,
    *,
    searched: bool = False,
) -> dict[str, Any]:
    """One task's answer: its load ``code``, or the scenario's ``service_error``, and the scene results
    of a scenario that renders (unless ``searched``: the caller adds them after a face-library search;
    without one the results of ``sface-n`` have no match)."""
    if s is not None and s.service_error is not None:
        failure = s.service_error.code
        code = failure if failure in GREEN_MESSAGES and failure != 200 else SERVICE_ERROR_CODE
        ctx.note(f"task {task_id}: scenario {s.name!r} fails inside (service_error) -> {code}")
    item: dict[str, Any] = {
        "code": code,
        "msg": GREEN_MESSAGES[code],
        "taskId": task_id,
        "url": task.url,
    }
    if task.data_id is not None:
        item["dataId"] = task.data_id
    if s is not None and code == 200 and not searched:
        text = sim.lexicon.truth(s, sim.rng) if s.has_text else None
        item["extras"] = {}
        item["results"] = (
            [scenes.render(sc, s, biz, text=text, matches=[]) for sc in req.scenes]
            if "sface-n" in req.scenes
            else scenes.render_all(req.scenes, s, biz, text=text)
        )
    return item


async def scan_sync(sim: Sim, ctx: RequestCtx, credential: str, uid: str, body: Any) -> list[dict[str, Any]]:
    """581 at ``limits.sync_timeout_s`` comes from ``AliyunVendor.deadline`` (a latency fault past it)."""
    st = settings_of(sim)
    req = parse_scan(ctx, body, st.limits, async_=False)
    await check_qps(sim, ctx, uid, len(req.tasks), st.limits)
    biz = _biz(ctx, st, req.biz_type)
    ids = sync_task_ids(sim, len(req.tasks))
    data = await run_tasks(sim, ctx, credential, uid, req, biz, "image_scan", ids)
    return data


def _biz(ctx: RequestCtx, st: AliyunSettings, name: str | None) -> BizType:
    biz, found = st.biz_type(name)
    if not found:
        ctx.note(f"bizType {name!r} not in vendors.aliyun.biz_types: default policy {st.default_biz_type!r}")
    return biz


# ------------------------------------------------------------------------------------------------
# asynchronous tasks


@dataclass(frozen=True)
class CallbackJob:
    url: str
    seed: str
    uid: str
    credential: str
    task_id: str
    content: str


@dataclass
class Submitted:
    data: list[dict[str, Any]]
    callbacks: list[CallbackJob] = field(default_factory=list)


def task_table(sim: Sim) -> Table:
    """The async tasks of every account, at most ``async.max_tasks`` (past it the oldest is dropped;
    an expired one first), each record's score its expiry."""
    return sim.store.table(TASKS, settings_of(sim).async_.max_tasks, expiring=True)


def task_record(task_id: str, uid: str, created: float, task: TaskIn, result: dict[str, Any]) -> Record:
    """A task as the store keeps it: ``taskId``, ``uid``, ``created`` (simulator time), ``url``,
    ``dataId`` (or None), ``result`` (the task's answer, computed at submission), ``polls`` (the
    results calls that asked for it) and ``notified`` (a callback was sent)."""
    return {
        "taskId": task_id,
        "uid": uid,
        "created": created,
        "url": task.url,
        "dataId": task.data_id,
        "result": result,
        "polls": 0,
        "notified": False,
    }


async def submit_async(sim: Sim, ctx: RequestCtx, credential: str, uid: str, body: Any) -> Submitted:
    """Results are computed now and revealed by ``poll``; callbacks carry them (see callbacks.py)."""
    st = settings_of(sim)
    req = parse_scan(ctx, body, st.limits, async_=True)
    await check_qps(sim, ctx, uid, len(req.tasks), st.limits)
    biz = _biz(ctx, st, req.biz_type)
    ids = [async_task_id(sim) for _ in req.tasks]
    results = await run_tasks(sim, ctx, credential, uid, req, biz, "image_asyncscan", ids)
    table = task_table(sim)
    now = sim.clock.now()
    out = Submitted([])
    for task, result in zip(req.tasks, results, strict=True):
        task_id = result["taskId"]
        await table.put(
            task_id, task_record(task_id, uid, now, task, result), now, score=now + st.async_.ttl_s
        )
        item: dict[str, Any] = {"code": 200, "msg": "OK", "taskId": task_id}
        if task.data_id is not None:
            item["dataId"] = task.data_id
        out.data.append(item)
        if req.callback and req.seed:
            out.callbacks.append(CallbackJob(req.callback, req.seed, uid, credential, task_id, dumps(result)))
    return out


async def poll(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> list[dict[str, Any]]:
    st = settings_of(sim)
    if not isinstance(body, list) or not body:
        raise bad_request(ctx, "the body must be a non-empty JSON array of taskIds")
    if len(body) > st.limits.max_result_ids:
        raise bad_request(ctx, f"{len(body)} taskIds, at most {st.limits.max_result_ids}")
    if not all(isinstance(t, str) for t in body):
        raise bad_request(ctx, "every taskId must be a string")
    table = task_table(sim)
    now = sim.clock.now()
    a = st.async_

    def live(t: Record) -> bool:
        return bool(t["uid"] == uid and now - t["created"] < a.ttl_s)

    def count_poll(t: Record) -> Record:
        if live(t):
            t["polls"] += 1
        return t

    out: list[dict[str, Any]] = []
    for task_id in body:
        t = await table.update(task_id, count_poll)
        if t is None or not live(t):
            why = "unknown to this account" if t is None or t["uid"] != uid else f"older than {a.ttl_s:g} s"
            ctx.note(f"task {task_id[:80]!r}: {why} -> 594")
            out.append({"code": 594, "msg": "EXPIRED", "taskId": task_id})
            continue
        # this poll is counted in ``polls`` already: the task was pending if fewer came before it
        pending = (
            not t["notified"] and t["polls"] - 1 < a.processing_polls and now - t["created"] < a.processing_s
        )
        if pending:
            item: dict[str, Any] = {"code": 280, "msg": "PROCESSING", "taskId": task_id, "url": t["url"]}
            if t["dataId"] is not None:
                item["dataId"] = t["dataId"]
            out.append(item)
        else:
            result: dict[str, Any] = t["result"]
            out.append(result)
    return out
