"""One truth, every rendering (issue 15, point 4).

Every built-in scenario (enumerated from the loaded fixtures through ``GET /__modsim/scenarios``) is
sent, by marker, to every image and text operation of every vendor that can render it: an image URL
with ``#modsim=NAME`` to the operations that take URLs, a PNG (a GIF for the GIF operations) carrying
the marker to those that take base64, ``[[modsim=NAME]]`` to the text operations. The only pairs left
out are those the simulator itself declares it cannot render (``Scenario.lacks`` of the operation's
``Route.content``: an image-only scenario on a text operation); the test checks that declaration too
(such a marker gets a warning and the default verdict).

Each answer is normalised to a small vendor-neutral verdict, one value per dimension the operation
reports:

- ``porn`` explicit content flagged, ``sexy`` suggestive content flagged, ``terror`` violence/terror
  flagged, ``politics`` a politician's face flagged, ``qr`` a QR code (or barcode) found, ``ad``
  advertising flagged from any source (the image's ad score, a code, or its text's 推广 words),
  ``failed`` the vendor's analysis failed inside (``service_error``);
- ``text:N``: lexicon category N (1 暴恐违禁, 2 文本色情, 3 政治敏感, 4 恶意推广, 5 低俗辱骂) flagged, in a
  text or in an image's text; ``words:N`` the words matched for it, ``words`` all matched words.

An answer that cannot tell a dimension (the vendor shows only its worst label, e.g. Green's ``ad``
scene or itapi's ``ocrtext``) leaves it out: it is masked, not compared.

The expected value of each (operation, dimension) is derived from the scenario's truth (for text, the
lexicon's vendor-neutral verdict on the scenario's text lines) through that operation's documented
rule and the thresholds configured in the fixtures (the ``*_rule`` functions below; each expected
value carries the rule's text, naming where its threshold comes from). Where vendors legitimately differ (a classifier's top class
against a configured threshold, a strategy that does not flag 性感, a vendor with no whole-image ad
model), the difference is a per-vendor rule, never a per-scenario exception. Then, for every scenario
and dimension, every operation that reports the dimension must say what its rule says; since the rules
agree wherever the truth is not between two vendors' thresholds, this is the cross-vendor consistency
of the matrix, and a failure names the scenario, the dimension, the operation, what it said, what
its rule expects and what every other operation said. The per-vendor differences the rules encode
(visible with ``-s``: the test prints every (scenario, dimension) where they split; with the built-in
library: ``competitor_name``'s ad score, which Baidu has no model for):

- porn/sexy: Baidu antiPorn, antiPornGif and the combination API are classifiers (the top class);
  face_audit uses its configId's thresholds (0.5 / 0.6); the 内容审核平台's default strategy flags no
  性感 at all; itapi blocks porn at 0.5 and reviews sexy at 0.5; Green reviews both from rate 60;
  Content Moderation 2.0 reports labels from 50;
- terror: classifiers' coarse top class (> 0.5), face_audit 0.5, itapi's review 0.4, Green 60, 2.0 50;
- ad: Baidu has no whole-image ad model (its ad verdicts are code marks and the text's 推广); Green
  and 2.0 read QR codes only (no barcode), at a rate of at least 95; Baidu's 内容审核平台 gives a code
  the truth's ad score as its probability;
- politics: the combination API's politician service lists every politician face, face_audit's rule
  205 from its identity threshold, the others from their review / report thresholds;
- text in images: itapi's ocrtext and Green's ad scene show only their worst category.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.content import make_image
from simulator.keys import SIM
from simulator.scenarios.model import IMAGE, TERROR_LABELS, TEXT, Scenario
from simulator.scenarios.text import PATTERN_WEIGHT, WORD_WEIGHT, TextVerdict
from simulator.sim import Sim
from simulator.vendors.aioasis.models import settings_of as aioasis_settings
from simulator.vendors.aliyun.cip.policy import CipSettings, cip_settings
from simulator.vendors.aliyun.policy import BizType
from simulator.vendors.aliyun.scan import settings_of as aliyun_settings
from simulator.vendors.baidu.censor_policy import CensorPolicy
from simulator.vendors.baidu.policy import FaceAuditConfig
from simulator.vendors.baidu.policy import settings_of as baidu_settings
from simulator.vendors.itapi.models import settings_of as itapi_settings
from simulator.vendors.itapi.policy import ItapiSettings
from tests.helpers import FACE_AUDIT, baidu_token
from tests.vendors.aliyun.helpers import SCAN, green
from tests.vendors.aliyun.rpc import call as cip_call
from tests.vendors.aliyun.rpc import service_form
from tests.vendors.showapi.common import signed

Value = bool | frozenset[str]
#: observed verdict: dimension -> value (absent: not reported, or masked by a worse label)
Verdict = dict[str, Value]
#: expected verdict: dimension -> (value, the rule that gives it)
Expected = dict[str, tuple[Value, str]]

CATEGORIES = (1, 2, 3, 4, 5)
BOOL_DIMS = ("porn", "sexy", "terror", "politics", "qr", "ad", "failed", *(f"text:{n}" for n in CATEGORIES))


def rate(p: float) -> float:
    """A probability as Green and Content Moderation 2.0 rate it (0-100, two decimals)."""
    return round(max(0.0, min(1.0, p)) * 100, 2)


# ------------------------------------------------------------------------------------------------
# wire names, written out here (not imported) so a mapping typo in the simulator fails this test

#: Green 2018 text labels (the ad scene's text, /green/text/scan) -> lexicon category
GREEN_TEXT = {"terrorism": 1, "porn": 2, "politics": 3, "ad": 4, "abuse": 5}
GREEN_LABEL = {n: label for label, n in GREEN_TEXT.items()}
#: Green 2018 terrorism-scene labels that are not violence (behaviours): masked, not "no terror"
GREEN_NOT_TERROR = {"drug", "gamble"}
#: Content Moderation 2.0 text-in-image labels -> lexicon category (abuse has no image label)
CIP_TII = {
    "violent_horrific_tii": 1,
    "pornographic_adultContent_tii": 2,
    "political_historicalNihility_tii": 3,
    "pt_toDirectContact_tii": 4,
}
#: TextModeration labels -> lexicon category
CIP_TEXT = {"violence": 1, "sexual_content": 2, "political_content": 3, "ad": 4, "profanity": 5}
#: 内容审核平台 type 1 (porn) subTypes, as Baidu's doc numbers them: explicit (一般色情, 卡通色情, SM, 低俗,
#: 儿童裸露, 艺术品色情, 性玩具) and suggestive (男性性感, 女性性感, 卡通女性性感)
BAIDU_PORN_SUBTYPES = {0, 1, 2, 3, 4, 5, 6}
BAIDU_SEXY_SUBTYPES = {7, 9, 10}
BAIDU_SEXY_LABELS = {"男性性感", "女性性感", "卡通女性性感"}
#: itapi ocrtext levels -> lexicon category (the inverse of vendors.itapi.ocrtext_labels is checked below)
ITAPI_OCR_LEVELS = {1: 1, 2: 2, 3: 3, 5: 4, 6: 5}


# ------------------------------------------------------------------------------------------------
# the truth


@dataclass(frozen=True)
class Truth:
    """A scenario and the lexicon's verdict on its text lines (the vendor-neutral text truth)."""

    s: Scenario
    text: TextVerdict | None

    def score(self, label: int) -> float:
        for ls in self.text.labels if self.text else ():
            if ls.label == label:
                return ls.score
        return 0.0

    def words(self, label: int) -> frozenset[str]:
        for ls in self.text.labels if self.text else ():
            if ls.label == label:
                return frozenset(ls.hits)
        return frozenset()

    @property
    def code(self) -> bool:
        return self.s.ads.qrcode or self.s.ads.barcode

    def politicians(self, kinds: tuple[str, ...] = ("politician",)) -> list[float]:
        return [f.probability for f in self.s.faces if f.identity is not None and f.identity.kind in kinds]

    def describe(self, dim: str) -> str:
        s = self.s
        if dim in ("porn", "sexy"):
            frames = f", frames porn {[p.porn for p in s.frames]}" if s.frames else ""
            return f"porn {s.porn.porn}, sexy {s.porn.sexy}, normal {s.porn.normal}{frames}"
        if dim == "terror":
            return f"terror {[(t.name, t.score) for t in s.terror]}"
        if dim == "politics":
            return f"faces {[(f.identity.kind, f.probability) for f in s.faces if f.identity]}"
        if dim in ("qr", "ad"):
            return f"ads {s.ads}, text 4 score {self.score(4)}"
        if dim == "failed":
            return f"service_error {s.service_error}"
        label = int(dim.split(":")[1]) if ":" in dim else None
        if label is None:
            return f"text {list(s.text)}"
        return f"text {list(s.text)}: category {label} score {self.score(label)} words {sorted(self.words(label))}"


