"""One simulator for the whole Aliyun package, reset before each test (building one parses every
fixture file, which dominates a small test's time); equivalent to the suite's fresh ``sim``."""

from __future__ import annotations

import pytest

from simulator.settings import Settings
from simulator.sim import Sim


@pytest.fixture(scope="session")
def _aliyun_sim() -> Sim:
    return Sim(Settings(seed=0, validate_responses=True))


@pytest.fixture
def sim(_aliyun_sim: Sim) -> Sim:
    _aliyun_sim.reset()
    _aliyun_sim.schema_violations.clear()
    return _aliyun_sim
