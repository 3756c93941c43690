"""The simulator's services, built once per app: settings, clock, randomness, fixtures, state, faults, vendors."""

from __future__ import annotations

from pathlib import Path

from simulator.clock import Clock
from simulator.faults import FaultEngine
from simulator.registry import vendors
from simulator.resources import builtin_dir
from simulator.rng import Rng
from simulator.scenarios.loader import load_dirs
from simulator.scenarios.text import Lexicon
from simulator.settings import Settings
from simulator.state import State


class Sim:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.rng = Rng(settings.seed)
        dirs: list[Path] = [builtin_dir("fixtures")] if settings.builtin_fixtures else []
        dirs.extend(settings.fixtures)
        self.fixtures = load_dirs(dirs)
        self.state = State(self.fixtures, settings.journal_size)
        self.lexicon = Lexicon(self.fixtures.lexicon)
        self.faults = FaultEngine(settings.seed)
        self.faults.replace(self.fixtures.faults)
        self.vendors = vendors()
        self.schema_violations: list[dict[str, object]] = []
        for v in self.vendors.values():
            v.configure(self)

    @property
    def proxy_hosts(self) -> tuple[str, ...]:
        """What the proxy mode serves: ``Settings.proxy_hosts``, else every vendor's own hosts."""
        return self.settings.proxy_hosts or tuple(h for v in self.vendors.values() for h in v.hosts)

    def reset(self) -> None:
        """Back to the fixtures: clock, random sequence, credentials, tokens, queues, faults, journal."""
        self.clock.reset()
        self.rng.reset()
        self.state.reset()
        self.faults = FaultEngine(self.settings.seed)
        self.faults.replace(self.fixtures.faults)
        for v in self.vendors.values():
            v.configure(self)
