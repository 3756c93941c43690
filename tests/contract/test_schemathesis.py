"""Schemathesis against the simulator's own OpenAPI document (``GET /__modsim/openapi.json``), over
a real loopback socket: every operation of every vendor, positive and negative cases plus the
document's examples, half of them with valid demo credentials.

Checks: schemathesis' not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance and response_headers_conformance; and, independently, the contract
harness (``check_answer``: request id, journal entry without traceback, no 5xx, a body valid for
``Vendor.schema_for``). The ``live`` fixture asserts at teardown that the server itself (which
validates every answer) saw no schema violation.

Bounded: ``MAX_EXAMPLES`` cases per operation, deterministic (``derandomize``); the whole module
runs in about 10 s on 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from simulator.admin.openapi import METHODS, document
from simulator.registry import vendors
from tests.contract.fuzzers import Runner
from tests.live import LiveServer

MAX_EXAMPLES = 12
OPERATION_IDS = sorted(
    op["operationId"]
    for item in document(vendors().values())["paths"].values()
    for method, op in item.items()
    if method in METHODS
)


@pytest.fixture(scope="module")
def runner(live_server: LiveServer) -> Iterator[Runner]:
    schema = schemathesis.openapi.from_url(live_server.url + "/__modsim/openapi.json")
    r = Runner(live_server, schema)
    yield r
    r.session.close()


@pytest.fixture
def fresh(runner: Runner, live: LiveServer) -> Runner:
    """The module's runner on the freshly reset server (tokens are forgotten by the reset)."""
    runner.forget()
    return runner


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_operation_conforms_to_the_served_document(fresh: Runner, operation_id: str) -> None:
    sent = fresh.fuzz(operation_id, MAX_EXAMPLES)
    assert sent >= MAX_EXAMPLES // 2


def test_every_route_of_every_vendor_is_fuzzed(live: LiveServer) -> None:
    """The parametrisation above covers each route's path (templated paths by their template)."""
    doc: dict[str, Any] = document(live.sim.vendors.values())
    covered = {path for path, item in doc["paths"].items() if any(m in item for m in METHODS)}
    assert len(OPERATION_IDS) == len(set(OPERATION_IDS))
    for vendor in live.sim.vendors.values():
        for route in vendor.routes():
            template = route.path.split(":")[0] + "}" if "{" in route.path else route.path
            assert template in covered, (vendor.name, route.path)
