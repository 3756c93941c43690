"""One Green scene result from the vendor-neutral truth, through a bizType's thresholds.

A scene's candidate labels each get a rate (the truth's probability x 100, two decimals); the
label shown is the candidate with the most severe suggestion (then the highest rate); when none
reaches its ``review`` threshold the label is ``normal`` with the rate of "nothing found".

Truth -> labels (documented in docs/aliyun.md):
- porn: ``porn.porn`` -> porn, ``porn.sexy`` -> sexy;
- terrorism: ``terror`` labels mapped to Green's (bloody, explosion, outfit, weapon, violence,
  crowd, carcrash, flag, ... anything else -> others), behaviours drugs/gambling -> drug/gamble;
- ad: ``ads.score`` -> ad, ``ads.qrcode`` -> qrcode (with ``qrcodeData``), and the text lines
  through the lexicon (暴恐 -> terrorism, 色情 -> porn, 政治 -> politics, 推广 -> ad,
  辱骂 -> abuse; the words hit as ``hintWordsInfo``);
- qrcode: ``ads.qrcode`` -> qrcode with ``qrcodeData``;
- live: behaviours smoking/drugs/gambling -> smoking/drug/gamble;
- logo: ``logos`` -> TV (names with "TV" or 台) or trademark, with ``logoData``;
- sface: faces whose identity kind is in the bizType's ``sface_kinds`` -> sface with ``sfaceData``;
- sface-n: the face-library matches computed by ``faces.search`` -> sface with ``sfaceData``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from simulator.scenarios.model import Face, Scenario
from simulator.scenarios.text import TextVerdict
from simulator.vendors.aliyun.policy import BizType, ScenePolicy

SEVERITY = {"pass": 0, "review": 1, "block": 2}
TERROR_LABELS = {
    "bloody": "bloody",
    "corpse": "bloody",
    "animal_gore": "bloody",
    "fire": "explosion",
    "explosion": "explosion",
    "murder": "violence",
    "riot": "violence",
    "violence": "violence",
    "terrorist": "outfit",
    "outfit": "outfit",
    "police": "outfit",
    "flag": "flag",
    "weapon": "weapon",
    "crowd": "crowd",
    "parade": "parade",
    "car_crash": "carcrash",
    "carcrash": "carcrash",
    "logo": "logo",
    "politics": "politics",
    "location": "location",
    "drug": "drug",
    "gamble": "gamble",
}
BEHAVIOUR_TERROR = {"drugs": "drug", "gambling": "gamble"}
BEHAVIOUR_LIVE = {"smoking": "smoking", "drugs": "drug", "gambling": "gamble"}
TEXT_LABELS = {1: "terrorism", 2: "porn", 3: "politics", 4: "ad", 5: "abuse"}
QR_FLOOR = 0.95


@dataclass(frozen=True)
class Match:
    """A face-library person found in the image."""

    person_id: str
    name: str
    rate: float  # 0-100


def rate(p: float) -> float:
    return round(max(0.0, min(1.0, p)) * 100, 2)


def _decide(
    policy: ScenePolicy, candidates: list[tuple[str, float]], normal: float
) -> tuple[str, float, str]:
    best: tuple[int, float, str] | None = None
    for label, r in candidates:
        sev = SEVERITY[policy.for_label(label).suggestion(r)]
        if sev and (best is None or (sev, r) > best[:2]):
            best = (sev, r, label)
    if best is None:
        return "normal", round(normal, 2), "pass"
    sev, r, label = best
    return label, r, next(k for k, v in SEVERITY.items() if v == sev)


def _result(
    scene: str, policy: ScenePolicy, candidates: list[tuple[str, float]], normal: float | None = None
) -> dict[str, Any]:
    top = max((r for _, r in candidates), default=0.0)
    label, r, suggestion = _decide(policy, candidates, 100 - top if normal is None else normal)
    return {"scene": scene, "label": label, "suggestion": suggestion, "rate": r}


def face_id(f: Face) -> str:
    ident = f.identity
    if ident is None:
        return ""
    if ident.id and ident.id.isdigit():
        return f"AliFace_{int(ident.id):07d}"
    if ident.id:
        return ident.id
    return f"AliFace_{int(hashlib.sha1(ident.name.encode()).hexdigest()[:8], 16) % 10**7:07d}"


def _sface_entry(f: Face | None, faces: list[dict[str, Any]], size: tuple[int, int]) -> dict[str, Any]:
    if f is None:
        x, y, w, h = 0, 0, size[0], size[1]
        glasses = False
    else:
        x, y, w, h = f.box
        glasses = bool(f.glasses)
    return {"x": x, "y": y, "w": w, "h": h, "smileRate": 0, "glasses": glasses, "faces": faces}


#: (ids of the scenario, bizType and text verdict, the scenes) -> (those objects, the results), first in
#: first out; the objects are kept so their ids cannot be reused while an entry lives
_MEMO: dict[
    tuple[int, int, int, tuple[str, ...]],
    tuple[Scenario, BizType, TextVerdict | None, tuple[dict[str, Any], ...]],
] = {}
MEMO_MAX = 1024


def render_all(
    scenes: tuple[str, ...], s: Scenario, biz: BizType, *, text: TextVerdict | None = None
) -> list[dict[str, Any]]:
    """``[render(sc, s, biz, text=text) for sc in scenes]``, remembered: a scene result depends only on
    the scenario, the bizType's thresholds and the text verdict (all immutable), so the same content
    asked again is not rendered again. The result objects are shared between answers (each call gets
    its own list): nothing changes a scene result once rendered, as with Baidu's shared renderings.
    A caller that wants to change one copies it first."""
    key = (id(s), id(biz), id(text), scenes)
    hit = _MEMO.get(key)
    if hit is None or hit[0] is not s or hit[1] is not biz or hit[2] is not text:
        hit = (s, biz, text, tuple(render(sc, s, biz, text=text) for sc in scenes))
        if len(_MEMO) >= MEMO_MAX:
            del _MEMO[next(iter(_MEMO))]
        _MEMO[key] = hit
    return list(hit[3])


def render(
    scene: str,
    s: Scenario,
    biz: BizType,
    *,
    text: TextVerdict | None = None,
    matches: list[Match] | None = None,
) -> dict[str, Any]:
    policy = biz.scenes[scene]
    if scene == "porn":
        return _result(
            scene, policy, [("porn", rate(s.porn.porn)), ("sexy", rate(s.porn.sexy))], rate(s.porn.normal)
        )
    if scene == "terrorism":
        cands = [(TERROR_LABELS.get(t.name, "others"), rate(t.score)) for t in s.terror]
        cands += [
            (BEHAVIOUR_TERROR[b.name], rate(b.score)) for b in s.behaviours if b.name in BEHAVIOUR_TERROR
        ]
        return _result(scene, policy, cands)
    if scene == "live":
        cands = [(BEHAVIOUR_LIVE[b.name], rate(b.score)) for b in s.behaviours if b.name in BEHAVIOUR_LIVE]
        return _result(scene, policy, cands)
    if scene == "qrcode":
        cands = [("qrcode", rate(max(s.ads.score, QR_FLOOR)))] if s.ads.qrcode else []
        out = _result(scene, policy, cands)
        if out["label"] == "qrcode":
            out["qrcodeData"] = list(s.ads.qrcode_texts)
        return out
    if scene == "ad":
        return _ad(s, policy, text)
    if scene == "logo":
        return _logo(s, policy)
    if scene == "sface":
        return _sface(s, biz, policy)
    return _sface_n(s, policy, matches or [])


def _ad(s: Scenario, policy: ScenePolicy, text: TextVerdict | None) -> dict[str, Any]:
    scores: dict[str, float] = {"ad": rate(s.ads.score)}
    hints: dict[str, tuple[str, ...]] = {}
    if s.ads.qrcode:
        scores["qrcode"] = rate(max(s.ads.score, QR_FLOOR))
    for ls in text.labels if text else ():
        label = TEXT_LABELS.get(ls.label)
        if label is None:
            continue
        if rate(ls.score) >= scores.get(label, 0.0):
            scores[label] = rate(ls.score)
        if ls.hits:
            hints[label] = ls.hits
    out = _result("ad", policy, list(scores.items()))
    if out["label"] in hints:
        out["hintWordsInfo"] = [{"context": w} for w in hints[out["label"]]]
    if out["label"] == "qrcode":
        out["qrcodeData"] = list(s.ads.qrcode_texts)
    return out


def _logo(s: Scenario, policy: ScenePolicy) -> dict[str, Any]:
    def kind(name: str) -> str:
        return "TV" if "TV" in name.upper() or "台" in name else "trademark"

    out = _result("logo", policy, [(kind(lg.name), rate(lg.score)) for lg in s.logos])
    if out["label"] != "normal":
        side = max(1, min(s.size) // 4)
        out["logoData"] = [
            {"type": kind(lg.name), "name": lg.name, "x": 8 + 4 * i, "y": 8 + 4 * i, "w": side, "h": side}
            for i, lg in enumerate(s.logos)
            if policy.for_label(kind(lg.name)).suggestion(rate(lg.score)) != "pass"
        ]
    return out


def _sface(s: Scenario, biz: BizType, policy: ScenePolicy) -> dict[str, Any]:
    sensitive = [f for f in s.faces if f.identity is not None and f.identity.kind in biz.sface_kinds]
    out = _result("sface", policy, [("sface", rate(f.probability)) for f in sensitive])
    if out["label"] == "sface":
        out["sfaceData"] = [
            _sface_entry(
                f, [{"name": f.identity.name, "rate": rate(f.probability), "id": face_id(f)}], s.size
            )
            for f in sensitive
            if f.identity is not None and policy.for_label("sface").suggestion(rate(f.probability)) != "pass"
        ]
    return out


def _sface_n(s: Scenario, policy: ScenePolicy, matches: list[Match]) -> dict[str, Any]:
    out = _result("sface-n", policy, [("sface", m.rate) for m in matches])
    if out["label"] == "sface":
        face = s.faces[0] if s.faces else None
        found = [{"name": m.name, "rate": m.rate, "id": m.person_id} for m in matches]
        out["sfaceData"] = [_sface_entry(face, found, s.size)]
    return out