def text_dims(t: Truth, flagged: Callable[[int, float], bool], why: str, *, words: str = "") -> Expected:
    """``text:N`` for every category (``flagged(N, score)``); ``words`` "per-label": ``words:N`` of
    the flagged ones; "union": ``words``, all of them; "both"."""
    out: Expected = {}
    union: set[str] = set()
    for n in CATEGORIES:
        hit = t.text is not None and flagged(n, t.score(n))
        out[f"text:{n}"] = (hit, why)
        if hit:
            union |= t.words(n)
            if words in ("per-label", "both"):
                out[f"words:{n}"] = (t.words(n), "the lexicon's words for the category")
    if words in ("union", "both"):
        out["words"] = (frozenset(union), "the lexicon's words of every flagged category")
    return out


def failing(t: Truth, services: tuple[str, ...] | None = None) -> bool:
    """The scenario's ``service_error`` reaches an operation running ``services`` (None: any)."""
    f = t.s.service_error
    return f is not None and (services is None or f.service is None or f.service in services)


def top_class(p: dict[str, float], name: str) -> bool:
    """A classifier's ``conclusion`` is its most probable class (captured order breaks ties)."""
    return max(p, key=lambda k: p[k]) == name


# ------------------------------------------------------------------------------------------------
# the rules: what each operation's documented policy makes of the truth


@dataclass(frozen=True)
class Policies:
    """The thresholds as configured in the fixtures (the simulator's parsed fixture sections)."""

    lexicon_review: float
    face_audit: FaceAuditConfig  # configId 1 (sent to face_audit; showapi's default; AI绿洲's)
    showapi_config: FaceAuditConfig
    aioasis_config: FaceAuditConfig
    censor: CensorPolicy
    itapi: ItapiSettings
    green: BizType
    cip: CipSettings

    @classmethod
    def of(cls, sim: Sim) -> Policies:
        bs = baidu_settings(sim)
        aliyun = aliyun_settings(sim)
        return cls(
            lexicon_review=sim.lexicon.review,
            face_audit=bs.configs["1"],
            showapi_config=bs.configs[bs.default_config],
            aioasis_config=bs.configs[aioasis_settings(sim).config_id],
            censor=bs.censor,
            itapi=itapi_settings(sim),
            green=aliyun.biz_types[aliyun.default_biz_type],
            cip=cip_settings(sim),
        )


def face_audit_rule(cfg: FaceAuditConfig) -> Callable[[Truth, Policies], Expected]:
    """face_audit (and its resellers showapi 2054-1, AI绿洲): the res_msg rules of the configId, on
    the config's thresholds (vendors.baidu.configs.<id>.thresholds)."""

    def rule(t: Truth, p: Policies) -> Expected:
        if failing(t):
            return {"failed": (True, "a service_error: the result item carries error_code")}
        th, on = cfg.thresholds, set(cfg.rules)
        out: Expected = {"failed": (False, "no service_error")}
        where = f"configs.{cfg.id}.thresholds"
        if 301 in on and "antiporn" in cfg.services:
            out["porn"] = (t.s.porn.porn >= th.porn, f"rule 301: porn >= {where}.porn ({th.porn})")
        if 302 in on and "antiporn" in cfg.services:
            out["sexy"] = (t.s.porn.sexy >= th.sexy, f"rule 302: sexy >= {where}.sexy ({th.sexy})")
        if 401 in on and "terror" in cfg.services:
            out["terror"] = (
                t.s.terror_score >= th.terror,
                f"rule 401: terror >= {where}.terror ({th.terror})",
            )
        if 205 in on and "politician" in cfg.services:
            out["politics"] = (
                any(pr >= th.identity for pr in t.politicians()),
                f"rule 205: a politician face >= {where}.identity ({th.identity})",
            )
        return out

    return rule


def classifier_porn(t: Truth, frames: int = 1) -> Expected:
    """antiPorn, detect_gif, the combination API's antiporn scene: a classifier, no threshold; the
    ``conclusion`` is the top class (detect_gif: of the frame with the highest porn probability)."""
    if frames > 1 and t.s.frames:
        truth = max((t.s.frames[i % len(t.s.frames)] for i in range(frames)), key=lambda q: q.porn)
    else:
        truth = t.s.porn
    classes = {"性感": truth.sexy, "色情": truth.porn, "正常": truth.normal}
    return {
        "porn": (top_class(classes, "色情"), "conclusion (the top class) is 色情"),
        "sexy": (top_class(classes, "性感"), "conclusion (the top class) is 性感"),
    }


