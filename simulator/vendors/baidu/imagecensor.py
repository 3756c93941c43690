"""Baidu's image models beyond face_audit: 色情识别 ``/rest/2.0/antiporn/v1/detect`` (``antiPorn``), 暴恐识别
``/rest/2.0/antiterror/v1/detect`` (``antiTerror``) and the 组合服务接口 ``/api/v1/solution/direct/img_censor``
(``imageCensorComb``); plus the image loading and truth renderings the 内容审核平台 (``usercensor``) shares.
No aiohttp here.

Renderings of the scenario truth (one truth, every rendering):

- porn: the scenario's porn / sexy / normal split over the 16 fine classes of ``result_fine``
  (``porn_fine``): porn goes to 一般色情 (卡通色情 when every face is a cartoon), sexy to 女性性感 (男性性感
  when the first face is male), normal to 一般正常 (卡通正常). The three-class ``result`` (性感, 色情, 正常,
  in the captured order) is the truth itself, ``conclusion`` its top class, ``confidence_coefficient``
  确定 when that class is >= 0.7 (as detect_gif);
- terror: face_audit's ``terror`` service body (``models.RENDERERS``), the same on antiterror and in the
  combination API;
- the combination API's other scenes: face_audit's services (ocr, face, public, politician, quality),
  ``webimage`` / ``accurate`` / ``accuratebasic`` from the text lines (``accurate`` boxes are laid out
  one line under the other: inferred), ``watermark`` from the scenario's QR code / barcode,
  ``disgust`` from its gore labels (bloody, corpse, animal_gore: inferred), ``anti_spam`` (图文审核)
  from its text lines through the lexicon;
- a scenario's ``service_error``: antiporn and antiterror answer its code as the request's error
  (``{"log_id", "error_code", "error_msg"}``: the analysis failed); in the combination API the failed
  scene (every scene when it names none) is ``{"error_code", "error_msg", "log_id"}``, the documented
  sub-service error shape.

Input checks: ``image`` is base64 at most ``limits.max_image_b64`` characters (216202), decodable
(216201), non-empty (216200), of ``limits.formats`` (216201), sides within ``max_side`` (216202) and
``min_side`` (282806), as face_audit. The combination API takes ``image`` or ``imgUrl`` (both 282802,
neither 282801, a URL that cannot be loaded 282804); a body that is not a JSON object, ``scenes`` of
the wrong type or naming an unknown scene is 216100, no ``scenes`` 216101 (inferred: the doc names no
code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from simulator.context import RequestCtx
from simulator.scenarios.matcher import (
    ContentRef,
    Target,
    load_url,
    record,
    resolve,
    standing_in,
    take_queued,
    url_ref,
)
from simulator.scenarios.model import TERROR_LABELS, Porn, Scenario
from simulator.vendors.baidu.errors import MESSAGES, BaiduError
from simulator.vendors.baidu.models import (
    RENDERERS,
    SERVICE_ERROR_CODE,
    ImageLimits,
    Item,
    checked,
    decoded,
    face_limits,
    log_id,
)
from simulator.vendors.baidu.policy import BaiduSettings, settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim

#: ``result_fine``'s classes, in the order of a captured antiPorn answer
PORN_FINE = (
    "一般色情",
    "卡通色情",
    "SM",
    "艺术品色情",
    "儿童裸露",
    "低俗",
    "性玩具",
    "女性性感",
    "卡通女性性感",
    "男性性感",
    "自然男性裸露",
    "亲密行为",
    "卡通亲密行为",
    "特殊类",
    "一般正常",
    "卡通正常",
)
#: the scenario's gore labels that the 恶心图 model scores (inferred)
DISGUST_LABELS = ("bloody", "corpse", "animal_gore")
#: watermark ``type`` names of the truth's ads (``Ads.qrcode``, ``Ads.barcode``) and the probability
#: given when the scenario sets no ``ads.score`` (inferred)
AD_MARK_PROBABILITY = 0.9
#: the combination API's scenes (doc: 请求参数 ``scenes``; ``face`` and ``public`` in its curl example)
COMB_SCENES = (
    "ocr",
    "face",
    "public",
    "politician",
    "antiporn",
    "terror",
    "webimage",
    "disgust",
    "watermark",
    "quality",
    "anti_spam",
    "accurate",
    "accuratebasic",
)


@dataclass(frozen=True)
class Loaded:
    """An image to analyse, and its frame count (1 when no bytes are behind it)."""

    item: Item
    frames: int = 1
    format: str | None = None


def v2_limits(bs: BaiduSettings) -> ImageLimits:
    """内容审核平台-图像 (img_censor/v2/user_defined)."""
    lim = bs.limits
    return ImageLimits(lim.censor_max_b64, lim.censor_max_side, lim.censor_min_side, lim.censor_formats)


def from_b64(image: str, lim: ImageLimits) -> Loaded:
    ref, info = checked(decoded(image, lim), lim)
    return Loaded(Item(ref), max(info.frames, 1), info.format)


def plain_url(raw: str) -> str:
    """The URL as sent, decoded once more only when it arrives encoded (``http%3A...``): the doc asks
    for UrlEncoded URLs, the SDKs (Python, Node, PHP, Java) send them raw (inferred)."""
    raw = raw.strip()
    return unquote_plus(raw).strip() if raw.lower().startswith(("http%3a", "https%3a")) else raw


async def from_url(sim: Sim, ctx: RequestCtx, target: Target, raw: str, lim: ImageLimits) -> Loaded:
    """One URL (never split on commas), as face_audit loads each of its URLs: a queued outcome first
    (nothing is fetched), a scenario rule standing in for a URL that cannot be loaded, else 282804."""
    url = plain_url(raw)
    queued = await take_queued(sim, target)
    if queued is not None:
        return Loaded(Item(url_ref(url), queued))
    d = await load_url(
        sim, ctx, target, url, timeout_s=settings_of(sim).limits.url_timeout_s, max_bytes=lim.max_b64
    )
    if not d.ok:
        ctx.note(f"download {d.url[:200]!r}: {d.outcome} ({d.reason})")
        rule = standing_in(sim.state, target, d.url, d.outcome)
        if rule is None:
            raise BaiduError(282804)
        return Loaded(Item(url_ref(d.url), rule))
    if d.data is None:
        return Loaded(Item(url_ref(d.url, d.scenario)))
    ref, info = checked(d.data, lim, url=d.url)
    return Loaded(
        Item(ContentRef(ref.sha256, d.url, None, d.scenario or ref.marker)), max(info.frames, 1), info.format
    )


async def load_one(
    sim: Sim, ctx: RequestCtx, target: Target, image: str, img_url: str, lim: ImageLimits
) -> Loaded:
    """``image`` (base64) or ``imgUrl``: both 282802, neither 282801 (empty counts as absent)."""
    if image and img_url:
        raise BaiduError(282802)
    if not image and not img_url:
        raise BaiduError(282801)
    return from_b64(image, lim) if image else await from_url(sim, ctx, target, img_url, lim)


async def scenario_of(sim: Sim, ctx: RequestCtx, target: Target, item: Item) -> Scenario:
    return record(ctx, item.decided or await resolve(sim, target, item.content))


def service_failure(s: Scenario, service: str) -> BaiduError | None:
    """The scenario's ``service_error`` when it reaches ``service`` (it names none, or this one)."""
    f = s.service_error
    if f is None or f.service not in (None, service):
        return None
    code = f.code if f.code is not None else SERVICE_ERROR_CODE
    return BaiduError(code, f.msg if f.msg is not None else MESSAGES.get(code, "Unknown error"))


