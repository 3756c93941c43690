from __future__ import annotations

from simulator.quotas import Quotas
from simulator.state import Journal, OutcomeQueue
from simulator.store.memory import MemoryStore


def test_vendor_defaults_merge_with_credential_quota() -> None:
    q = Quotas({"baidu": {"qps": 2, "daily": 100}})
    assert q.limits("baidu", {}) == {"qps": 2, "daily": 100}
    assert q.limits("baidu", {"quota": {"qps": 5}}) == {"qps": 5, "daily": 100}
    assert q.limits("baidu", {"quota": {"daily": None}}) == {"qps": 2}
    assert q.limits("showapi", {"quota": {"total": 3}}) == {"total": 3}


async def test_limits_break_in_order_on_a_given_clock() -> None:
    """Counting is the store's (``tests/store`` runs it on both stores); here the three limits together."""
    store = MemoryStore(Journal(10), OutcomeQueue())
    limits = {"qps": 2, "daily": 3, "total": 4}
    t = 1_795_300_000.0  # 06:26 UTC+8
    assert await store.consume("v", "c", limits, t) is None
    assert await store.consume("v", "c", limits, t + 0.1) is None
    assert await store.consume("v", "c", limits, t + 0.2) == "qps"
    assert await store.consume("v", "c", limits, t + 1.2) is None
    assert await store.consume("v", "c", limits, t + 5) == "daily"
    assert await store.consume("v", "c", limits, t + 86400) is None
    assert await store.consume("v", "c", limits, t + 86401) == "total"
    assert await store.usage("v", "c", t + 86401) == {
        "qps": 0,
        "daily": 1,
        "total": 4,
    }  # refusals count nothing
