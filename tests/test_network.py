"""URLs: no network unless allowlisted; real fetching only from loopback hosts in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from tests.helpers import baidu_token, face_audit


@pytest.fixture
async def image_host() -> AsyncIterator[TestServer]:
    async def serve(request: web.Request) -> web.Response:
        if request.match_info["name"] == "missing.png":
            raise web.HTTPNotFound()
        return web.Response(body=make_image("sexy", "png"), content_type="image/png")

    app = web.Application()
    app.router.add_get("/img/{name}", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_allowlisted_loopback_host_is_really_fetched(aiohttp_client, image_host: TestServer) -> None:  # type: ignore[no-untyped-def]
    sim = Sim(Settings(fetch_allowlist=("127.0.0.1",), validate_responses=True))
    client: TestClient = await aiohttp_client(create_app(sim=sim))
    token = await baidu_token(client)
    url = f"http://127.0.0.1:{image_host.port}/img/a.png"
    _, body = await face_audit(client, token, {"imgUrls": url})
    assert body["result"][0]["res_msg"] == [302]
    _, body = await face_audit(
        client, token, {"imgUrls": f"http://127.0.0.1:{image_host.port}/img/missing.png"}
    )
    assert (body["error_code"], body["error_msg"]) == (282804, "download image error")
    entry = sim.state.journal.query(vendor="baidu", limit=1)[0]
    assert any("not_found" in n for n in entry["notes"])
    assert sim.schema_violations == []


async def test_same_host_without_allowlist_is_not_fetched(client: TestClient, image_host: TestServer) -> None:
    token = await baidu_token(client)
    _, body = await face_audit(client, token, {"imgUrls": f"http://127.0.0.1:{image_host.port}/img/a.png"})
    assert (body["error_code"], body["error_msg"]) == (282804, "download image error")
    journal = await (await client.get("/__modsim/journal", params={"vendor": "baidu", "limit": "1"})).json()
    assert "not on the fetch allowlist" in journal["entries"][0]["notes"][0]


async def test_hang_fault_holds_then_drops_the_connection(client: TestClient) -> None:
    token = await baidu_token(client)
    rule = {"vendor": "baidu", "operation": "face_audit", "action": {"type": "hang", "max_s": 0.3}}
    assert (await client.post("/__modsim/faults", json={"rules": [rule]})).status == 200
    with pytest.raises(aiohttp.ClientError):
        await client.post(
            "/rest/2.0/solution/v1/face_audit", params={"access_token": token}, data={"images": "x"}
        )
    faults = await (await client.get("/__modsim/faults")).json()
    assert faults["rules"][0]["hits"] == 1
