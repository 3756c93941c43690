"""Text-censor truth: which categories a text hits, with which words, and how strongly.

Scores are explainable and deterministic:
- each lexicon *word* found weighs 0.85, each *pattern* match (phone numbers, QQ, links) 0.6;
  patterns are RE2 (``simulator.patterns``: linear time, no lookaround); a group named ``hit`` is
  the hit when a pattern needs context around it;
  a category's score is ``1 - prod(1 - w)`` over its hits, capped at 0.99;
- a category with no hit gets a low baseline in [0, 0.3) drawn from the text hash and the seed;
- a scenario's ``text_hits`` (queued, rule or marker) raise a category to at least their score.

A scenario's ``text`` lines are the truth about text content: a text operation given a scenario with
text lines (queued, a rule, a marker) analyses those lines, not the submitted text (``truth``).
``reject``/``review`` thresholds (0.8 / 0.5 by default) turn scores into verdicts.

A text can name its scenario with the marker ``[[modsim=NAME]]`` anywhere in it.

A verdict is a pure function of the text, the forced hits and the seed (the lexicon is fixed when the
simulator starts), so ``analyse`` keeps the last ``MEMO_MAX`` verdicts of texts up to
``MEMO_TEXT_MAX`` characters: a scenario's lines, rendered on every call that names it, are
analysed once (the same ``TextVerdict`` object comes back, which lets renderings memoise on it too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from simulator import patterns
from simulator.rng import Rng
from simulator.scenarios.model import Scenario, TextHit

WORD_WEIGHT = 0.85
PATTERN_WEIGHT = 0.6
TEXT_MARKER = re.compile(r"\[\[modsim=([A-Za-z0-9_.-]{1,64})\]\]")
DEFAULT_NAMES = {1: "暴恐违禁", 2: "文本色情", 3: "政治敏感", 4: "恶意推广", 5: "低俗辱骂"}
#: verdicts kept (first in, first out) and the longest text kept
MEMO_MAX = 512
MEMO_TEXT_MAX = 4096


def marker_from_text(text: str) -> str | None:
    m = TEXT_MARKER.search(text)
    return m.group(1) if m else None


@dataclass(frozen=True)
class LabelScore:
    label: int
    name: str
    score: float
    hits: tuple[str, ...]


@dataclass(frozen=True)
class TextVerdict:
    labels: tuple[LabelScore, ...]  # every category, in label order
    reject: float
    review: float

    def bucket(self, s: LabelScore) -> str:
        if s.score >= self.reject:
            return "reject"
        if s.score >= self.review:
            return "review"
        return "pass"

    @property
    def worst(self) -> str:
        buckets = {self.bucket(s) for s in self.labels}
        return "reject" if "reject" in buckets else "review" if "review" in buckets else "pass"


class Lexicon:
    def __init__(self, spec: dict[str, Any]) -> None:
        th = spec.get("thresholds", {})
        self.reject = float(th.get("reject", 0.8))
        self.review = float(th.get("review", 0.5))
        self.labels: dict[int, tuple[str, tuple[str, ...], tuple[Any, ...]]] = {}
        for key in sorted({*DEFAULT_NAMES, *(int(k) for k in spec.get("labels", {}))}):
            d = spec.get("labels", {}).get(str(key), {})
            found = []
            for p in d.get("patterns", ()):
                try:
                    found.append(patterns.compiled(p))
                except patterns.PatternError as exc:
                    raise ValueError(f"lexicon label {key}: {exc}") from exc
            self.labels[key] = (
                d.get("name") or DEFAULT_NAMES.get(key, str(key)),
                tuple(d.get("words", ())),
                tuple(found),
            )
        self._memo: dict[tuple[str, tuple[TextHit, ...], int], TextVerdict] = {}

    def truth(self, scenario: Scenario, rng: Rng, submitted: str = "") -> TextVerdict:
        """The verdict on a text whose scenario is ``scenario``: its text lines when it has any, else
        the ``submitted`` text; its ``text_hits`` on top."""
        text = "\n".join(scenario.text) if scenario.text else submitted
        return self.analyse(text, rng, scenario.text_hits)

    def analyse(self, text: str, rng: Rng, forced: tuple[TextHit, ...] = ()) -> TextVerdict:
        if len(text) > MEMO_TEXT_MAX:
            return self._analyse(text, rng, forced)
        key = (text, forced, rng.seed)
        verdict = self._memo.get(key)
        if verdict is None:
            verdict = self._analyse(text, rng, forced)
            if len(self._memo) >= MEMO_MAX:
                del self._memo[next(iter(self._memo))]
            self._memo[key] = verdict
        return verdict

    def _analyse(self, text: str, rng: Rng, forced: tuple[TextHit, ...]) -> TextVerdict:
        lowered = text.lower()
        out = []
        for label, (name, words, regexes) in self.labels.items():
            hits: list[str] = []
            weights: list[float] = []
            for w in words:
                if w.lower() in lowered and w not in hits:
                    hits.append(w)
                    weights.append(WORD_WEIGHT)
            for p in regexes:
                hit_group = "hit" if "hit" in p.groupindex else 0
                for m in p.finditer(text):
                    if m.group(hit_group) not in hits:
                        hits.append(m.group(hit_group))
                        weights.append(PATTERN_WEIGHT)
            if weights:
                keep = 1.0
                for weight in weights:
                    keep *= 1 - weight
                score = min(0.99, 1 - keep)
            else:
                score = rng.for_content("text-baseline", str(label), text).uniform(0.0, 0.3)
            for f in forced:
                if f.label == label:
                    score = max(score, f.score)
                    hits.extend(w for w in f.words if w not in hits)
            out.append(LabelScore(label, name, round(score, 6), tuple(hits)))
        return TextVerdict(tuple(out), self.reject, self.review)
