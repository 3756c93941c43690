"""Complete fault actions and matching: latency distributions, slow/cut/garbled answers, gateway
pages, request-field matching and per-credential sequences."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.helpers import FACE_AUDIT, baidu_token, image_b64


async def set_faults(client: TestClient, *rules: dict[str, Any]) -> None:
    resp = await client.post("/__modsim/faults", json={"rules": list(rules)})
    assert resp.status == 200, await resp.text()


async def last_fault(client: TestClient) -> Any:
    entries = (await (await client.get("/__modsim/journal", params={"limit": "1"})).json())["entries"]
    return entries[0]["fault"]


async def audit(client: TestClient, token: str, **form: str) -> aiohttp.ClientResponse:
    return await client.post(FACE_AUDIT, params={"access_token": token}, data={"images": image_b64(), **form})


@pytest.mark.parametrize(
    ("action", "lo", "hi"),
    [
        ({"type": "latency", "distribution": "uniform", "min_ms": 20, "max_ms": 60}, 20, 60),
        (
            {"type": "latency", "distribution": "lognormal", "median_ms": 30, "sigma": 0.3, "max_ms": 80},
            0,
            80,
        ),
    ],
    ids=["uniform", "lognormal"],
)
async def test_latency_distributions_are_seeded_and_bounded(
    client: TestClient, action: dict[str, Any], lo: float, hi: float
) -> None:
    token = await baidu_token(client)
    await set_faults(client, {"id": "lat", "operation": "face_audit", "action": action})
    delays = []
    for _ in range(5):
        assert (await audit(client, token)).status == 200
        delays.append((await last_fault(client))["latency_ms"])
    assert all(lo <= d <= hi for d in delays)
    assert len(set(delays)) > 1
    # same seed, same rule id: the same draws after a reset
    await client.post("/__modsim/reset")
    token = await baidu_token(client)
    await set_faults(client, {"id": "lat", "operation": "face_audit", "action": action})
    again = []
    for _ in range(5):
        await audit(client, token)
        again.append((await last_fault(client))["latency_ms"])
    assert again == delays


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_gateway_pages(client: TestClient, status: int) -> None:
    await set_faults(
        client, {"vendor": "baidu", "action": {"type": "http", "status": status, "body": "gateway"}}
    )
    resp = await client.post(FACE_AUDIT, data={"images": "x"})
    text = await resp.text()
    assert resp.status == status
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.headers["Server"] == "nginx"
    assert f"<title>{status} " in text and "<hr><center>nginx</center>" in text


async def test_truncated_json_keeps_a_consistent_length(client: TestClient) -> None:
    token = await baidu_token(client)
    await set_faults(client, {"operation": "face_audit", "action": {"type": "truncate", "fraction": 0.5}})
    resp = await audit(client, token)
    raw = await resp.read()
    assert resp.status == 200 and int(resp.headers["Content-Length"]) == len(raw) > 0
    with pytest.raises(ValueError):
        json.loads(raw)


async def test_wrong_content_type(client: TestClient) -> None:
    token = await baidu_token(client)
    await set_faults(
        client, {"operation": "face_audit", "action": {"type": "content_type", "value": "text/plain"}}
    )
    resp = await audit(client, token)
    assert resp.headers["Content-Type"] == "text/plain"
    assert "result" in json.loads(await resp.read())


async def test_slow_body_delivers_the_whole_answer(client: TestClient) -> None:
    token = await baidu_token(client)
    await set_faults(
        client,
        {"operation": "face_audit", "action": {"type": "slow_body", "chunk_bytes": 4096, "delay_ms": 5}},
    )
    resp = await audit(client, token)
    body = json.loads(await resp.read())
    assert resp.status == 200 and len(body["result"]) == 1


async def test_close_after_n_bytes(client: TestClient) -> None:
    token = await baidu_token(client)
    await set_faults(client, {"operation": "face_audit", "action": {"type": "close_after", "bytes": 10}})
    resp = await audit(client, token)
    assert resp.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()


async def test_match_on_request_field(client: TestClient) -> None:
    token = await baidu_token(client)
    await set_faults(
        client,
        {"operation": "face_audit", "fields": {"configId": "7"}, "action": {"type": "error", "code": 282000}},
    )
    assert "result" in await (await audit(client, token, configId="1")).json()
    body = await (await audit(client, token, configId="7")).json()
    assert (body["error_code"], body["error_msg"]) == (282000, "logic internal error")
    # the handler still reads the body the fault layer read first
    assert "result" in await (await audit(client, token, configId="2")).json()


async def test_match_on_json_field_at_any_depth(client: TestClient) -> None:
    await set_faults(
        client,
        {
            "vendor": "baidu",
            "operation": "unknown_method",  # not a business operation: only a rule naming it reaches it
            "fields": {"dataId": "img-2"},
            "action": {"type": "error", "code": 2},
        },
    )
    resp = await client.post("/rest/2.0/other", json={"tasks": [{"dataId": "img-1"}, {"dataId": "img-2"}]})
    assert (await resp.json())["error_code"] == 2
    resp = await client.post("/rest/2.0/other", json={"tasks": [{"dataId": "img-1"}]})
    assert (await resp.json())["error_code"] == 3


async def test_sequence_per_credential(client: TestClient) -> None:
    await client.post(
        "/__modsim/credentials",
        json={"vendor": "baidu", "id": "k2", "secret": "s2", "attrs": {"app_id": "2"}},
    )
    t1 = await baidu_token(client)
    t2 = await baidu_token(client, "k2", "s2")
    seq = [{"type": "error", "code": 18}, None, {"type": "error", "code": 2}]
    await set_faults(client, {"operation": "face_audit", "sequence": seq})

    async def code(token: str) -> int:
        return int((await (await audit(client, token)).json()).get("error_code", 0))

    assert [await code(t1), await code(t2), await code(t1), await code(t1), await code(t1), await code(t2)] == [
        18, 18, 0, 2, 0, 0,
    ]  # fmt: skip
    rules = (await (await client.get("/__modsim/faults")).json())["rules"]
    assert rules[0]["sequence"] == seq and rules[0]["hits"] == 3


async def test_rule_without_action_or_sequence_is_refused(client: TestClient) -> None:
    resp = await client.post("/__modsim/faults", json={"rules": [{"vendor": "baidu"}]})
    assert resp.status == 400
    assert (await resp.json())["error"] == "invalid_request"
