"""Every store the simulator keeps is capped, and each operation on it costs O(1) or O(log n).

Costs are counted, never timed: subclasses count the attribute reads or deletions an operation makes,
so a scan of the whole store shows as a count that grows with it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.context import RequestCtx
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.state import Journal, OutcomeQueue, QueuedOutcome
from simulator.store import Record, Table
from simulator.store.memory import MemoryStore
from simulator.vendors.aliyun import gateway, scan
from simulator.vendors.aliyun.errors import GreenError
from simulator.vendors.aliyun.policy import GatewaySettings, Limits
from simulator.vendors.baidu import auth
from tests.helpers import BAIDU_API_KEY, baidu_token, face_audit, image_b64
from tests.vendors.aliyun.helpers import ASYNC, green

CLOUD_KEY, CLOUD_SECRET = "demo-baidu-cloud-key", "demo-baidu-cloud-secret"


def ctx() -> RequestCtx:
    return RequestCtx("test", 0.0, "POST", "/", "", None)


async def app_client(aiohttp_client: Any, tmp_path: Path, fixture: dict[str, Any]) -> tuple[TestClient, Sim]:
    (tmp_path / "fixture.yaml").write_text(json.dumps(fixture), encoding="utf-8")
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    return await aiohttp_client(create_app(sim=sim)), sim


# ------------------------------------------------------------------------------------------------
# Baidu tokens


class CountingTable:
    """A store table that counts its operations and the records they touch (each record read, written
    or deleted, and every record a listing returns): a scan shows as a count that grows with the table."""

    def __init__(self, inner: Table, counts: Counter[str]) -> None:
        self._inner, self._counts = inner, counts

    def _touch(self, op: str, records: int) -> None:
        self._counts[op] += 1
        self._counts["records"] += records

    async def get(self, key: str) -> Record | None:
        self._touch("get", 1)
        return await self._inner.get(key)

    async def put(self, key: str, value: Record, now: float, score: float | None = None) -> None:
        self._touch("put", 1)
        await self._inner.put(key, value, now, score)

    async def update(self, key: str, fn: Callable[[Record], Record | None]) -> Record | None:
        self._touch("update", 1)
        return await self._inner.update(key, fn)

    async def delete(self, key: str) -> bool:
        self._touch("delete", 1)
        return await self._inner.delete(key)

    async def values(self, limit: int | None = None) -> list[Record]:
        out = await self._inner.values(limit)
        self._touch("values", len(out))
        return out

    async def count(self) -> int:
        self._touch("count", 0)
        return await self._inner.count()


def count_tables(monkeypatch: pytest.MonkeyPatch, sim: Sim) -> Counter[str]:
    """From now on, every table ``sim.store`` hands out counts into the returned counter."""
    counts: Counter[str] = Counter()
    real = sim.store.table

    def table(name: str, cap: int, *, expiring: bool = False, cached: bool = False) -> Any:
        return CountingTable(real(name, cap, expiring=expiring, cached=cached), counts)

    monkeypatch.setattr(sim.store, "table", table)
    return counts


async def issued_tokens(sim: Sim) -> list[str]:
    return [t["token"] for t in await auth.tokens(sim).values()]


async def test_a_token_past_the_cap_evicts_in_constant_work(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = {"vendor": "baidu", "id": "short-ttl", "secret": "s", "attrs": {"app_id": "1", "token_ttl_s": 60}}
    client, sim = await app_client(
        aiohttp_client,
        tmp_path,
        {"credentials": [short], "vendors": {"baidu": {"limits": {"max_tokens": 32}}}},
    )
    counts = count_tables(monkeypatch, sim)
    first = await baidu_token(client)
    expiring = await baidu_token(client, "short-ttl", "s")
    rest = [await baidu_token(client) for _ in range(30)]
    assert await auth.tokens(sim).count() == 32

    counts.clear()
    newest = await baidu_token(client)
    # issuing is one write to the token table and one to the key's: no listing, whatever the table holds
    assert counts == {"put": 2, "records": 2}, counts
    assert await issued_tokens(sim) == [expiring, *rest, newest]  # nothing expired: the oldest went
    assert await auth.tokens(sim).get(first) is None

    # past the cap, an expired token goes before the oldest, whatever the order they were issued in
    sim.clock.advance(120)
    after = await baidu_token(client)
    assert await issued_tokens(sim) == [*rest, newest, after]
    again = await baidu_token(client)
    assert await issued_tokens(sim) == [*rest[1:], newest, after, again]
    counts.clear()
    status, body = await face_audit(client, rest[1], {"images": image_b64("clean_avatar")})
    assert (status, "error_code" in body) == (200, False), body
    # a call reads its token once (and once more for fault matching): no listing
    assert counts["values"] == 0 and counts["records"] <= 2, counts


async def test_revoking_costs_that_key_s_tokens_only(
    client: TestClient, sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = count_tables(monkeypatch, sim)
    mine = [await baidu_token(client) for _ in range(40)]
    theirs = [await baidu_token(client, CLOUD_KEY, CLOUD_SECRET) for _ in range(2)]

    counts.clear()
    resp = await client.post("/__modsim/vendors/baidu/tokens/revoke", json={"api_key": CLOUD_KEY})
    assert (resp.status, await resp.json()) == (200, {"revoked": 2})
    resp = await client.post("/__modsim/vendors/baidu/tokens/revoke", json={"token": mine[0]})
    assert (resp.status, await resp.json()) == (200, {"revoked": 1})
    # listing every token and comparing its api_key would touch 42 records
    assert counts["records"] <= 2 * (len(theirs) + 1), counts

    status, body = await face_audit(client, mine[0], {"images": image_b64("clean_avatar")})
    assert (status, body["error_code"], body["error_msg"]) == (
        200,
        110,
        "Access token invalid or no longer valid",
    )
    status, body = await face_audit(client, mine[1], {"images": image_b64("clean_avatar")})
    assert (status, "error_code" in body) == (200, False), body
    assert [(await auth.tokens(sim).get(t) or {}).get("revoked") for t in theirs] == [True, True]


# ------------------------------------------------------------------------------------------------
# queued outcomes and scenario rules


class CountingQueued(QueuedOutcome):
    reads: ClassVar[int] = 0

    def __getattribute__(self, name: str) -> Any:
        if name in ("vendor", "operation", "credential"):
            CountingQueued.reads += 1
        return super().__getattribute__(name)


async def test_a_call_reads_only_the_queue_entries_that_can_match_it(client: TestClient, sim: Sim) -> None:
    for _ in range(300):
        sim.state.queue.append(CountingQueued(scenario="porn", vendor="itapi"))
    sim.state.queue.append(CountingQueued(scenario="porn", vendor="baidu"))
    token = await baidu_token(client)

    CountingQueued.reads = 0
    status, body = await face_audit(client, token, {"images": image_b64("clean_avatar")})
    assert (status, body["result"][0]["res_code"]) == (200, 1), body  # the queued porn verdict
    assert CountingQueued.reads <= 3, CountingQueued.reads  # a scan reads 300 itapi entries' vendor
    assert len(sim.state.queue) == 300 and all(q.vendor == "itapi" for q in sim.state.queue)

    # entries matching the call through different patterns are still taken in queue order
    sim.state.queue.clear()
    unusable = lambda name: False  # noqa: E731 - every queued name is usable here
    for q in (
        QueuedOutcome("a", vendor="baidu", operation="face_audit", remaining=2),
        QueuedOutcome("b"),
        QueuedOutcome("c", vendor="baidu"),
        QueuedOutcome("d", operation="face_audit", credential=BAIDU_API_KEY),
    ):
        sim.state.queue.append(q)
    taken = [
        (await sim.store.queue_take("baidu", "face_audit", BAIDU_API_KEY, unusable))[0] for _ in range(6)
    ]
    assert [q.scenario if q else None for q in taken] == ["a", "a", "b", "c", "d", None]
    assert taken[2] is not None
    await sim.store.queue_give_back(taken[2])  # "b", used up, goes back to its place
    sim.state.queue.append(QueuedOutcome("e"))
    assert [q.scenario for q in sim.state.queue] == ["b", "e"]


async def test_the_queue_is_capped(client: TestClient, sim: Sim) -> None:
    for _ in range(1000):
        sim.state.queue.append(QueuedOutcome(scenario="porn", vendor="itapi"))
    resp = await client.post("/__modsim/queue", json={"scenario": "porn", "vendor": "baidu"})
    assert (resp.status, await resp.json()) == (
        400,
        {"error": "invalid_request", "detail": "the queue holds 1000 entries, its cap"},
    )
    assert len(sim.state.queue) == 1000
    resp = await client.delete("/__modsim/queue")
    resp = await client.post("/__modsim/queue", json={"scenario": "porn", "vendor": "baidu"})
    assert resp.status == 201


async def test_rules_are_capped(client: TestClient, sim: Sim) -> None:
    rule = {"match": {"vendor": "itapi"}, "scenario": "porn"}
    room = 1000 - len(sim.state.rules)
    resp = await client.patch("/__modsim/rules", json={"rules": [rule] * (room + 1)})
    assert (resp.status, await resp.json()) == (
        400,
        {"error": "invalid_request", "detail": f"{1000 - room} rules + {room + 1}: at most 1000"},
    )
    assert len(sim.state.rules) == 1000 - room
    resp = await client.patch("/__modsim/rules", json={"rules": [rule] * room})
    assert resp.status == 200 and len(sim.state.rules) == 1000


# ------------------------------------------------------------------------------------------------
# Alibaba Cloud: nonces, image rate windows, callbacks


class CountingCache(OrderedDict[str, float]):
    deleted: ClassVar[int] = 0

    def __delitem__(self, key: str) -> None:
        CountingCache.deleted += 1
        super().__delitem__(key)

    def popitem(self, last: bool = True) -> tuple[str, float]:
        CountingCache.deleted += 1
        return super().popitem(last)


async def test_nonces_expire_a_few_at_a_time(sim: Sim) -> None:
    """After the clock jumps, one request does not forget the whole cache at once. Nonces are claims
    of the store (space ``gateway.NONCES``): here the in-process store's cache of that space."""
    gs = GatewaySettings(nonce_ttl_s=900)
    cache = sim.store._claims[gateway.NONCES] = CountingCache()  # type: ignore[attr-defined]
    for i in range(500):
        assert await gateway.nonce_used(sim, gs, f"n{i}", 1000.0) is False
    assert await gateway.nonce_used(sim, gs, "n7", 1000.0) is True  # replayed

    CountingCache.deleted = 0
    assert await gateway.nonce_used(sim, gs, "fresh", 5000.0) is False
    assert CountingCache.deleted <= 2, CountingCache.deleted  # the old loop forgot all 500 here
    assert await gateway.nonce_used(sim, gs, "n499", 5000.0) is False  # expired, though still kept
    assert await gateway.nonce_used(sim, gs, "fresh", 5000.0) is True
    for _ in range(300):
        await gateway.nonce_used(sim, gs, "fresh", 5000.0)
    assert len(cache) == 2  # expired ones drain as calls come


