"""Scenario resolution: queued > rule > marker > default, rule fields, unknown names, the default."""

from __future__ import annotations

import hashlib

import pytest

from simulator.context import RequestCtx
from simulator.rng import Rng
from simulator.scenarios.loader import FixtureSet, ScenarioRule
from simulator.scenarios.matcher import ContentRef, default_scenario, resolve, resolve_recorded, rule_matches
from simulator.scenarios.model import Scenario
from simulator.state import QueuedOutcome, State

SHA = hashlib.sha256(b"some image").hexdigest()
OTHER_SHA = hashlib.sha256(b"another image").hexdigest()
CONTENT = ContentRef(sha256=SHA, url="https://img.example/a/b.jpg", text="hello 13812345678", marker="marked")


def make_state(
    *rules: ScenarioRule, names: tuple[str, ...] = ("queued", "ruled", "marked", "other")
) -> State:
    fixtures = FixtureSet(scenarios={n: Scenario(name=n) for n in names}, rules=list(rules))
    return State(fixtures, journal_size=10)


def res(state: State, content: ContentRef = CONTENT, **kw: str | None) -> tuple[str, str, str]:
    args = {"vendor": "baidu", "operation": "face_audit", "credential": "key-1", **kw}
    r = resolve(state, Rng(0), args["vendor"], args["operation"], args["credential"], content)  # type: ignore[arg-type]
    return r.scenario.name, r.source, r.note


# --- priority ---------------------------------------------------------------------------------------


def test_priority_queued_then_rule_then_marker_then_default() -> None:
    state = make_state(ScenarioRule(match={"sha256": SHA}, scenario="ruled", name="by-hash"))
    state.queue.append(QueuedOutcome(scenario="queued", remaining=1))

    assert res(state)[:2] == ("queued", "queued")
    # the queue entry is used up: the rule wins over the marker
    assert state.queue == []
    assert res(state)[:2] == ("ruled", "rule:by-hash")
    # without rules the marker decides
    state.rules = []
    assert res(state)[:2] == ("marked", "marker")
    # nothing at all: the deterministic default
    name, source, note = res(state, ContentRef(sha256=SHA))
    assert (name, source, note) == ("default", "default", "")


def test_queued_outcome_serves_exactly_count_calls_then_falls_through() -> None:
    state = make_state()
    state.queue.append(QueuedOutcome(scenario="queued", remaining=3))
    assert [res(state)[0] for _ in range(5)] == ["queued"] * 3 + ["marked"] * 2


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
def test_queued_outcome_filters(field: str, value: str, applies: bool) -> None:
    state = make_state()
    state.queue.append(QueuedOutcome(scenario="queued", **{field: value}))  # type: ignore[arg-type]
    assert res(state)[0] == ("queued" if applies else "marked")
    assert (state.queue == []) is applies  # a non-matching call does not consume it


def test_first_matching_rule_wins_and_unnamed_rules_are_reported_by_index() -> None:
    state = make_state(
        ScenarioRule(match={"sha256": OTHER_SHA}, scenario="other"),
        ScenarioRule(match={"vendor": "baidu"}, scenario="ruled"),
        ScenarioRule(match={"vendor": "baidu"}, scenario="other", name="later"),
    )
    assert res(state)[:2] == ("ruled", "rule:1")


def test_rules_without_scenario_are_download_rules_and_do_not_resolve() -> None:
    state = make_state(ScenarioRule(match={"url": "https://img.example/*"}, download="timeout"))
    assert res(state)[:2] == ("marked", "marker")


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
def test_rule_fields(match: dict[str, str], expected: bool) -> None:
    assert rule_matches(match, "baidu", "face_audit", "key-1", CONTENT) is expected
    state = make_state(ScenarioRule(match=match, scenario="ruled", name="r"))
    assert (res(state)[1] == "rule:r") is expected


@pytest.mark.parametrize("field", ["url", "text"])
def test_url_and_text_rules_never_match_content_without_them(field: str) -> None:
    bare = ContentRef(sha256=SHA)
    assert not rule_matches({field: "*"}, "baidu", "face_audit", None, bare)


def test_credential_rule_does_not_match_an_anonymous_call() -> None:
    assert not rule_matches({"credential": "key-1"}, "baidu", "face_audit", None, CONTENT)


# --- unknown scenario names -------------------------------------------------------------------------


def test_unknown_names_fall_through_with_notes() -> None:
    state = make_state(
        ScenarioRule(match={"vendor": "baidu"}, scenario="ghost-rule", name="bad"),
        ScenarioRule(match={"vendor": "baidu"}, scenario="ruled", name="good"),
    )
    state.queue.append(QueuedOutcome(scenario="ghost-queued"))
    # queued and the first rule are unknown: the next rule decides (no note then: it matched)
    assert res(state)[:2] == ("ruled", "rule:good")

    state.rules = [ScenarioRule(match={"vendor": "baidu"}, scenario="ghost-rule", name="bad")]
    state.queue.append(QueuedOutcome(scenario="ghost-queued"))
    ghost_marker = ContentRef(sha256=SHA, marker="ghost-marker")
    name, source, note = res(state, ghost_marker)
    assert (name, source) == ("default", "default")
    assert note.split("; ") == [
        "queued scenario 'ghost-queued' unknown",
        "rule bad names unknown scenario 'ghost-rule'",
        "marker names unknown scenario 'ghost-marker'",
    ]


def test_resolve_recorded_writes_the_journal_facts() -> None:
    state = make_state()
    ctx = RequestCtx(request_id="0" * 32, started=0.0, method="POST", path="/", query="", remote=None)
    unknown = ContentRef(sha256=SHA, marker="ghost")
    scenario = resolve_recorded(state, Rng(0), ctx, "baidu", "face_audit", None, CONTENT)
    again = resolve_recorded(state, Rng(0), ctx, "baidu", "face_audit", None, unknown)
    assert (scenario.name, again.name) == ("marked", "default")
    assert ctx.scenario == ["marked", "default"]
    assert ctx.scenario_source == ["marker", "default"]
    assert ctx.notes == ["marker names unknown scenario 'ghost'"]


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


def test_default_through_resolve_uses_every_identity_part() -> None:
    state = make_state()
    base = resolve(state, Rng(0), "baidu", "face_audit", None, ContentRef(sha256=SHA)).scenario
    with_url = resolve(state, Rng(0), "baidu", "face_audit", None, ContentRef(sha256=SHA, url="u")).scenario
    again = resolve(state, Rng(0), "baidu", "face_audit", None, ContentRef(sha256=SHA)).scenario
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
