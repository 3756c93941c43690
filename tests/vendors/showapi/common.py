"""Helpers for the showapi tests: demo apps, signing as the official SDKs do, calls, assertions.

The signature here is written out independently of ``simulator.vendors.showapi.auth`` (the unit tests
check the simulator's own function against the documented worked example).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from simulator.content import make_image

APPID = "100001"
SECRET = "demo-showapi-secret"
TEXT_ONLY_APPID, TEXT_ONLY_SECRET = "100002", "demo-showapi-text-only"
TINY_APPID, TINY_SECRET = "100003", "demo-showapi-tiny-quota"
KEYS = ["showapi_res_error", "showapi_res_id", "showapi_res_code", "showapi_res_body"]
CHINA = timezone(timedelta(hours=8))

# Written out on purpose (not imported from the simulator), so a typo in its table fails a test.
EXPECTED: dict[int, str] = {
    -1: "系统调用错误",
    -2: "可调用次数或金额为0",
    -3: "读取超时",
    -4: "服务端返回数据解析错误",
    -5: "后端服务器DNS解析错误",
    -6: "服务不存在或未上线",
    -7: "API创建者的网关资源不足",
    -1000: "系统维护",
    -1002: "showapi_appid字段必传",
    -1003: "showapi_sign字段必传",
    -1004: "签名sign验证有误",
    -1005: "showapi_timestamp无效",
    -1006: "app无权限调用接口",
    -1007: "没有订购套餐",
    -1008: "服务商关闭对您的调用权限",
    -1009: "调用频率受限",
    -1010: "找不到您的应用",
    -1011: "子授权app_child_id无效",
    -1012: "子授权已过期或失效",
    -1013: "子授权ip受限",
    -1014: "token权限无效",
}
APPID_NOT_A_NUMBER = "验证有误!showapi_appid不是数字!"


def sdk_sign(params: dict[str, str], secret: str, *, upper: bool = False) -> str:
    """As the Java SDK (upper-case hex) and the PHP/Node samples (lower-case) compute it."""
    text = "".join(k + v for k, v in sorted(params.items()) if k and v and k != "showapi_sign") + secret
    digest = hashlib.md5(text.encode("utf-8")).hexdigest()
    return digest.upper() if upper else digest


def signed(
    params: dict[str, str], appid: str = APPID, secret: str = SECRET, *, upper: bool = False
) -> dict[str, str]:
    out = {"showapi_appid": appid, **params}
    out["showapi_sign"] = sdk_sign(out, secret, upper=upper)
    return out


def b64(
    scenario: str | None = None, fmt: str = "png", frames: int = 1, size: tuple[int, int] = (256, 256)
) -> str:
    return base64.b64encode(make_image(scenario, fmt, size, frames)).decode()


def china_time(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, CHINA).strftime("%Y%m%d%H%M%S")


async def call(
    client: TestClient,
    path: str,
    params: dict[str, str] | None = None,
    *,
    method: str = "POST",
    query: dict[str, str] | None = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, dict[str, Any]]:
    """Status, raw text and parsed body. ``params`` go in the form body (POST) or the query (GET)."""
    if method == "GET":
        resp = await client.get(path, params={**(query or {}), **(params or {})}, headers=headers)
    else:
        body = data if data is not None else params
        resp = await client.request(method, path, params=query, data=body, headers=headers)
    text = await resp.text()
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    return resp.status, text, json.loads(text)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> FormData:
    form = FormData()
    for k, v in fields.items():
        form.add_field(k, v)
    for name, (filename, data) in files.items():
        form.add_field(name, data, filename=filename, content_type="application/octet-stream")
    return form


def assert_envelope(text: str, body: dict[str, Any]) -> None:
    """The raw key order and the request id format."""
    assert list(body) == KEYS, text
    assert text.startswith('{"showapi_res_error":'), text
    assert len(body["showapi_res_id"]) == 24
    assert all(c in "0123456789abcdef" for c in body["showapi_res_id"])


def assert_ok(status: int, text: str, body: dict[str, Any]) -> dict[str, Any]:
    """A code-0 answer; returns ``showapi_res_body``."""
    assert status == 200, text
    assert_envelope(text, body)
    assert body["showapi_res_code"] == 0, text
    assert body["showapi_res_error"] == "", text
    inner: dict[str, Any] = body["showapi_res_body"]
    return inner


def assert_error(status: int, text: str, body: dict[str, Any], code: int, message: str | None = None) -> None:
    assert status == 200, text
    assert_envelope(text, body)
    assert body["showapi_res_code"] == code, text
    assert body["showapi_res_error"] == (message if message is not None else EXPECTED[code]), text
    assert body["showapi_res_body"] == {}, text


async def last_journal(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/__modsim/journal", params={"vendor": "showapi", "limit": "1"})
    assert resp.status == 200
    [entry] = (await resp.json())["entries"]
    return entry


async def frozen_now(client: TestClient) -> float:
    """Freeze the simulator clock; its current instant."""
    resp = await client.post("/__modsim/clock", json={"freeze": True})
    assert resp.status == 200
    now: float = (await resp.json())["now"]
    return now
