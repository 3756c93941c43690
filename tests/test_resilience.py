"""Slow clients and bounded stores."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.testing import ThreadedServer
from simulator.vendors.baidu.auth import tokens, tokens_of
from tests.helpers import baidu_token

TOKEN_QUERY = "grant_type=client_credentials&client_id=demo-baidu-api-key&client_secret=demo-baidu-secret-key"


async def test_a_body_slower_than_the_timeout_gets_the_vendor_shape_and_a_closed_connection() -> None:
    with ThreadedServer(Settings(body_timeout_s=0.3, validate_responses=True)) as server:
        with urllib.request.urlopen(f"{server.url}/oauth/2.0/token?{TOKEN_QUERY}", timeout=10) as resp:
            token = json.loads(resp.read())["access_token"]
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"POST /rest/2.0/solution/v1/face_audit?access_token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nimages=abc"
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)  # returns at EOF: the server closed
        writer.close()
        await writer.wait_closed()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"Connection: close" in head
        answer = json.loads(body)
        assert (list(answer), answer["error_code"], answer["error_msg"]) == (
            ["log_id", "error_code", "error_msg"],
            282000,
            "logic internal error",
        )
        entry = server.call(server.sim.state.journal.query)[-1]
        assert (entry["status"], entry["vendor_code"], entry["error"]) == (
            200,
            282000,
            "HTTP 408 Request Timeout",
        )
        assert server.sim.schema_violations == []


async def test_token_store_is_bounded(aiohttp_client: Any, tmp_path: Any) -> None:
    (tmp_path / "small.yaml").write_text(
        "vendors:\n  baidu:\n    limits: {max_tokens: 3}\n", encoding="utf-8"
    )
    sim = Sim(Settings(fixtures=(tmp_path,)))
    client = await aiohttp_client(create_app(sim=sim))
    issued = [await baidu_token(client) for _ in range(5)]
    assert [t["token"] for t in await tokens(sim).values()] == issued[2:]
    resp = await client.post(
        "/rest/2.0/solution/v1/face_audit", params={"access_token": issued[0]}, data={"images": "x"}
    )
    assert (await resp.json())["error_code"] == 110
    # revoking the key names the tokens still remembered, not those dropped past the cap
    resp = await client.post("/__modsim/vendors/baidu/tokens/revoke", json={"api_key": "demo-baidu-api-key"})
    assert await resp.json() == {"revoked": 3}
    # tokens another key's pushed out are forgotten by their own key too (on its next revoke)
    await client.post("/__modsim/reset")
    for _ in range(2):
        await baidu_token(client, "demo-baidu-cloud-key", "demo-baidu-cloud-secret")
    mine = [await baidu_token(client) for _ in range(3)]
    for _ in range(2):
        resp = await client.post(
            "/__modsim/vendors/baidu/tokens/revoke", json={"api_key": "demo-baidu-cloud-key"}
        )
        assert await resp.json() == {"revoked": 0}
    assert await tokens_of(sim, "demo-baidu-cloud-key").count() == 0
    assert [t["token"] for t in await tokens(sim).values()] == mine
