"""What only a shared store does: several instances (each a ``RedisStore`` here, real processes in
``tests/test_instances.py``) see one configuration, one cache truth, one queue; a lost Redis is
noticed, answered and recovered from."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from simulator.state import Journal, QueuedOutcome
from simulator.store import StoreUnavailable
from simulator.store import redis as redis_store
from simulator.store.redis import RedisStore
from tests.redisproc import RedisProcess
from tests.store.conftest import REDIS_URL, Host

T0 = 1_800_000_000.0


async def test_publish_reaches_every_instance_before_it_returns(redis_stores: Callable[..., Any]) -> None:
    a, ha = await redis_stores("a")
    _, hb = await redis_stores("b")
    _, hc = await redis_stores("c")
    ha.config["faults"] = [{"id": "f1"}]
    await a.publish("faults")
    assert hb.config["faults"] == [{"id": "f1"}] and hc.config["faults"] == [{"id": "f1"}]
    ha.config["faults"] = None
    await a.publish("faults")  # None: back to the fixtures
    assert "faults" not in hb.config and "faults" not in hc.config


async def test_a_late_instance_loads_the_shared_configuration(redis_stores: Callable[..., Any]) -> None:
    a, ha = await redis_stores("a")
    ha.config["clock"] = {"offset": 3600.0, "frozen_at": None, "skew_s": 0.0}
    ha.config["credentials"] = [{"vendor": "baidu", "id": "k"}]
    await a.publish("clock")
    await a.publish("credentials")
    _, hb = await redis_stores("b")
    assert hb.config == ha.config


async def test_cached_table_forgets_everywhere_on_update(redis_stores: Callable[..., Any]) -> None:
    a, _ = await redis_stores("a")
    b, _ = await redis_stores("b")
    ta = a.table("tokens", 10, expiring=True, cached=True)
    tb = b.table("tokens", 10, expiring=True, cached=True)
    await ta.put("t", {"revoked": False}, T0, score=T0 + 100)
    assert await tb.get("t") == {"revoked": False}  # now cached on b
    assert await ta.get("t") == {"revoked": False}  # cached on a too
    await ta.update("t", lambda r: {**r, "revoked": True})
    assert await tb.get("t") == {"revoked": True}
    assert await ta.get("t") == {"revoked": True}
    await ta.delete("t")
    assert await tb.get("t") is None


async def test_queue_added_on_one_instance_is_taken_on_another_once(redis_stores: Callable[..., Any]) -> None:
    a, _ = await redis_stores("a")
    b, _ = await redis_stores("b")
    never = lambda n: False  # noqa: E731
    assert await b.queue_take("baidu", "face_audit", None, never) == (None, [])  # b learns it is empty
    assert b._queue_maybe is False
    await a.queue_add(QueuedOutcome("x", remaining=2))
    await a.publish("queue")
    got = await asyncio.gather(*(s.queue_take("baidu", "face_audit", None, never) for s in (a, b) * 5))
    assert sorted(q.scenario for q, _ in got if q is not None) == ["x", "x"]


async def test_reset_resets_every_instance(redis_stores: Callable[..., Any]) -> None:
    a, ha = await redis_stores("a")
    b, hb = await redis_stores("b")
    ha.config["rules"] = [{"r": 1}]
    await a.publish("rules")
    await a.consume("v", "k", {"daily": 3}, T0)
    b.journal_add({"request_id": "0" * 32, "vendor": "baidu"})
    await asyncio.sleep(0.01)
    await a.reset()
    assert ha.resets == 1 and hb.resets == 1
    assert hb.config == {}
    assert (await b.usage("v", "k", T0))["total"] == 0
    assert await b.journal_len() == 0 and len(b.journal) == 0
    # a late instance does not reset again (it was not there), and sees no rules
    _, hc = await redis_stores("c")
    assert hc.resets == 0 and hc.config == {}


async def test_journal_entries_name_their_instance(redis_stores: Callable[..., Any]) -> None:
    import json

    a, _ = await redis_stores("a")
    b, _ = await redis_stores("b")
    a.journal_add({"request_id": "1" * 32, "vendor": "baidu"})
    b.journal_add({"request_id": "2" * 32, "vendor": "baidu"})
    await asyncio.sleep(0.01)
    rows = [json.loads(r) for r in await b.journal_select()]
    assert [(r["seq"], r["instance"]) for r in rows] == [(1, "a"), (2, "b")]


async def test_scripts_flushed_behind_its_back_still_run(redis_stores: Callable[..., Any]) -> None:
    a, _ = await redis_stores("a")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.script_flush()
    finally:
        client.close()
    assert await a.consume("v", "k", {"daily": 1}, T0) is None
    assert await a.consume("v", "k", {"daily": 1}, T0) == "daily"


async def test_redis_down_at_start_is_one_clear_error() -> None:
    from tests.redisproc import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", "x:", Journal(10), "a")
    with pytest.raises(
        StoreUnavailable, match=r"cannot reach the shared store at redis://127\.0\.0\.1:\d+/0"
    ):
        await store.start(Host())
    await store.close()


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_redis_lost_and_back(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path).start()
    store = RedisStore(server.url, "lost:", Journal(50), "a")
    host = Host()
    try:
        await store.start(host)
        host.config["faults"] = [{"id": "before"}]
        await store.publish("faults")
        assert await store.consume("v", "k", {"daily": 5}, T0) is None

        server.stop()
        with pytest.raises(StoreUnavailable):
            await store.consume("v", "k", {"daily": 5}, T0)
        await _until(lambda: store.status()["status"] == "degraded")
        with pytest.raises(StoreUnavailable, match="unreachable"):
            store.ensure_available()
        store.journal_add({"request_id": "3" * 32, "vendor": "baidu"})  # kept locally, sent later
        assert store.status()["journal_backlog"] == 1
        assert len(await store.journal_select()) == 1  # the local journal answers meanwhile

        server.start()  # an empty Redis on the same port
        await _until(lambda: store.status()["status"] == "ok")
        store.ensure_available()
        assert await store.consume("v", "k", {"daily": 5}, T0) is None
        await asyncio.sleep(0.05)
        assert await store.journal_len() == 1  # the backlog arrived
        assert host.config == {"faults": [{"id": "before"}]}  # an empty Redis does not undo what was set
    finally:
        await store.close()
        server.stop()


@pytest.mark.parametrize(
    "command",
    [
        (
            "EVALSHA",
            "0" * 40,
            2,
            "p:w:baidu:k",
            "p:w:baidu:k:b",
            "1796083343.8766644",
            1,
            20788,
            1796083343876,
            "",
        ),
        (
            "EVALSHA",
            "0" * 40,
            0,
            "p:",
            10000,
            b'{"x":"' + b"y" * 3000 + b'"}',
            "baidu",
            "face_audit",
            "",
            "rid",
        ),
        ("HSET", "p:k", "f", 0.1, "g", "中文", "h", -0.0, "i", 10**20, "j", memoryview(b"ab")),
    ],
)
def test_commands_are_packed_as_redis_py_packs_them(command: tuple[Any, ...]) -> None:
    """The store writes with hiredis's encoder (``_pack_command``): byte for byte redis-py's."""
    from redis.asyncio.connection import Connection

    assert redis_store._pack_command is not None  # hiredis is part of the extra
    assert redis_store._pack_command(command) == b"".join(Connection().pack_command(*command))
