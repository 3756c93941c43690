"""How a request finds its scenario, first match wins:

1. admin-queued outcomes (next N calls for a vendor/operation/credential),
2. scenario rules (fixtures + admin): ``sha256``, ``url`` glob, ``text`` regex, ``credential``,
   ``vendor``, ``operation`` — every given field must agree,
3. a marker inside the content (PNG text chunk, JPEG/GIF comment, URL fragment ``#modsim=NAME``),
4. a deterministic default derived from the content hash and the seed.

A marker or rule naming an unknown scenario is reported in ``Resolution.note`` and falls through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from simulator.context import RequestCtx
from simulator.rng import Rng
from simulator.scenarios.model import Face, Porn, Quality, Scenario
from simulator.state import State


@dataclass(frozen=True)
class ContentRef:
    """What the matcher may look at: never the pixels, only identity and markers."""

    sha256: str | None = None
    url: str | None = None
    text: str | None = None
    marker: str | None = None


@dataclass(frozen=True)
class Resolution:
    scenario: Scenario
    source: str  # queued | rule:<name> | marker | default
    note: str = ""


def rule_matches(
    match: dict[str, str], vendor: str, operation: str, credential: str | None, content: ContentRef
) -> bool:
    for field, want in match.items():
        if field == "vendor" and want != vendor:
            return False
        if field == "operation" and want != operation:
            return False
        if field == "credential" and want != credential:
            return False
        if field == "sha256" and want != content.sha256:
            return False
        if field == "url" and (content.url is None or not fnmatchcase(content.url, want)):
            return False
        if field == "text" and (content.text is None or not re.search(want, content.text)):
            return False
    return True


def resolve(
    state: State, rng: Rng, vendor: str, operation: str, credential: str | None, content: ContentRef
) -> Resolution:
    notes = []
    queued = state.take_queued(vendor, operation, credential)
    if queued is not None:
        if queued in state.scenarios:
            return Resolution(state.scenarios[queued], "queued")
        notes.append(f"queued scenario {queued!r} unknown")
    for i, rule in enumerate(state.rules):
        if rule.scenario and rule_matches(rule.match, vendor, operation, credential, content):
            if rule.scenario in state.scenarios:
                return Resolution(state.scenarios[rule.scenario], f"rule:{rule.name or i}")
            notes.append(f"rule {rule.name or i} names unknown scenario {rule.scenario!r}")
    if content.marker:
        if content.marker in state.scenarios:
            return Resolution(state.scenarios[content.marker], "marker")
        notes.append(f"marker names unknown scenario {content.marker!r}")
    seed_parts = [p for p in (content.sha256, content.url, content.text) if p is not None]
    return Resolution(default_scenario(rng, *seed_parts), "default", "; ".join(notes))


def resolve_recorded(
    state: State,
    rng: Rng,
    ctx: RequestCtx,
    vendor: str,
    operation: str,
    credential: str | None,
    content: ContentRef,
) -> Scenario:
    """``resolve``, with the scenario, its source and any note written to the request's journal entry."""
    res = resolve(state, rng, vendor, operation, credential, content)
    ctx.scenario.append(res.scenario.name)
    ctx.scenario_source.append(res.source)
    if res.note:
        ctx.note(res.note)
    return res.scenario


def default_scenario(rng: Rng, *identity: str) -> Scenario:
    """A clean, ordinary avatar (one adult face, no text, normal), varied but reproducible per content."""
    return _default_scenario(rng.seed, identity)


@lru_cache(maxsize=1024)
def _default_scenario(seed: int, identity: tuple[str, ...]) -> Scenario:
    """Pure in (seed, content identity) and frozen, so memoised for repeated content (1024: ~2 MB)."""
    r = Rng(seed).for_content("default", *identity)
    w = r.randint(80, 140)
    h = int(w * r.uniform(0.85, 1.15))
    porn = round(r.uniform(0.0001, 0.02), 6)
    sexy = round(r.uniform(0.001, 0.08), 6)
    face = Face(
        box=(r.randint(40, 110), r.randint(40, 110), w, h),
        probability=round(r.uniform(0.95, 1.0), 6),
        gender=r.choice(("male", "female")),
        age=r.randint(18, 55),
        glasses=r.choice((0, 0, 0, 1)),
        human=round(r.uniform(0.95, 0.999), 6),
        blur=round(r.uniform(0.0, 0.05), 6),
        illumination=r.randint(90, 200),
        yaw=round(r.uniform(-10, 10), 4),
        pitch=round(r.uniform(-8, 8), 4),
        roll=round(r.uniform(-8, 8), 4),
    )
    return Scenario(
        name="default",
        description="deterministic default: one ordinary adult face, no text, normal content",
        faces=(face,),
        porn=Porn(porn=porn, sexy=sexy, normal=round(1 - porn - sexy, 6)),
        quality=Quality(
            aesthetic=round(r.uniform(0.55, 0.9), 6),
            blur=round(r.uniform(0.0, 0.1), 6),
            clarity=round(r.uniform(0.7, 0.95), 6),
        ),
    )
