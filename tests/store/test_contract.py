"""The store contract (``simulator/store/base.py``), run on the in-process store and on Redis: what a
vendor relies on must hold the same on both, including under concurrency."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from simulator.quotas import DAY_OFFSET_S, Window
from simulator.state import QueuedOutcome
from simulator.store import Store

DAY = 86400.0
T0 = 1_800_000_000.0 - (1_800_000_000.0 + DAY_OFFSET_S) % DAY  # a UTC+8 midnight


async def test_table_put_get_update_delete(store: Store) -> None:
    t = store.table("things", 10)
    assert await t.get("a") is None
    await t.put("a", {"n": 1, "tags": ["x"]}, T0)
    await t.put("b", {"n": 2}, T0)
    assert await t.get("a") == {"n": 1, "tags": ["x"]}
    assert await t.count() == 2
    new = await t.update("a", lambda r: {**r, "n": r["n"] + 1})
    assert new == {"n": 2, "tags": ["x"]}
    assert await t.get("a") == new
    assert await t.update("missing", lambda r: r) is None
    assert await t.update("b", lambda r: None) is None  # None deletes
    assert await t.get("b") is None
    assert await t.delete("a") is True
    assert await t.delete("a") is False
    assert await t.count() == 0


async def test_table_values_in_insertion_order_and_limit(store: Store) -> None:
    t = store.table("ordered", 10)
    for k in "cab":
        await t.put(k, {"k": k}, T0)
    await t.put("c", {"k": "c2"}, T0)  # a replaced record goes to the end
    assert [r["k"] for r in await t.values()] == ["a", "b", "c2"]
    assert [r["k"] for r in await t.values(limit=2)] == ["a", "b"]


async def test_table_cap_drops_the_oldest(store: Store) -> None:
    t = store.table("capped", 3)
    for i in range(5):
        await t.put(f"k{i}", {"i": i}, T0)
    assert [r["i"] for r in await t.values()] == [2, 3, 4]


async def test_expiring_table_drops_an_expired_record_before_the_oldest(store: Store) -> None:
    t = store.table("tokens", 2, expiring=True)
    await t.put("long", {"v": 1}, T0, score=T0 + 100)
    await t.put("short", {"v": 2}, T0, score=T0 + 5)
    await t.put("new", {"v": 3}, T0 + 6, score=T0 + 200)  # "short" has expired: it goes
    assert [r["v"] for r in await t.values()] == [1, 3]
    await t.put("newer", {"v": 4}, T0 + 7, score=T0 + 300)  # nothing expired: the oldest goes
    assert [r["v"] for r in await t.values()] == [3, 4]


async def test_table_update_is_atomic_under_concurrency(store: Store) -> None:
    t = store.table("counter", 10)
    await t.put("c", {"n": 0}, T0)

    async def bump() -> None:
        await t.update("c", lambda r: {"n": r["n"] + 1})

    await asyncio.gather(*(bump() for _ in range(50)))
    assert await t.get("c") == {"n": 50}


@pytest.mark.parametrize(
    ("limits", "calls", "broken"),
    [
        ({"qps": 3}, 5, "qps"),
        ({"daily": 2}, 4, "daily"),
        ({"total": 1}, 2, "total"),
    ],
)
async def test_consume_counts_until_a_limit_breaks(
    store: Store, limits: dict, calls: int, broken: str
) -> None:
    got = [await store.consume("v", "k", limits, T0 + 0.001 * i) for i in range(calls)]
    allowed = next(iter(limits.values()))
    assert got == [None] * allowed + [broken] * (calls - allowed)
    usage = await store.usage("v", "k", T0 + 0.01)
    assert usage["total"] == allowed


async def test_consume_window_and_day(store: Store) -> None:
    assert await store.consume("v", "k", {"qps": 1}, T0) is None
    assert await store.consume("v", "k", {"qps": 1}, T0 + 0.999) == "qps"
    assert await store.consume("v", "k", {"qps": 1}, T0 + 1.0) is None  # a second later: room again
    assert (await store.usage("v", "k", T0 + 1.5))["qps"] == 1
    assert (await store.usage("v", "k", T0 + 5))["qps"] == 0
    # days are UTC+8 calendar days
    assert await store.consume("d", "k", {"daily": 1}, T0 + DAY - 1) is None
    assert await store.consume("d", "k", {"daily": 1}, T0 + DAY - 0.5) == "daily"
    assert await store.consume("d", "k", {"daily": 1}, T0 + DAY) is None
    assert await store.usage("d", "k", T0 + DAY) == {"qps": 1, "daily": 1, "total": 2}


async def test_consume_window_follows_the_model_when_the_clock_jumps(store: Store) -> None:
    """A seeded walk of the clock (steps under a millisecond, frozen runs, jumps back and over a
    second) with a qps limit: every answer and every reported qps is the in-process model's
    (``quotas.Window``), bucket expiry included."""
    rng = random.Random(14)
    model, now = Window(), T0
    steps = [0.0, 0.0002, 0.0004, 0.0011, 0.05, 0.3, 0.999, 0.9996, 0.9998, 1.0, 1.0004, 2.5, -0.0005, -0.2]
    for i in range(600):
        now = max(T0, now + rng.choice(steps))
        n = rng.choice((1, 1, 1, 2))
        want = "qps" if model.total(now) + n > 40 else None
        if want is None:
            model.add(now, n)
        assert await store.consume("walk", "k", {"qps": 40}, now, n=n) == want, (i, now)
        assert (await store.usage("walk", "k", now))["qps"] == model.total(now), (i, now)


async def test_consume_n_and_refund(store: Store) -> None:
    assert await store.consume("img", "k", {"qps": 10}, T0, n=7) is None
    assert await store.consume("img", "k", {"qps": 10}, T0, n=4) == "qps"  # nothing counted
    await store.refund("img", "k", T0, n=2)
    assert await store.usage("img", "k", T0) == {"qps": 5, "daily": 5, "total": 5}
    assert await store.consume("img", "k", {"qps": 10}, T0, n=5) is None


async def test_consume_without_limits_still_counts(store: Store) -> None:
    for _ in range(3):
        assert await store.consume("v", "free", {}, T0) is None
    assert (await store.usage("v", "free", T0))["total"] == 3


async def test_consume_is_exact_under_concurrency(store: Store) -> None:
    got = await asyncio.gather(*(store.consume("v", "k", {"daily": 7}, T0) for _ in range(40)))
    assert got.count(None) == 7
    assert got.count("daily") == 33


async def test_take_from_pools_in_order_exactly(store: Store) -> None:
    pools = [("free", 3), ("paid", 2)]
    got = await asyncio.gather(*(store.take_from("ai", "key", pools) for _ in range(20)))
    assert sorted(name or "" for name, _ in got) == [""] * 15 + ["free"] * 3 + ["paid"] * 2
    # each take sees the counts right after it: every count from 1 to 5 once
    taken = sorted(sum(used.values()) for name, used in got if name is not None)
    assert taken == [1, 2, 3, 4, 5]
    assert await store.pool_usage("ai", "key") == {"free": 3, "paid": 2}
    assert await store.pool_usage("ai", "other") == {}


async def test_claim_once_within_ttl(store: Store) -> None:
    assert await store.claim("nonce", "n1", 900, T0) is True
    assert await store.claim("nonce", "n1", 900, T0 + 10) is False
    assert await store.claim("nonce", "n2", 900, T0 + 10) is True
    assert await store.claim("other", "n1", 900, T0 + 10) is True  # spaces are apart
    assert await store.claim("nonce", "n1", 900, T0 + 901) is True  # past its TTL (simulator clock)
    got = await asyncio.gather(*(store.claim("nonce", "race", 900, T0) for _ in range(30)))
    assert got.count(True) == 1


async def test_queue_order_patterns_and_uses(store: Store) -> None:
    await store.queue_add(QueuedOutcome("a", "baidu", "face_audit", None, 2))
    await store.queue_add(QueuedOutcome("b", "aliyun", None, None, 1))
    await store.queue_add(QueuedOutcome("c", None, None, "cred-1", 1))
    never = lambda name: False  # noqa: E731
    q, skipped = await store.queue_take("aliyun", "image_scan", "cred-1", never)
    assert (q and q.scenario, skipped) == ("b", [])
    q, _ = await store.queue_take("baidu", "face_audit", "cred-1", never)
    assert q is not None and (q.scenario, q.remaining) == ("a", 1)
    q, _ = await store.queue_take("baidu", "face_audit", "cred-2", never)
    assert q is not None and (q.scenario, q.remaining) == ("a", 0)
    q, _ = await store.queue_take("baidu", "face_audit", "cred-2", never)
    assert q is None
    assert [(e.scenario, e.remaining) for e in await store.queue_list()] == [("c", 1)]


async def test_queue_skips_unusable_and_gives_back(store: Store) -> None:
    await store.queue_add(QueuedOutcome("text-only", None, None, None, 1))
    await store.queue_add(QueuedOutcome("image", None, None, None, 1))
    q, skipped = await store.queue_take("baidu", "face_audit", None, lambda n: n == "text-only")
    assert q is not None and q.scenario == "image"
    assert skipped == ["text-only"]
    await store.queue_give_back(q)  # the call failed after all: the entry is back, in its place
    assert [e.scenario for e in await store.queue_list()] == ["text-only", "image"]
    await store.queue_clear()
    assert await store.queue_list() == []


async def test_queue_entry_is_taken_once_under_concurrency(store: Store) -> None:
    await store.queue_add(QueuedOutcome("once", None, None, None, 3))
    got = await asyncio.gather(*(store.queue_take("v", "op", None, lambda n: False) for _ in range(20)))
    assert sum(1 for q, _ in got if q is not None) == 3


async def test_fault_counters(store: Store) -> None:
    assert await store.fault_seen("r1", "a") == (1, 1)
    assert await store.fault_seen("r1", "b") == (2, 1)
    assert await store.fault_seen("r1", "a") == (3, 2)
    await store.fault_hit("r1")
    assert await store.fault_counts(["r1", "r2"]) == {"r1": (3, 1), "r2": (0, 0)}
    await store.fault_forget()
    assert await store.fault_counts(["r1"]) == {"r1": (0, 0)}


def _entry(
    i: int, vendor: str = "baidu", operation: str = "face_audit", credential: str | None = "c1"
) -> dict:
    return {
        "request_id": f"{i:032x}",
        "vendor": vendor,
        "operation": operation,
        "credential": credential,
        "status": 200 if i % 2 else 500,
    }


async def _seqs(store: Store, *args: object, **kwargs: object) -> list[int]:
    await asyncio.sleep(0)  # journal writes are sent at the end of the loop's turn
    return [json.loads(b)["seq"] for b in await store.journal_select(*args, **kwargs)]  # type: ignore[arg-type]


async def test_journal_select(store: Store) -> None:
    for i in range(1, 11):
        store.journal_add(
            _entry(i, vendor="baidu" if i <= 6 else "aliyun", credential=None if i == 3 else "c1")
        )
    assert await _seqs(store) == list(range(1, 11))
    assert await _seqs(store, limit=3) == [8, 9, 10]
    assert await _seqs(store, "aliyun") == [7, 8, 9, 10]
    assert await _seqs(store, "baidu", limit=2) == [5, 6]
    assert await _seqs(store, since=7) == [8, 9, 10]
    assert await _seqs(store, since=2, limit=2) == [3, 4]
    assert await _seqs(store, "baidu", credential="c1") == [1, 2, 4, 5, 6]
    assert await _seqs(store, request_id=f"{4:032x}") == [4]
    assert await _seqs(store, "aliyun", request_id=f"{4:032x}") == []
    assert await _seqs(store, status=500, limit=2) == [8, 10]
    assert await store.journal_len() == 10
    assert await store.journal_last_seq() == 10


async def test_journal_is_capped_and_clear_keeps_counting(store: Store) -> None:
    for i in range(1, 131):  # the stores under test keep 100
        store.journal_add(_entry(i, credential=f"c{i}"))
    await asyncio.sleep(0.01)
    assert await store.journal_len() == 100
    assert (await _seqs(store))[0] == 31
    assert await _seqs(store, credential="c5") == []  # fell off, with its index
    assert await _seqs(store, credential="c50") == [50]
    assert await _seqs(store, request_id=f"{10:032x}") == []
    await store.journal_clear()
    assert await store.journal_len() == 0
    assert await _seqs(store) == []
    store.journal_add(_entry(1))
    assert await _seqs(store) == [131]


async def test_reset_forgets_everything(store: Store) -> None:
    await store.table("t", 5).put("k", {"v": 1}, T0)
    await store.consume("v", "k", {"daily": 5}, T0)
    await store.take_from("ai", "k", [("free", 3)])
    await store.claim("nonce", "n", 900, T0)
    await store.queue_add(QueuedOutcome("a"))
    await store.fault_seen("r", None)
    store.journal_add(_entry(1))
    await asyncio.sleep(0.01)
    await store.reset()
    assert await store.table("t", 5).get("k") is None
    assert (await store.usage("v", "k", T0))["total"] == 0
    assert await store.pool_usage("ai", "k") == {}
    assert await store.claim("nonce", "n", 900, T0) is True
    assert await store.queue_list() == []
    assert await store.fault_counts(["r"]) == {"r": (0, 0)}
    assert await store.journal_len() == 0
