"""Fault rules: first match wins, wildcards, first_n, every_nth, seeded probability, counters, validation."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema.exceptions import ValidationError

from simulator import schemas
from simulator.faults import FaultEngine, RequestKey
from simulator.state import Journal, OutcomeQueue
from simulator.store.memory import MemoryStore

ERR = {"type": "error", "code": 18}
AUDIT = RequestKey("baidu", "face_audit", "key-1")
TOKEN = RequestKey("baidu", "token", None)


#: each engine's counters live in a store (the process's, or one shared by every instance)
_STORES: dict[int, MemoryStore] = {}


def engine(*specs: dict[str, Any], seed: int = 0) -> FaultEngine:
    e = FaultEngine(seed)
    e.replace(list(specs))
    _STORES[id(e)] = MemoryStore(Journal(10), OutcomeQueue())
    return e


async def pick(e: FaultEngine, key: RequestKey) -> Any:
    return await e.pick(key, _STORES[id(e)])


async def picks(e: FaultEngine, n: int, key: RequestKey = AUDIT) -> list[str | None]:
    """``n`` requests; then the rules' counters as the store has them (``e.rules``)."""
    out = []
    for _ in range(n):
        picked = await pick(e, key)
        out.append(picked[0].id if picked else None)
    await e.counted(_STORES[id(e)])
    return out


async def test_first_match_wins_and_only_it_counts() -> None:
    e = engine({"id": "a", "action": ERR}, {"id": "b", "action": ERR})
    assert await picks(e, 3) == ["a", "a", "a"]
    a, b = e.rules
    assert (a.seen, a.hits, b.seen, b.hits) == (3, 3, 0, 0)


async def test_a_matching_rule_that_does_not_fire_lets_later_rules_try() -> None:
    e = engine({"id": "once", "first_n": 1, "action": ERR}, {"id": "always", "action": ERR})
    assert await picks(e, 3) == ["once", "always", "always"]
    once, always = e.rules
    assert (once.seen, once.hits) == (3, 1)
    assert (always.seen, always.hits) == (2, 2)


@pytest.mark.parametrize(
    ("fields", "audit", "token"),
    [
        ({}, True, True),  # every field omitted: matches everything
        ({"vendor": "baidu"}, True, True),
        ({"vendor": "aliyun"}, False, False),
        ({"operation": "face_audit"}, True, False),
        ({"vendor": "baidu", "operation": "token"}, False, True),
        ({"credential": "key-1"}, True, False),  # the token call has no credential
        ({"credential": "key-2"}, False, False),
    ],
)
async def test_omitted_fields_are_wildcards(fields: dict[str, str], audit: bool, token: bool) -> None:
    e = engine({"id": "r", "action": ERR, **fields})
    assert (await pick(e, AUDIT) is not None, await pick(e, TOKEN) is not None) == (audit, token)


async def test_requests_a_rule_does_not_match_leave_its_counters_alone() -> None:
    e = engine({"id": "r", "operation": "token", "first_n": 1, "action": ERR})
    assert await picks(e, 3, AUDIT) == [None, None, None]
    [r] = e.rules
    assert (r.seen, r.hits) == (0, 0)
    assert await picks(e, 2, TOKEN) == ["r", None]


async def test_first_n() -> None:
    e = engine({"id": "r", "first_n": 2, "action": ERR})
    assert await picks(e, 5) == ["r", "r", None, None, None]
    [r] = e.rules
    assert (r.seen, r.hits) == (5, 2)


async def test_every_nth() -> None:
    e = engine({"id": "r", "every_nth": 3, "action": ERR})
    assert await picks(e, 9) == [None, None, "r"] * 3
    [r] = e.rules
    assert (r.seen, r.hits) == (9, 3)


async def test_first_n_and_every_nth_together() -> None:
    e = engine({"id": "r", "first_n": 4, "every_nth": 2, "action": ERR})
    assert await picks(e, 8) == [None, "r", None, "r", None, None, None, None]


