"""The in-process store (the default): plain Python structures, every operation O(1) or O(log n);
nothing is shared with another process. ``publish`` has nothing to do: the local copies are the
configuration. Records are copied one level deep on the way in and out: callers treat what is
below the top level of a record as immutable."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from simulator.heap import IndexedHeap
from simulator.quotas import Usage, day_of
from simulator.state import Journal, OutcomeQueue, QueuedOutcome
from simulator.store.base import ConfigHost, Record, Store, Table

#: claims (nonces) kept per space, oldest forgotten first past it
MAX_CLAIMS = 100_000
#: at most this many expired claims are forgotten per call (a clock jump never empties 100k at once)
CLAIM_SWEEP = 2


class MemoryTable(Table):
    def __init__(self, name: str, cap: int, expiring: bool = False) -> None:
        super().__init__(name, cap, expiring)
        self._records: OrderedDict[str, Record] = OrderedDict()
        self._expiry: IndexedHeap[str] = IndexedHeap()
        self._added = 0

    async def get(self, key: str) -> Record | None:
        rec = self._records.get(key)
        return dict(rec) if rec is not None else None

    async def put(self, key: str, value: Record, now: float, score: float | None = None) -> None:
        if key in self._records:
            self._drop(key)
        self._added += 1
        self._records[key] = dict(value)
        if self.expiring:
            self._expiry.push(key, (score if score is not None else float("inf"), self._added))
        while len(self._records) > self.cap:
            first = self._expiry.peek() if self.expiring else None
            self._drop(first[1] if first is not None and first[0][0] <= now else next(iter(self._records)))

    def _drop(self, key: str) -> None:
        del self._records[key]
        if self.expiring:
            self._expiry.remove(key)

    async def update(self, key: str, fn: Callable[[Record], Record | None]) -> Record | None:
        rec = self._records.get(key)
        if rec is None:
            return None
        new = fn(copy.deepcopy(rec))
        if new is None:
            self._drop(key)
            return None
        self._records[key] = dict(new)
        return new

    async def delete(self, key: str) -> bool:
        if key not in self._records:
            return False
        self._drop(key)
        return True

    async def values(self, limit: int | None = None) -> list[Record]:
        out: list[Record] = []
        for rec in self._records.values():
            if limit is not None and len(out) >= limit:
                break
            out.append(dict(rec))
        return out

    async def count(self) -> int:
        return len(self._records)


class MemoryStore(Store):
    def __init__(self, journal: Journal, queue: OutcomeQueue, instance: str = "") -> None:
        super().__init__(instance)
        self._journal = journal
        self._queue = queue
        self._tables: dict[str, MemoryTable] = {}
        self._usage: dict[tuple[str, str], Usage] = {}
        self._pools: dict[tuple[str, str], dict[str, int]] = {}
        self._claims: dict[str, OrderedDict[str, float]] = {}
        self._seen: dict[str, int] = {}
        self._seen_by: dict[tuple[str, str], int] = {}
        self._hits: dict[str, int] = {}
        self._host: ConfigHost | None = None

    async def start(self, host: ConfigHost) -> None:
        self._host = host

    async def reset(self) -> None:
        self.clear_local()
        if self._host is not None:
            self._host.reset_local()

    def clear_local(self) -> None:
        self._journal.clear()
        self._queue.clear()
        for t in self._tables.values():
            t._records.clear()
            t._expiry.clear()
        self._usage.clear()
        self._pools.clear()
        self._claims.clear()
        self._seen.clear()
        self._seen_by.clear()
        self._hits.clear()

    # --- tables ----------------------------------------------------------------------------------

    def table(self, name: str, cap: int, *, expiring: bool = False, cached: bool = False) -> Table:
        t = self._tables.get(name)
        if t is None:
            t = self._tables[name] = MemoryTable(name, cap, expiring)
        t.cap = cap
        return t

    # --- windows, pools, claims ----------------------------------------------------------------

    def _u(self, space: str, key: str) -> Usage:
        u = self._usage.get((space, key))
        if u is None:
            u = self._usage[(space, key)] = Usage()
        return u

    async def consume(
        self, space: str, key: str, limits: Mapping[str, Any], now: float, n: int = 1
    ) -> str | None:
        u = self._u(space, key)
        day = day_of(now)
        daily = u.daily if u.day == day else 0
        if limits.get("qps") is not None and u.recent.total(now) + n > int(limits["qps"]):
            return "qps"
        if limits.get("daily") is not None and daily + n > int(limits["daily"]):
            return "daily"
        if limits.get("total") is not None and u.total + n > int(limits["total"]):
            return "total"
        if u.day != day:
            u.day, u.daily = day, 0
        u.daily += n
        u.total += n
        u.recent.add(now, n)
        return None

    async def refund(self, space: str, key: str, now: float, n: int = 1) -> None:
        u = self._u(space, key)
        u.total = max(0, u.total - n)
        if u.day == day_of(now):
            u.daily = max(0, u.daily - n)
        u.recent.add(now, -n)

    async def usage(self, space: str, key: str, now: float) -> dict[str, int]:
        u = self._u(space, key)
        return {
            "qps": u.recent.total(now),
            "daily": u.daily if u.day == day_of(now) else 0,
            "total": u.total,
        }

    async def take_from(
        self, space: str, key: str, pools: Sequence[tuple[str, int]]
    ) -> tuple[str | None, dict[str, int]]:
        used = self._pools.setdefault((space, key), {})
        for name, limit in pools:
            if used.get(name, 0) < limit:
                used[name] = used.get(name, 0) + 1
                return name, dict(used)
        return None, dict(used)

    async def pool_usage(self, space: str, key: str) -> dict[str, int]:
        return dict(self._pools.get((space, key), {}))

    async def claim(self, space: str, key: str, ttl_s: float, now: float) -> bool:
        cache = self._claims.setdefault(space, OrderedDict())
        for _ in range(CLAIM_SWEEP):
            if not cache:
                break
            oldest, expires = next(iter(cache.items()))
            if expires > now:
                break
            del cache[oldest]
        if cache.get(key, 0.0) > now:
            return False
        cache[key] = now + ttl_s
        cache.move_to_end(key)
        while len(cache) > MAX_CLAIMS:
            cache.popitem(last=False)
        return True

    # --- the queue of outcomes -----------------------------------------------------------------

    async def queue_add(self, q: QueuedOutcome) -> None:
        self._queue.append(q)

    async def queue_take(
        self, vendor: str, operation: str, credential: str | None, unusable: Callable[[str], bool]
    ) -> tuple[QueuedOutcome | None, list[str]]:
        skipped: list[str] = []

        def usable(q: QueuedOutcome) -> bool:
            if unusable(q.scenario):
                skipped.append(q.scenario)
                return False
            return True

        return self._queue.take(vendor, operation, credential, usable), skipped

    def queue_may_hold(self) -> bool:
        return bool(self._queue)

    async def queue_give_back(self, q: QueuedOutcome) -> None:
        self._queue.give_back(q)

    async def queue_list(self) -> list[QueuedOutcome]:
        return list(self._queue)

    async def queue_clear(self) -> None:
        self._queue.clear()

    @property
    def queue(self) -> OutcomeQueue:
        return self._queue

    # --- fault rule counters -------------------------------------------------------------------

    async def fault_seen(self, rule_id: str, credential: str | None) -> tuple[int, int]:
        seen = self._seen[rule_id] = self._seen.get(rule_id, 0) + 1
        who = (rule_id, credential or "")
        by = self._seen_by[who] = self._seen_by.get(who, 0) + 1
        return seen, by

    async def fault_hit(self, rule_id: str) -> None:
        self._hits[rule_id] = self._hits.get(rule_id, 0) + 1

    async def fault_counts(self, rule_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        return {r: (self._seen.get(r, 0), self._hits.get(r, 0)) for r in rule_ids}

    async def fault_forget(self) -> None:
        self._seen.clear()
        self._seen_by.clear()
        self._hits.clear()

    # --- the journal ---------------------------------------------------------------------------

    def journal_add(self, entry: dict[str, Any]) -> None:
        self._journal.add(entry)

    async def journal_select(
        self, vendor: str | None = None, limit: int | None = None, since: int | None = None, **eq: Any
    ) -> list[bytes]:
        return self._journal.select(vendor, limit, since, **eq)

    async def journal_clear(self) -> None:
        self._journal.clear()

    async def journal_len(self) -> int:
        return len(self._journal)

    async def journal_last_seq(self) -> int:
        return self._journal.last_seq

    @property
    def journal(self) -> Journal:
        return self._journal