def classifier_terror(t: Truth) -> Expected:
    """antiTerror and the combination API's terror scene: the coarse top class is 暴恐 (score > 0.5)."""
    return {"terror": (t.s.terror_score > 1 - t.s.terror_score, "result_coarse's top class is 暴恐")}


def anti_porn_rule(t: Truth, p: Policies) -> Expected:
    if failing(t, ("antiporn",)):
        return {"failed": (True, "a service_error: the request's error_code")}
    return {"failed": (False, "no service_error"), **classifier_porn(t)}


def detect_gif_rule(t: Truth, p: Policies) -> Expected:
    if failing(t, ("antiporn",)):
        return {"failed": (True, "a service_error: the request's error_code, as antiPorn")}
    return {"failed": (False, "no service_error"), **classifier_porn(t, GIF_FRAMES)}


def anti_terror_rule(t: Truth, p: Policies) -> Expected:
    if failing(t, ("terror",)):
        return {"failed": (True, "a service_error: the request's error_code")}
    return {"failed": (False, "no service_error"), **classifier_terror(t)}


def baidu_code(t: Truth, review: float) -> bool:
    """内容审核平台's type 4 items: a QR code / barcode at the truth's ad score (0.9 when unset)."""
    return t.code and (t.s.ads.score or 0.9) >= review


def img_censor_rule(t: Truth, p: Policies) -> Expected:
    """内容审核平台-图像 on the default strategy (vendors.baidu.censor): image dimensions at
    image.thresholds.review, the image's text through the lexicon at the lexicon's review."""
    pol = p.censor
    if failing(t):
        return {"failed": (True, "a service_error: 审核失败 (conclusionType 4)")}
    out: Expected = {"failed": (False, "no service_error")}
    dims, review = pol.dimensions, pol.review
    cartoon = bool(t.s.faces) and all(f.human < 0.5 for f in t.s.faces)
    male = bool(t.s.faces) and t.s.faces[0].gender == "male"
    if "porn" in dims:
        label = "卡通色情" if cartoon else "一般色情"
        out["porn"] = (
            label in pol.porn_labels and t.s.porn.porn >= review,
            f"{label} in porn_labels and porn >= image.thresholds.review ({review})",
        )
        sexy_label = "男性性感" if male else "女性性感"
        # the default strategy's porn labels (默认违规标签) have no 性感 label: it does not flag
        # suggestive images at all (fixtures/baidu/censor.yaml), so it reports no "sexy" then
        if BAIDU_SEXY_LABELS & set(pol.porn_labels):
            out["sexy"] = (
                sexy_label in pol.porn_labels and t.s.porn.sexy >= review,
                f"{sexy_label} in porn_labels and sexy >= image.thresholds.review ({review})",
            )
    if "terror" in dims:
        out["terror"] = (
            any(
                TERROR_LABELS.get(x.name, x.name) in pol.terror_labels and x.score >= review
                for x in t.s.terror
            ),
            f"a terror label in terror_labels >= image.thresholds.review ({review})",
        )
    if "politics" in dims:
        out["politics"] = (
            any(pr >= review for pr in t.politicians()),
            f"a politician face >= image.thresholds.review ({review})",
        )
    if "ads" in dims:
        out["qr"] = (baidu_code(t, review), f"a code, its probability (ad score or 0.9) >= {review}")
    whitelisted = any(wl.found("\n".join(t.s.text)) for wl in pol.whitelists)
    if "text" in dims:
        lex = p.lexicon_review
        out.update(
            text_dims(
                t,
                lambda _, sc: not whitelisted and sc >= lex,
                f"the image's text, category score >= the lexicon's review ({lex})",
                words="per-label",
            )
        )
    if "ads" in dims and "text" in dims:
        # Baidu has no whole-image ad model: its ad verdicts are the code marks (type 4) and the
        # image text's 恶意推广 (type 12 subType 4); the truth's ads.score alone is not rendered
        out["ad"] = (
            baidu_code(t, review) or (not whitelisted and t.score(4) >= p.lexicon_review),
            "a code (type 4) or the text's category 4 (type 12): Baidu has no whole-image ad score",
        )
    return out


COMB_SCENES = ("antiporn", "terror", "politician", "watermark", "anti_spam")


def comb_rule(t: Truth, p: Policies) -> Expected:
    """组合服务接口 with the scenes ``COMB_SCENES``: classifiers (no thresholds), the politician service
    lists every politician face, watermark every code, anti_spam the lexicon's buckets."""
    if failing(t, COMB_SCENES):
        return {"failed": (True, "a service_error: the failed scenes carry error_code")}
    lex = p.lexicon_review
    out: Expected = {
        "failed": (False, "no service_error"),
        **classifier_porn(t),
        **classifier_terror(t),
        "politics": (bool(t.politicians()), "include_politician 是: any politician face"),
        "qr": (t.code, "watermark lists every QR code / barcode"),
        "ad": (
            t.code or t.score(4) >= lex,
            "watermark, or anti_spam's category 4: Baidu has no whole-image ad score",
        ),
    }
    out.update(
        text_dims(t, lambda _, sc: sc >= lex, f"anti_spam: category score >= the lexicon's review ({lex})")
    )
    return out


def itapi_rule(t: Truth, p: Policies) -> Expected:
    """itapi with every model (vendors.itapi.thresholds); only ocrtext's strongest category shows."""
    st = p.itapi
    if failing(t):
        return {"failed": (True, "a service_error: code 500")}
    cut = st.thresholds
    ocr = cut["ocrtext"].review
    out: Expected = {
        "failed": (False, "no service_error"),
        "porn": (t.s.porn.porn >= cut["porn"].block, f"porn >= thresholds.porn.block ({cut['porn'].block})"),
        # itapi's 性感 is a review at thresholds.porn.review on the sexy probability
        "sexy": (
            t.s.porn.sexy >= cut["porn"].review,
            f"sexy >= thresholds.porn.review ({cut['porn'].review})",
        ),
        "terror": (
            t.s.terror_score >= cut["terror"].review,
            f"terror >= thresholds.terror.review ({cut['terror'].review})",
        ),
        "politics": (
            any(pr >= cut["politics"].review for pr in t.politicians()),
            f"a politician face >= thresholds.politics.review ({cut['politics'].review})",
        ),
        "ad": (
            t.s.ads.score >= cut["ads"].review or t.code or (t.text is not None and t.score(4) >= ocr),
            f"ad score >= thresholds.ads.review ({cut['ads'].review}), a code, or ocrtext 广告 >= {ocr}",
        ),
    }
    out.update(
        text_dims(t, lambda _, sc: sc >= ocr, f"ocrtext: category score >= thresholds.ocrtext.review ({ocr})")
    )
    return out


