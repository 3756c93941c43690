"""The simulator's services, built once per app: settings, clock, randomness, fixtures, state, faults, vendors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from simulator.clock import Clock
from simulator.faults import FaultEngine
from simulator.names import UnknownName, Unrenderable
from simulator.observe import AccessLog, Metrics
from simulator.registry import vendors
from simulator.resources import builtin_dir
from simulator.rng import Rng
from simulator.scenarios.loader import FixtureError, Origin, load_dirs, locate
from simulator.scenarios.model import Scenario
from simulator.scenarios.text import Lexicon
from simulator.settings import Settings
from simulator.state import Credential, State
from simulator.store import ConfigHost, Store, create_store
from simulator.vendors.base import BUSINESS, Route, Vendor


class Sim(ConfigHost):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.rng = Rng(settings.seed)
        dirs: list[Path] = [builtin_dir("fixtures")] if settings.builtin_fixtures else []
        dirs.extend(settings.fixtures)
        self.fixtures = load_dirs(dirs)
        self.state = State(self.fixtures, settings.journal_size)
        #: everything shared across requests (and, with ``state_url``, across processes and hosts)
        self.store: Store = create_store(settings, self.state)
        if self.store.shared:  # each instance its own sequence: ids and tokens never collide
            self.rng = Rng(settings.seed, stream=self.store.instance)
        self.lexicon = Lexicon(self.fixtures.lexicon)
        self.vendors = vendors()
        self._check_fixtures()
        self.faults = self._fault_engine()
        self.schema_violations: list[dict[str, object]] = []
        #: set when the server starts shutting down: every fault wait ends at once (``wait``)
        self.stopping = asyncio.Event()
        self.metrics = Metrics()
        #: the console access log; ``modsim serve`` sets it (not ``--quiet``), tests leave it off
        self.access: AccessLog | None = None
        for v in self.vendors.values():
            v.configure(self)

    def _fault_engine(self) -> FaultEngine:
        engine = FaultEngine(self.settings.seed, check=self.targets)
        engine.replace(self.fixtures.faults)
        return engine

    def _check_fixtures(self) -> None:
        """Every vendor, operation and scenario a fixture names exists (``file:line`` when one does not)."""
        fs = self.fixtures

        def fail(origin: Origin | None, what: str, exc: Exception) -> FixtureError:
            return FixtureError(f"{locate(origin) if origin else 'fixtures'}: {what}: {exc}")

        for (vendor, cid), _ in fs.credentials.items():
            if vendor not in self.vendors:
                exc = UnknownName("vendor", vendor, self.vendors)
                raise fail(fs.origins.get(("credential", vendor, cid)), f"credential {cid!r}", exc)
        for section in ("vendors", "quotas"):
            for vendor in getattr(fs, section):
                if vendor not in self.vendors:
                    exc = UnknownName("vendor", vendor, self.vendors)
                    raise fail(fs.origins.get((section, vendor)), f"{section}.{vendor}", exc)
        for rule in fs.rules:
            try:
                self.targets(rule.match.get("vendor"), rule.match.get("operation"))
            except UnknownName as exc:
                raise fail(rule.origin, f"rule {rule.name or rule.match}", exc) from exc
        for spec, origin in zip(fs.faults, fs.fault_origins, strict=True):
            try:
                self.targets(spec.get("vendor"), spec.get("operation"))
            except UnknownName as exc:
                raise fail(origin, "fault", exc) from exc

    def targets(self, vendor: str | None, operation: str | None) -> list[tuple[Vendor, Route]]:
        """The operations a rule naming ``vendor`` and ``operation`` (None: any) reaches: without an
        operation, the business operations only. ``UnknownName`` (with the closest names) on a typo."""
        if vendor is not None and vendor not in self.vendors:
            raise UnknownName("vendor", vendor, self.vendors)
        pool = [self.vendors[vendor]] if vendor is not None else list(self.vendors.values())
        if operation is None:
            return [(v, r) for v in pool for r in v.operations().values() if r.kind == BUSINESS]
        found = [(v, v.operations()[operation]) for v in pool if operation in v.operations()]
        if not found:
            known = {op for v in pool for op in v.operations()}
            raise UnknownName(f"{vendor} operation" if vendor else "operation", operation, known)
        return found

    def scenario_for(self, name: str, vendor: str | None = None, operation: str | None = None) -> Scenario:
        """The scenario ``name``, checked usable by some operation ``vendor``/``operation`` reaches
        (``UnknownName``, ``Unrenderable``)."""
        s = self.state.scenarios.get(name)
        if s is None:
            raise UnknownName("scenario", name, self.state.scenarios)
        reach = self.targets(vendor, operation)
        if not any(s.lacks(r.content) is None for _, r in reach):
            ops = ", ".join(f"{v.name} {r.operation}" for v, r in reach[:6])
            why = s.lacks(reach[0][1].content) if reach else "no operation"
            raise Unrenderable(f"{why}: {ops} cannot render it")
        return s

    @property
    def proxy_hosts(self) -> tuple[str, ...]:
        """What the proxy mode serves: ``Settings.proxy_hosts``, else every vendor's own hosts."""
        return self.settings.proxy_hosts or tuple(h for v in self.vendors.values() for h in v.hosts)

    async def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` (a fault's wait); False when the server began shutting down meanwhile."""
        if self.stopping.is_set():
            return False
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    def reset(self) -> None:
        """Back to the fixtures in this process: clock, random sequence, credentials, tokens, queues,
        faults, journal. A shared store is reset everywhere with ``reset_everywhere``."""
        self.store.clear_local()
        self.reset_local()

    async def reset_everywhere(self) -> None:
        """``POST /__modsim/reset``: the store forgets everything and every instance resets."""
        await self.store.reset()

    # --- the shared configuration (ConfigHost) ---------------------------------------------------

    def config_snapshot(self, kind: str) -> Any:
        if kind == "credentials":
            return [c.to_dict() for c in self.state.credentials.all()]
        if kind == "scenarios":
            return list(self.state.added_scenarios.values())
        if kind == "rules":
            return [dict(r) for r in self.state.added_rules]
        if kind == "faults":
            return [r.spec for r in self.faults.rules]
        if kind == "clock":
            return self.clock.state()
        return None  # queue: its entries live in the store; the version tells instances to look

    def apply_config(self, kind: str, data: Any) -> None:
        if kind == "credentials":
            self.state.credentials.clear()
            if data is None:
                self.state.load_fixture_credentials()
            else:
                for c in data:
                    self.state.credentials.put(
                        Credential(c["vendor"], c["id"], c.get("secret"), c.get("attrs", {}))
                    )
        elif kind == "scenarios":
            self.state.set_added_scenarios(data or [])
        elif kind == "rules":
            self.state.set_added_rules(data or [])
        elif kind == "faults":
            self.faults.load(data if data is not None else self.fixtures.faults)
        elif kind == "clock":
            self.clock.load_state(data)

    def reset_local(self) -> None:
        self.clock.reset()
        self.rng.reset()
        self.state.reset()
        self.metrics.clear()
        self.faults = self._fault_engine()
        for v in self.vendors.values():
            v.configure(self)
