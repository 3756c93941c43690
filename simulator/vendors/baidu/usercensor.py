"""内容审核平台: ``/rest/2.0/solution/v1/img_censor/v2/user_defined`` (``imageCensorUserDefined``) and
``/rest/2.0/solution/v1/text_censor/v2/user_defined`` (``textCensorUserDefined``). No aiohttp here.

Both answer ``{"conclusion", "log_id", "data"?, "isHitMd5", "conclusionType"}`` in that order (wire
captures); ``data`` lists the 不合规 / 疑似 items (and a text whitelist hit), each
``{"msg", "conclusion", "probability" | "hits", "subType", "conclusionType", "type"}``. The strategy is
``vendors.baidu.censor`` (``censor_policy``). The truth renders as:

- porn (type 1): the fine classes of ``imagecensor.porn_fine`` that are among ``porn_labels``, subType
  their position in ``PORN_SUBTYPES``; a GIF sent with ``imgType=1`` is judged on its worst frame of the
  scenario's ``frames``, any other GIF on its first ("GIF(仅对首帧进行审核)");
- terror (type 2): the scenario's terror labels by their Chinese names among ``terror_labels``;
- ads (type 4): its QR code (subType 1) and barcode (2);
- politics (type 5): politician faces (subType 0) with ``stars``; with ``public`` on, stars and public
  figures too (subType 1);
- text (type 12 图文, 13 / 14 custom lists): the image's text lines, or for text_censor the text (a
  queued, rule or marker scenario's lines when it has them), through the lexicon exactly as antispam v2
  scores them: a label in ``reject`` is 不合规, in ``review`` 疑似, subType the label (1 暴恐违禁 ...
  5 低俗辱骂), ``hits`` the words found. A blacklist word adds a type 13 item (不合规); a whitelist word
  passes the text (合规, with only the type 14 item: inferred, the doc says whitelisted text is let
  through);
- a scenario's ``service_error``: 审核失败 (conclusionType 4), no data (a forum capture).

Errors: both ``image`` and ``imgUrl`` 282802, neither 282801, then the image checks against the
``censor_*`` limits (10 MB base64, sides 128..4096 px, PNG/JPEG/BMP/GIF/WebP/TIFF), a URL that cannot be
loaded 282804. ``text`` absent or empty 216101, over ``text_max_bytes`` (20000) 216103 (inferred codes,
as antispam v2).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.scenarios.matcher import ContentRef, Target, resolve_recorded
from simulator.scenarios.model import TEXT, Porn, Scenario
from simulator.scenarios.text import TextVerdict, marker_from_text
from simulator.vendors.baidu.censor_policy import (
    ADS_SUBTYPES,
    COMPLIANT,
    CONCLUSIONS,
    FAILED,
    NON_COMPLIANT,
    POLITICS_SUBTYPES,
    PORN_SUBTYPES,
    SUSPECTED,
    TERROR_SUBTYPES,
    TYPE_ADS,
    TYPE_BLACKLIST,
    TYPE_POLITICS,
    TYPE_PORN,
    TYPE_TERROR,
    TYPE_TEXT,
    TYPE_WHITELIST,
    CensorPolicy,
)
from simulator.vendors.baidu.errors import BaiduError
from simulator.vendors.baidu.imagecensor import (
    ad_marks,
    load_one,
    porn_fine,
    scenario_of,
    terror_scores,
    v2_limits,
)
from simulator.vendors.baidu.models import log_id
from simulator.vendors.baidu.policy import settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim

#: watermark ``type`` name -> its subType name (ADS_SUBTYPES)
_AD_NAMES = {"QR code": "二维码", "bar code": "条形码"}


def envelope(sim: Sim, policy: CensorPolicy, conclusion: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"conclusion": CONCLUSIONS[conclusion], "log_id": log_id(sim)}
    if items:
        out["data"] = items
    if policy.is_hit_md5:
        out["isHitMd5"] = False
    out["conclusionType"] = conclusion
    return out


def conclusion_of(items: list[dict[str, Any]]) -> int:
    kinds = {item["conclusionType"] for item in items}
    return NON_COMPLIANT if NON_COMPLIANT in kinds else SUSPECTED if SUSPECTED in kinds else COMPLIANT


def _scored(
    policy: CensorPolicy, kind: int, sub: int, name: str, p: float, **extra: Any
) -> dict[str, Any] | None:
    """An image dimension's item when ``p`` reaches 疑似; ``extra`` keys follow ``probability``."""
    c = policy.verdict(p)
    if c is None:
        return None
    return {
        "msg": policy.msg(c, name),
        "conclusion": CONCLUSIONS[c],
        "probability": p,
        **extra,
        "subType": sub,
        "conclusionType": c,
        "type": kind,
    }


