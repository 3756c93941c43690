"""How a request finds its scenario, first match wins:

1. admin-queued outcomes (next N calls for a vendor/operation/credential),
2. scenario rules (fixtures + admin): ``sha256``, ``url`` glob, ``text`` regex, ``credential``,
   ``vendor``, ``operation`` — every given field must agree,
3. a marker inside the content (PNG text chunk, JPEG/GIF comment, URL fragment ``#modsim=NAME``,
   ``[[modsim=NAME]]`` in a text),
4. a deterministic default derived from the content hash and the seed.

Queued outcomes and rules stand in for the content: a queued outcome is taken *before* a URL is
loaded (nothing is fetched, and a URL that resolves nowhere still gets the scenario), and when a
URL cannot be loaded, the first scenario rule that matches without the bytes (``url``, ``text``,
``credential``, ``vendor``, ``operation``; not ``sha256``) gives the verdict instead of the vendor's
download error (``standing_in``).

What an operation can render: a text operation (``reads`` TEXT) renders only a scenario's text
(``Scenario.lacks``). A queued outcome such an operation cannot render is left for a later call; a
rule or marker that reaches it puts a warning on the journal entry (and on the response's
``X-Modsim-Warning`` header), and the submitted content decides. A marker naming an unknown
scenario does the same. Rules and queued outcomes name only existing scenarios (checked when they
are added).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache
from typing import NamedTuple, Protocol

from simulator import patterns
from simulator.content.urls import Download, resolve_url, url_facts
from simulator.context import RequestCtx
from simulator.names import unknown_text
from simulator.rng import Rng
from simulator.scenarios.model import IMAGE, Face, Porn, Quality, Scenario
from simulator.settings import Settings
from simulator.state import QueuedOutcome, State
from simulator.store.base import Store


class ContentRef(NamedTuple):
    """What the matcher may look at: never the pixels, only identity and markers. (``ContentRef``,
    ``Target`` and ``Resolution`` are named tuples: built for every request and image, and a tuple is
    several times cheaper to build than a frozen dataclass.)"""

    sha256: str | None = None
    url: str | None = None
    text: str | None = None
    marker: str | None = None


def url_ref(url: str, marker: str | None = None) -> ContentRef:
    """A URL's identity when no bytes are behind it (synthetic content): the SHA-256 of the URL."""
    return ContentRef(sha256=url_facts(url).sha256, url=url, marker=marker)


class Target(NamedTuple):
    """Who asks: the vendor and operation rules match on, the caller's credential, and what the
    operation analyses (``scenarios.model`` IMAGE or TEXT)."""

    vendor: str
    operation: str
    credential: str | None
    reads: str = IMAGE


class Resolution(NamedTuple):
    scenario: Scenario
    source: str  # queued | rule:<name> | marker | default
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: the queued outcome whose use this took (``State.give_back`` when the call fails after all)
    entry: QueuedOutcome | None = None


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
        if field == "text" and (content.text is None or not patterns.search(want, content.text)):
            return False
    return True


class Resolver(Protocol):
    """What resolution reads: the scenarios and rules (``state``), the queue (``store``), the seed."""

    state: State
    store: Store
    rng: Rng


class Loader(Resolver, Protocol):
    """What loading a URL reads besides: the fetch allowlist (``settings``)."""

    settings: Settings


async def load_url(
    sim: Loader, ctx: RequestCtx, target: Target, url: str, *, timeout_s: float, max_bytes: int
) -> Download:
    """``url`` as this call loads it (``content.urls.resolve_url``): the rules that reach the call's
    vendor and operation, the fetch allowlist, and the client's address for the loopback check."""
    return await resolve_url(
        url,
        rules=sim.state.rules,
        vendor=target.vendor,
        operation=target.operation,
        allowlist=sim.settings.fetch_allowlist,
        peer=ctx.remote,
        timeout_s=timeout_s,
        max_bytes=max_bytes,
    )


async def take_queued(sim: Resolver, target: Target) -> Resolution | None:
    """The queued outcome for this call, one use taken; entries this operation cannot render wait."""
    return (await _take(sim, target))[0]


