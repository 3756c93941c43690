"""pytest plugin (entry point ``pytest11: modsim``): a simulator per test session, a clean handle per test.

Fixtures:
- ``modsim_settings`` (session): the ``Settings`` the server starts with; override it in your
  conftest.py to use your own fixtures directory, seed or limits.
- ``modsim_server`` (session): a ``ThreadedServer`` on a free loopback port.
- ``modsim`` (function): a ``ModsimHandle`` — reset before the test; base URL, demo credentials per
  vendor, scenario queueing, faults, journal and clock control. Unexpected exceptions raised inside
  the server while the test ran are re-raised at the test's teardown, with the server's traceback.

Marker ``@pytest.mark.modsim(faults=[...], queue=[...], freeze_clock=True, advance_s=N, rules=[...])``
configures the handle before the test body runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.client import ModsimClient
from simulator.settings import Settings
from simulator.testing import ThreadedServer


class ModsimServerError(AssertionError):
    """An unexpected exception inside the simulator while the test ran."""


class ModsimHandle:
    def __init__(self, server: ThreadedServer) -> None:
        self.server = server
        self.url = server.url
        self.client = ModsimClient(server.url)
        self._seen = 0

    def credentials(self, vendor: str) -> dict[str, Any]:
        """The first demo credential of ``vendor`` (as ``modsim serve`` prints it)."""
        sim = self.server.sim
        creds: list[dict[str, Any]] = self.server.call(sim.vendors[vendor].demo_credentials, sim)
        if not creds:
            raise KeyError(f"no demo credential for {vendor!r}")
        return creds[0]

    def all_credentials(self) -> dict[str, list[dict[str, Any]]]:
        sim = self.server.sim
        return {name: self.server.call(v.demo_credentials, sim) for name, v in sim.vendors.items()}

    def queue(self, scenario: str, vendor: str | None = None, operation: str | None = None,
              credential: str | None = None, count: int = 1) -> None:  # fmt: skip
        self.client.queue(scenario, vendor, operation, credential, count)

    def fault(self, action: dict[str, Any], **match: Any) -> dict[str, Any]:
        """Append one fault rule: ``modsim.fault({"type": "error", "code": 18}, vendor="baidu", first_n=2)``."""
        return self.client.add_faults([{**match, "action": action}])[-1]

    def faults(self) -> list[dict[str, Any]]:
        return self.client.faults()

    def journal(
        self, vendor: str | None = None, limit: int | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        return self.client.journal(vendor, limit, **filters)

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.client.clock(advance_s=seconds)

    def freeze(self, on: bool = True) -> dict[str, Any]:
        return self.client.clock(freeze=on)

    def reset(self) -> None:
        self.server.reset()
        self._seen = 0

    def server_errors(self) -> list[dict[str, Any]]:
        """Journal entries carrying a traceback: the server broke while answering them."""
        entries = [e for e in self.server.call(self.server.sim.state.journal.query) if e.get("traceback")]
        return entries

    def _apply_marker(self, kwargs: dict[str, Any]) -> None:
        if kwargs.get("freeze_clock"):
            self.freeze(True)
        if kwargs.get("advance_s"):
            self.advance(float(kwargs["advance_s"]))
        if kwargs.get("faults"):
            self.client.add_faults(list(kwargs["faults"]))
        if kwargs.get("rules"):
            self.client.add_rules(list(kwargs["rules"]))
        for q in kwargs.get("queue", ()):
            self.client.queue(**q) if isinstance(q, dict) else self.client.queue(q)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "modsim(faults=None, queue=None, rules=None, freeze_clock=False, advance_s=None): configure the modsim handle",
    )


@pytest.fixture(scope="session")
def modsim_settings() -> Settings:
    return Settings(seed=0)


@pytest.fixture(scope="session")
def modsim_server(modsim_settings: Settings) -> Iterator[ThreadedServer]:
    server = ThreadedServer(modsim_settings).start()
    yield server
    server.stop()


@pytest.fixture
def modsim(modsim_server: ThreadedServer, request: pytest.FixtureRequest) -> Iterator[ModsimHandle]:
    handle = ModsimHandle(modsim_server)
    handle.reset()
    marker = request.node.get_closest_marker("modsim")
    if marker is not None:
        handle._apply_marker(dict(marker.kwargs))
    yield handle
    errors = handle.server_errors()
    if errors:
        first = errors[0]
        raise ModsimServerError(
            f"the simulator raised while answering {first['method']} {first['path']}:\n{first['traceback']}"
        )