def green_flags(policy: Any, label: str, r: float) -> bool:
    return bool(policy.for_label(label).suggestion(r) != "pass")


GREEN_SCENES = ("porn", "terrorism", "ad", "qrcode", "sface")


def green_rule(t: Truth, p: Policies) -> Expected:
    """/green/image/scan with ``GREEN_SCENES`` on the default bizType (vendors.aliyun.biz_types):
    a label counts from its scene's review threshold; a QR code's rate is at least 95."""
    if failing(t):
        return {"failed": (True, "a service_error: task code 586")}
    sc = p.green.scenes
    qr_rate = rate(max(t.s.ads.score, 0.95))
    ad = sc["ad"]
    out: Expected = {
        "failed": (False, "no service_error"),
        "porn": (green_flags(sc["porn"], "porn", rate(t.s.porn.porn)), "porn scene: rate(porn) >= review"),
        "sexy": (
            green_flags(sc["porn"], "sexy", rate(t.s.porn.sexy)),
            "porn scene: rate(sexy) >= labels.sexy.review",
        ),
        "terror": (
            any(green_flags(sc["terrorism"], "x", rate(x.score)) for x in t.s.terror),
            "terrorism scene: a terror label's rate >= review",
        ),
        "politics": (
            any(green_flags(sc["sface"], "sface", rate(pr)) for pr in t.politicians(p.green.sface_kinds)),
            f"sface scene: a face of sface_kinds {list(p.green.sface_kinds)} at rate >= review",
        ),
        "qr": (
            t.s.ads.qrcode and green_flags(sc["qrcode"], "qrcode", qr_rate),
            "qrcode scene: a QR code (rate >= 95) >= review (Green reads no barcodes)",
        ),
        "ad": (
            green_flags(ad, "ad", rate(t.s.ads.score))
            or (t.s.ads.qrcode and green_flags(ad, "qrcode", qr_rate))
            or green_flags(ad, "ad", rate(t.score(4))),
            "ad scene: ad score, a QR code or the text's 推广 at rate >= review",
        ),
    }
    out.update(
        text_dims(
            t,
            lambda n, sc: green_flags(ad, GREEN_LABEL[n], rate(sc)),
            f"ad scene: the text's category rate >= the ad scene's review ({ad.threshold.review})",
            words="per-label",
        )
    )
    return out


def cip_image_rule(t: Truth, p: Policies) -> Expected:
    """ImageModeration: every label from cip.report_at; abuse text has no image label (not reported)."""
    if failing(t):
        return {"failed": (True, "a service_error: Code 500")}
    at = p.cip.report_at
    why = f"confidence >= cip.report_at ({at})"
    qr = t.s.ads.qrcode and rate(max(t.s.ads.score, 0.95)) >= at
    out: Expected = {
        "failed": (False, "no service_error"),
        "porn": (rate(t.s.porn.porn) >= at, f"pornographic_adultContent: {why}"),
        "sexy": (rate(t.s.porn.sexy) >= at, f"sexual_suggestiveContent: {why}"),
        "terror": (any(rate(x.score) >= at for x in t.s.terror), f"violent_* / political_flag: {why}"),
        "politics": (any(rate(pr) >= at for pr in t.politicians()), f"political_politicalFigure: {why}"),
        "qr": (qr, f"pt_qrCode (a QR code, at least 95): {why}"),
        "ad": (
            qr or rate(t.s.ads.score) >= at or (t.text is not None and rate(t.score(4)) >= at),
            f"pt_qrCode, pt_logotoSocialNetwork or pt_toDirectContact_tii: {why}",
        ),
    }
    text = text_dims(t, lambda _, sc: rate(sc) >= at, f"the category's _tii label: {why}", words="per-label")
    out.update({k: v for k, v in text.items() if k not in ("text:5", "words:5")})
    return out


def text_rule(t: Truth, p: Policies) -> Expected:
    """Every text operation: the lexicon's buckets (review or reject) on the scenario's text lines."""
    lex = p.lexicon_review
    return text_dims(
        t, lambda _, sc: sc >= lex, f"category score >= the lexicon's review ({lex})", words="both"
    )


def cip_text_rule(t: Truth, p: Policies) -> Expected:
    lex = p.lexicon_review
    return text_dims(
        t, lambda _, sc: sc >= lex, f"category score >= the lexicon's review ({lex})", words="union"
    )


def text_censor_rule(t: Truth, p: Policies) -> Expected:
    whitelisted = any(wl.found("\n".join(t.s.text)) for wl in p.censor.whitelists)
    lex = p.lexicon_review
    return text_dims(
        t,
        lambda _, sc: not whitelisted and sc >= lex,
        f"category score >= the lexicon's review ({lex}), unless whitelisted",
        words="both",
    )


# ------------------------------------------------------------------------------------------------
# normalising the answers


def face_audit_verdict(body: dict[str, Any], cfg: FaceAuditConfig) -> Verdict:
    [item] = body["result"]
    if "error_code" in item:
        return {"failed": True}
    hits, on = set(item["res_msg"]), set(cfg.rules)
    out: Verdict = {"failed": False}
    for dim, code in (("porn", 301), ("sexy", 302), ("terror", 401), ("politics", 205)):
        if code in on:
            out[dim] = code in hits
    return out


def antiporn_verdict(body: dict[str, Any]) -> Verdict:
    if "error_code" in body:
        return {"failed": True}
    return {"failed": False, **conclusion_verdict(body["conclusion"])}


def gif_verdict(body: dict[str, Any]) -> Verdict:
    if "error_code" in body:
        return {"failed": True}
    return {"failed": False, **conclusion_verdict(body["conclusion"])}


def conclusion_verdict(conclusion: str) -> Verdict:
    out: Verdict = {"porn": conclusion == "色情"}
    if conclusion != "色情":  # 色情 hides whether 性感 would have been flagged
        out["sexy"] = conclusion == "性感"
    return out


def coarse_terror(body: dict[str, Any]) -> bool:
    coarse = {c["name"]: c["score"] for c in body["result_coarse"]}
    return bool(coarse["暴恐"] > coarse["正常"])


