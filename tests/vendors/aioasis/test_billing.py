"""Charge and remain: free trial calls, paid calls, the daily limit on the simulator clock, reset."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.vendors.baidu import models as baidu_models
from tests.helpers import image_b64
from tests.vendors.aioasis.common import (
    DAILY,
    PAID,
    TRIAL,
    assert_billed,
    assert_error,
    assert_free,
    call,
    journal_entry,
)


async def test_trial_appkey_answers_three_free_calls_then_10010(client: TestClient) -> None:
    for remain in (2, 1, 0):
        a = await call(client, TRIAL)
        result = assert_free(a, remain)
        assert set(result) == {"log_id", "result"}
        assert "remainTimes" not in a.body and "requestId" not in a.body
    a = await call(client, TRIAL)
    assert a.raw.startswith(
        '{"code":"10010","charge":false,"remain":0,"msg":"接口需要付费，请充值","requestId":"'
    )
    assert_error(a, "10010", remain=0)
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == "10010"
    assert entry["auth"]["outcome"] == "ok"
    assert entry["credential"] == TRIAL
    # and it stays refused
    assert_error(await call(client, TRIAL), "10010", remain=0)


async def test_paid_appkey_counts_down_from_1000(client: TestClient) -> None:
    for remain in (999, 998, 997):
        a = await call(client, PAID)
        assert_billed(a, remain)
        entry = await journal_entry(client, a.request_id)
        assert entry["vendor_code"] == "10000"
        assert entry["credential"] == PAID


async def test_free_calls_are_used_before_paid_ones(client: TestClient) -> None:
    cred = {"vendor": "aioasis", "id": "mixed-key", "attrs": {"free": 2, "paid": 3}}
    resp = await client.post("/__modsim/credentials", json=cred)
    assert resp.status == 201
    assert_free(await call(client, "mixed-key"), 4)
    assert_free(await call(client, "mixed-key"), 3)
    assert_billed(await call(client, "mixed-key"), 2)
    assert_billed(await call(client, "mixed-key"), 1)
    assert_billed(await call(client, "mixed-key"), 0)
    assert_error(await call(client, "mixed-key"), "10010", remain=0)


async def test_a_credential_without_counts_has_no_calls(client: TestClient) -> None:
    resp = await client.post("/__modsim/credentials", json={"vendor": "aioasis", "id": "bare-key"})
    assert resp.status == 201
    assert_error(await call(client, "bare-key"), "10010", remain=0)


async def test_errors_report_the_unchanged_balance(client: TestClient) -> None:
    assert_billed(await call(client, PAID), 999)
    rule = {"vendor": "aioasis", "action": {"type": "error", "code": "10020"}, "first_n": 1}
    assert (await client.post("/__modsim/faults", json={"rules": [rule]})).status == 200
    assert_error(await call(client, PAID), "10020", remain=999)
    assert_billed(await call(client, PAID), 998)


async def test_upstream_error_is_not_billed(client: TestClient) -> None:
    a = await call(client, TRIAL, {"images": "!!!!not*base64"})
    assert assert_free(a, 3)["error_code"] == 216201
    assert_free(await call(client, TRIAL), 2)


async def test_daily_limit_10040_resets_with_the_next_day(client: TestClient) -> None:
    assert (await client.post("/__modsim/clock", json={"freeze": True})).status == 200
    assert_billed(await call(client, DAILY), 99)
    assert_billed(await call(client, DAILY), 98)
    a = await call(client, DAILY)
    assert_error(a, "10040", remain=98)
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == "10040"
    assert any("daily limit 2" in n for n in entry["notes"])
    # an upstream error is not counted against the day either: still 10040 (checked before upstream)
    assert_error(await call(client, DAILY, {"images": "!!"}), "10040", remain=98)
    resp = await client.post("/__modsim/clock", json={"advance_s": 86400})
    assert resp.status == 200
    assert_billed(await call(client, DAILY), 97)
    assert_billed(await call(client, DAILY), 96)
    assert_error(await call(client, DAILY), "10040", remain=96)


async def test_day_boundary_is_midnight_utc8(client: TestClient) -> None:
    # 2024-01-01T15:59:59Z is 23:59:59 in UTC+8
    assert (await client.post("/__modsim/clock", json={"freeze": True, "set": 1704124799})).status == 200
    assert_billed(await call(client, DAILY), 99)
    assert_billed(await call(client, DAILY), 98)
    assert_error(await call(client, DAILY), "10040", remain=98)
    assert (await client.post("/__modsim/clock", json={"advance_s": 1})).status == 200
    assert_billed(await call(client, DAILY), 97)


async def test_reset_restores_every_counter(client: TestClient) -> None:
    assert (await client.post("/__modsim/clock", json={"freeze": True})).status == 200
    for _ in range(3):
        await call(client, TRIAL)
    assert_error(await call(client, TRIAL), "10010")
    assert_billed(await call(client, PAID), 999)
    await call(client, DAILY)
    await call(client, DAILY)
    assert_error(await call(client, DAILY), "10040", remain=98)
    resp = await client.post("/__modsim/reset")
    assert resp.status == 200
    assert_free(await call(client, TRIAL), 2)
    assert_billed(await call(client, PAID), 999)
    assert_billed(await call(client, DAILY), 99)


async def test_concurrent_calls_never_overdraw(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six calls pass the balance check together, then wait on a slow upstream; billing re-checks."""
    original = baidu_models.face_audit
    waiting = 0
    all_in = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> Any:
        nonlocal waiting
        waiting += 1
        if waiting == 6:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), 5)
        return await original(*args, **kwargs)

    monkeypatch.setattr(baidu_models, "face_audit", slow)
    answers = await asyncio.gather(*(call(client, TRIAL) for _ in range(6)))
    assert waiting == 6
    codes = sorted(a.body["code"] for a in answers)
    assert codes == ["10000"] * 3 + ["10010"] * 3
    assert sorted(a.body["remain"] for a in answers if a.body["code"] == "10000") == [0, 1, 2]
    for a in answers:
        if a.body["code"] == "10010":
            assert_error(a, "10010", remain=0)