async def test_probability_is_reproducible_with_the_same_seed() -> None:
    spec = {"id": "p", "probability": 0.5, "action": ERR}
    run = await picks(engine(spec, seed=7), 200)
    assert await picks(engine(spec, seed=7), 200) == run
    fired = sum(x is not None for x in run)
    assert 60 < fired < 140  # a fair coin, roughly
    assert await picks(engine(spec, seed=8), 200) != run
    # the source is per rule (seed and id): another rule's draws do not shift it
    audit_only = {**spec, "operation": "face_audit"}
    other = engine({"id": "q", "operation": "token", "probability": 0.5, "action": ERR}, audit_only, seed=7)
    interleaved = []
    for _ in range(200):
        await pick(other, TOKEN)
        picked = await pick(other, AUDIT)
        interleaved.append(picked[0].id if picked else None)
    assert interleaved == run


@pytest.mark.parametrize(("probability", "fires"), [(0.0, 0), (1.0, 50)])
async def test_probability_bounds(probability: float, fires: int) -> None:
    e = engine({"id": "r", "probability": probability, "action": ERR})
    assert sum(x is not None for x in await picks(e, 50)) == fires
    [r] = e.rules
    assert (r.seen, r.hits) == (50, fires)


def test_ids_generated_or_given_and_rules_serialise_to_the_admin_schema() -> None:
    e = engine(
        {"action": {"type": "latency", "ms": 10}},
        {"id": "mine", "vendor": "baidu", "every_nth": 2, "action": {"type": "http", "status": 503}},
        {"action": {"type": "reset"}},
    )
    assert [r.id for r in e.rules] == ["f1", "mine", "f3"]
    body = {"rules": [r.to_dict() for r in e.rules]}
    assert schemas.errors("admin/faults", body) == []
    assert body["rules"][1] == {
        "id": "mine",
        "vendor": "baidu",
        "every_nth": 2,
        "probability": 1.0,
        "action": {"type": "http", "status": 503},
        "seen": 0,
        "hits": 0,
    }


BAD_SPECS = [
    {},  # no action
    {"action": {"type": "explode"}},
    {"action": {"type": "latency"}},  # ms required
    {"action": {"type": "latency", "ms": -1}},
    {"action": {"type": "http", "status": 600}},
    {"action": {"type": "http", "status": 503, "body": "html"}},
    {"action": {"type": "error"}},  # code required
    {"action": {"type": "reset", "extra": 1}},
    {"action": ERR, "probability": 1.5},
    {"action": ERR, "probability": -0.1},
    {"action": ERR, "first_n": 0},
    {"action": ERR, "every_nth": 0},
    {"action": ERR, "first_n": "2"},
    {"action": ERR, "path": "/x"},  # unknown field
    {"action": ERR, "vendor": 1},
]


@pytest.mark.parametrize("spec", BAD_SPECS)
def test_bad_specs_are_rejected_by_the_schema(spec: dict[str, Any]) -> None:
    e = engine({"id": "keep", "action": ERR})
    with pytest.raises(ValidationError):
        e.replace([spec])
    with pytest.raises(ValidationError):
        e.append([{"id": "ok", "action": ERR}, spec])
    # nothing half-applied
    assert [r.id for r in e.rules] == ["keep"]


async def test_replace_append_delete_clear() -> None:
    e = engine({"id": "a", "action": ERR})
    e.append([{"id": "b", "action": ERR}, {"id": "c", "action": ERR}])
    assert [r.id for r in e.rules] == ["a", "b", "c"]
    e.replace([{"id": "d", "action": ERR}])
    assert [r.id for r in e.rules] == ["d"]
    e.append([{"id": "e", "action": ERR}])
    assert e.delete("d") is True
    assert e.delete("d") is False
    assert e.delete("nope") is False
    assert [r.id for r in e.rules] == ["e"]
    e.clear()
    assert e.rules == [] and await pick(e, AUDIT) is None


def test_rules_is_a_copy() -> None:
    e = engine({"id": "a", "action": ERR})
    e.rules.clear()
    assert [r.id for r in e.rules] == ["a"]


async def test_counters_start_fresh_for_replaced_rules() -> None:
    e = engine({"id": "a", "first_n": 1, "action": ERR})
    assert await picks(e, 2) == ["a", None]
    e.replace([{"id": "a", "first_n": 1, "action": ERR}])
    await _STORES[id(e)].fault_forget()  # what the admin API does when it replaces the rules
    assert await picks(e, 2) == ["a", None]
