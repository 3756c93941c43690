"""The store: everything a client or a test can observe across requests, behind atomic operations.

Two implementations run the same contract tests (``tests/store/``): ``MemoryStore`` (this process
only, the default) and ``RedisStore`` (``--state redis://...``: every process and host with the same
URL and key prefix behaves as one simulator). Vendors and the core use the operations below and
never import an implementation; there is no ``if redis`` outside this package.

What lives here, and how:

- **shared configuration** (credentials, runtime scenarios, scenario rules, fault rules, the
  clock): every process keeps a local copy, read synchronously on the hot path. A change made
  through the admin API is applied locally and then ``publish``-ed: the Redis store stores it, tells
  every instance, and returns once every live instance has applied it (read-your-writes across
  instances for a test that changes something on one instance and calls another);
- **tables** (tokens, async tasks, the face library): capped maps of JSON-able records, atomic
  per record (``Table.update``);
- **windows and pools** (quotas, Alibaba Cloud's images per second, AI绿洲's free and paid calls):
  counted atomically (``consume``, ``take_from``);
- **claims** (signature nonces): the first claim of a key within its TTL wins;
- **the queue of outcomes**, **fault rule counters** and **the journal**.

An operation of an unavailable store (Redis lost) raises ``StoreUnavailable``, which vendors answer
with their own internal-error shape.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simulator.errors import ModsimError

if TYPE_CHECKING:
    from simulator.state import Journal, QueuedOutcome

#: the kinds of shared configuration (``Store.publish``)
CONFIG_KINDS = ("credentials", "scenarios", "rules", "faults", "clock", "queue")
Record = dict[str, Any]


class StoreUnavailable(ModsimError):
    """The shared store cannot be reached; the request gets its vendor's internal-error answer."""


class ConfigHost(ABC):
    """What the store synchronises: the local copies of the shared configuration (the Sim)."""

    @abstractmethod
    def config_snapshot(self, kind: str) -> Any:
        """The JSON-able state of one kind of configuration, as this process has it."""

    @abstractmethod
    def apply_config(self, kind: str, data: Any) -> None:
        """Replace the local copy of ``kind`` with ``data`` (None: back to the fixtures)."""

    @abstractmethod
    def reset_local(self) -> None:
        """Back to the fixtures in this process (caches, clock, sequences), after a shared reset."""


class Table(ABC):
    """A capped map of JSON-able records.

    Past ``cap``, ``put`` drops one record: with ``expiring`` tables, the record whose score (its
    expiry) is lowest if that score is at or before ``now``, else the oldest; otherwise the oldest.
    ``update`` is atomic per record whatever the number of processes.
    """

    def __init__(self, name: str, cap: int, expiring: bool = False) -> None:
        self.name = name
        self.cap = cap
        self.expiring = expiring

    @abstractmethod
    async def get(self, key: str) -> Record | None: ...

    @abstractmethod
    async def put(self, key: str, value: Record, now: float, score: float | None = None) -> None:
        """Store ``value`` (replacing any); ``score``: the expiry of an ``expiring`` table's record."""

    @abstractmethod
    async def update(self, key: str, fn: Callable[[Record], Record | None]) -> Record | None:
        """Apply ``fn`` to the record atomically; its result replaces it (None deletes it). The new
        record, or None when there was none (``fn`` is then not called)."""

    @abstractmethod
    async def delete(self, key: str) -> bool: ...

    @abstractmethod
    async def values(self, limit: int | None = None) -> list[Record]:
        """Records in insertion order, at most ``limit`` (for listings)."""

    @abstractmethod
    async def count(self) -> int: ...


