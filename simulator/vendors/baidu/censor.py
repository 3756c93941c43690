"""Baidu's GIF porn (``/rest/2.0/antiporn/v1/detect_gif``) and text censor (``/rest/2.0/antispam/v2/spam``).

Shared with the resellers (showapi 2054-2 / 2054-3), which call these with their own vendor name.

GIF: the per-frame truth is the scenario's ``frames`` (cycled over the real frame count), else every
frame is the scenario's ``porn``. The answer reports the frame with the highest porn probability:
its three classes, ``porn_probability``, ``conclusion`` (the top class) and ``confidence_coefficient``
(确定 when the top class is >= 0.7, else 不确定).
Limits (documented: 50 frames, each frame < 4 MB, GIF < 20 MB of base64): too many frames -> 282204,
a frame over the limit (GIF bytes / frames) -> 282203, over 20 MB -> 216202, not a GIF -> 282205.

Spam: the text's scenario decides (``Lexicon.truth``: a queued, rule or marker scenario's text lines
are analysed instead of the submitted text). ``content`` required (absent or empty -> 216101 ``not enough param``), at most 20000 UTF-8
bytes (-> 216103 ``param too long``); every label appears once across reject/review/pass.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from simulator.content import InvalidBase64, decode_base64, inspect_image
from simulator.context import RequestCtx
from simulator.scenarios.matcher import ContentRef, resolve_recorded
from simulator.scenarios.model import TEXT, Porn
from simulator.scenarios.text import marker_from_text
from simulator.vendors.baidu.errors import BaiduError
from simulator.vendors.baidu.imagecensor import service_failure
from simulator.vendors.baidu.models import log_id
from simulator.vendors.baidu.policy import settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim


async def detect_gif(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    image_b64: str,
    *,
    vendor: str = "baidu",
    operation: str = "detect_gif",
    log_id_key: str | None = None,
) -> dict[str, Any]:
    bs = settings_of(sim)
    lim = bs.limits
    if not image_b64:
        raise BaiduError(216200)
    if len(image_b64) > lim.gif_max_b64:
        raise BaiduError(216202)
    try:
        data = decode_base64(image_b64)
    except InvalidBase64 as exc:
        raise BaiduError(216201) from exc
    if not data:
        raise BaiduError(216200)
    info = inspect_image(data)
    if info.format != "gif" or not info.valid:
        raise BaiduError(282205)
    frames = max(info.frames, 1)
    if frames > lim.gif_max_frames:
        raise BaiduError(282204)
    if len(data) / frames > lim.gif_max_frame_bytes:
        raise BaiduError(282203)
    scenario = await resolve_recorded(
        sim,
        ctx,
        vendor,
        operation,
        credential,
        ContentRef(sha256=info.sha256, marker=info.marker),
    )
    failure = service_failure(scenario, "antiporn")
    if failure is not None:  # the analysis fails inside: the request's error, as antiPorn answers it
        raise failure
    # a GIF of several frames is judged frame by frame (the scenario's ``frames``, cycled); a single
    # frame is the content itself (``porn``), as every other image operation reads it
    truth = scenario.frames if scenario.frames and frames > 1 else (scenario.porn,)
    per_frame = [truth[i % len(truth)] for i in range(frames)]
    worst: Porn = max(per_frame, key=lambda p: p.porn)
    classes = [("色情", worst.porn), ("性感", worst.sexy), ("正常", worst.normal)]
    top_name, top_p = max(classes, key=lambda c: c[1])
    ctx.vendor_code = 0
    return {
        log_id_key or bs.gif_log_id_key: log_id(sim),
        "frame_count": frames,
        "porn_probability": worst.porn,
        "conclusion": top_name,
        "confidence_coefficient": "确定" if top_p >= 0.7 else "不确定",
        "result_num": 3,
        "result": [{"class_name": n, "probability": p} for n, p in classes],
    }


async def spam(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    content: str | None,
    *,
    vendor: str = "baidu",
    operation: str = "spam",
) -> dict[str, Any]:
    if not content:
        raise BaiduError(216101)
    if len(content.encode("utf-8")) > settings_of(sim).limits.spam_max_bytes:
        raise BaiduError(216103)
    ref = ContentRef(
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        text=content,
        marker=marker_from_text(content),
    )
    scenario = await resolve_recorded(sim, ctx, vendor, operation, credential, ref, reads=TEXT)
    verdict = sim.lexicon.truth(scenario, sim.rng, content)
    lists: dict[str, list[dict[str, Any]]] = {"reject": [], "review": [], "pass": []}
    for s in verdict.labels:
        lists[verdict.bucket(s)].append({"label": s.label, "score": s.score, "hit": list(s.hits)})
    worst = verdict.worst
    ctx.vendor_code = 0
    ctx.note(f"text verdict {worst}: " + ", ".join(f"{s.label}={s.score}" for s in verdict.labels))
    return {
        "result": {
            "spam": {"pass": 0, "reject": 1, "review": 2}[worst],
            "reject": lists["reject"],
            "review": lists["review"],
            "pass": lists["pass"],
        },
        "log_id": log_id(sim),
    }
