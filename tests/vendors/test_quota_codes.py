"""Each vendor's quota code and exact text, from a vendor-default quota set in a fixture file."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from tests.helpers import baidu_token, face_audit, image_b64
from tests.vendors.aliyun.helpers import green, scan_body


async def client_with(aiohttp_client: Any, tmp_path: Path, quotas: str) -> tuple[TestClient, Sim]:
    (tmp_path / "quotas.yaml").write_text(quotas, encoding="utf-8")
    sim = Sim(Settings(fixtures=(tmp_path,), validate_responses=True))
    client = await aiohttp_client(create_app(sim=sim))
    assert (await client.post("/__modsim/clock", json={"set": 1795300000, "freeze": True})).status == 200
    return client, sim


async def test_baidu_default_qps_gives_18(aiohttp_client: Any, tmp_path: Path) -> None:
    client, sim = await client_with(aiohttp_client, tmp_path, "quotas:\n  baidu: {qps: 1}\n")
    token = await baidu_token(client)
    assert "result" in (await face_audit(client, token, {"images": image_b64()}))[1]
    assert (await face_audit(client, token, {"images": image_b64()}))[1] == {
        "error_code": 18,
        "error_msg": "Open api qps request limit reached",
    }
    assert sim.schema_violations == []


async def test_showapi_default_total_gives_minus_2(aiohttp_client: Any, tmp_path: Path) -> None:
    client, sim = await client_with(aiohttp_client, tmp_path, "quotas:\n  showapi: {total: 1}\n")
    form = {"showapi_appid": "100001", "showapi_sign": "demo-showapi-secret", "content": "你好"}
    first = await (await client.post("/2054-3", data=form)).json()
    second = await (await client.post("/2054-3", data=form)).json()
    assert first["showapi_res_code"] == 0
    assert (second["showapi_res_code"], second["showapi_res_error"], second["showapi_res_body"]) == (
        -2,
        "可调用次数或金额为0",
        {},
    )
    assert sim.schema_violations == []


async def test_itapi_default_daily_gives_400(aiohttp_client: Any, tmp_path: Path) -> None:
    client, sim = await client_with(aiohttp_client, tmp_path, "quotas:\n  itapi: {daily: 1}\n")
    data = base64.b64encode(make_image("porn", "jpeg")).decode()
    form = {"key": "demo-itapi-key", "type": "porn", "sync": "yes", "data": data}
    first = await (await client.post("/api/badword/pic", data=form)).json()
    second = await (await client.post("/api/badword/pic", data=form)).json()
    assert first["code"] == 200
    assert (second["code"], second["msg"]) == (400, "限制或者错误")
    assert sim.schema_violations == []


async def test_aliyun_default_qps_gives_throttling(aiohttp_client: Any, tmp_path: Path) -> None:
    client, sim = await client_with(aiohttp_client, tmp_path, "quotas:\n  aliyun: {qps: 1}\n")
    body = scan_body("https://img.example.invalid/a.jpg#modsim=porn")
    ok_status, _, _ = await green(client, "/green/image/scan", body)
    status, answer, _ = await green(client, "/green/image/scan", body)
    assert ok_status == 200
    assert (status, answer["Code"], answer["Message"]) == (
        400,
        "Throttling.User",
        "Request was denied due to user flow control.",
    )
    assert sim.schema_violations == []
