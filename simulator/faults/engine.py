"""Fault rules: ordered, first match wins, omitted fields match everything (LocalStack chaos style).

A rule *matches* a request when its vendor/operation/credential fields agree. It then *fires* when
its counters and probability say so: ``first_n`` fires on the first N matching requests only,
``every_nth`` on every Nth, ``probability`` draws from a per-rule random source seeded from the
simulator seed, so a run is reproducible. A matching rule that does not fire lets later rules try.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from simulator.schemas import validate


@dataclass(frozen=True)
class RequestKey:
    vendor: str
    operation: str
    credential: str | None = None


@dataclass
class FaultRule:
    id: str
    action: dict[str, Any]
    vendor: str | None = None
    operation: str | None = None
    credential: str | None = None
    probability: float = 1.0
    first_n: int | None = None
    every_nth: int | None = None
    seen: int = 0
    hits: int = 0
    _rnd: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, key: RequestKey) -> bool:
        return (
            (self.vendor is None or self.vendor == key.vendor)
            and (self.operation is None or self.operation == key.operation)
            and (self.credential is None or self.credential == key.credential)
        )

    def fires(self) -> bool:
        """Count one matching request and decide whether the rule fires on it."""
        self.seen += 1
        if self.first_n is not None and self.seen > self.first_n:
            return False
        if self.every_nth is not None and self.seen % self.every_nth != 0:
            return False
        return self.probability >= 1.0 or self._rnd.random() < self.probability

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id}
        for k in ("vendor", "operation", "credential", "first_n", "every_nth"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        d["probability"] = self.probability
        d["action"] = self.action
        d["seen"] = self.seen
        d["hits"] = self.hits
        return d


class FaultEngine:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rules: list[FaultRule] = []
        self._next_id = 1

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def _build(self, spec: dict[str, Any]) -> FaultRule:
        validate("admin/fault.schema", spec)
        rid = spec.get("id") or f"f{self._next_id}"
        self._next_id += 1
        return FaultRule(
            id=rid,
            action=dict(spec["action"]),
            vendor=spec.get("vendor"),
            operation=spec.get("operation"),
            credential=spec.get("credential"),
            probability=float(spec.get("probability", 1.0)),
            first_n=spec.get("first_n"),
            every_nth=spec.get("every_nth"),
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

    def clear(self) -> None:
        self._rules = []

    def delete(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def pick(self, key: RequestKey) -> FaultRule | None:
        """The first rule that matches and fires for this request, with its hit counted."""
        for rule in self._rules:
            if rule.matches(key) and rule.fires():
                rule.hits += 1
                return rule
        return None
