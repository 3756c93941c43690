"""From the vendor-neutral truth to itapi's verdict: one object per requested model, then the
overall ``conclusion``. No aiohttp here.

Per model (documented level tables; thresholds from ``vendors.itapi.thresholds``):

- ``porn``: porn probability >= ``porn.block`` -> 0 色情 (不通过); else sexy probability >=
  ``porn.review`` -> 1 性感 (疑是); else 2 正常. ``details`` is always ``[]`` (the only example).
- ``ads``: 0 正常 / 1 广告 (inferred: the vendor documents no table). The truth's ad score >= ``block``
  -> 不通过, >= ``review`` or a QR/bar code -> 疑是.
- ``politics``: no face -> 3 无人脸; the most likely politician face >= ``block`` -> 0 政治人物
  (不通过), >= ``review`` -> 1 中间值 (疑是), else 2 非政治人物. ``name`` is the person's name
  (``typename`` 政治人物) for levels 0/1; for 2 and 3 all three texts are the label, as in the seed.
- ``terror``: 0 正常 / 1 <the strongest terror label in Chinese, e.g. 血腥> (inferred); the terror
  score >= ``block`` -> 不通过, >= ``review`` -> 疑是.
- ``sensitive``: the strongest behaviour >= ``review``: 1 抽烟 2 吸毒 3 纹身 4 赌博 5 喝酒 6 不文明手势
  7 未成年 8 封建迷信 (>= ``block`` -> 不通过, else 疑是); else 0 正常.
- ``ocrtext``: the scenario's text lines through the text lexicon (``sim.lexicon``); the strongest
  category mapped by ``ocrtext_labels`` (1 暴恐 2 色情 3 涉政 4 敏感 5 广告 6 谩骂 9 未成年) with a
  score >= ``review``; >= ``block`` -> 不通过, else 疑是. No text -> 0 正常.
- 自定义 (top-level 8): a ``custom.words`` entry in the OCR text (``ocrtext`` requested) or a face
  whose identity name is in ``custom.faces`` (``politics`` requested) -> 不通过. No model object changes.

Overall: the worst finding decides: any 不通过 -> 不通过 ("2"), else any 疑是 -> 疑是 ("3"), else 通过
("1") with label 正常 / "1". ``label``/``label_level`` name the worst finding's category (2 暴恐 3 色情
4 涉政 5 敏感 6 广告 7 谩骂 8 自定义); among equally bad findings the lowest level number wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.rng import Rng
from simulator.scenarios.model import TERROR_LABELS, Scenario
from simulator.scenarios.text import Lexicon
from simulator.vendors.itapi.policy import MODELS, ItapiSettings

PASS, REVIEW, BLOCK = 0, 1, 2
CONCLUSIONS = {PASS: ("通过", "1"), BLOCK: ("不通过", "2"), REVIEW: ("疑是", "3")}
CATEGORIES = {1: "正常", 2: "暴恐", 3: "色情", 4: "涉政", 5: "敏感", 6: "广告", 7: "谩骂", 8: "自定义"}

PORN_LABELS = {0: "色情", 1: "性感", 2: "正常"}
ADS_LABELS = {0: "正常", 1: "广告"}
POLITICS_LABELS = {0: "政治人物", 1: "中间值", 2: "非政治人物", 3: "无人脸"}
POLITICIAN_TYPENAME = "政治人物"
SENSITIVE = {
    "smoking": (1, "抽烟"),
    "drugs": (2, "吸毒"),
    "tattoo": (3, "纹身"),
    "gambling": (4, "赌博"),
    "drinking": (5, "喝酒"),
    "gesture": (6, "不文明手势"),
    "minor": (7, "未成年"),
    "superstition": (8, "封建迷信"),
}
OCR_LABELS = {0: "正常", 1: "暴恐", 2: "色情", 3: "涉政", 4: "敏感", 5: "广告", 6: "谩骂", 9: "未成年"}
#: ocrtext level -> top-level category (未成年 counts as 敏感)
OCR_CATEGORY = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 9: 5}


@dataclass(frozen=True)
class Finding:
    severity: int  # PASS, REVIEW or BLOCK
    category: int  # top-level label_level 2..8
    model: str


def _severity(score: float, block: float, review: float) -> int:
    return BLOCK if score >= block else REVIEW if score >= review else PASS


def _porn(st: ItapiSettings, s: Scenario) -> tuple[dict[str, Any], list[Finding]]:
    cut = st.thresholds["porn"]
    if s.porn.porn >= cut.block:
        level, found = 0, [Finding(BLOCK, 3, "porn")]
    elif s.porn.sexy >= cut.review:
        level, found = 1, [Finding(REVIEW, 3, "porn")]
    else:
        level, found = 2, []
    return {"label": PORN_LABELS[level], "label_level": level, "details": []}, found


def _ads(st: ItapiSettings, s: Scenario) -> tuple[dict[str, Any], list[Finding]]:
    cut = st.thresholds["ads"]
    severity = _severity(s.ads.score, cut.block, cut.review)
    if severity == PASS and (s.ads.qrcode or s.ads.barcode):
        severity = REVIEW
    level = 1 if severity else 0
    found = [Finding(severity, 6, "ads")] if severity else []
    return {"label": ADS_LABELS[level], "label_level": level}, found


def _politics(st: ItapiSettings, s: Scenario) -> tuple[dict[str, Any], list[Finding]]:
    cut = st.thresholds["politics"]
    found: list[Finding] = []
    if any(f.identity and f.identity.name in st.custom_faces for f in s.faces):
        found.append(Finding(BLOCK, 8, "politics"))
    if not s.faces:
        label = POLITICS_LABELS[3]
        return {"name": label, "typename": label, "label": label, "label_level": 3}, found
    politicians = [
        (f.probability, f.identity.name) for f in s.faces if f.identity and f.identity.kind == "politician"
    ]
    best = max(politicians, default=None)
    severity = _severity(best[0], cut.block, cut.review) if best else PASS
    if best is None or severity == PASS:
        label = POLITICS_LABELS[2]
        return {"name": label, "typename": label, "label": label, "label_level": 2}, found
    level = 0 if severity == BLOCK else 1
    found.append(Finding(severity, 4, "politics"))
    return {
        "name": best[1],
        "typename": POLITICIAN_TYPENAME,
        "label": POLITICS_LABELS[level],
        "label_level": level,
    }, found


def _terror(st: ItapiSettings, s: Scenario) -> tuple[dict[str, Any], list[Finding]]:
    cut = st.thresholds["terror"]
    top = max(s.terror, key=lambda t: t.score, default=None)
    severity = _severity(top.score, cut.block, cut.review) if top else PASS
    if top is None or severity == PASS:
        return {"label": "正常", "label_level": 0}, []
    return {"label": TERROR_LABELS.get(top.name, top.name), "label_level": 1}, [
        Finding(severity, 2, "terror")
    ]


def _sensitive(st: ItapiSettings, s: Scenario) -> tuple[dict[str, Any], list[Finding]]:
    cut = st.thresholds["sensitive"]
    known = [b for b in s.behaviours if b.name in SENSITIVE]
    top = max(known, key=lambda b: b.score, default=None)
    severity = _severity(top.score, cut.block, cut.review) if top else PASS
    if top is None or severity == PASS:
        return {"label_level": 0, "label": "正常"}, []
    level, label = SENSITIVE[top.name]
    return {"label_level": level, "label": label}, [Finding(severity, 5, "sensitive")]


def _ocrtext(
    st: ItapiSettings, s: Scenario, lexicon: Lexicon, rng: Rng
) -> tuple[dict[str, Any], list[Finding]]:
    cut = st.thresholds["ocrtext"]
    text = "\n".join(s.text)
    found: list[Finding] = []
    if any(w in text for w in st.custom_words):
        found.append(Finding(BLOCK, 8, "ocrtext"))
    if not s.has_text:
        return {"label_level": 0, "label": "正常"}, found
    scored = [(ls.score, st.ocrtext_labels.get(ls.label, 0)) for ls in lexicon.truth(s, rng).labels]
    candidates = [(score, level) for score, level in scored if level and score >= cut.review]
    if not candidates:
        return {"label_level": 0, "label": "正常"}, found
    score, level = max(candidates, key=lambda c: c[0])
    found.append(Finding(_severity(score, cut.block, cut.review), OCR_CATEGORY[level], "ocrtext"))
    return {"label_level": level, "label": OCR_LABELS[level]}, found


def render(
    st: ItapiSettings, s: Scenario, models: tuple[str, ...], lexicon: Lexicon, rng: Rng, taskid: str
) -> dict[str, Any]:
    """``data`` of a verdict answer, in the seed's key order (models in the doc's order)."""
    parts: dict[str, dict[str, Any]] = {}
    findings: list[Finding] = []
    for model in MODELS:
        if model not in models:
            continue
        if model == "ocrtext":
            obj, found = _ocrtext(st, s, lexicon, rng)
        else:
            obj, found = RENDERERS[model](st, s)
        parts[model] = obj
        findings.extend(found)
    worst = max((f.severity for f in findings), default=PASS)
    category = 1 if worst == PASS else min(f.category for f in findings if f.severity == worst)
    conclusion, conclusion_type = CONCLUSIONS[worst]
    return {
        "taskid": taskid,
        "conclusion": conclusion,
        "conclusion_type": conclusion_type,
        "label": CATEGORIES[category],
        "label_level": str(category),
        **parts,
    }


RENDERERS = {
    "porn": _porn,
    "ads": _ads,
    "politics": _politics,
    "terror": _terror,
    "sensitive": _sensitive,
}