def antiterror_verdict(body: dict[str, Any]) -> Verdict:
    if "error_code" in body:
        return {"failed": True}
    return {"failed": False, "terror": coarse_terror(body)}


def img_censor_verdict(body: dict[str, Any], pol: CensorPolicy) -> Verdict:
    if body["conclusionType"] == 4:
        return {"failed": True}
    items = body.get("data", [])
    of = {kind: [d for d in items if d["type"] == kind] for kind in (1, 2, 4, 5, 12, 14)}
    dims = pol.dimensions
    out: Verdict = {"failed": False}
    if "porn" in dims:
        out["porn"] = any(d["subType"] in BAIDU_PORN_SUBTYPES for d in of[1])
        if BAIDU_SEXY_LABELS & set(pol.porn_labels):
            out["sexy"] = any(d["subType"] in BAIDU_SEXY_SUBTYPES for d in of[1])
    if "terror" in dims:
        out["terror"] = bool(of[2])
    if "politics" in dims:
        out["politics"] = any(d["subType"] == 0 for d in of[5])
    if "ads" in dims:
        out["qr"] = any(d["subType"] in (1, 2) for d in of[4])
    if "text" in dims:
        flagged = {d["subType"]: d for d in of[12]}
        for n in CATEGORIES:
            out[f"text:{n}"] = n in flagged
            if n in flagged:
                out[f"words:{n}"] = frozenset(w for h in flagged[n]["hits"] for w in h["words"])
    if "ads" in dims and "text" in dims:
        out["ad"] = bool(out["qr"]) or bool(out["text:4"])
    return out


def comb_verdict(body: dict[str, Any]) -> Verdict:
    result = body["result"]
    if any("error_code" in v for v in result.values()):
        return {"failed": True}
    spam = result["anti_spam"]["antispam_info_detail"]
    flagged = {x["label"] for bucket in ("reject", "review") for x in spam[bucket]}
    out: Verdict = {
        "failed": False,
        **conclusion_verdict(result["antiporn"]["conclusion"]),
        "terror": coarse_terror(result["terror"]),
        "politics": result["politician"]["include_politician"] == "是",
        "qr": result["watermark"]["result_num"] > 0,
        "ad": result["watermark"]["result_num"] > 0 or 4 in flagged,
    }
    out.update({f"text:{n}": n in flagged for n in CATEGORIES})
    return out


def itapi_verdict(body: dict[str, Any], st: ItapiSettings) -> Verdict:
    if body["code"] == 500:
        return {"failed": True}
    assert body["code"] == 200, body
    d = body["data"]
    porn = d["porn"]["label_level"]
    out: Verdict = {
        "failed": False,
        "porn": porn == 0,
        "terror": d["terror"]["label_level"] == 1,
        "politics": d["politics"]["label_level"] in (0, 1),
    }
    if porn != 0:  # 色情 hides whether 性感 would have been flagged
        out["sexy"] = porn == 1
    level = d["ocrtext"]["label_level"]
    if level == 0:
        out.update({f"text:{n}": False for n in CATEGORIES})
    else:  # only the strongest category shows: the others are masked
        out[f"text:{ITAPI_OCR_LEVELS[level]}"] = True
    if d["ads"]["label_level"] == 1 or level == 5:
        out["ad"] = True
    elif level == 0:
        out["ad"] = False
    return out


def green_verdict(body: dict[str, Any]) -> Verdict:
    assert body["code"] == 200, body
    [task] = body["data"]
    if task["code"] == 586:
        return {"failed": True}
    assert task["code"] == 200, task
    res = {r["scene"]: r for r in task["results"]}
    porn, terror, ad = res["porn"]["label"], res["terrorism"]["label"], res["ad"]
    out: Verdict = {
        "failed": False,
        "qr": res["qrcode"]["label"] == "qrcode",
        "politics": res["sface"]["label"] == "sface",
    }
    # each scene shows only its most severe label: a worse one masks the others
    if porn != "sexy":
        out["porn"] = porn == "porn"
    if porn != "porn":
        out["sexy"] = porn == "sexy"
    if terror not in GREEN_NOT_TERROR:
        out["terror"] = terror != "normal"
    # the ad scene shows one label: normal (nothing), qrcode / ad (advertising: the ad score, a QR
    # code or the text's 推广, which adds hintWordsInfo), or the text's worst category with its words.
    # Words shown mean the category is flagged: a lexicon hit scores at least PATTERN_WEIGHT (0.6),
    # which the ad scene's review (60) flags (checked in the test)
    label = ad["label"]
    hints = frozenset(h["context"] for h in ad.get("hintWordsInfo", ()))
    if label == "normal":
        out["ad"] = False
        out.update({f"text:{n}": False for n in CATEGORIES})
    elif label in ("qrcode", "ad"):
        out["ad"] = True
    if label in GREEN_TEXT and hints:
        n = GREEN_TEXT[label]
        out[f"text:{n}"] = True
        out[f"words:{n}"] = hints
    return out


def cip_image_verdict(body: dict[str, Any]) -> Verdict:
    if body["Code"] == 500:
        return {"failed": True}
    assert body["Code"] == 200, body
    data = body["Data"]
    labels = {r["Label"] for r in data["Result"]} - {"nonLabel"}
    tii = {CIP_TII[lb] for lb in labels if lb in CIP_TII}
    out: Verdict = {
        "failed": False,
        "porn": "pornographic_adultContent" in labels,
        "sexy": "sexual_suggestiveContent" in labels,
        # the truth's terror labels; a flag is political_flag in 2.0 (a terror label in Baidu and Green 2018)
        "terror": any(lb.startswith("violent_") and lb not in CIP_TII for lb in labels)
        or "political_flag" in labels,
        "politics": "political_politicalFigure" in labels,
        "qr": "pt_qrCode" in labels,
        "ad": bool(labels & {"pt_qrCode", "pt_logotoSocialNetwork", "pt_toDirectContact_tii"}),
    }
    out.update({f"text:{n}": n in tii for n in (1, 2, 3, 4)})
    if len(tii) == 1:  # RiskWord is every reported _tii label's words together
        [n] = tii
        out[f"words:{n}"] = frozenset(data["Ext"]["TextInImage"]["RiskWord"])
    return out


def spam_verdict(body: dict[str, Any]) -> Verdict:
    result = body["result"]
    flagged = {x["label"]: frozenset(x["hit"]) for bucket in ("reject", "review") for x in result[bucket]}
    return lexicon_verdict(flagged)


