"""face_audit: from parsed parameters to Baidu's body. No aiohttp here.

What differs from the real service (documented choices):
- images over the limits: > 4 MB of base64 or a side > 4096 px is 216202, a side under
  ``limits.min_side`` (15 px) is 282806, a format outside PNG/JPEG/BMP (or bytes no decoder reads)
  is 216201, an empty list item is 216200;
- ``imgUrls``: split on ``,``, then each URL decoded once more, ``+`` as a space (the doc asks for
  UrlEncoded URLs: Python double-encodes with ``%20``, PHP ``urlencode`` writes ``+``, Java and C#
  send raw URLs; inferred: the service decodes form-style);
- URLs: all failing is 282804, some failing (of several) is 282873; URL content with no bytes
  (a rule or ``#modsim=`` fragment naming a scenario) is taken as a valid JPEG; a queued outcome is
  taken before a URL is loaded (nothing is fetched), and a scenario rule matching a URL that cannot be
  loaded stands in for it (``scenarios.matcher``); a use of the queue is given back when the request
  fails after all;
- a scenario's ``service_error`` puts ``error_code``/``error_msg`` (default 282805 "internal request
  failed": the solution's request to an underlying service failed; inferred, seed 001 names no code)
  into that image's ``result[]`` item, leaves the failed service's ``data`` key out (every key when no
  ``service`` is named) and checks no rule of it; other images are unaffected;
- ``data`` carries only the services the config runs, shaped as Baidu's sub-APIs answer
  (ocr and face with their own log_id; antiporn as the bare class list, as in the doc example).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote_plus

from simulator import jsonout
from simulator.content import InvalidBase64, decode_base64, inspect_image
from simulator.content.inspect import ImageInfo
from simulator.content.urls import Download
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
from simulator.scenarios.model import TERROR_LABELS, Face, Scenario
from simulator.vendors.baidu.errors import MESSAGES, BaiduError
from simulator.vendors.baidu.policy import (
    SERVICE_RULES,
    BaiduSettings,
    FaceAuditConfig,
    rule_hits,
    settings_of,
)

if TYPE_CHECKING:
    from simulator.sim import Sim

TERROR_FINE = (
    "血腥",
    "尸体",
    "爆炸火灾",
    "杀人",
    "暴乱",
    "暴恐人物",
    "暴恐旗帜",
    "血腥动物或动物尸体",
    "车祸",
    "军事武器",
    "警察部队",
)


@dataclass(frozen=True)
class Item:
    """One image to audit: its identity for scenario matching, or the scenario already decided
    without its bytes (a queued outcome, a rule standing in for a URL that could not be loaded)."""

    content: ContentRef
    decided: Resolution | None = None


def log_id(sim: Sim) -> int:
    return sim.rng.randint(10**18, 2**63 - 1)


def split_list(value: str) -> list[str]:
    """Comma-separated items; one image (the usual case) is not copied (split copies 40 KB)."""
    return value.split(",") if "," in value else [value]


class ImageLimits(NamedTuple):
    """One operation's limits on an image: base64 length, sides, formats (a tuple: built per request,
    about 4x cheaper than a frozen dataclass)."""

    max_b64: int
    max_side: int
    min_side: int
    formats: tuple[str, ...]


def face_limits(bs: BaiduSettings) -> ImageLimits:
    """face_audit's per-image limits (antiporn, antiterror and the combination API share them)."""
    lim = bs.limits
    return ImageLimits(lim.max_image_b64, lim.max_side, lim.min_side, lim.formats)


def decoded(part: str, lim: ImageLimits) -> bytes:
    """One base64 image: empty 216200, too long 216202, not base64 216201."""
    if not part.strip():
        raise BaiduError(216200)
    if len(part) > lim.max_b64:
        raise BaiduError(216202)
    try:
        return decode_base64(part)
    except InvalidBase64 as exc:
        raise BaiduError(216201) from exc


def checked(data: bytes, lim: ImageLimits, url: str | None = None) -> tuple[ContentRef, ImageInfo]:
    """The image's identity, once its bytes pass ``lim``: empty 216200, unreadable or of another
    format 216201, a side too long 216202, too short 282806."""
    if not data:
        raise BaiduError(216200)
    info = inspect_image(data)
    if not info.valid or info.format not in lim.formats:
        raise BaiduError(216201)
    w, h = info.width or 0, info.height or 0
    if max(w, h) > lim.max_side:
        raise BaiduError(216202)
    if min(w, h) < lim.min_side:
        raise BaiduError(282806)
    return ContentRef(sha256=info.sha256, url=url, marker=info.marker), info


def image_items(b64_list: str, bs: BaiduSettings) -> list[Item]:
    parts = split_list(b64_list)
    if bs.limits.max_images and len(parts) > bs.limits.max_images:
        raise BaiduError(216103)
    lim = face_limits(bs)
    return [Item(checked(decoded(part, lim), lim)[0]) for part in parts]