def text_items(policy: CensorPolicy, verdict: TextVerdict, text: str) -> list[dict[str, Any]]:
    """Type 12 items for the lexicon's reject / review labels, type 13 for blacklist words; a whitelist
    word instead gives only its type 14 item (合规)."""
    white = [(wl, found) for wl in policy.whitelists if (found := wl.found(text))]
    if white:
        return [
            {
                "msg": policy.whitelist_msg,
                "conclusion": CONCLUSIONS[COMPLIANT],
                "hits": [{"datasetName": wl.name, "words": found}],
                "subType": 0,
                "conclusionType": COMPLIANT,
                "type": TYPE_WHITELIST,
            }
            for wl, found in white
        ]
    out: list[dict[str, Any]] = []
    for sc in verdict.labels:
        bucket = verdict.bucket(sc)
        if bucket == "pass":
            continue
        c = NON_COMPLIANT if bucket == "reject" else SUSPECTED
        out.append(
            {
                "msg": policy.msg(c, sc.name),
                "conclusion": CONCLUSIONS[c],
                "hits": [
                    {"probability": sc.score, "datasetName": policy.dataset_name, "words": list(sc.hits)}
                ],
                "subType": sc.label,
                "conclusionType": c,
                "type": TYPE_TEXT,
            }
        )
    for bl in policy.blacklists:
        found = bl.found(text)
        if found:
            out.append(
                {
                    "msg": policy.msg(NON_COMPLIANT, policy.blacklist_name),
                    "conclusion": CONCLUSIONS[NON_COMPLIANT],
                    "hits": [{"datasetName": bl.name, "words": found}],
                    "subType": 0,
                    "conclusionType": NON_COMPLIANT,
                    "type": TYPE_BLACKLIST,
                }
            )
    return out


def porn_truth(s: Scenario, frames: int, animated: bool) -> Porn:
    """A GIF's first frame (``imgType`` 0), or its worst (``imgType`` 1); else the scenario's porn."""
    if frames <= 1 or not s.frames:
        return s.porn
    if not animated:
        return s.frames[0]
    return max((s.frames[i % len(s.frames)] for i in range(frames)), key=lambda p: p.porn)


def _politics(policy: CensorPolicy, s: Scenario) -> list[dict[str, Any]]:
    kinds = {0: ("politician",), 1: ("star", "public") if "public" in policy.dimensions else ()}
    out = []
    for sub, wanted in kinds.items():
        faces = [f for f in s.faces if f.identity is not None and f.identity.kind in wanted]
        if not faces:
            continue
        stars = [{"probability": f.probability, "name": f.identity.name} for f in faces if f.identity]
        item = _scored(
            policy, TYPE_POLITICS, sub, POLITICS_SUBTYPES[sub], max(f.probability for f in faces), stars=stars
        )
        if item is not None:
            out.append(item)
    return out


def image_items(sim: Sim, policy: CensorPolicy, s: Scenario, porn: Porn) -> list[dict[str, Any]]:
    dims = policy.dimensions
    candidates: list[dict[str, Any] | None] = []
    if "porn" in dims:
        fine = porn_fine(porn, s)
        candidates += [
            _scored(policy, TYPE_PORN, sub, name, fine[name])
            for sub, name in enumerate(PORN_SUBTYPES)
            if name in policy.porn_labels and name in fine
        ]
    if "terror" in dims:
        scores = terror_scores(s)
        candidates += [
            _scored(policy, TYPE_TERROR, sub, name, scores[name])
            for sub, name in enumerate(TERROR_SUBTYPES)
            if name in policy.terror_labels and name in scores
        ]
    if "ads" in dims:
        candidates += [
            _scored(policy, TYPE_ADS, ADS_SUBTYPES.index(_AD_NAMES[t]), _AD_NAMES[t], p)
            for t, p in ad_marks(s)
        ]
    items = [c for c in candidates if c is not None]
    if "politics" in dims:
        items += _politics(policy, s)
    if "text" in dims and s.has_text:
        items += text_items(policy, sim.lexicon.truth(s, sim.rng), "\n".join(s.text))
    return items


async def img_censor_user_defined(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    form: dict[str, str],
    *,
    vendor: str = "baidu",
    operation: str = "img_censor_user_defined",
) -> dict[str, Any]:
    bs = settings_of(sim)
    policy = bs.censor
    target = Target(vendor, operation, credential)
    loaded = await load_one(sim, ctx, target, form.get("image", ""), form.get("imgUrl", ""), v2_limits(bs))
    s = await scenario_of(sim, ctx, target, loaded.item)
    ctx.vendor_code = 0
    if s.service_error is not None:
        ctx.note(f"scenario {s.name!r} fails inside the vendor: 审核失败 (conclusionType 4)")
        return envelope(sim, policy, FAILED, [])
    animated = loaded.format == "gif" and form.get("imgType", "").strip() == "1"
    items = image_items(
        sim, policy, s, porn_truth(s, loaded.frames if loaded.format == "gif" else 1, animated)
    )
    return envelope(sim, policy, conclusion_of(items), items)


async def text_censor_user_defined(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    text: str | None,
    *,
    vendor: str = "baidu",
    operation: str = "text_censor_user_defined",
) -> dict[str, Any]:
    bs = settings_of(sim)
    if not text:
        raise BaiduError(216101)
    if len(text.encode("utf-8")) > bs.limits.text_max_bytes:
        raise BaiduError(216103)
    ref = ContentRef(
        sha256=hashlib.sha256(text.encode()).hexdigest(), text=text, marker=marker_from_text(text)
    )
    s = await resolve_recorded(sim, ctx, vendor, operation, credential, ref, reads=TEXT)
    verdict = sim.lexicon.truth(s, sim.rng, text)
    items = text_items(bs.censor, verdict, "\n".join(s.text) if s.text else text)
    conclusion = conclusion_of(items)
    ctx.vendor_code = 0
    ctx.note(
        f"text conclusion {CONCLUSIONS[conclusion]}: "
        + ", ".join(f"{x['type']}/{x['subType']}" for x in items)
    )
    return envelope(sim, bs.censor, conclusion, items)