def lexicon_verdict(flagged: dict[int, frozenset[str]], *, per_label: bool = True) -> Verdict:
    out: Verdict = {f"text:{n}": n in flagged for n in CATEGORIES}
    if per_label:
        out.update({f"words:{n}": w for n, w in flagged.items()})
    out["words"] = frozenset(w for ws in flagged.values() for w in ws)
    return out


def text_censor_verdict(body: dict[str, Any]) -> Verdict:
    items = body.get("data", [])
    if any(d["type"] == 14 for d in items):
        return lexicon_verdict({})
    return lexicon_verdict(
        {d["subType"]: frozenset(w for h in d["hits"] for w in h["words"]) for d in items if d["type"] == 12}
    )


def green_text_verdict(body: dict[str, Any]) -> Verdict:
    assert body["code"] == 200, body
    [task] = body["data"]
    [res] = task["results"]
    flagged = {
        GREEN_TEXT[d["label"]]: frozenset(c["context"] for c in d.get("contexts", ()))
        for d in res.get("details", ())
    }
    assert (res["label"] == "normal") == (not flagged), res
    return lexicon_verdict(flagged)


def cip_text_verdict(body: dict[str, Any]) -> Verdict:
    assert body["Code"] == 200, body
    data = body["Data"]
    labels = [CIP_TEXT[lb] for lb in data["labels"].split(",") if lb]
    words = frozenset(json.loads(data["reason"])["riskWords"].split(",")) if data["reason"] else frozenset()
    out = lexicon_verdict({n: frozenset() for n in labels}, per_label=False)
    out["words"] = words
    return out


# ------------------------------------------------------------------------------------------------
# the operations


@dataclass
class Content:
    """One scenario's content in every form an operation takes."""

    name: str
    png: str  # base64 PNG with the marker embedded
    gif: str  # base64 animated GIF with the marker embedded
    url: str  # an image URL naming the scenario by fragment
    text: str  # a text naming the scenario by marker


GIF_FRAMES = 4


def content_of(name: str) -> Content:
    png = base64.b64encode(make_image(name, "png", (128, 128))).decode()
    gif = base64.b64encode(make_image(name, "gif", (64, 64), GIF_FRAMES)).decode()
    return Content(
        name,
        png,
        gif,
        f"https://img.example.invalid/one-truth/{name}.png#modsim={name}",
        f"[[modsim={name}]] 你好",
    )


@dataclass
class Answer:
    status: int
    body: Any
    request_id: str


Client = TestClient[Any, Any]
Send = Callable[[Client, Content], Awaitable[Answer]]


@dataclass(frozen=True)
class Op:
    label: str  # how the matrix names it
    vendor: str  # the simulator's vendor and operation names (journal, Route.content)
    operation: str
    send: Send
    verdict: Callable[[Any], Verdict]
    rule: Callable[[Truth, Policies], Expected]


async def answer(resp: Any) -> Answer:
    text = await resp.text()
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return Answer(resp.status, body, resp.headers["X-Modsim-Request-Id"])