async def url_items(sim: Sim, ctx: RequestCtx, raw: str, bs: BaiduSettings, target: Target) -> list[Item]:
    urls = [unquote_plus(u).strip() for u in split_list(raw)]
    if len(urls) > bs.limits.max_urls:
        raise BaiduError(282872)
    items: list[Item | None] = []
    for u in urls:
        queued = await take_queued(sim, target)
        items.append(Item(url_ref(u), queued) if queued is not None else None)
    pending = [i for i, item in enumerate(items) if item is None]
    downloads: list[Download] = await asyncio.gather(
        *(
            load_url(
                sim,
                ctx,
                target,
                urls[i],
                timeout_s=bs.limits.url_timeout_s,
                max_bytes=bs.limits.max_image_b64,
            )
            for i in pending
        )
    )
    failed = 0
    for i, d in zip(pending, downloads, strict=True):
        if d.ok:
            continue
        ctx.note(f"download {d.url[:200]!r}: {d.outcome} ({d.reason})")
        rule = standing_in(sim.state, target, d.url, d.outcome)
        if rule is None:
            failed += 1
        else:
            items[i] = Item(url_ref(d.url), rule)
    if failed:
        for item in items:
            if item is not None and item.decided is not None and item.decided.entry is not None:
                await sim.store.queue_give_back(item.decided.entry)
        raise BaiduError(282804 if failed == len(urls) else 282873)
    for i, d in zip(pending, downloads, strict=True):
        if items[i] is not None:
            continue
        if d.data is None:
            items[i] = Item(url_ref(d.url, d.scenario))
        else:
            ref, _ = checked(d.data, face_limits(bs), url=d.url)
            items[i] = Item(ContentRef(ref.sha256, d.url, None, d.scenario or ref.marker))
    return [item for item in items if item is not None]


async def face_audit(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    params: dict[str, str],
    *,
    vendor: str = "baidu",
    operation: str = "face_audit",
) -> dict[str, Any]:
    """The face_audit body. ``vendor``/``operation`` are what scenario rules match on: resellers
    (showapi, AI绿洲) call this with their own names and credential."""
    bs = settings_of(sim)
    images, urls = params.get("images", ""), params.get("imgUrls", "")
    if images and urls:
        raise BaiduError(282802)
    if not images and not urls:
        raise BaiduError(282801)
    config_id = params.get("configId", "").strip()
    cfg = bs.config_for(config_id)
    if cfg is None:
        ctx.note(f"configId {config_id!r} not in vendors.baidu.configs {sorted(bs.configs)}")
        raise BaiduError(282800)
    target = Target(vendor, operation, credential)
    items = image_items(images, bs) if images else await url_items(sim, ctx, urls, bs, target)
    results = []
    for item in items:
        res = item.decided or await resolve(sim, target, item.content)
        results.append(render_result(sim, cfg, record(ctx, res)))
    ctx.vendor_code = 0
    return {"log_id": log_id(sim), "result": results}


#: the per-item code of a scenario's ``service_error`` when it names none (inferred: the solution's
#: request to an underlying service failed)
SERVICE_ERROR_CODE = 282805


def render_result(sim: Sim, cfg: FaceAuditConfig, s: Scenario) -> dict[str, Any]:
    """One image's result. Everything but the services' ``log_id`` is a pure function of the config
    and the scenario, rendered once (``_rendered``); a request copies the top-level dicts and draws
    fresh log_ids (the nested values are shared between answers and never changed)."""
    code, hits, services = _rendered(cfg, s)
    data: dict[str, Any] = {}
    for name, body in services:
        data[name] = {**body, "log_id": log_id(sim)} if isinstance(body, dict) and "log_id" in body else body
    failure = s.service_error
    if failure is None:
        return {"res_code": code, "res_msg": list(hits), "data": data}
    err_code = failure.code if failure.code is not None else SERVICE_ERROR_CODE
    return {
        "res_code": code,
        "res_msg": list(hits),
        "error_code": err_code,
        "error_msg": failure.msg if failure.msg is not None else MESSAGES.get(err_code, "Unknown error"),
        "data": data,
    }


#: (id(config), id(scenario)) -> (config, scenario, rendering); the entry keeps both objects alive, so
#: their ids cannot be reused while it exists. At most 256 entries (first in, first out), ~6 KB each (one face,
#: its landmarks kept as a JSON fragment); two fragments an entry, well under jsonout.FRAGMENTS_MAX.
_RENDERED: dict[tuple[int, int], tuple[FaceAuditConfig, Scenario, Any]] = {}
_RENDERED_MAX = 256


def _rendered(cfg: FaceAuditConfig, s: Scenario) -> tuple[int, tuple[int, ...], tuple[tuple[str, Any], ...]]:
    key = (id(cfg), id(s))
    hit = _RENDERED.get(key)
    if hit is not None and hit[0] is cfg and hit[1] is s:
        rendering: tuple[int, tuple[int, ...], tuple[tuple[str, Any], ...]] = hit[2]
        return rendering
    failure = s.service_error
    if failure is not None and failure.service is None:  # nothing could be analysed
        rendering = (0, (), ())
    else:
        failed = failure.service if failure is not None else None
        ran = tuple(name for name in cfg.services if name != failed)
        hits = tuple(rule_hits(cfg, s, skip=SERVICE_RULES.get(failed or "", ())))
        rendering = (1 if hits else 0, hits, tuple((name, RENDERERS[name](s)) for name in ran))
    if len(_RENDERED) >= _RENDERED_MAX:
        del _RENDERED[next(iter(_RENDERED))]
    _RENDERED[key] = (cfg, s, rendering)
    return rendering