def is_cartoon(s: Scenario) -> bool:
    return bool(s.faces) and all(f.human < 0.5 for f in s.faces)


def porn_fine(p: Porn, s: Scenario) -> dict[str, float]:
    """The 16 fine classes (``PORN_FINE`` order) of porn truth ``p`` for scenario ``s``."""
    cartoon = is_cartoon(s)
    male = bool(s.faces) and s.faces[0].gender == "male"
    fine = dict.fromkeys(PORN_FINE, 0.0)
    fine["卡通色情" if cartoon else "一般色情"] = p.porn
    fine["男性性感" if male else "女性性感"] = p.sexy
    fine["卡通正常" if cartoon else "一般正常"] = p.normal
    return fine


def terror_scores(s: Scenario) -> dict[str, float]:
    """The scenario's terror labels by their Chinese names (``TERROR_LABELS``), the highest score each."""
    out: dict[str, float] = {}
    for label in s.terror:
        name = TERROR_LABELS.get(label.name, label.name)
        out[name] = max(out.get(name, 0.0), label.score)
    return out


def ad_marks(s: Scenario) -> list[tuple[str, float]]:
    """The QR code / barcode in the image: watermark ``type`` names with their probability."""
    p = s.ads.score or AD_MARK_PROBABILITY
    return [(name, p) for name, on in (("QR code", s.ads.qrcode), ("bar code", s.ads.barcode)) if on]


