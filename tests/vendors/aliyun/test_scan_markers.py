"""Tasks whose ``#modsim=`` markers alone decide them take a short way through the image scan
(``loading.marked``): the answers and the journal are those of the whole way, and a rule, a queued
outcome or an unmarked URL in the same request sends every task the whole way again."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from simulator.scenarios.loader import ScenarioRule
from simulator.scenarios.matcher import Target
from simulator.sim import Sim
from simulator.state import QueuedOutcome
from simulator.vendors.aliyun import loading
from tests.vendors.aliyun.helpers import SCAN, green, scan_body

PORN = "https://img.example.com/a.png#modsim=porn"
SEXY = "http://img.example.com/b.png#modsim=sexy"


async def _scan(client: TestClient, sim: Sim, *urls: str) -> tuple[list[tuple[int, str]], dict[str, Any]]:
    status, body, _ = await green(client, SCAN, scan_body(*urls))
    assert status == 200 and body["code"] == 200, body
    labels = [(t["code"], t["results"][0]["label"] if "results" in t else "") for t in body["data"]]
    return labels, sim.state.journal.query(vendor="aliyun")[-1]


async def test_markers_alone_decide_as_the_whole_way_does(client: TestClient, sim: Sim) -> None:
    labels, entry = await _scan(client, sim, PORN, SEXY)
    assert labels == [(200, "porn"), (200, "sexy")]
    assert entry["scenario"] == ["porn", "sexy"] and entry["scenario_source"] == ["marker", "marker"]
    assert entry["notes"] == [] and "warnings" not in entry


async def test_a_rule_a_queued_outcome_or_an_unmarked_url_go_the_whole_way(
    client: TestClient, sim: Sim
) -> None:
    sim.state.rules = [ScenarioRule(match={"url": "https://img.example.com/a.png*"}, scenario="clean_avatar")]
    labels, entry = await _scan(client, sim, PORN, SEXY)
    assert labels == [(200, "normal"), (200, "sexy")]  # the rule wins over the marker
    assert entry["scenario_source"][1] == "marker" and entry["scenario_source"][0] != "marker"
    sim.state.rules = []
    await sim.store.queue_add(QueuedOutcome("sexy", "aliyun", None, None, 1))
    labels, entry = await _scan(client, sim, PORN, SEXY)
    assert labels == [(200, "sexy"), (200, "sexy")]  # the queued outcome, consumed by the first task
    assert entry["scenario_source"] == ["queued", "marker"]
    labels, entry = await _scan(client, sim, PORN, "https://img.example.com/plain.png", SEXY)
    # no network by default: the unmarked URL cannot be loaded (480), the marked ones still decide
    assert labels == [(200, "porn"), (480, ""), (200, "sexy")]
    assert entry["scenario_source"] == ["marker", "marker"]  # the failed task decided nothing
    assert any("plain.png" in note for note in entry["notes"])  # it went the whole way: a load was tried


def test_the_short_way_is_taken_only_when_nothing_else_can_decide(sim: Sim) -> None:
    target = Target("aliyun", "image_scan", "cred")
    got = loading.marked(sim, target, [PORN, SEXY])
    assert got is not None and [s.name for s in got] == ["porn", "sexy"]
    for other in (
        "https://img.example.com/c.png",  # no marker
        "oss://bucket/c.png#modsim=porn",  # not http(s)
        "https://img.example.com/c.png#modsim=no_such_scenario",
        "https:///c.png#modsim=porn",  # no host
    ):
        assert loading.marked(sim, target, [PORN, other]) is None, other
