"""ImageModeration, ImageAsyncModeration and DescribeImageModerationResult. No aiohttp here.

One image per call, named by ``ServiceParameters.imageUrl``; its content is loaded and resolved to
the vendor-neutral truth exactly as a Green 2018 scan task's (``loading.load``: the queue first, then
rules, markers, the content-hash default), then rendered as 2.0 labels with confidences (0-100, two
decimals): the 2018 scene labels the same truth gives (``scenes.py``'s tables) named the 2.0 way
(``FROM_2018``), plus the behaviours 2018 has no label for, and the image's text lines through the
lexicon as the ``_tii`` (text in image) labels. Labels from ``report_at`` on are returned, highest
first, each with its ``RiskLevel``; none: ``[{"Label": "nonLabel"}]`` and ``RiskLevel`` ``none``.

A load failure is the call's code: a URL that is not http(s) or points to a private address 401
``parameter invalid(imageUrl)`` (as the real service answered such a URL), a failed download 404,
a timeout 405, too large 406, a format outside ``limits.formats`` 407.

Async tasks are moderated at submission and revealed by ``describe`` on the simulator clock, as the
2018 asyncscan's (``async.processing_polls`` / ``processing_s``); the store's table ``TASKS`` holds
them on every instance sharing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from simulator.context import RequestCtx
from simulator.scenarios.matcher import Target, record
from simulator.scenarios.model import Scenario
from simulator.scenarios.text import TextVerdict
from simulator.store import Record, Table
from simulator.vendors.aliyun import scenes
from simulator.vendors.aliyun.cip.errors import CIP_CODES, CipError
from simulator.vendors.aliyun.cip.gateway import first
from simulator.vendors.aliyun.cip.params import fail, service, text_field
from simulator.vendors.aliyun.cip.policy import CipSettings, cip_settings
from simulator.vendors.aliyun.envelope import request_id
from simulator.vendors.aliyun.loading import load
from simulator.vendors.aliyun.scan import settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim
    from simulator.vendors.aliyun import signing

#: the store's window of ImageModeration calls per account, and its table of async tasks
CALLS = "aliyun:cip-images"
TASKS = "aliyun:cip-tasks"

#: what the Green 2018 renderer calls the truth (``scenes.py``) -> the 2.0 label for the same content
FROM_2018 = {
    "porn": "pornographic_adultContent",
    "sexy": "sexual_suggestiveContent",
    "bloody": "violent_horrificContent",
    "violence": "violent_horrificContent",
    "carcrash": "violent_horrificContent",
    "others": "violent_horrificContent",
    "explosion": "violent_explosion",
    "outfit": "violent_armedForces",
    "weapon": "violent_gunKnives",
    "crowd": "violent_crowding",
    "parade": "violent_crowding",
    "flag": "political_flag",
    "logo": "political_TVLogo",
    "TV": "political_TVLogo",
    "politics": "political_politicalFigure",
    "sface": "political_politicalFigure",
    "location": "political_map",
    "drug": "contraband_drug",
    "gamble": "contraband_gamble",
    "smoking": "inappropriate_smoking",
    "qrcode": "pt_qrCode",
    "ad": "pt_logotoSocialNetwork",
}
#: behaviours of the truth that Green 2018 has no label for
BEHAVIOURS = {
    "drinking": "inappropriate_drinking",
    "tattoo": "inappropriate_tattoo",
    "gesture": "inappropriate_middleFinger",
}
#: the lexicon's verdict on the image's text, by its Green 2018 label (``scenes.TEXT_LABELS``); abuse
#: has no text-in-image label in 2.0
TEXT_IN_IMAGE = {
    "terrorism": "violent_horrific_tii",
    "porn": "pornographic_adultContent_tii",
    "politics": "political_historicalNihility_tii",
    "ad": "pt_toDirectContact_tii",
}
#: a download outcome's Green 2018 per-task code (``loading.OUTCOME_CODES``) -> the 2.0 code
LOAD_CODES = {400: 401, 401: 401, 403: 404, 404: 404, 480: 404, 592: 405, 589: 406, 590: 407}


def _candidates(s: Scenario, text: TextVerdict | None) -> tuple[dict[str, float], dict[str, tuple[str, ...]]]:
    """Every 2.0 label the truth gives, with its confidence, and the text-in-image words per label."""
    found: dict[str, float] = {}
    words: dict[str, tuple[str, ...]] = {}

    def add(label: str | None, p: float) -> None:
        if label is not None:
            found[label] = max(found.get(label, 0.0), scenes.rate(p))

    add(FROM_2018["porn"], s.porn.porn)
    add(FROM_2018["sexy"], s.porn.sexy)
    for t in s.terror:
        add(FROM_2018.get(scenes.TERROR_LABELS.get(t.name, "others")), t.score)
    for b in s.behaviours:
        green = scenes.BEHAVIOUR_LIVE.get(b.name) or scenes.BEHAVIOUR_TERROR.get(b.name)
        add(FROM_2018.get(green) if green else BEHAVIOURS.get(b.name), b.score)
    for f in s.faces:
        if f.identity is not None and f.identity.kind == "politician":
            add(FROM_2018["sface"], f.probability)
    if s.ads.qrcode:
        add(FROM_2018["qrcode"], max(s.ads.score, scenes.QR_FLOOR))
    if s.ads.score:
        add(FROM_2018["ad"], s.ads.score)
    for lg in s.logos:
        if "TV" in lg.name.upper() or "台" in lg.name:
            add(FROM_2018["TV"], lg.score)
    for ls in text.labels if text else ():
        label = TEXT_IN_IMAGE.get(scenes.TEXT_LABELS.get(ls.label, ""))
        if label is not None:
            add(label, ls.score)
            words[label] = ls.hits
    return found, words


def risk_level(confidence: float, cfg: CipSettings) -> str:
    return "high" if confidence >= cfg.high_at else "medium" if confidence >= cfg.medium_at else "low"


def render(s: Scenario, text: TextVerdict | None, cfg: CipSettings) -> dict[str, Any]:
    """``Result``, ``RiskLevel`` and, when a text-in-image label is reported, ``Ext.TextInImage``."""
    found, words = _candidates(s, text)
    reported = sorted(
        ((label, c) for label, c in found.items() if c >= cfg.report_at), key=lambda lc: (-lc[1], lc[0])
    )
    if not reported:
        return {"Result": [{"Label": "nonLabel"}], "RiskLevel": "none"}
    results = [{"Label": label, "Confidence": c, "RiskLevel": risk_level(c, cfg)} for label, c in reported]
    out: dict[str, Any] = {"Result": results, "RiskLevel": risk_level(reported[0][1], cfg)}
    hit = [w for label, _ in reported for w in words.get(label, ())]
    if hit:
        out["Ext"] = {
            "TextInImage": {
                "OcrResult": [{"Text": line} for line in s.text],
                "RiskWord": list(dict.fromkeys(hit)),
            }
        }
    return out


# ------------------------------------------------------------------------------------------------
# one image


def _request(
    ctx: RequestCtx, operation: str, params: signing.Query, cfg: CipSettings
) -> tuple[str, str | None]:
    _, sp = service(ctx, operation, params, cfg.image_services)
    url = text_field(ctx, operation, sp, "imageUrl", required=True, limit=cfg.max_url)
    assert url is not None
    data_id = text_field(ctx, operation, sp, "dataId", limit=cfg.max_data_id)
    if urlsplit(url.strip()).scheme not in ("http", "https"):
        raise fail(ctx, operation, 401, "imageUrl", f"imageUrl {url[:80]!r} is not an http(s) URL")
    return url.strip(), data_id


async def _check_qps(sim: Sim, ctx: RequestCtx, operation: str, uid: str, cfg: CipSettings) -> None:
    if cfg.image_qps is None:
        return
    if await sim.store.consume(CALLS, uid, {"qps": cfg.image_qps}, sim.clock.now()) is not None:
        raise fail(
            ctx, operation, 403, "", f"more than {cfg.image_qps} image calls in a second (cip.image_qps)"
        )


async def _moderate(
    sim: Sim, ctx: RequestCtx, operation: str, credential: str, url: str, cfg: CipSettings
) -> dict[str, Any]:
    """The image's ``Data`` (without ``DataId``); a load or analysis failure raises its CipError."""
    target = Target("aliyun", operation, credential)
    got = await load(sim, ctx, url, target, settings_of(sim).limits)
    if got.ref is None or got.code != 200:
        code = LOAD_CODES.get(got.code, 404)
        ctx.note(f"imageUrl load code {got.code} -> {code}")
        raise CipError(code, "imageUrl" if code == 401 else None, operation=operation)
    s = record(ctx, await got.resolution(sim, target))
    if s.service_error is not None:
        failure = s.service_error.code
        code = failure if failure in CIP_CODES and failure != 280 else 500
        ctx.note(f"scenario {s.name!r} fails inside (service_error) -> {code}")
        raise CipError(code, operation=operation)
    text = sim.lexicon.truth(s, sim.rng) if s.has_text else None
    return render(s, text, cfg)