def _filled(sim: Sim, body: Any) -> Any:
    """A face_audit service body with its own log_id drawn (``models.render_result`` does the same)."""
    return {**body, "log_id": log_id(sim)} if isinstance(body, dict) and "log_id" in body else body


def antiporn_body(sim: Sim, p: Porn, s: Scenario) -> dict[str, Any]:
    classes = [("性感", p.sexy), ("色情", p.porn), ("正常", p.normal)]
    top_name, top_p = max(classes, key=lambda c: c[1])
    fine = porn_fine(p, s)
    return {
        "result": [{"probability": v, "class_name": n} for n, v in classes],
        "conclusion": top_name,
        "log_id": log_id(sim),
        "result_fine": [{"probability": v, "class_name": n} for n, v in fine.items()],
        "result_num": len(fine),
        "confidence_coefficient": "确定" if top_p >= 0.7 else "不确定",
    }


def terror_body(sim: Sim, s: Scenario) -> dict[str, Any]:
    body: dict[str, Any] = _filled(sim, RENDERERS["terror"](s))
    return body


async def _one_model(sim: Sim, ctx: RequestCtx, target: Target, image: str, service: str) -> Scenario:
    """The scenario of one base64 image for a single-model API; its ``service_error`` (naming no
    service, or ``service``) is the request's error."""
    loaded = from_b64(image, face_limits(settings_of(sim)))
    s = await scenario_of(sim, ctx, target, loaded.item)
    failure = service_failure(s, service)
    if failure is not None:
        raise failure
    ctx.vendor_code = 0
    return s


async def antiporn(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    image: str,
    *,
    vendor: str = "baidu",
    operation: str = "antiporn",
) -> dict[str, Any]:
    s = await _one_model(sim, ctx, Target(vendor, operation, credential), image, "antiporn")
    return antiporn_body(sim, s.porn, s)


async def antiterror(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    image: str,
    *,
    vendor: str = "baidu",
    operation: str = "antiterror",
) -> dict[str, Any]:
    s = await _one_model(sim, ctx, Target(vendor, operation, credential), image, "terror")
    return terror_body(sim, s)


# ------------------------------------------------------------------------------------ combination API


def _lines(s: Scenario) -> list[dict[str, Any]]:
    return [{"words": line} for line in s.text]


def _webimage(sim: Sim, s: Scenario) -> dict[str, Any]:
    return {"log_id": log_id(sim), "words_result": _lines(s), "words_result_num": len(s.text), "direction": 0}


def _accuratebasic(sim: Sim, s: Scenario) -> dict[str, Any]:
    return {"log_id": log_id(sim), "words_result": _lines(s), "words_result_num": len(s.text)}


def _accurate(sim: Sim, s: Scenario) -> dict[str, Any]:
    words = [
        {"words": line, "location": {"top": 10 + 32 * i, "left": 10, "width": 16 * len(line), "height": 20}}
        for i, line in enumerate(s.text)
    ]
    return {"log_id": log_id(sim), "words_result": words, "words_result_num": len(words), "direction": 0}


