"""Mutable simulator state: credentials, queued outcomes, scenario rules, journal, vendor-owned state.

``reset()`` brings everything back to what the fixtures say; vendor packages keep their own state
(tokens, tasks, counters) in ``vendor_state(name)`` bags, which reset clears too.
"""

from __future__ import annotations

import hmac
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator import jsonout
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "vendor": self.vendor,
            "operation": self.operation,
            "credential": self.credential,
            "remaining": self.remaining,
        }


class Journal:
    """A bounded ring of request records, newest last.

    Entries are kept as compact JSON bytes beside a few index fields: ten thousand nested dicts
    would otherwise be scanned by every full garbage collection (pauses of 100-200 ms under load)
    and take several times the memory. ``query`` decodes only what it returns.
    """

    INDEXED = ("vendor", "operation", "credential", "request_id")

    def __init__(self, size: int) -> None:
        self._entries: deque[tuple[Any, Any, Any, Any, bytes]] = deque(maxlen=max(1, size))
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        self._seq += 1
        entry["seq"] = self._seq
        blob = jsonout.dumps(entry, default=str)
        get = entry.get
        self._entries.append((get("vendor"), get("operation"), get("credential"), get("request_id"), blob))

    def query(self, vendor: str | None = None, limit: int | None = None, **eq: Any) -> list[dict[str, Any]]:
        wanted = {"vendor": vendor, **eq} if vendor is not None else dict(eq)
        indexed = [(self.INDEXED.index(k), v) for k, v in wanted.items() if k in self.INDEXED]
        other = {k: v for k, v in wanted.items() if k not in self.INDEXED}
        out = []
        for row in self._entries:
            if all(row[i] == v for i, v in indexed):
                e: dict[str, Any] = json.loads(row[4].decode("utf-8", "surrogatepass"))
                if all(e.get(k) == v for k, v in other.items()):
                    out.append(e)
        return out[-limit:] if limit else out

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class State:
    def __init__(self, fixtures: FixtureSet, journal_size: int) -> None:
        self.fixtures = fixtures
        self.credentials = CredentialStore()
        self.journal = Journal(journal_size)
        self.quotas = Quotas(fixtures.quotas)
        self.queue: list[QueuedOutcome] = []
        self.rules: list[ScenarioRule] = []
        self.scenarios: dict[str, Scenario] = {}
        self._vendor_state: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        self.credentials.clear()
        for (vendor, cid), c in self.fixtures.credentials.items():
            self.credentials.put(
                Credential(vendor=vendor, id=cid, secret=c.get("secret"), attrs=dict(c.get("attrs", {})))
            )
        self.queue.clear()
        self.rules = list(self.fixtures.rules)
        self.scenarios = dict(self.fixtures.scenarios)
        self.journal.clear()
        self.quotas.clear()
        self._vendor_state.clear()

    def vendor_state(self, vendor: str) -> dict[str, Any]:
        return self._vendor_state.setdefault(vendor, {})

    def take_queued(
        self,
        vendor: str,
        operation: str,
        credential: str | None,
        usable: Callable[[QueuedOutcome], bool] | None = None,
    ) -> QueuedOutcome | None:
        """The first queued outcome for this call that ``usable`` accepts, with one use taken (an entry
        used up leaves the queue). ``give_back`` returns the use when the call fails after all."""
        for q in self.queue:
            if (
                (q.vendor is None or q.vendor == vendor)
                and (q.operation is None or q.operation == operation)
                and (q.credential is None or q.credential == credential)
                and (usable is None or usable(q))
            ):
                q.remaining -= 1
                if q.remaining <= 0:
                    self.queue.remove(q)
                return q
        return None

    def give_back(self, q: QueuedOutcome) -> None:
        if q.remaining <= 0 and q not in self.queue:
            self.queue.insert(0, q)
        q.remaining += 1