async def test_demo_credentials_show_the_balance(client: TestClient) -> None:
    from simulator.keys import SIM

    sim = client.app[SIM]
    await call(client, PAID, {"images": image_b64("clean_avatar")})
    vendor = sim.vendors["aioasis"]
    # the banner (printed at start, before any call) shows what each account holds ...
    demo = {d["appkey"]: d for d in vendor.demo_credentials(sim)}
    assert demo[PAID]["remain"] == 1000
    assert demo[TRIAL]["remain"] == 3
    # ... and the balance (the store's count: the dashboard's quotas) what is left of it
    assert await vendor.balance(sim, sim.state.credentials.get("aioasis", PAID)) == {"free": 0, "paid": 999}
    assert await vendor.balance(sim, sim.state.credentials.get("aioasis", TRIAL)) == {"free": 3, "paid": 0}


async def test_calls_refused_at_billing_give_their_day_back(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day is counted before the upstream call; a call that finds no call left to bill by then
    (10010) is not counted against the day, nor is an upstream error."""
    from simulator.keys import SIM

    sim = client.app[SIM]
    cred = {"vendor": "aioasis", "id": "one-left", "attrs": {"free": 1, "quota": {"daily": 5}}}
    assert (await client.post("/__modsim/credentials", json=cred)).status == 201
    original = baidu_models.face_audit
    waiting = 0
    all_in = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> Any:
        nonlocal waiting
        waiting += 1
        if waiting == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), 5)
        return await original(*args, **kwargs)

    monkeypatch.setattr(baidu_models, "face_audit", slow)
    answers = await asyncio.gather(*(call(client, "one-left") for _ in range(3)))
    assert sorted(a.body["code"] for a in answers) == ["10000", "10010", "10010"]
    assert (await sim.store.usage("aioasis", "one-left", sim.clock.now()))["daily"] == 1
    assert await sim.vendors["aioasis"].balance(sim, sim.state.credentials.get("aioasis", "one-left")) == {
        "free": 0,
        "paid": 0,
    }