def _disgust(sim: Sim, s: Scenario) -> dict[str, Any]:
    score = max((t.score for t in s.terror if t.name in DISGUST_LABELS), default=0.0)
    return {"result": score, "log_id": log_id(sim)}


def _watermark(sim: Sim, s: Scenario) -> dict[str, Any]:
    marks = [{"probability": p, "type": t} for t, p in ad_marks(s)]
    return {"log_id": log_id(sim), "result_num": len(marks), "result": marks}


def _anti_spam(sim: Sim, s: Scenario) -> dict[str, Any]:
    """图文审核: the image's text lines through the lexicon, as antispam v2 scores a text."""
    verdict = sim.lexicon.truth(s, sim.rng)
    detail: dict[str, list[dict[str, Any]]] = {"pass": [], "reject": [], "review": []}
    for sc in verdict.labels:
        detail[verdict.bucket(sc)].append({"score": sc.score, "description": sc.name, "label": sc.label})
    top = max(verdict.labels, key=lambda sc: sc.score)
    return {
        "log_id": log_id(sim),
        "words_result": list(s.text),
        "antispam_info": {"score": top.score, "description": top.name, "label": top.label},
        "spam": {"pass": 0, "reject": 1, "review": 2}[verdict.worst],
        "antispam_info_detail": detail,
    }


def _comb_scene(sim: Sim, s: Scenario, scene: str) -> Any:
    if scene == "antiporn":
        return antiporn_body(sim, s.porn, s)
    if scene in RENDERERS:
        return _filled(sim, RENDERERS[scene](s))
    render = {
        "webimage": _webimage,
        "accurate": _accurate,
        "accuratebasic": _accuratebasic,
        "disgust": _disgust,
        "watermark": _watermark,
        "anti_spam": _anti_spam,
    }[scene]
    return render(sim, s)


def comb_scenes(body: dict[str, Any], ctx: RequestCtx) -> list[str]:
    """The requested scenes, in order, once each; a comma-separated string is split (inferred)."""
    scenes = body.get("scenes")
    if scenes is None or scenes in ("", []):
        raise BaiduError(216101)
    if isinstance(scenes, str):
        scenes = scenes.split(",")
    if not isinstance(scenes, list) or not all(isinstance(x, str) for x in scenes):
        ctx.note("scenes must be an array of strings")
        raise BaiduError(216100)
    names = list(dict.fromkeys(x.strip() for x in scenes))
    unknown = [n for n in names if n not in COMB_SCENES]
    if unknown:
        ctx.note(f"unknown scene(s) {unknown[:5]}; known: {', '.join(COMB_SCENES)}")
        raise BaiduError(216100)
    return names


def _text_field(body: dict[str, Any], key: str, ctx: RequestCtx) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        ctx.note(f"{key} must be a string")
        raise BaiduError(216100)
    return value


async def img_censor_comb(
    sim: Sim,
    ctx: RequestCtx,
    credential: str,
    body: Any,
    *,
    vendor: str = "baidu",
    operation: str = "img_censor_comb",
) -> dict[str, Any]:
    """``body``: the parsed JSON body. ``result`` holds one key per requested scene, in request order."""
    if not isinstance(body, dict):
        ctx.note("the body is not a JSON object")
        raise BaiduError(216100)
    scenes = comb_scenes(body, ctx)
    image, img_url = _text_field(body, "image", ctx), _text_field(body, "imgUrl", ctx)
    target = Target(vendor, operation, credential)
    loaded = await load_one(sim, ctx, target, image, img_url, face_limits(settings_of(sim)))
    s = await scenario_of(sim, ctx, target, loaded.item)
    result: dict[str, Any] = {}
    for scene in scenes:
        failure = service_failure(s, scene)
        if failure is not None:
            result[scene] = {"error_code": failure.code, "error_msg": failure.message, "log_id": log_id(sim)}
        else:
            result[scene] = _comb_scene(sim, s, scene)
    ctx.vendor_code = 0
    return {"result": result, "log_id": log_id(sim)}
