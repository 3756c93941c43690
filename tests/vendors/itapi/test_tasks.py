"""Async tasks: readiness by polls and by simulator time, expiry, the bounded store, the configurable
result-query path, the admin listing; and the fixture section's validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.itapi.models import tasks_of
from tests.vendors.itapi.common import (
    ENVELOPE_VERDICT,
    KEY,
    PIC,
    RESULT,
    b64,
    call,
    query,
    submit,
    sync_verdict,
    write_fixture,
)


async def test_ready_at_the_first_query_by_default(client: TestClient) -> None:
    taskid = await submit(client, b64("porn"), "porn")
    for _ in range(3):  # and as often as asked
        status, body = await query(client, taskid)
        assert status == 200 and list(body) == ENVELOPE_VERDICT
        assert body["data"]["porn"]["label"] == "色情"


async def test_ready_after_n_polls(configured: Any) -> None:
    client, _ = await configured({"tasks": {"pending_polls": 3}})
    taskid = await submit(client, b64("porn"), "porn")
    for _ in range(3):
        _, body = await query(client, taskid)
        assert (body["code"], body["debug"]) == (400, "任务处理中,请稍后查询")
    _, body = await query(client, taskid)
    assert body["code"] == 200 and body["data"]["porn"]["label_level"] == 0
    _, body = await query(client, taskid)
    assert body["code"] == 200


async def test_ready_after_simulator_seconds(configured: Any) -> None:
    client, _ = await configured({"tasks": {"ready_after_s": 30}})
    await client.post("/__modsim/clock", json={"freeze": True})
    taskid = await submit(client, b64("porn"), "porn")
    _, body = await query(client, taskid)
    assert body["debug"] == "任务处理中,请稍后查询"
    await client.post("/__modsim/clock", json={"advance_s": 29.9})
    _, body = await query(client, taskid)
    assert body["code"] == 400
    await client.post("/__modsim/clock", json={"advance_s": 0.1})
    _, body = await query(client, taskid)
    assert body["code"] == 200


async def test_sync_tasks_are_ready_at_once(configured: Any) -> None:
    client, _ = await configured({"tasks": {"pending_polls": 5, "ready_after_s": 100}})
    data = await sync_verdict(client, b64("bloody"), "terror")
    _, body = await query(client, data["taskid"])
    assert body["data"] == data


async def test_expiry_on_the_simulator_clock(configured: Any) -> None:
    client, _ = await configured({"tasks": {"ttl_s": 600}})
    await client.post("/__modsim/clock", json={"freeze": True})
    taskid = await submit(client, b64())
    await client.post("/__modsim/clock", json={"advance_s": 599})
    _, body = await query(client, taskid)
    assert body["code"] == 200
    await client.post("/__modsim/clock", json={"advance_s": 1})
    _, body = await query(client, taskid)
    assert (body["code"], body["debug"]) == (400, "任务已过期")


async def test_the_store_is_bounded(configured: Any) -> None:
    client, sim = await configured({"tasks": {"max_tasks": 3}})
    ids = [await submit(client, b64(None, size=(16 + i, 16))) for i in range(5)]
    assert await tasks_of(sim).count() == 3
    for taskid in ids[:2]:
        _, body = await query(client, taskid)
        assert (body["code"], body["debug"]) == (400, "任务不存在")
    for taskid in ids[2:]:
        _, body = await query(client, taskid)
        assert body["code"] == 200


async def test_reset_forgets_tasks(client: TestClient) -> None:
    taskid = await submit(client, b64())
    await client.post("/__modsim/reset")
    _, body = await query(client, taskid)
    assert body["debug"] == "任务不存在"


async def test_admin_lists_tasks(client: TestClient) -> None:
    taskid = await submit(client, b64("porn"), "porn")
    resp = await client.get("/__modsim/vendors/itapi/tasks")
    assert resp.status == 200
    [task] = (await resp.json())["tasks"]
    assert task["taskid"] == taskid and task["credential"] == KEY
    assert (task["polls"], task["ready"], task["expired"], task["conclusion"]) == (0, False, False, "不通过")
    await query(client, taskid)
    resp = await client.get("/__modsim/vendors/itapi/tasks")
    [task] = (await resp.json())["tasks"]
    assert (task["polls"], task["ready"]) == (1, True)


async def test_result_path_is_configurable(configured: Any) -> None:
    client, _ = await configured({"result_path": "/api/badword/picquery"})
    taskid = await submit(client, b64("porn"), "porn")
    _, body = await call(client, {"key": KEY, "taskid": taskid}, path="/api/badword/picquery")
    assert body["code"] == 200 and body["data"]["taskid"] == taskid
    resp = await client.get(RESULT, params={"key": KEY, "taskid": taskid})
    assert resp.status == 404  # the default path is gone
    resp = await client.get("/__modsim/journal", params={"vendor": "itapi"})
    ops = [e["operation"] for e in (await resp.json())["entries"]]
    assert ops == ["pic", "picresult"]


async def test_result_query_by_post_form(client: TestClient) -> None:
    taskid = await submit(client, b64("porn"), "porn")
    _, body = await call(client, {"key": KEY, "taskid": taskid}, path=RESULT)
    assert body["code"] == 200
    _, body = await call(client, {"key": KEY, "taskid": taskid}, path=RESULT, style="multipart")
    assert body["code"] == 200


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_read_the_query_only(client: TestClient, method: str) -> None:
    resp = await client.request(
        method, PIC, params={"key": KEY, "type": "porn", "sync": "yes"}, data={"data": b64()}
    )
    body = await resp.json()
    assert (resp.status, body["code"], body["debug"]) == (200, 400, "缺少参数data")
    resp = await client.request(
        method, PIC, params={"key": KEY, "type": "porn", "sync": "yes", "data": b64()}
    )
    assert (await resp.json())["code"] == 200


async def test_head(client: TestClient) -> None:
    resp = await client.head(PIC, params={"key": KEY})
    assert resp.status == 200 and resp.content_type == "application/json"


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"result_path": "/api/badword/pic"}, "result_path"),
        ({"result_path": "relative"}, "result_path"),
        ({"result_path": "/__modsim/x"}, "result_path"),
        ({"result_path": "/a/{var}"}, "result_path"),
        ({"error_http_status": 200}, "error_http_status"),
        ({"empty_type": "none"}, "empty_type"),
        ({"thresholds": {"porn": {"block": 2}}}, "thresholds"),
        ({"thresholds": {"nude": {"block": 0.5}}}, "thresholds"),
        ({"ocrtext_labels": {"6": 7}}, "ocrtext_labels"),
        ({"tasks": {"pending_polls": -1}}, "tasks"),
        ({"tasks": {"max_tasks": 0}}, "tasks"),
        ({"messages": {"404": "x"}}, "messages"),
        ({"limits": {"formats": ["svg"]}}, "limits"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_section_is_refused_at_start(tmp_path: Path, section: dict[str, Any], problem: str) -> None:
    folder = write_fixture(tmp_path, {"vendors": {"itapi": section}})
    with pytest.raises(ValueError, match=r"vendors\.itapi fixture section") as info:
        Sim(Settings(fixtures=(folder,)))
    assert problem in str(info.value)


def test_demo_credentials() -> None:
    sim = Sim(Settings())
    assert sim.vendors["itapi"].demo_credentials(sim) == [{"key": KEY}]


def test_routes() -> None:
    sim = Sim(Settings())
    assert [(r.method, r.path, r.operation) for r in sim.vendors["itapi"].routes()] == [
        ("*", PIC, "pic"),
        ("*", RESULT, "picresult"),
    ]
