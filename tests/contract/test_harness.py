"""The fuzz harness can fail: with one deliberately broken model function, the same runs that find
nothing on the real simulator report the bug.

- a body outside the vendor's schema (``{"bogus": 1}``): schemathesis' response_schema_conformance
  fails, and the server's own validation records the violation;
- an unexpected exception: the error middleware still answers the vendor's schema-valid internal
  error (itapi: HTTP 200, ``code`` 500), which schemathesis' checks accept; the contract harness
  catches it by the traceback journalled behind the answer, under schemathesis and under the
  hypothesis property of ``test_fuzz_all``.

Each case runs on a server of its own, so the broken function never meets another test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.errors import FailureGroup

from simulator.settings import Settings
from simulator.testing import ThreadedServer
from simulator.vendors.baidu import censor
from simulator.vendors.itapi import models as itapi_models
from tests.contract.fuzzers import Runner
from tests.contract.test_fuzz_all import ROUTES, Sender, run_route


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    s = ThreadedServer(Settings(seed=0, validate_responses=True))
    s.start()
    yield s
    s.stop()


def _runner(server: ThreadedServer) -> Runner:
    return Runner(server, schemathesis.openapi.from_url(server.url + "/__modsim/openapi.json"))


def _boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("deliberately broken model")


async def _bogus(*_: Any, **__: Any) -> Any:
    return {"bogus": 1}


def test_the_same_runs_pass_on_the_real_simulator(server: ThreadedServer) -> None:
    _runner(server).fuzz("itapi.picresult.get", 10)
    run_route(Sender(server), "baidu", next(r for v, r in ROUTES if r.operation == "spam"), 10)
    assert server.sim.schema_violations == []


def test_schemathesis_fails_on_a_body_outside_the_schema(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(itapi_models, "result", _bogus)
    with pytest.raises(FailureGroup) as caught:
        _runner(server).fuzz("itapi.picresult.get", 10, shrink=False)
    titles = {f.title for f in caught.value.exceptions}
    assert "Response violates schema" in titles, titles
    assert server.sim.schema_violations, "the server's own validation saw it too"
    assert server.sim.schema_violations[0]["schema"] == "itapi/error"


def test_an_unexpected_exception_fails_the_schemathesis_run(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(itapi_models, "result", _boom)
    with pytest.raises(AssertionError, match="unexpected exception behind this answer"):
        _runner(server).fuzz("itapi.picresult.get", 10, shrink=False)
    assert server.sim.schema_violations == [], "a schema-valid internal error: only the journal tells"


def test_an_unexpected_exception_fails_the_hypothesis_property(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(censor, "spam", _boom)
    route = next(r for v, r in ROUTES if v == "baidu" and r.operation == "spam")
    with pytest.raises(AssertionError, match="deliberately broken model"):
        run_route(Sender(server), "baidu", route, 30, shrink=False)