#: a service's log_id before a request draws its own
_NO_LOG_ID = 0


def _ocr(s: Scenario) -> dict[str, Any]:
    return {
        "log_id": _NO_LOG_ID,
        "words_result_num": len(s.text),
        "words_result": [{"words": line} for line in s.text],
    }


#: where the 72 landmarks sit inside a face box (fractions of width and height)
_LANDMARK_LAYOUT = tuple(
    (0.15 + 0.7 * ((i * 37 % 97) / 97), 0.2 + 0.7 * ((i * 53 % 89) / 89)) for i in range(72)
)


def _landmarks(box: tuple[int, int, int, int]) -> list[dict[str, int]]:
    left, top, w, h = box
    return [{"x": left + int(w * fx), "y": top + int(h * fy)} for fx, fy in _LANDMARK_LAYOUT]


def _face_entry(f: Face) -> dict[str, Any]:
    left, top, w, h = f.box
    occl = round(f.occlusion, 6)
    return {
        "location": {"left": left, "top": top, "width": w, "height": h},
        "face_probability": f.probability,
        "rotation_angle": round(f.roll),
        "yaw": f.yaw,
        "pitch": f.pitch,
        "roll": f.roll,
        "landmark": [
            {"x": left + w * 3 // 10, "y": top + h * 4 // 10},
            {"x": left + w * 7 // 10, "y": top + h * 4 // 10},
            {"x": left + w // 2, "y": top + h * 6 // 10},
            {"x": left + w // 2, "y": top + h * 8 // 10},
        ],
        "landmark72": _landmarks(f.box),
        "age": f.age,
        "gender": f.gender,
        "gender_probability": 0.99,
        "glasses": f.glasses,
        "glasses_probability": 0.99,
        "race": f.race,
        "race_probability": 0.99,
        "qualities": {
            "occlusion": {
                k: occl
                for k in ("left_eye", "right_eye", "nose", "mouth", "left_cheek", "right_cheek", "chin")
            },
            "blur": f.blur,
            "illumination": f.illumination,
            "completeness": f.completeness,
            "type": {"human": f.human, "cartoon": round(1 - f.human, 6)},
        },
    }


def _face(s: Scenario) -> dict[str, Any]:
    return {
        "result_num": len(s.faces),
        "result": jsonout.fragment([_face_entry(f) for f in s.faces]),  # the bulk: 72 landmarks a face
        "log_id": _NO_LOG_ID,
    }


def _antiporn(s: Scenario) -> list[dict[str, Any]]:
    return [
        {"class_name": "色情", "probability": s.porn.porn},
        {"class_name": "正常", "probability": s.porn.normal},
        {"class_name": "性感", "probability": s.porn.sexy},
    ]


def _terror(s: Scenario) -> dict[str, Any]:
    scores = {name: 0.0 for name in TERROR_FINE}
    for label in s.terror:
        key = TERROR_LABELS.get(label.name, label.name)
        scores[key] = max(scores.get(key, 0.0), label.score)
    total = s.terror_score
    fine = [{"score": v, "name": k} for k, v in scores.items()]
    fine.append({"score": round(1 - total, 6), "name": "正常"})
    return {
        "result": total,
        "log_id": _NO_LOG_ID,
        "result_fine": jsonout.fragment(fine),
        "result_coarse": [{"score": round(1 - total, 6), "name": "正常"}, {"score": total, "name": "暴恐"}],
    }


def _stars(s: Scenario, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for f in s.faces:
        if f.identity and f.identity.kind in kinds:
            left, top, w, h = f.box
            star_id = f.identity.id or str(int(hashlib.sha1(f.identity.name.encode()).hexdigest()[:7], 16))
            out.append(
                {
                    "location": {"top": top, "left": left, "width": w, "height": h},
                    "stars": [{"star_id": star_id, "probability": f.probability, "name": f.identity.name}],
                }
            )
    return out


def _public(s: Scenario) -> dict[str, Any]:
    found = _stars(s, ("star", "public"))
    return {"result": found, "log_id": _NO_LOG_ID, "result_num": len(found)}


def _politician(s: Scenario) -> dict[str, Any]:
    found = _stars(s, ("politician",))
    return {
        "result": found,
        "log_id": _NO_LOG_ID,
        "include_politician": "是" if found else "否",
        "result_num": len(found),
        "result_confidence": "确定",
    }


def _quality(s: Scenario) -> dict[str, Any]:
    return {"result": {"aesthetic": s.quality.aesthetic, "clarity": s.quality.clarity}, "log_id": _NO_LOG_ID}


RENDERERS: dict[str, Any] = {
    "ocr": _ocr,
    "face": _face,
    "antiporn": _antiporn,
    "terror": _terror,
    "public": _public,
    "politician": _politician,
    "quality": _quality,
}