async def _take(sim: Resolver, target: Target) -> tuple[Resolution | None, tuple[str, ...]]:
    if not sim.store.queue_may_hold():
        return None, ()
    scenarios = sim.state.scenarios

    def unusable(name: str) -> bool:
        s = scenarios.get(name)
        return s is None or s.lacks(target.reads) is not None

    q, skipped = await sim.store.queue_take(target.vendor, target.operation, target.credential, unusable)
    notes = []
    for name in skipped:
        s = scenarios.get(name)
        why = s.lacks(target.reads) if s is not None else None
        notes.append(
            f"queued {name!r} left in the queue for a later call: {why}"
            if why
            else f"queued scenario {name!r} unknown: left in the queue"
        )
    kept = tuple(dict.fromkeys(notes))
    if q is None:
        return None, kept
    return Resolution(scenarios[q.scenario], "queued", kept, entry=q), kept


def _rule_name(rule_name: str, i: int) -> str:
    return f"rule:{rule_name or i}"


def _reaching(s: Scenario, source: str, target: Target) -> tuple[str, ...]:
    why = s.lacks(target.reads)
    if why is None:
        return ()
    return (f"{source} reaches {target.vendor} {target.operation}, which cannot render it: {why}",)


def standing_in(state: State, target: Target, url: str, why: str) -> Resolution | None:
    """A URL could not be loaded (``why``): the first scenario rule that decides without its bytes."""
    content = ContentRef(url=url)
    for i, rule in enumerate(state.rules):
        if not rule.scenario or "sha256" in rule.match or rule.scenario not in state.scenarios:
            continue
        if rule_matches(rule.match, target.vendor, target.operation, target.credential, content):
            source = _rule_name(rule.name, i)
            note = f"{url[:200]!r} could not be loaded ({why}): {source} stands in for it"
            s = state.scenarios[rule.scenario]
            return Resolution(s, source, (note,), _reaching(s, source, target))
    return None


async def resolve(sim: Resolver, target: Target, content: ContentRef) -> Resolution:
    """The scenario for one piece of content."""
    queued, notes = await _take(sim, target)
    if queued is not None:
        return queued
    state, rng = sim.state, sim.rng
    warnings: list[str] = []
    for i, rule in enumerate(state.rules):
        if rule.scenario and rule_matches(
            rule.match, target.vendor, target.operation, target.credential, content
        ):
            s = state.scenarios.get(rule.scenario)
            if s is None:  # scenarios are checked when rules are added; a reset can still drop one
                warnings.append(unknown_text("scenario", rule.scenario, state.scenarios) + f" (rule {i})")
                continue
            source = _rule_name(rule.name, i)
            reach = _reaching(s, source, target)
            if not reach:
                return Resolution(s, source, notes)
            warnings.extend(reach)
            break
    if content.marker:
        s = state.scenarios.get(content.marker)
        if s is None:
            warnings.append(
                "marker in the content names an " + unknown_text("scenario", content.marker, state.scenarios)
            )
        else:
            reach = _reaching(s, "marker", target)
            if not reach:
                return Resolution(s, "marker", notes)
            warnings.extend(reach)
    seed_parts = [p for p in (content.sha256, content.url, content.text) if p is not None]
    return Resolution(default_scenario(rng, *seed_parts), "default", notes, tuple(warnings))


def record(ctx: RequestCtx, res: Resolution) -> Scenario:
    """Write the scenario, its source, notes and warnings to the request's journal entry."""
    ctx.scenario.append(res.scenario.name)
    ctx.scenario_source.append(res.source)
    for n in res.notes:
        ctx.note(n)
    for w in res.warnings:
        ctx.warn(w)
    return res.scenario


async def resolve_recorded(
    sim: Resolver,
    ctx: RequestCtx,
    vendor: str,
    operation: str,
    credential: str | None,
    content: ContentRef,
    *,
    reads: str = IMAGE,
) -> Scenario:
    """``resolve``, with the scenario, its source, notes and warnings written to the journal entry."""
    return record(ctx, await resolve(sim, Target(vendor, operation, credential, reads), content))


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