def _with_id(data_id: str | None, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**({"DataId": data_id} if data_id is not None else {}), **extra, **data}


async def moderate(
    sim: Sim, ctx: RequestCtx, credential: str, uid: str, params: signing.Query
) -> dict[str, Any]:
    """ImageModeration: the ``Data`` of the answer."""
    op = "image_moderation"
    cfg = cip_settings(sim)
    url, data_id = _request(ctx, op, params, cfg)
    await _check_qps(sim, ctx, op, uid, cfg)
    return _with_id(data_id, await _moderate(sim, ctx, op, credential, url, cfg))


# ------------------------------------------------------------------------------------------------
# asynchronous tasks


def task_table(sim: Sim) -> Table:
    """Every account's async tasks (``ReqId`` -> ``task_record``), at most ``cip.max_tasks``, each
    record's score its expiry."""
    return sim.store.table(TASKS, cip_settings(sim).max_tasks, expiring=True)


def task_record(
    req_id: str, uid: str, created: float, data_id: str | None, outcome: dict[str, Any]
) -> Record:
    """A task as the store keeps it: ``reqId``, ``uid``, ``created`` (simulator time), ``dataId`` (or
    None), ``outcome`` (``{"code": 200, "data": {...}}`` or ``{"code": <CIP code>, "msg": ...}``,
    computed at submission) and ``polls`` (the DescribeImageModerationResult calls that asked)."""
    return {
        "reqId": req_id,
        "uid": uid,
        "created": created,
        "dataId": data_id,
        "outcome": outcome,
        "polls": 0,
    }


