"""Baidu quota codes by state: a credential's attrs.quota (qps, daily, total) on the simulator clock."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.helpers import baidu_token, face_audit, image_b64

KEY, SECRET = "quota-key", "quota-secret"


async def make_app(client: TestClient, quota: dict[str, int]) -> str:
    cred = {"vendor": "baidu", "id": KEY, "secret": SECRET, "attrs": {"app_id": "555", "quota": quota}}
    assert (await client.post("/__modsim/credentials", json=cred)).status == 201
    assert (
        await client.post("/__modsim/clock", json={"set": 1795300000, "freeze": True})
    ).status == 200  # 06:26 UTC+8: far from a day change
    return await baidu_token(client, KEY, SECRET)


@pytest.mark.parametrize(
    ("quota", "calls", "code", "msg"),
    [
        ({"qps": 2}, 3, 18, "Open api qps request limit reached"),
        ({"daily": 2}, 3, 17, "Open api daily request limit reached"),
        ({"total": 2}, 3, 19, "Open api total request limit reached"),
    ],
    ids=["qps-18", "daily-17", "total-19"],
)
async def test_quota_codes(
    client: TestClient, quota: dict[str, int], calls: int, code: int, msg: str
) -> None:
    token = await make_app(client, quota)
    image = image_b64()
    bodies = [(await face_audit(client, token, {"images": image}))[1] for _ in range(calls)]
    assert ["error_code" in b for b in bodies] == [False, False, True]
    assert bodies[-1] == {"error_code": code, "error_msg": msg}


async def test_qps_window_and_day_roll_on_the_simulator_clock(client: TestClient) -> None:
    token = await make_app(client, {"qps": 1, "daily": 2})
    image = image_b64()
    assert "result" in (await face_audit(client, token, {"images": image}))[1]
    assert (await face_audit(client, token, {"images": image}))[1]["error_code"] == 18
    await client.post("/__modsim/clock", json={"advance_s": 1.5})
    assert "result" in (await face_audit(client, token, {"images": image}))[1]
    await client.post("/__modsim/clock", json={"advance_s": 1.5})
    assert (await face_audit(client, token, {"images": image}))[1]["error_code"] == 17
    await client.post("/__modsim/clock", json={"advance_s": 86400})
    assert "result" in (await face_audit(client, token, {"images": image}))[1]
