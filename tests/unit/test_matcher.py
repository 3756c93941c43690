"""Scenario resolution: queued > rule > marker > default, rule fields, unknown names, the default."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from simulator.context import RequestCtx
from simulator.rng import Rng
from simulator.scenarios.loader import FixtureSet, ScenarioRule
from simulator.scenarios.matcher import (
    ContentRef,
    Target,
    default_scenario,
    resolve,
    resolve_recorded,
    rule_matches,
    standing_in,
    take_queued,
)
from simulator.scenarios.model import TEXT, Scenario
from simulator.state import QueuedOutcome, State
from simulator.store.memory import MemoryStore

SHA = hashlib.sha256(b"some image").hexdigest()
OTHER_SHA = hashlib.sha256(b"another image").hexdigest()
CONTENT = ContentRef(sha256=SHA, url="https://img.example/a/b.jpg", text="hello 13812345678", marker="marked")


def make_state(
    *rules: ScenarioRule, names: tuple[str, ...] = ("queued", "ruled", "marked", "other")
) -> State:
    fixtures = FixtureSet(scenarios={n: Scenario(name=n) for n in names}, rules=list(rules))
    return State(fixtures, journal_size=10)


@dataclass
class Resolving:
    """What resolution reads (``matcher.Resolver``): the state, a store around its queue, a seed."""

    state: State
    store: MemoryStore
    rng: Rng


def on(state: State, seed: int = 0) -> Resolving:
    return Resolving(state, MemoryStore(state.journal, state.queue), Rng(seed))


async def res(state: State, content: ContentRef = CONTENT, **kw: str | None) -> tuple[str, str, str]:
    args = {"vendor": "baidu", "operation": "face_audit", "credential": "key-1", **kw}
    target = Target(args["vendor"], args["operation"], args["credential"])  # type: ignore[arg-type]
    r = await resolve(on(state), target, content)
    return r.scenario.name, r.source, "; ".join(r.notes + r.warnings)


# --- priority ---------------------------------------------------------------------------------------


async def test_priority_queued_then_rule_then_marker_then_default() -> None:
    state = make_state(ScenarioRule(match={"sha256": SHA}, scenario="ruled", name="by-hash"))
    state.queue.append(QueuedOutcome(scenario="queued", remaining=1))

    assert (await res(state))[:2] == ("queued", "queued")
    # the queue entry is used up: the rule wins over the marker
    assert state.queue == []
    assert (await res(state))[:2] == ("ruled", "rule:by-hash")
    # without rules the marker decides
    state.rules = []
    assert (await res(state))[:2] == ("marked", "marker")
    # nothing at all: the deterministic default
    name, source, note = await res(state, ContentRef(sha256=SHA))
    assert (name, source, note) == ("default", "default", "")


async def test_queued_outcome_serves_exactly_count_calls_then_falls_through() -> None:
    state = make_state()
    state.queue.append(QueuedOutcome(scenario="queued", remaining=3))
    assert [(await res(state))[0] for _ in range(5)] == ["queued"] * 3 + ["marked"] * 2


@pytest.mark.parametrize(
    ("field", "value", "applies"),
    [
        ("vendor", "baidu", True),
        ("vendor", "aliyun", False),
        ("operation", "face_audit", True),
        ("operation", "spam", False),
        ("credential", "key-1", True),
        ("credential", "key-2", False),
    ],
)
async def test_queued_outcome_filters(field: str, value: str, applies: bool) -> None:
    state = make_state()
    state.queue.append(QueuedOutcome(scenario="queued", **{field: value}))  # type: ignore[arg-type]
    assert (await res(state))[0] == ("queued" if applies else "marked")
    assert (state.queue == []) is applies  # a non-matching call does not consume it


async def test_first_matching_rule_wins_and_unnamed_rules_are_reported_by_index() -> None:
    state = make_state(
        ScenarioRule(match={"sha256": OTHER_SHA}, scenario="other"),
        ScenarioRule(match={"vendor": "baidu"}, scenario="ruled"),
        ScenarioRule(match={"vendor": "baidu"}, scenario="other", name="later"),
    )
    assert (await res(state))[:2] == ("ruled", "rule:1")


async def test_rules_without_scenario_are_download_rules_and_do_not_resolve() -> None:
    state = make_state(ScenarioRule(match={"url": "https://img.example/*"}, download="timeout"))
    assert (await res(state))[:2] == ("marked", "marker")


# --- rule fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"sha256": SHA}, True),
        ({"sha256": OTHER_SHA}, False),
        ({"url": "https://img.example/*"}, True),
        ({"url": "https://img.example/a/*.jpg"}, True),
        ({"url": "*.png"}, False),
        ({"url": "HTTPS://IMG.EXAMPLE/*"}, False),  # the glob is case-sensitive
        ({"url": "https://img.example/a/b.jp?"}, True),
        ({"text": r"1[3-9]\d{9}"}, True),  # searched, not anchored
        ({"text": r"^\d+$"}, False),
        ({"text": "HELLO"}, False),
        ({"credential": "key-1"}, True),
        ({"credential": "key-2"}, False),
        ({"vendor": "baidu"}, True),
        ({"vendor": "aliyun"}, False),
        ({"operation": "face_audit"}, True),
        ({"operation": "spam"}, False),
        # every given field must agree
        ({"vendor": "baidu", "operation": "face_audit", "sha256": SHA}, True),
        ({"vendor": "baidu", "operation": "spam", "sha256": SHA}, False),
        ({"credential": "key-1", "url": "*.gif"}, False),
    ],
)
async def test_rule_fields(match: dict[str, str], expected: bool) -> None:
    assert rule_matches(match, "baidu", "face_audit", "key-1", CONTENT) is expected
    state = make_state(ScenarioRule(match=match, scenario="ruled", name="r"))
    assert ((await res(state))[1] == "rule:r") is expected


@pytest.mark.parametrize("field", ["url", "text"])
def test_url_and_text_rules_never_match_content_without_them(field: str) -> None:
    bare = ContentRef(sha256=SHA)
    assert not rule_matches({field: "*"}, "baidu", "face_audit", None, bare)


def test_credential_rule_does_not_match_an_anonymous_call() -> None:
    assert not rule_matches({"credential": "key-1"}, "baidu", "face_audit", None, CONTENT)


# --- unknown scenario names -------------------------------------------------------------------------


async def test_unknown_names_fall_through_with_notes() -> None:
    state = make_state(
        ScenarioRule(match={"vendor": "baidu"}, scenario="ghost-rule", name="bad"),
        ScenarioRule(match={"vendor": "baidu"}, scenario="ruled", name="good"),
    )
    state.queue.append(QueuedOutcome(scenario="ghost-queued"))
    # queued and the first rule are unknown: the next rule decides (no note then: it matched)
    assert (await res(state))[:2] == ("ruled", "rule:good")

    state.rules = [ScenarioRule(match={"vendor": "baidu"}, scenario="ghost-rule", name="bad")]
    state.queue.append(QueuedOutcome(scenario="ghost-queued"))
    ghost_marker = ContentRef(sha256=SHA, marker="ghost-marker")
    r = await resolve(on(state), Target("baidu", "face_audit", "key-1"), ghost_marker)
    assert (r.scenario.name, r.source) == ("default", "default")
    assert r.notes == ("queued scenario 'ghost-queued' unknown: left in the queue",)
    assert r.warnings == (
        "unknown scenario 'ghost-rule'; closest: ruled (rule 0)",
        "marker in the content names an unknown scenario 'ghost-marker'; closest: marked",
    )


async def test_resolve_recorded_writes_the_journal_facts() -> None:
    state = make_state()
    ctx = RequestCtx(request_id="0" * 32, started=0.0, method="POST", path="/", query="", remote=None)
    unknown = ContentRef(sha256=SHA, marker="ghost")
    scenario = await resolve_recorded(on(state), ctx, "baidu", "face_audit", None, CONTENT)
    again = await resolve_recorded(on(state), ctx, "baidu", "face_audit", None, unknown)
    assert (scenario.name, again.name) == ("marked", "default")
    assert ctx.scenario == ["marked", "default"]
    assert ctx.scenario_source == ["marker", "default"]
    assert ctx.warnings == [
        "marker in the content names an unknown scenario 'ghost'; known: marked, other, queued, ruled"
    ]


async def test_marker_close_to_a_known_name_suggests_it() -> None:
    state = make_state(names=("porn", "sexy", "clean_avatar"))
    name, source, note = await res(state, ContentRef(sha256=SHA, marker="prn"))
    assert (name, source) == ("default", "default")
    assert note == "marker in the content names an unknown scenario 'prn'; closest: porn"


# --- what an operation can render -------------------------------------------------------------------

TEXT_TARGET = Target("showapi", "2054-3", "100001", TEXT)


def text_state(*rules: ScenarioRule) -> State:
    fixtures = FixtureSet(
        scenarios={
            "picture": Scenario(name="picture"),
            "words": Scenario(name="words", text=("加微信 abcdef1",)),
        },
        rules=list(rules),
    )
    return State(fixtures, journal_size=10)


async def test_a_text_operation_leaves_an_image_only_queue_entry_for_a_later_call() -> None:
    state = text_state()
    state.queue.append(QueuedOutcome(scenario="picture"))
    state.queue.append(QueuedOutcome(scenario="words"))
    got = await take_queued(on(state), TEXT_TARGET)
    assert got is not None and got.scenario.name == "words" and got.source == "queued"
    assert got.notes == (
        "queued 'picture' left in the queue for a later call: "
        "scenario 'picture' has no text (neither text lines nor text_hits)",
    )
    assert [q.scenario for q in state.queue] == ["picture"]
    # an image operation takes it
    image = await take_queued(on(state), Target("showapi", "2054-1", "100001"))
    assert image is not None and image.scenario.name == "picture"
    assert state.queue == []


async def test_a_rule_reaching_an_operation_that_cannot_render_it_warns_and_the_content_decides() -> None:
    state = text_state(ScenarioRule(match={"vendor": "showapi"}, scenario="picture", name="broad"))
    r = await resolve(on(state), TEXT_TARGET, ContentRef(sha256=SHA, text="hello"))
    assert (r.scenario.name, r.source) == ("default", "default")
    assert r.warnings == (
        "rule:broad reaches showapi 2054-3, which cannot render it: "
        "scenario 'picture' has no text (neither text lines nor text_hits)",
    )
    # the same rule on an image operation applies without a warning
    image = await resolve(on(state), Target("showapi", "2054-1", None), ContentRef(sha256=SHA))
    assert (image.scenario.name, image.source, image.warnings) == ("picture", "rule:broad", ())
    # the text's own marker still decides after such a warning
    marked = await resolve(on(state), TEXT_TARGET, ContentRef(sha256=SHA, text="x", marker="words"))
    assert (marked.scenario.name, marked.source) == ("words", "marker")


# --- standing in for content that cannot be loaded --------------------------------------------------


def test_a_rule_stands_in_for_a_url_that_cannot_be_loaded_but_not_a_hash_rule() -> None:
    state = make_state(
        ScenarioRule(match={"sha256": SHA}, scenario="other", name="by-hash"),
        ScenarioRule(match={"url": "https://img.example/*"}, scenario="ruled", name="by-url"),
    )
    target = Target("baidu", "face_audit", "key-1")
    got = standing_in(state, target, "https://img.example/x.jpg", "failed")
    assert got is not None and (got.scenario.name, got.source) == ("ruled", "rule:by-url")
    assert got.notes == (
        "'https://img.example/x.jpg' could not be loaded (failed): rule:by-url stands in for it",
    )
    assert standing_in(state, target, "https://elsewhere.example/x.jpg", "failed") is None


async def test_give_back_restores_a_used_up_entry() -> None:
    state = make_state()
    state.queue.append(QueuedOutcome(scenario="queued", remaining=1))
    got = await take_queued(on(state), Target("baidu", "face_audit", None))
    assert got is not None and got.entry is not None and state.queue == []
    await on(state).store.queue_give_back(got.entry)
    assert [(q.scenario, q.remaining) for q in state.queue] == [("queued", 1)]


# --- the default ------------------------------------------------------------------------------------


def test_default_is_deterministic_per_content_and_seed() -> None:
    a = default_scenario(Rng(0), SHA)
    assert default_scenario(Rng(0), SHA) == a
    assert default_scenario(Rng(0), OTHER_SHA) != a
    assert default_scenario(Rng(1), SHA) != a
    # independent of the request sequence: draws from the sequence source do not move it
    rng = Rng(0)
    rng.hex(64), rng.randint(0, 10)
    assert default_scenario(rng, SHA) == a


async def test_default_through_resolve_uses_every_identity_part() -> None:
    state = make_state()
    target = Target("baidu", "face_audit", None)
    base = (await resolve(on(state), target, ContentRef(sha256=SHA))).scenario
    with_url = (await resolve(on(state), target, ContentRef(sha256=SHA, url="u"))).scenario
    again = (await resolve(on(state), target, ContentRef(sha256=SHA))).scenario
    assert base == again
    assert base != with_url


@pytest.mark.parametrize("identity", [SHA, OTHER_SHA, "https://x/y.jpg", "text"])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_default_is_an_ordinary_clean_avatar(identity: str, seed: int) -> None:
    s = default_scenario(Rng(seed), identity)
    assert s.name == "default"
    [face] = s.faces
    assert 18 <= face.age <= 55 and face.gender in ("male", "female")
    assert 0.95 <= face.probability <= 1.0
    assert s.text == () and s.terror == ()
    assert s.porn.porn < 0.05 and s.porn.sexy < 0.1
    assert abs(s.porn.porn + s.porn.sexy + s.porn.normal - 1) < 1e-5


def test_text_verdicts_are_remembered_and_equal_to_a_fresh_analysis() -> None:
    """The lexicon's memo gives the same verdict object for the same text, equal to what a lexicon
    without a memo computes; another seed is another entry."""
    from simulator.rng import Rng
    from simulator.scenarios.text import Lexicon

    spec = {"labels": {"4": {"words": ["加微信"], "patterns": [r"\d{11}"]}}}
    lex, fresh = Lexicon(spec), Lexicon(spec)
    text = "加微信 13800138000 看看"
    first = lex.analyse(text, Rng(3))
    assert lex.analyse(text, Rng(3)) is first
    assert first == fresh._analyse(text, Rng(3), ())
    assert lex.analyse(text, Rng(4)) == fresh._analyse(text, Rng(4), ())
    assert dict((s.label, s.hits) for s in first.labels)[4] == ("加微信", "13800138000")