def operations(token: str, pol: Policies) -> list[Op]:
    baidu_q = {"access_token": token}
    aioasis_q = {"appkey": AIOASIS_APPKEY}

    def form(
        path: str, make: Callable[[Content], dict[str, str]], query: dict[str, str] | None = None
    ) -> Send:
        async def send(client: Client, c: Content) -> Answer:
            return await answer(await client.post(path, params=query, data=make(c)))

        return send

    def comb(make: Callable[[Content], dict[str, str]]) -> Send:
        async def send(client: Client, c: Content) -> Answer:
            body = {**make(c), "scenes": list(COMB_SCENES)}
            return await answer(
                await client.post("/api/v1/solution/direct/img_censor", params=baidu_q, json=body)
            )

        return send

    async def green_scan(client: Client, c: Content) -> Answer:
        payload = {"scenes": list(GREEN_SCENES), "tasks": [{"dataId": c.name, "url": c.url}]}
        status, body, headers = await green(client, SCAN, payload)
        return Answer(status, body, headers["X-Modsim-Request-Id"])

    async def green_text(client: Client, c: Content) -> Answer:
        payload = {"scenes": ["antispam"], "tasks": [{"dataId": c.name, "content": c.text}]}
        status, body, headers = await green(client, "/green/text/scan", payload, action="TextScan")
        return Answer(status, body, headers["X-Modsim-Request-Id"])

    async def cip_image(client: Client, c: Content) -> Answer:
        status, body, headers = await cip_call(
            client, "ImageModeration", service_form("baselineCheck", imageUrl=c.url)
        )
        return Answer(status, body, headers["X-Modsim-Request-Id"])

    async def cip_text(client: Client, c: Content) -> Answer:
        status, body, headers = await cip_call(
            client, "TextModeration", service_form("comment_detection", content=c.text)
        )
        return Answer(status, body, headers["X-Modsim-Request-Id"])

    def showapi(api: str, make: Callable[[Content], dict[str, str]]) -> Send:
        async def send(client: Client, c: Content) -> Answer:
            return await answer(await client.post(f"/{api}", data=signed(make(c))))

        return send

    def itapi(make: Callable[[Content], str]) -> Send:
        async def send(client: Client, c: Content) -> Answer:
            data = {"key": "demo-itapi-key", "data": make(c), "type": ITAPI_MODELS, "sync": "yes"}
            return await answer(await client.post("/api/badword/pic", data=data))

        return send

    def inner(key: str, then: Callable[[Any], Verdict]) -> Callable[[Any], Verdict]:
        def verdict(body: Any) -> Verdict:
            return then(body[key])

        return verdict

    fa = face_audit_rule(pol.face_audit)
    ops = [
        Op(
            "baidu face_audit",
            "baidu",
            "face_audit",
            form(FACE_AUDIT, lambda c: {"configId": "1", "images": c.png}, baidu_q),
            lambda b: face_audit_verdict(b, pol.face_audit),
            fa,
        ),
        Op(
            "baidu face_audit (url)",
            "baidu",
            "face_audit",
            form(FACE_AUDIT, lambda c: {"configId": "1", "imgUrls": c.url}, baidu_q),
            lambda b: face_audit_verdict(b, pol.face_audit),
            fa,
        ),
        Op(
            "baidu antiPorn",
            "baidu",
            "antiporn",
            form("/rest/2.0/antiporn/v1/detect", lambda c: {"image": c.png}, baidu_q),
            antiporn_verdict,
            anti_porn_rule,
        ),
        Op(
            "baidu antiPornGif",
            "baidu",
            "detect_gif",
            form("/rest/2.0/antiporn/v1/detect_gif", lambda c: {"image": c.gif}, baidu_q),
            gif_verdict,
            detect_gif_rule,
        ),
        Op(
            "baidu antiTerror",
            "baidu",
            "antiterror",
            form("/rest/2.0/antiterror/v1/detect", lambda c: {"image": c.png}, baidu_q),
            antiterror_verdict,
            anti_terror_rule,
        ),
        Op(
            "baidu imageCensorUserDefined",
            "baidu",
            "img_censor_user_defined",
            form(IMG_CENSOR, lambda c: {"image": c.png}, baidu_q),
            lambda b: img_censor_verdict(b, pol.censor),
            img_censor_rule,
        ),
        Op(
            "baidu imageCensorUserDefined (url)",
            "baidu",
            "img_censor_user_defined",
            form(IMG_CENSOR, lambda c: {"imgUrl": c.url}, baidu_q),
            lambda b: img_censor_verdict(b, pol.censor),
            img_censor_rule,
        ),
        Op(
            "baidu imageCensorComb",
            "baidu",
            "img_censor_comb",
            comb(lambda c: {"image": c.png}),
            comb_verdict,
            comb_rule,
        ),
        Op(
            "baidu imageCensorComb (url)",
            "baidu",
            "img_censor_comb",
            comb(lambda c: {"imgUrl": c.url}),
            comb_verdict,
            comb_rule,
        ),
        Op(
            "showapi 2054-1",
            "showapi",
            "2054-1",
            showapi("2054-1", lambda c: {"images": c.png}),
            inner("showapi_res_body", lambda b: face_audit_verdict(b, pol.showapi_config)),
            face_audit_rule(pol.showapi_config),
        ),
        Op(
            "showapi 2054-1 (url)",
            "showapi",
            "2054-1",
            showapi("2054-1", lambda c: {"imgUrls": c.url}),
            inner("showapi_res_body", lambda b: face_audit_verdict(b, pol.showapi_config)),
            face_audit_rule(pol.showapi_config),
        ),
        Op(
            "showapi 2054-2",
            "showapi",
            "2054-2",
            showapi("2054-2", lambda c: {"image": c.gif}),
            inner("showapi_res_body", gif_verdict),
            detect_gif_rule,
        ),
        Op(
            "aioasis touxiangshenhe",
            "aioasis",
            "touxiangshenhe",
            form("/fantabulous/touxiangshenhe", lambda c: {"images": c.png}, aioasis_q),
            inner("result", lambda b: face_audit_verdict(b, pol.aioasis_config)),
            face_audit_rule(pol.aioasis_config),
        ),
        Op(
            "aioasis touxiangshenhe (url)",
            "aioasis",
            "touxiangshenhe",
            form("/fantabulous/touxiangshenhe", lambda c: {"imgUrls": c.url}, aioasis_q),
            inner("result", lambda b: face_audit_verdict(b, pol.aioasis_config)),
            face_audit_rule(pol.aioasis_config),
        ),
        Op(
            "itapi pic",
            "itapi",
            "pic",
            itapi(lambda c: c.png),
            lambda b: itapi_verdict(b, pol.itapi),
            itapi_rule,
        ),
        Op(
            "itapi pic (url)",
            "itapi",
            "pic",
            itapi(lambda c: c.url),
            lambda b: itapi_verdict(b, pol.itapi),
            itapi_rule,
        ),
        Op("aliyun /green/image/scan", "aliyun", "image_scan", green_scan, green_verdict, green_rule),
        Op(
            "aliyun ImageModeration",
            "aliyun",
            "image_moderation",
            cip_image,
            cip_image_verdict,
            cip_image_rule,
        ),
        # text operations
        Op(
            "baidu antiSpam",
            "baidu",
            "spam",
            form("/rest/2.0/antispam/v2/spam", lambda c: {"content": c.text}, baidu_q),
            spam_verdict,
            text_rule,
        ),
        Op(
            "baidu textCensorUserDefined",
            "baidu",
            "text_censor_user_defined",
            form("/rest/2.0/solution/v1/text_censor/v2/user_defined", lambda c: {"text": c.text}, baidu_q),
            text_censor_verdict,
            text_censor_rule,
        ),
        Op(
            "showapi 2054-3",
            "showapi",
            "2054-3",
            showapi("2054-3", lambda c: {"content": c.text}),
            inner("showapi_res_body", spam_verdict),
            text_rule,
        ),
        Op("aliyun /green/text/scan", "aliyun", "text_scan", green_text, green_text_verdict, text_rule),
        Op("aliyun TextModeration", "aliyun", "text_moderation", cip_text, cip_text_verdict, cip_text_rule),
    ]
    return ops


IMG_CENSOR = "/rest/2.0/solution/v1/img_censor/v2/user_defined"
AIOASIS_APPKEY = "demo-aioasis-appkey"  # paid calls (1000): the matrix uses two per scenario
ITAPI_MODELS = "porn,ads,politics,terror,sensitive,ocrtext"
#: operations with image or text content that the matrix leaves out, and why
NOT_IN_MATRIX = {
    ("aliyun", "image_asyncscan"): "the asynchronous twin of image_scan (the same run_tasks rendering)",
    ("aliyun", "image_async_moderation"): "the asynchronous twin of ImageModeration (the same _moderate)",
    ("aliyun", "add_faces"): "face library management: no verdict",
    ("aliyun", "search_person"): "face library search: no moderation verdict",
}


# ------------------------------------------------------------------------------------------------
# the test


@dataclass
class Cell:
    observed: Verdict
    expected: Expected


@dataclass
class Matrix:
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)  # (scenario, op label) -> cell
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # scenario, op, why


