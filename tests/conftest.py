"""Shared fixtures. Every vendor response produced under test is checked against its JSON Schema
(``Settings.validate_responses``); a test fails at teardown if any response violated its schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from tests.live import LiveServer


@pytest.fixture
def settings() -> Settings:
    return Settings(seed=0, validate_responses=True)


@pytest.fixture
def sim(settings: Settings) -> Sim:
    return Sim(settings)


@pytest.fixture
async def client(aiohttp_client, sim: Sim) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    c = await aiohttp_client(create_app(sim=sim))
    yield c
    assert sim.schema_violations == [], sim.schema_violations


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    server = LiveServer(Settings(seed=0, validate_responses=True))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveServer]:
    """The session's real-socket server, reset before each test (for the official SDKs)."""
    live_server.reset()
    yield live_server
    violations = list(live_server.sim.schema_violations)
    assert violations == [], violations
