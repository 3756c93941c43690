from __future__ import annotations

from simulator.quotas import Quotas


def test_vendor_defaults_merge_with_credential_quota() -> None:
    q = Quotas({"baidu": {"qps": 2, "daily": 100}})
    assert q.limits("baidu", {}) == {"qps": 2, "daily": 100}
    assert q.limits("baidu", {"quota": {"qps": 5}}) == {"qps": 5, "daily": 100}
    assert q.limits("baidu", {"quota": {"daily": None}}) == {"qps": 2}
    assert q.limits("showapi", {"quota": {"total": 3}}) == {"total": 3}


def test_check_and_consume_on_a_given_clock() -> None:
    q = Quotas()
    limits = {"qps": 2, "daily": 3, "total": 4}
    t = 1_795_300_000.0  # 06:26 UTC+8
    assert q.check("v", "c", limits, t) is None
    q.consume("v", "c", t)
    q.consume("v", "c", t + 0.1)
    assert q.check("v", "c", limits, t + 0.2) == "qps"
    assert q.check("v", "c", limits, t + 1.2) is None
    q.consume("v", "c", t + 1.2)
    assert q.check("v", "c", limits, t + 5) == "daily"
    assert q.check("v", "c", limits, t + 86400) is None
    q.consume("v", "c", t + 86400)
    assert q.check("v", "c", limits, t + 86401) == "total"
    assert q.remaining("v", "c", limits) == 0