async def test_one_truth_every_rendering(client: Client) -> None:
    started = time.monotonic()
    sim: Sim = client.app[SIM]
    pol = Policies.of(sim)
    problems: list[str] = []

    # the scenarios, from the loaded fixtures
    resp = await client.get("/__modsim/scenarios")
    assert resp.status == 200
    names = [s["name"] for s in (await resp.json())["scenarios"]]
    assert len(names) >= 25 and len(set(names)) == len(names), names
    assert {"clean_avatar", "porn", "sexy", "bloody", "qrcode_ad", "text_ads", "service_error"} <= set(names)

    # the vendors' settings the normalisation relies on
    assert {v: k for k, v in pol.itapi.ocrtext_labels.items()} == ITAPI_OCR_LEVELS, pol.itapi.ocrtext_labels
    assert pol.lexicon_review > 0.3  # a category with no hit scores under 0.3: never flagged
    ad_review = pol.green.scenes["ad"].threshold.review
    # green_verdict takes words shown in Green's ad scene as a flagged category: the weakest hit flags
    assert ad_review is not None and rate(min(WORD_WEIGHT, PATTERN_WEIGHT)) >= ad_review, ad_review

    paid = sim.state.credentials.get("aioasis", AIOASIS_APPKEY)
    assert paid is not None and int(paid.attrs["paid"]) >= 2 * len(names), "AI绿洲's demo appkey runs out"
    token = await baidu_token(client)
    ops = operations(token, pol)

    # every image/text operation of every vendor is in the matrix (or left out for a stated reason)
    content_ops = {
        (v.name, op): route.content
        for v in sim.vendors.values()
        for op, route in v.operations().items()
        if route.kind == "business" and route.content in (IMAGE, TEXT)
    }
    covered = {(o.vendor, o.operation) for o in ops}
    assert set(content_ops) == covered | set(NOT_IN_MATRIX), sorted(
        set(content_ops) ^ (covered | set(NOT_IN_MATRIX))
    )

    matrix = Matrix()
    for name in names:
        s = sim.state.scenarios[name]
        truth = Truth(s, sim.lexicon.truth(s, sim.rng) if s.has_text else None)
        content = content_of(name)
        for op in ops:
            lacks = s.lacks(content_ops[(op.vendor, op.operation)])
            a = await op.send(client, content)
            [entry] = sim.state.journal.query(request_id=a.request_id)
            if lacks is not None:
                # the simulator declares it cannot render the pair: the marker is refused with a
                # warning and the submitted content decides (the default verdict)
                matrix.skipped.append((name, op.label, lacks))
                if entry["scenario_source"] != ["default"] or not entry.get("warnings"):
                    problems.append(
                        f"{name} on {op.label}: declared unrenderable ({lacks}) but the journal says "
                        f"scenario {entry['scenario']} from {entry['scenario_source']}, warnings {entry.get('warnings')}"
                    )
                continue
            if (entry["scenario"], entry["scenario_source"]) != ([name], ["marker"]):
                problems.append(
                    f"{name} on {op.label}: rendered scenario {entry['scenario']} from {entry['scenario_source']} "
                    f"(warnings {entry.get('warnings')}), not {name!r} from its marker"
                )
                continue
            try:
                observed = op.verdict(a.body)
            except (AssertionError, KeyError, TypeError, ValueError) as exc:
                problems.append(
                    f"{name} on {op.label}: unexpected answer {a.status} {str(a.body)[:300]} ({exc!r})"
                )
                continue
            matrix.cells[(name, op.label)] = Cell(observed, op.rule(truth, pol))

    # the matrix: every operation that reports a dimension says what its rule says; rules agree but
    # where the truth lies between two vendors' thresholds, so this is the consistency across vendors
    splits: list[str] = []
    for name in names:
        s = sim.state.scenarios[name]
        truth = Truth(s, sim.lexicon.truth(s, sim.rng) if s.has_text else None)
        row = {who: cell for (n, who), cell in matrix.cells.items() if n == name}
        dims = sorted({d for cell in row.values() for d in (*cell.observed, *cell.expected)})
        for dim in dims:
            said = {who: cell.observed[dim] for who, cell in row.items() if dim in cell.observed}
            want = {who: cell.expected[dim] for who, cell in row.items() if dim in cell.expected}
            if len({show(v) for v, _ in want.values()}) > 1:
                splits.append(
                    f"{name} / {dim}: "
                    + "; ".join(f"{who} expects {show(v)} ({why})" for who, (v, why) in sorted(want.items()))
                )
            for who, value in sorted(said.items()):
                if who not in want:
                    problems.append(f"{name} / {dim}: {who} reported {show(value)} but has no rule for {dim}")
                    continue
                expect, why = want[who]
                if value != expect:
                    others = ", ".join(f"{o}={show(v)}" for o, v in sorted(said.items()) if o != who)
                    problems.append(
                        f"scenario {name!r}, dimension {dim} (truth: {truth.describe(dim)}): {who} said "
                        f"{show(value)}, its rule says {show(expect)} ({why}); the others said: {others or 'nothing'}"
                    )

    # the matrix is not vacuous: each operation reports each dimension of its rule at least once, a
    # yes/no dimension both ways across the library (for the dimensions the library exercises)
    seen: dict[tuple[str, str], set[str]] = {}
    for (_, who), cell in matrix.cells.items():
        for dim, value in cell.observed.items():
            seen.setdefault((who, dim), set()).add(show(value) if dim in BOOL_DIMS else "words")
    for op in ops:
        declared = {d for (_, o), cell in matrix.cells.items() if o == op.label for d in cell.expected}
        for dim in sorted(declared):
            got = seen.get((op.label, dim), set())
            want_both = dim in BOOL_DIMS and any(
                cell.expected[dim][0] is True
                for (_, o), cell in matrix.cells.items()
                if o == op.label and dim in cell.expected
            )
            if not got or (want_both and got != {"yes", "no"}):
                problems.append(
                    f"{op.label}: dimension {dim} observed only as {sorted(got)} across the library"
                )

    elapsed = time.monotonic() - started
    rendered = len(matrix.cells)
    print(
        f"\none truth: {len(names)} scenarios x {len(ops)} operations: {rendered} rendered, "
        f"{len(matrix.skipped)} declared unrenderable, {elapsed:.1f} s"
    )
    for line in splits:
        print("  per-vendor rules differ:", line)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
    assert rendered + len(matrix.skipped) == len(names) * len(ops)
    assert elapsed < 60, f"the matrix took {elapsed:.1f} s"


async def test_service_error_fails_the_gif_operations_too(client: Client) -> None:
    """``service_error`` ("the vendor's analysis of this image fails inside") fails every image
    operation (Baidu face_audit's item, antiPorn and antiTerror 282805, 审核失败, the combination API's
    scenes, itapi 500, Green 586, ImageModeration 500), Baidu's detect_gif too (it once answered
    the scenario's porn truth as if nothing had failed)."""
    token = await baidu_token(client)
    c = content_of("service_error")
    porn = await client.post(
        "/rest/2.0/antiporn/v1/detect", params={"access_token": token}, data={"image": c.png}
    )
    assert (await porn.json())["error_code"] == 282805
    gif = await client.post(
        "/rest/2.0/antiporn/v1/detect_gif", params={"access_token": token}, data={"image": c.gif}
    )
    body = await gif.json()
    assert body.get("error_code") == 282805, f"detect_gif answered as if nothing failed: {body}"


def show(value: Value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "{" + ", ".join(sorted(value)) + "}"