class Store(ABC):
    #: True when several processes share this store
    shared = False
    backend = "memory"

    def __init__(self, instance: str = "") -> None:
        #: this process's name, in every journal entry of a shared store
        self.instance = instance

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: ConfigHost) -> None:
        """Connect, load the shared configuration into ``host``, follow its changes."""
        return None

    async def close(self) -> None:
        return None

    def status(self) -> dict[str, Any]:
        """For health: ``{"backend": ..., "status": "ok" | "degraded", ...}``."""
        return {"backend": self.backend, "status": "ok"}

    def ensure_available(self) -> None:
        """Raise ``StoreUnavailable`` when the store is known to be unreachable (cheap, no I/O)."""
        return None

    # --- shared configuration, reset -----------------------------------------------------------

    async def publish(self, kind: str) -> None:
        """Share this process's ``kind`` of configuration with every instance (after a local change)."""
        return None

    @abstractmethod
    async def reset(self) -> None:
        """Forget everything this store holds, in every instance (each then calls ``reset_local``)."""

    @abstractmethod
    def clear_local(self) -> None:
        """Forget what this process holds (an in-process store: everything; a shared one: its caches)."""

    # --- tables ----------------------------------------------------------------------------------

    @abstractmethod
    def table(self, name: str, cap: int, *, expiring: bool = False, cached: bool = False) -> Table:
        """The table ``name``. ``cached``: a shared store keeps the records this process read in
        memory (a read costs no round trip) and every instance forgets a record when it is updated or
        deleted: for records read on every request and rarely changed (tokens)."""

    # --- windows, pools, claims ----------------------------------------------------------------

    @abstractmethod
    async def consume(
        self, space: str, key: str, limits: Mapping[str, Any], now: float, n: int = 1
    ) -> str | None:
        """Count ``n`` calls against ``limits`` (``qps``: the last second, ``daily``: the UTC+8 day,
        ``total``) unless that would exceed one: then nothing is counted and that limit's name is
        returned."""

    @abstractmethod
    async def refund(self, space: str, key: str, now: float, n: int = 1) -> None:
        """Un-count ``n`` calls counted by ``consume`` (a call that failed after all)."""

    @abstractmethod
    async def usage(self, space: str, key: str, now: float) -> dict[str, int]:
        """``{"qps": ..., "daily": ..., "total": ...}`` counted now."""

    @abstractmethod
    async def take_from(
        self, space: str, key: str, pools: Sequence[tuple[str, int]]
    ) -> tuple[str | None, dict[str, int]]:
        """Count one use of the first pool with room (its limit not reached): its name (None: no pool
        had room) and every pool's uses right after, read in the same atomic step."""

    @abstractmethod
    async def pool_usage(self, space: str, key: str) -> dict[str, int]: ...

    @abstractmethod
    async def claim(self, space: str, key: str, ttl_s: float, now: float) -> bool:
        """True for the first claim of ``key`` within ``ttl_s`` (simulator seconds), else False."""

    # --- the queue of outcomes -----------------------------------------------------------------

    @abstractmethod
    async def queue_add(self, q: QueuedOutcome) -> None: ...

    @abstractmethod
    async def queue_take(
        self, vendor: str, operation: str, credential: str | None, unusable: Callable[[str], bool]
    ) -> tuple[QueuedOutcome | None, list[str]]:
        """The first matching entry whose scenario is usable, one use taken; and the names of the
        matching entries passed over as unusable."""

    @abstractmethod
    def queue_may_hold(self) -> bool:
        """False only when the queue is known to be empty (no I/O): callers skip ``queue_take`` then."""

    @abstractmethod
    async def queue_give_back(self, q: QueuedOutcome) -> None: ...

    @abstractmethod
    async def queue_list(self) -> list[QueuedOutcome]: ...

    @abstractmethod
    async def queue_clear(self) -> None: ...

    # --- fault rule counters -------------------------------------------------------------------

    @abstractmethod
    async def fault_seen(self, rule_id: str, credential: str | None) -> tuple[int, int]:
        """Count one request a rule matched: (requests it matched, requests of this credential)."""

    @abstractmethod
    async def fault_hit(self, rule_id: str) -> None: ...

    @abstractmethod
    async def fault_counts(self, rule_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """rule id -> (seen, hits)."""

    @abstractmethod
    async def fault_forget(self) -> None:
        """Zero every rule's counters (rules replaced or cleared)."""

    # --- the journal ---------------------------------------------------------------------------

    @abstractmethod
    def journal_add(self, entry: dict[str, Any]) -> None:
        """Append one entry (it gets its ``seq``; a shared store also names the ``instance``)."""

    async def journal_written(self) -> None:
        """Return once the entries added so far are on their way to every instance (a shared store
        batches them per round of the event loop): a request's answer goes after its entry."""
        return None

    @abstractmethod
    async def journal_select(
        self, vendor: str | None = None, limit: int | None = None, since: int | None = None, **eq: Any
    ) -> list[bytes]:
        """As ``Journal.select``: matching entries' JSON bytes, oldest first."""

    @abstractmethod
    async def journal_clear(self) -> None: ...

    @abstractmethod
    async def journal_len(self) -> int: ...

    @abstractmethod
    async def journal_last_seq(self) -> int: ...

    @property
    @abstractmethod
    def journal(self) -> Journal:
        """This process's own journal (a shared store writes to it too: it is what a lost store
        leaves, and what wakes the dashboard's live stream)."""
