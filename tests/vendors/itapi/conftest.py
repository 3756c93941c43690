"""itapi test fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from tests.vendors.itapi.common import write_fixture

ClientFactory = Callable[..., Any]


@pytest.fixture
async def configured(aiohttp_client, tmp_path: Path) -> AsyncIterator[ClientFactory]:  # type: ignore[no-untyped-def]
    """``await configured({...vendors.itapi section...}, **fixture_extra)``: a client and its Sim on
    the built-in fixtures plus that section; schema violations checked at teardown."""
    sims: list[Sim] = []

    async def make(section: dict[str, Any], **extra: Any) -> tuple[TestClient, Sim]:
        folder = write_fixture(tmp_path / f"f{len(sims)}", {"vendors": {"itapi": section}, **extra})
        sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(folder,)))
        sims.append(sim)
        return await aiohttp_client(create_app(sim=sim)), sim

    yield make
    for sim in sims:
        assert sim.schema_violations == [], sim.schema_violations