async def submit(
    sim: Sim, ctx: RequestCtx, credential: str, uid: str, params: signing.Query
) -> dict[str, Any]:
    """ImageAsyncModeration: parameters are checked now (400-402), the image is moderated now and a
    download failure is the task's outcome (DescribeImageModerationResult answers it)."""
    op = "image_async_moderation"
    cfg = cip_settings(sim)
    url, data_id = _request(ctx, op, params, cfg)
    await _check_qps(sim, ctx, op, uid, cfg)
    req_id = request_id(sim.rng.hex(32))
    outcome: dict[str, Any]
    try:
        outcome = {"code": 200, "data": await _moderate(sim, ctx, op, credential, url, cfg)}
    except CipError as exc:
        outcome = {"code": exc.code, "msg": exc.message}
    now = sim.clock.now()
    record_ = task_record(req_id, uid, now, data_id, outcome)
    await task_table(sim).put(req_id, record_, now, score=now + cfg.async_ttl_s)
    ctx.note(f"task {req_id}: outcome {outcome['code']}, revealed by DescribeImageModerationResult")
    return _with_id(data_id, {}, ReqId=req_id)


async def describe(sim: Sim, ctx: RequestCtx, uid: str, params: signing.Query) -> tuple[int, dict[str, Any]]:
    """DescribeImageModerationResult: ``(280, {ReqId, DataId})`` while pending, then ``(200, Data)``
    or the task's failure raised; 409 for a ReqId unknown to this account or older than
    ``cip.async_ttl_s``."""
    op = "describe_image_moderation_result"
    cfg = cip_settings(sim)
    req_id = first(params, "ReqId")
    if not req_id:
        raise fail(ctx, op, 400, "ReqId", "no ReqId parameter")
    now = sim.clock.now()
    a = settings_of(sim).async_

    def live(t: Record) -> bool:
        return bool(t["uid"] == uid and now - t["created"] < cfg.async_ttl_s)

    def count_poll(t: Record) -> Record:
        if live(t):
            t["polls"] += 1
        return t

    t = await task_table(sim).update(req_id, count_poll)
    if t is None or not live(t):
        why = (
            "unknown to this account" if t is None or t["uid"] != uid else f"older than {cfg.async_ttl_s:g} s"
        )
        raise fail(ctx, op, 409, "", f"ReqId {req_id[:80]!r}: {why}")
    # this poll is counted already: the task was pending if fewer came before it
    if t["polls"] - 1 < a.processing_polls and now - t["created"] < a.processing_s:
        return 280, _with_id(t["dataId"], {}, ReqId=req_id)
    outcome: dict[str, Any] = t["outcome"]
    if outcome["code"] != 200:
        err = CipError(int(outcome["code"]), operation=op)
        err.message = str(outcome.get("msg") or err.message)
        raise err
    return 200, _with_id(t["dataId"], outcome["data"], ReqId=req_id)
