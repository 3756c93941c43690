"""Mutable simulator state: credentials, queued outcomes, scenario rules, journal, vendor-owned state.

``reset()`` brings everything back to what the fixtures say; vendor packages keep their own state
(tokens, tasks, counters) in ``vendor_state(name)`` bags, which reset clears too.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import hmac
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator import jsonout
from simulator.content.recent import RecentImages
from simulator.quotas import Quotas
from simulator.scenarios.loader import FixtureSet, ScenarioRule
from simulator.scenarios.model import Scenario


@dataclass
class Credential:
    vendor: str
    id: str
    secret: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def secret_equals(self, candidate: str) -> bool:
        """Constant-time comparison with the stored secret."""
        if self.secret is None:
            return False
        return hmac.compare_digest(self.secret.encode(), candidate.encode())

    def to_dict(self, reveal: bool = True) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "id": self.id,
            "secret": self.secret if reveal else ("***" if self.secret else None),
            "attrs": self.attrs,
        }


class CredentialStore:
    def __init__(self) -> None:
        self._by_vendor: dict[str, dict[str, Credential]] = {}

    def put(self, cred: Credential) -> None:
        self._by_vendor.setdefault(cred.vendor, {})[cred.id] = cred

    def get(self, vendor: str, cred_id: str) -> Credential | None:
        return self._by_vendor.get(vendor, {}).get(cred_id)

    def find(self, vendor: str, attr: str, value: Any) -> Credential | None:
        for c in self._by_vendor.get(vendor, {}).values():
            if c.attrs.get(attr) == value:
                return c
        return None

    def delete(self, vendor: str, cred_id: str) -> bool:
        return self._by_vendor.get(vendor, {}).pop(cred_id, None) is not None

    def all(self, vendor: str | None = None) -> list[Credential]:
        if vendor is not None:
            return list(self._by_vendor.get(vendor, {}).values())
        return [c for v in self._by_vendor.values() for c in v.values()]

    def clear(self) -> None:
        self._by_vendor.clear()


@dataclass
class QueuedOutcome:
    """The next ``remaining`` matching calls get ``scenario`` (admin-queued; matched before any rule)."""

    scenario: str
    vendor: str | None = None
    operation: str | None = None
    credential: str | None = None
    remaining: int = 1
    #: place in the queue (``OutcomeQueue.append``); a used-up entry given back returns to it
    pos: int = field(default=0, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "vendor": self.vendor,
            "operation": self.operation,
            "credential": self.credential,
            "remaining": self.remaining,
        }


#: queued outcomes and scenario rules kept at most; the admin call that would pass it is a 400
MAX_QUEUE = 1000
MAX_RULES = 1000

_Pattern = tuple[str | None, str | None, str | None]


def _numbered(pattern: _Pattern, bucket: list[QueuedOutcome]) -> Iterator[tuple[int, int, _Pattern]]:
    """(queue position, index in the bucket, the bucket's pattern) of each entry, in queue order."""
    return ((q.pos, i, pattern) for i, q in enumerate(bucket))


class OutcomeQueue:
    """Queued outcomes in queue order, indexed by what they match: (vendor, operation, credential),
    ``None`` matching anything. A call reads only the (at most 8) index lists that can match it, merged
    in queue order, so entries for other vendors, operations or credentials cost it nothing; each list
    is in queue order, so the first usable entry is usually its head."""

    def __init__(self, cap: int = MAX_QUEUE) -> None:
        self.cap = cap
        self._entries: dict[int, QueuedOutcome] = {}
        self._index: dict[_Pattern, list[QueuedOutcome]] = {}
        self._next = 0

    def append(self, q: QueuedOutcome) -> None:
        self._next += 1
        q.pos = self._next
        self._put(q)

    def _put(self, q: QueuedOutcome) -> None:
        self._entries[q.pos] = q
        bucket = self._index.setdefault((q.vendor, q.operation, q.credential), [])
        if bucket and bucket[-1].pos > q.pos:
            bisect.insort(bucket, q, key=lambda e: e.pos)
        else:
            bucket.append(q)

    def take(
        self,
        vendor: str,
        operation: str,
        credential: str | None,
        usable: Callable[[QueuedOutcome], bool] | None,
    ) -> QueuedOutcome | None:
        if not self._index:
            return None
        patterns = {(v, o, c) for v in (vendor, None) for o in (operation, None) for c in (credential, None)}
        lists = [(p, self._index[p]) for p in patterns if p in self._index]
        candidates = heapq.merge(*(_numbered(p, b) for p, b in lists))
        for _, i, p in candidates:
            bucket = self._index[p]
            q = bucket[i]
            if usable is None or usable(q):
                q.remaining -= 1
                if q.remaining <= 0:
                    del bucket[i]
                    if not bucket:
                        del self._index[p]
                    del self._entries[q.pos]
                return q
        return None

    def give_back(self, q: QueuedOutcome) -> None:
        if q.remaining <= 0 and self._entries.get(q.pos) is not q:
            self._put(q)
        q.remaining += 1

    def clear(self) -> None:
        self._entries.clear()
        self._index.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[QueuedOutcome]:
        """Queue order (O(n log n): for listings, not for calls)."""
        return iter([self._entries[k] for k in sorted(self._entries)])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OutcomeQueue | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _link(heads: dict[Any, list[int]], key: Any, seq: int) -> int:
    """Make ``seq`` the newest of ``key``'s chain; the seq it follows (0: none)."""
    head = heads.get(key)
    if head is None:
        heads[key] = [seq, 1]
        return 0
    prev = head[0]
    head[0] = seq
    head[1] += 1
    return prev


def _unlink(heads: dict[Any, list[int]], key: Any) -> None:
    """The oldest row of ``key``'s chain left the ring."""
    head = heads[key]
    head[1] -= 1
    if not head[1]:
        del heads[key]


class Journal:
    """A bounded ring of request records, newest last; ``seq`` numbers them from 1, never reused
    (``clear`` keeps counting).

    Entries are kept as compact JSON bytes beside a few index fields: ten thousand nested dicts
    would otherwise be scanned by every full garbage collection (pauses of 100-200 ms under load)
    and take several times the memory. Reads decode only what they return.

    A row sits in slot ``seq % size``, so a ``seq`` is found in O(1). Each indexed field chains the
    rows that share its value: the row keeps the seq of the previous row with the same value, and
    ``_heads`` the newest seq per value (with the chain's length for vendor, operation and credential;
    a request id is taken as one row's). A filtered read walks the shortest chain newest first and
    stops at ``limit``: it costs the rows it returns, never the whole ring. Adding and dropping a row
    are O(1).
    """

    INDEXED = ("vendor", "operation", "credential", "request_id")
    #: non-indexed filters (``query(status=500)``) decode at most this many candidate entries
    MAX_SCAN = 1000

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        #: (seq, vendor, operation, credential, request_id, blob, then per indexed field the seq of
        #: the previous row with the same value, 0 for none)
        self._ring: list[tuple[Any, ...] | None] = [None] * self._size
        #: vendor, operation, credential: value -> [newest seq, rows]
        self._heads: tuple[dict[Any, list[int]], ...] = ({}, {}, {})
        #: request id -> newest seq
        self._ids: dict[Any, int] = {}
        self._seq = 0
        self._first = 1  # the oldest seq still kept (``_seq + 1`` when empty)
        #: set whenever an entry is added or the journal is cleared (the live stream's wake-ups:
        #: ``admin.live``); empty unless someone is watching
        self.watchers: set[asyncio.Event] = set()
        #: how many times ``clear`` ran (a watcher tells a reset from entries falling off the ring)
        self.clears = 0

    def add(self, entry: dict[str, Any]) -> bytes:
        """Keep ``entry`` (it gets its ``seq``, as its last key); its JSON bytes."""
        self._seq = seq = self._seq + 1
        entry["seq"] = seq
        blob = jsonout.dumps(entry, default=str)
        get = entry.get
        vendor, operation, credential, rid = (
            get("vendor"),
            get("operation"),
            get("credential"),
            get("request_id"),
        )
        slot = seq % self._size
        hv, ho, hc = self._heads
        ids = self._ids
        old = self._ring[slot]
        if old is not None:
            _unlink(hv, old[1])
            _unlink(ho, old[2])
            _unlink(hc, old[3])
            if ids.get(old[4]) == old[0]:
                del ids[old[4]]
            self._first = old[0] + 1
        self._ring[slot] = (
            seq,
            vendor,
            operation,
            credential,
            rid,
            blob,
            _link(hv, vendor, seq),
            _link(ho, operation, seq),
            _link(hc, credential, seq),
            ids.get(rid, 0),
        )
        ids[rid] = seq
        if self.watchers:
            for w in self.watchers:
                w.set()
        return blob

    def _row(self, seq: int) -> tuple[Any, ...] | None:
        row = self._ring[seq % self._size]
        return row if row is not None and row[0] == seq else None

    @staticmethod
    def decode(blob: bytes) -> dict[str, Any]:
        entry: dict[str, Any] = json.loads(blob.decode("utf-8", "surrogatepass"))
        return entry

    @property
    def last_seq(self) -> int:
        """The seq of the newest entry ever added (0: none yet), for ``since`` polling."""
        return self._seq

    def _head(self, i: int, value: Any) -> tuple[int, int] | None:
        """(rows, newest seq) of ``value``'s chain for indexed field number ``i``."""
        if i == 3:
            seq = self._ids.get(value)
            return None if seq is None else (1, seq)
        head = self._heads[i].get(value)
        return None if head is None else (head[1], head[0])

    def _newest_first(self, indexed: list[tuple[int, Any]], floor: int) -> Iterator[tuple[Any, ...]]:
        """Rows whose indexed fields equal ``indexed``, newest first, down to seq ``floor``."""
        if not indexed:
            for seq in range(self._seq, floor - 1, -1):
                row = self._row(seq)
                if row is not None:
                    yield row
            return
        chains = []
        for i, value in indexed:
            head = self._head(i, value)
            if head is None:
                return
            chains.append((head[0], i, head[1]))
        _, walk, seq = min(chains)
        others = [(1 + f, v) for f, v in indexed if f != walk]
        while seq >= floor:
            row = self._row(seq)
            if row is None:
                return
            if all(row[j] == v for j, v in others):
                yield row
            seq = row[6 + walk]

    def select(
        self, vendor: str | None = None, limit: int | None = None, since: int | None = None, **eq: Any
    ) -> list[bytes]:
        """The matching entries' JSON bytes, oldest first: the newest ``limit`` of them, or, with
        ``since``, those with a seq above it (the oldest ``limit`` of them, so a poller pages forward
        with the last seq it got). Indexed fields select without decoding; other fields decode at most
        ``MAX_SCAN`` candidates, newest first."""
        wanted = {"vendor": vendor, **eq} if vendor is not None else dict(eq)
        indexed = [(self.INDEXED.index(k), v) for k, v in wanted.items() if k in self.INDEXED]
        other = {k: v for k, v in wanted.items() if k not in self.INDEXED}
        floor = max(self._first, (since or 0) + 1)
        rows = self._newest_first(indexed, floor)
        if other:
            rows = self._decoded_match(rows, other)
        if since is None and limit:
            picked = [row[5] for row in itertools.islice(rows, limit)]
            picked.reverse()
            return picked
        picked = [row[5] for row in rows]
        picked.reverse()
        return picked[:limit] if limit else picked

    def _decoded_match(
        self, rows: Iterator[tuple[Any, ...]], other: dict[str, Any]
    ) -> Iterator[tuple[Any, ...]]:
        for row in itertools.islice(rows, self.MAX_SCAN):
            entry = self.decode(row[5])
            if all(entry.get(k) == v for k, v in other.items()):
                yield row

    def query(
        self, vendor: str | None = None, limit: int | None = None, since: int | None = None, **eq: Any
    ) -> list[dict[str, Any]]:
        """``select``, decoded."""
        return [self.decode(blob) for blob in self.select(vendor, limit, since, **eq)]

    def clear(self) -> None:
        self._ring = [None] * self._size
        for heads in self._heads:
            heads.clear()
        self._ids.clear()
        self._first = self._seq + 1
        self.clears += 1
        for w in self.watchers:
            w.set()

    def __len__(self) -> int:
        return self._seq - self._first + 1


class State:
    """This process's copies: credentials, scenarios and scenario rules (the shared configuration a
    shared store keeps in step), its journal and queue (what an in-process store keeps), and
    per-process vendor caches (``vendor_state``: parsed settings, running callbacks)."""

    def __init__(self, fixtures: FixtureSet, journal_size: int) -> None:
        self.fixtures = fixtures
        self.credentials = CredentialStore()
        self.journal = Journal(journal_size)
        #: decoded images of the last few requests (the dashboard's thumbnails)
        self.images = RecentImages()
        self.quotas = Quotas(fixtures.quotas)
        self.queue = OutcomeQueue()
        self.rules: list[ScenarioRule] = []
        self.scenarios: dict[str, Scenario] = {}
        #: scenarios and rules added through the admin API, as posted (what is shared)
        self.added_scenarios: dict[str, dict[str, Any]] = {}
        self.added_rules: list[dict[str, Any]] = []
        self._vendor_state: dict[str, dict[str, Any]] = {}
        self.reset()

    def load_fixture_credentials(self) -> None:
        for (vendor, cid), c in self.fixtures.credentials.items():
            self.credentials.put(
                Credential(vendor=vendor, id=cid, secret=c.get("secret"), attrs=dict(c.get("attrs", {})))
            )

    def set_added_scenarios(self, posted: list[dict[str, Any]]) -> None:
        self.added_scenarios = {d["name"]: d for d in posted}
        self.scenarios = dict(self.fixtures.scenarios)
        for d in posted:
            self.scenarios[d["name"]] = Scenario.from_dict(d)

    def set_added_rules(self, posted: list[dict[str, Any]]) -> None:
        """Rules added through the admin API go first (PATCH puts them before the fixture rules)."""
        self.added_rules = [dict(r) for r in posted]
        added = [
            ScenarioRule(
                match=r["match"],
                scenario=r.get("scenario"),
                download=r.get("download"),
                name=r.get("name", ""),
            )
            for r in self.added_rules
        ]
        self.rules = [*added, *self.fixtures.rules]

    def reset(self) -> None:
        self.credentials.clear()
        self.load_fixture_credentials()
        self.queue.clear()
        self.set_added_rules([])
        self.set_added_scenarios([])
        self.journal.clear()
        self.images.clear()
        self._vendor_state.clear()

    def vendor_state(self, vendor: str) -> dict[str, Any]:
        """Per-process caches of a vendor (parsed settings, running callbacks): never shared state."""
        return self._vendor_state.setdefault(vendor, {})
