"""Small helpers for tests: demo credentials, images, Baidu calls."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.content import make_image

BAIDU_APP_ID = "10000001"
BAIDU_API_KEY = "demo-baidu-api-key"
BAIDU_SECRET = "demo-baidu-secret-key"
FACE_AUDIT = "/rest/2.0/solution/v1/face_audit"
TOKEN = "/oauth/2.0/token"


def image_b64(
    scenario: str | None = None, fmt: str = "png", size: tuple[int, int] = (256, 256), frames: int = 1
) -> str:
    return base64.b64encode(make_image(scenario, fmt, size, frames)).decode()


async def baidu_token(client: TestClient, api_key: str = BAIDU_API_KEY, secret: str = BAIDU_SECRET) -> str:
    resp = await client.get(
        TOKEN, params={"grant_type": "client_credentials", "client_id": api_key, "client_secret": secret}
    )
    assert resp.status == 200, await resp.text()
    token: str = (await resp.json())["access_token"]
    return token


async def face_audit(
    client: TestClient, token: str | None, data: Any, **params: str
) -> tuple[int, dict[str, Any]]:
    query = dict(params)
    if token is not None:
        query["access_token"] = token
    resp = await client.post(FACE_AUDIT, params=query, data=data)
    body: dict[str, Any] = await resp.json(content_type=None)
    return resp.status, body


def without_log_ids(obj: Any) -> Any:
    """The body minus every ``log_id``: those are per request (deterministic per request sequence)."""
    if isinstance(obj, dict):
        return {k: without_log_ids(v) for k, v in obj.items() if k != "log_id"}
    if isinstance(obj, list):
        return [without_log_ids(v) for v in obj]
    return obj
