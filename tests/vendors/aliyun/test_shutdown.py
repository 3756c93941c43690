"""Graceful shutdown: a callback still waiting to be sent or retried is journalled as not sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from tests.vendors.aliyun.helpers import green, scan_body


async def test_pending_callback_is_journalled_as_not_sent(aiohttp_client: Any, tmp_path: Path) -> None:
    hits: list[int] = []

    async def always_500(request: web.Request) -> web.Response:
        hits.append(1)
        return web.Response(status=500)

    receiver_app = web.Application()
    receiver_app.router.add_post("/cb", always_500)
    receiver = TestServer(receiver_app, host="127.0.0.1")
    await receiver.start_server()
    (tmp_path / "slow-retries.yaml").write_text(
        "vendors:\n  aliyun:\n    callback: {retries: 3, retry_interval_s: 60}\n", encoding="utf-8"
    )
    sim = Sim(Settings(fixtures=(tmp_path,), validate_responses=True))
    client = await aiohttp_client(create_app(sim=sim))
    body = scan_body(
        "https://img.example.invalid/a.jpg#modsim=porn",
        callback=f"http://127.0.0.1:{receiver.port}/cb",
        seed="s1",
    )
    status, answer, _ = await green(client, "/green/image/asyncscan", body, action="ImageAsyncScan")
    assert status == 200 and answer["code"] == 200
    for _ in range(200):  # the first attempt is made right away and fails
        if hits:
            break
        await asyncio.sleep(0.01)
    await client.close()  # graceful shutdown while the retry waits
    await receiver.close()
    entries = [e for e in sim.state.journal.query(vendor="aliyun") if e["operation"] == "callback"]
    assert [e["status"] for e in entries] == [500, None]
    assert "will retry" in entries[0]["notes"][-1]
    assert entries[1]["notes"] == [
        f"callback for task {answer['data'][0]['taskId']} not sent: the simulator is shutting down"
    ]
    assert entries[1]["error"] == "cancelled at shutdown"