async def test_aliyun_image_rate_windows_are_per_account_in_the_store(sim: Sim) -> None:
    """The images-per-second windows are the store's (``consume`` in space ``scan.IMAGES``, one key
    per account; its bounds are the store's); a refused request counts nothing."""
    limits = Limits(qps=2)
    for uid in ("u1", "u2", "u3", "u4", "u5"):
        await scan.check_qps(sim, ctx(), uid, 1, limits)
    now = sim.clock.now()
    assert [(await sim.store.usage(scan.IMAGES, u, now))["qps"] for u in ("u1", "u5")] == [1, 1]
    await scan.check_qps(sim, ctx(), "u5", 1, limits)
    with pytest.raises(GreenError) as err:
        await scan.check_qps(sim, ctx(), "u5", 1, limits)
    assert (err.value.http_status, err.value.code, err.value.message) == (200, 588, "EXCEED_QUOTA")
    assert (await sim.store.usage(scan.IMAGES, "u5", now))["qps"] == 2


@pytest.fixture
async def one_callback(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[tuple[TestClient, Sim]]:
    client, sim = await app_client(
        aiohttp_client, tmp_path, {"vendors": {"aliyun": {"callback": {"max_pending": 1}}}}
    )
    yield client, sim
    await asyncio.gather(*sim.state.vendor_state("aliyun").get("callbacks", ()), return_exceptions=True)
    assert sim.schema_violations == []


async def test_pending_callbacks_are_capped(one_callback: tuple[TestClient, Sim]) -> None:
    client, sim = one_callback
    tasks = [{"dataId": f"d{i}", "url": f"https://img.invalid/{i}.png#modsim=porn"} for i in range(3)]
    body = {"scenes": ["porn"], "tasks": tasks, "callback": "https://hooks.invalid/cb", "seed": "s1"}
    status, out, _ = await green(client, ASYNC, body, action="ImageAsyncScan")
    assert (status, out["code"]) == (200, 200), out
    notes = [e["notes"][0] for e in sim.state.journal.query(vendor="aliyun", operation="callback")]
    refused = [n for n in notes if "callback.max_pending" in n]
    assert len(refused) == 2, notes
    assert all(n.endswith("not sent: 1 pending, at most 1 (callback.max_pending)") for n in refused), refused
    assert len(sim.state.vendor_state("aliyun")["callbacks"]) <= 1  # the one scheduled (it may be done)


# ------------------------------------------------------------------------------------------------
# quota counters


async def test_a_quota_window_stays_small_under_a_frozen_clock() -> None:
    store = MemoryStore(Journal(10), OutcomeQueue())
    for _ in range(5000):
        await store.consume("baidu", BAIDU_API_KEY, {}, 100.0)
    assert len(store._usage[("baidu", BAIDU_API_KEY)].recent) <= 2  # one stamp per call before
    assert await store.consume("baidu", BAIDU_API_KEY, {"qps": 5000}, 100.0) == "qps"
    assert await store.consume("baidu", BAIDU_API_KEY, {"qps": 5001}, 100.0) is None
    assert await store.consume("baidu", BAIDU_API_KEY, {"qps": 1}, 100.999) == "qps"
    assert await store.consume("baidu", BAIDU_API_KEY, {"qps": 1}, 101.0) is None
