"""Stores under test: the in-process one and the Redis one (the Redis at ``MODSIM_TEST_REDIS``, default
127.0.0.1:6379/15), each Redis store on a prefix of its own, its keys deleted afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis

from simulator.state import Journal, OutcomeQueue
from simulator.store import ConfigHost, Store
from simulator.store.memory import MemoryStore
from simulator.store.redis import RedisStore

REDIS_URL = os.environ.get("MODSIM_TEST_REDIS", "redis://127.0.0.1:6379/15")


class Host(ConfigHost):
    """A stand-in for the Sim: keeps what it is told."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}
        self.resets = 0

    def config_snapshot(self, kind: str) -> Any:
        return self.config.get(kind)

    def apply_config(self, kind: str, data: Any) -> None:
        if data is None:
            self.config.pop(kind, None)
        else:
            self.config[kind] = data

    def reset_local(self) -> None:
        self.resets += 1
        self.config.clear()


def drop_prefix(prefix: str, url: str = REDIS_URL) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for i in range(0, len(keys), 500):
            client.unlink(*keys[i : i + 500])
    finally:
        client.close()


@pytest.fixture
def prefix() -> Iterator[str]:
    p = f"modsim-test:{uuid.uuid4().hex[:12]}:"
    yield p
    drop_prefix(p)


@pytest.fixture
async def redis_stores(prefix: str) -> AsyncIterator[Callable[..., Any]]:
    """``make(name, journal_size=100)``: a started Redis store (with its host) on the test's prefix."""
    made: list[RedisStore] = []

    async def make(name: str, journal_size: int = 100) -> tuple[RedisStore, Host]:
        store = RedisStore(REDIS_URL, prefix, Journal(journal_size), name)
        host = Host()
        await store.start(host)
        made.append(store)
        return store, host

    yield make
    for s in made:
        await s.close()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Store]:
    """The same contract, on each store."""
    if request.param == "memory":
        s: Store = MemoryStore(Journal(100), OutcomeQueue())
        await s.start(Host())
        yield s
        return
    rs = RedisStore(REDIS_URL, prefix, Journal(100), "t")
    await rs.start(Host())
    yield rs
    await rs.close()
