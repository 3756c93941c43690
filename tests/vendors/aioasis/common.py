"""Shared by the AI绿洲 tests: demo appkeys, the exact texts, one call helper, the error assertion.

The expected texts are written out here on purpose (not imported from the simulator's table), so a
typo there fails a test. 10030 has a full-width comma followed by an ASCII space.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from tests.helpers import image_b64

API = "/fantabulous/touxiangshenhe"
PAID = "demo-aioasis-appkey"
TRIAL = "demo-aioasis-trial"
DAILY = "demo-aioasis-daily"
DISABLED = "demo-aioasis-disabled"
DENIED = "demo-aioasis-denied"
PERSONAL = "demo-aioasis-personal"

EXPECTED_MSG: dict[str, str] = {
    "10001": "错误的请求appkey",
    "10003": "不存在相应的数据信息",
    "10004": "URL上appkey参数不能为空",
    "10010": "接口需要付费，请充值",
    "10020": "万象系统繁忙，请稍后再试",
    "10030": "调用万象网关失败， 请与万象联系",
    "10040": "超过每天限量，请明天继续",
    "10050": "用户已被禁用",
    "10060": "提供方设置调用权限，请联系提供方",
    "10070": "该数据只允许企业用户调用",
    "10090": "文件大小超限，请上传小于1M的文件",
    "11010": "商家接口调用异常，请稍后再试",
    "11030": "商家接口返回格式有误",
}

ERROR_RAW = re.compile(
    r'^\{"code":"(1[01]\d{3})","charge":false,"remain":(\d+),"msg":"([^"\\]+)","requestId":"([0-9a-f]{32})"\}$'
)


@dataclass
class Answer:
    status: int
    raw: str
    body: dict[str, Any]
    content_type: str
    request_id: str


async def call(
    client: TestClient,
    appkey: str | None = PAID,
    data: Any = None,
    *,
    method: str = "POST",
    path: str = API,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    params = dict(query or {})
    if appkey is not None:
        params["appkey"] = appkey
    if data is None and method == "POST":
        data = {"images": image_b64("clean_avatar", "jpeg")}
    resp = await client.request(method, path, params=params, data=data, headers=headers)
    raw = await resp.text()
    return Answer(
        resp.status,
        raw,
        json.loads(raw),
        resp.content_type,
        resp.headers.get("X-Modsim-Request-Id", ""),
    )


def assert_error(a: Answer, code: str, remain: int = 0) -> None:
    """HTTP 200, the exact raw body shape and key order, code as a string, the exact text, not billed,
    no result, a 32-hex requestId last."""
    assert a.status == 200, a.raw
    assert a.content_type == "application/json"
    m = ERROR_RAW.match(a.raw)
    assert m, a.raw
    assert m.group(1) == code, a.raw
    assert m.group(3) == EXPECTED_MSG[code], a.raw
    assert int(m.group(2)) == remain, a.raw
    assert list(a.body) == ["code", "charge", "remain", "msg", "requestId"]
    assert a.body["code"] == code and isinstance(a.body["code"], str)
    assert a.body["charge"] is False
    assert "result" not in a.body


def assert_free(a: Answer, remain: int) -> dict[str, Any]:
    assert a.status == 200, a.raw
    assert list(a.body) == ["code", "charge", "remain", "msg", "result"], a.raw
    assert a.body["code"] == "10000" and a.body["charge"] is False and a.body["msg"] == "查询成功", a.raw
    assert a.body["remain"] == remain, a.raw
    result: dict[str, Any] = a.body["result"]
    return result


def assert_billed(a: Answer, remain: int) -> dict[str, Any]:
    assert a.status == 200, a.raw
    assert list(a.body) == ["code", "charge", "remain", "remainTimes", "remainSeconds", "msg", "result"], (
        a.raw
    )
    assert a.body["code"] == "10000" and a.body["charge"] is True and a.body["msg"] == "查询成功,扣费", a.raw
    assert a.body["remain"] == a.body["remainTimes"] == remain, a.raw
    assert a.body["remainSeconds"] == -1
    result: dict[str, Any] = a.body["result"]
    return result


async def journal_entry(client: TestClient, request_id: str) -> dict[str, Any]:
    resp = await client.get("/__modsim/journal", params={"request_id": request_id})
    assert resp.status == 200
    [entry] = (await resp.json())["entries"]
    return entry
