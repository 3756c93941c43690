"""Fault rules: ordered, first match wins, omitted fields match everything (LocalStack chaos style).

A rule *matches* a request when its ``vendor``/``operation``/``credential`` agree and every entry of
``fields`` equals a request parameter of that name (query, form or JSON body at any depth, e.g.
``{"configId": "7"}`` or ``{"dataId": "img-1"}``). A rule without ``operation`` matches only the
vendors' business operations: credential endpoints (Baidu's OAuth token, Alibaba Cloud's upload
credentials) and "no such API" answers are reached only by a rule that names them. A matching rule
then *fires*:

- with ``sequence`` (a list of actions, ``null`` meaning "answer normally"): the Nth matching
  request *of each credential* gets the Nth entry, then the rule stops firing ("fail, fail, pass");
- otherwise with ``action``, when its counters and probability agree: ``first_n`` fires on the first
  N matching requests only ("fail twice, then succeed"), ``every_nth`` on every Nth, and
  ``probability`` draws from a per-rule random source seeded from the simulator seed, so runs are
  reproducible.

A matching rule that does not fire lets later rules try.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.schemas import validate
from simulator.store.base import Store


@dataclass(frozen=True)
class RequestKey:
    vendor: str
    operation: str
    credential: str | None = None
    #: request parameters by name (all values seen), filled only when some rule matches on fields
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the operation's kind (``vendors.base``): only ``business`` ones match a rule without operation
    kind: str = "business"


@dataclass
class FaultRule:
    id: str
    action: dict[str, Any] | None = None
    sequence: list[dict[str, Any] | None] | None = None
    vendor: str | None = None
    operation: str | None = None
    credential: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    probability: float = 1.0
    first_n: int | None = None
    every_nth: int | None = None
    #: the spec it was built from, its id included (what a shared store keeps)
    spec: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    #: the counters as last read from the store (``FaultEngine.counted``), for listings
    seen: int = 0
    hits: int = 0
    _rnd: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, key: RequestKey) -> bool:
        return (
            (self.vendor is None or self.vendor == key.vendor)
            and (self.operation == key.operation if self.operation is not None else key.kind == "business")
            and (self.credential is None or self.credential == key.credential)
            and all(want in key.fields.get(name, ()) for name, want in self.fields.items())
        )

    async def fire(self, key: RequestKey, store: Store) -> dict[str, Any] | None:
        """Count one matching request (in the store: every instance counts together); the action to
        apply to it, or None. ``probability`` draws from the seed, the rule and the request's number,
        so the same run fires on the same requests whichever instance serves them."""
        seen, mine = await store.fault_seen(self.id, key.credential)
        if self.sequence is not None:
            n = mine - 1
            return self.sequence[n] if n < len(self.sequence) else None
        if self.first_n is not None and seen > self.first_n:
            return None
        if self.every_nth is not None and seen % self.every_nth != 0:
            return None
        if (
            self.probability < 1.0
            and random.Random(f"{self.seed}:{self.id}:{seen}").random() >= self.probability
        ):
            return None
        return self.action

    def draw(self) -> random.Random:
        """This rule's seeded random source (latency distributions draw from it)."""
        return self._rnd

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id}
        for k in ("vendor", "operation", "credential", "first_n", "every_nth"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.fields:
            d["fields"] = self.fields
        d["probability"] = self.probability
        if self.sequence is not None:
            d["sequence"] = self.sequence
        else:
            d["action"] = self.action
        d["seen"] = self.seen
        d["hits"] = self.hits
        return d


class FaultEngine:
    def __init__(
        self, seed: int = 0, check: Callable[[str | None, str | None], object] | None = None
    ) -> None:
        """``check(vendor, operation)`` raises when a rule names a vendor or operation that does not exist."""
        self.seed = seed
        self._check = check
        self._rules: list[FaultRule] = []
        self._next_id = 1

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    @property
    def active(self) -> bool:
        """Any rule at all (else a request skips matching)."""
        return bool(self._rules)

    @property
    def needs_fields(self) -> bool:
        return any(r.fields for r in self._rules)

    def _build(self, spec: dict[str, Any]) -> FaultRule:
        validate("admin/fault.schema", spec)
        if self._check is not None:
            self._check(spec.get("vendor"), spec.get("operation"))
        rid = spec.get("id") or f"f{self._next_id}"
        self._next_id += 1
        return FaultRule(
            id=rid,
            action=dict(spec["action"]) if "action" in spec else None,
            sequence=[dict(a) if a else None for a in spec["sequence"]] if "sequence" in spec else None,
            vendor=spec.get("vendor"),
            operation=spec.get("operation"),
            credential=spec.get("credential"),
            fields={k: str(v) for k, v in spec.get("fields", {}).items()},
            probability=float(spec.get("probability", 1.0)),
            first_n=spec.get("first_n"),
            every_nth=spec.get("every_nth"),
            spec={**spec, "id": rid},
            seed=self.seed,
            _rnd=random.Random(f"{self.seed}:{rid}"),
        )

    def replace(self, specs: list[dict[str, Any]]) -> list[FaultRule]:
        built = [self._build(s) for s in specs]
        self._rules = built
        return built

    def append(self, specs: list[dict[str, Any]]) -> list[FaultRule]:
        built = [self._build(s) for s in specs]
        self._rules.extend(built)
        return built

    def load(self, specs: list[dict[str, Any]]) -> None:
        """The rules another instance published (ids kept); new ids continue after theirs."""
        self._rules = [self._build(s) for s in specs]
        numbers = [int(r.id[1:]) for r in self._rules if r.id[:1] == "f" and r.id[1:].isdigit()]
        self._next_id = max([self._next_id, *(n + 1 for n in numbers)])

    def clear(self) -> None:
        self._rules = []

    def delete(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    async def counted(self, store: Store) -> list[FaultRule]:
        """The rules with their ``seen`` and ``hits`` as the store counts them (every instance)."""
        counts = await store.fault_counts([r.id for r in self._rules])
        for r in self._rules:
            r.seen, r.hits = counts.get(r.id, (0, 0))
        return list(self._rules)

    async def pick(self, key: RequestKey, store: Store) -> tuple[FaultRule, dict[str, Any]] | None:
        """The first rule that matches and fires for this request, with its action; its hit counted."""
        for rule in self._rules:
            if rule.matches(key):
                action = await rule.fire(key, store)
                if action is not None:
                    await store.fault_hit(rule.id)
                    return rule, action
        return None
