"""Shared helpers for the itapi tests: the demo key, paths, images and calls."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from simulator.content import make_image

KEY = "demo-itapi-key"
PIC = "/api/badword/pic"
RESULT = "/api/badword/picresult"
ALL = "porn,ads,politics,terror,sensitive,ocrtext"
ENVELOPE_ERROR = ["code", "msg", "data", "debug", "exec_time", "user_ip", "log_id"]
ENVELOPE_TASK = ["code", "msg", "data", "debug", "exec_time", "user_ip", "log_id"]
ENVELOPE_VERDICT = ["code", "msg", "data", "exec_time", "log_id"]
ASYNC_DEBUG = "请使用违规图片检测结果接口查询数据,接口文档https://api.itapi.cn/doc/81"
LOG_ID = r"20\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])[0-5]\d\d{6}"
UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"

Result = tuple[int, dict[str, Any]]


def b64(scenario: str | None = None, fmt: str = "png", size: tuple[int, int] = (64, 64)) -> str:
    return base64.b64encode(make_image(scenario, fmt, size)).decode()


async def call(
    client: TestClient, params: dict[str, str], *, method: str = "POST", style: str = "form", path: str = PIC
) -> Result:
    """``style``: ``form`` (urlencoded body), ``multipart`` (form-data body) or ``query`` (all in the URL)."""
    if style == "query" or method != "POST":
        resp = await client.request(method, path, params=params)
    elif style == "multipart":
        form = FormData()
        for k, v in params.items():
            form.add_field(k, v)
        resp = await client.post(path, data=form)
    else:
        resp = await client.post(path, data=params)
    assert resp.content_type == "application/json"
    assert resp.charset == "utf-8"
    text = await resp.text()
    return resp.status, json.loads(text)


async def post_stream(client: TestClient, params: dict[str, str], path: str = PIC) -> Result:
    """A large urlencoded POST, streamed (aiohttp warns about multi-MB raw bytes bodies)."""
    body = urlencode(params).encode()
    resp = await client.post(
        path,
        data=io.BytesIO(body),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))},
    )
    return resp.status, json.loads(await resp.text())


async def sync_verdict(client: TestClient, data: str, types: str = ALL, **extra: str) -> dict[str, Any]:
    status, body = await call(client, {"key": KEY, "data": data, "type": types, "sync": "yes", **extra})
    assert status == 200 and body["code"] == 200, body
    assert list(body) == ENVELOPE_VERDICT, body
    verdict: dict[str, Any] = body["data"]
    return verdict


async def submit(client: TestClient, data: str, types: str = ALL, **extra: str) -> str:
    status, body = await call(client, {"key": KEY, "data": data, "type": types, **extra})
    assert status == 200 and body["code"] == 200, body
    assert list(body) == ENVELOPE_TASK, body
    taskid: str = body["data"]["taskid"]
    return taskid


async def query(client: TestClient, taskid: str, key: str = KEY, path: str = RESULT) -> Result:
    return await call(client, {"key": key, "taskid": taskid}, method="GET", path=path)


def assert_error(
    status: int, body: dict[str, Any], code: int, msg: str, *, http: int = 200, peer: bool = True
) -> None:
    """``peer=False``: an answer given before anything saw the request's peer address (no ``user_ip``)."""
    assert status == http, body
    assert list(body) == (ENVELOPE_ERROR if peer else [k for k in ENVELOPE_ERROR if k != "user_ip"]), body
    assert (body["code"], body["msg"], body["data"]) == (code, msg, None), body
    assert isinstance(body["debug"], str) and body["debug"]
    assert isinstance(body["exec_time"], float)


async def last_journal(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/__modsim/journal", params={"vendor": "itapi", "limit": "1"})
    assert resp.status == 200
    [entry] = (await resp.json())["entries"]
    return entry


def write_fixture(tmp: Path, doc: dict[str, Any]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "itapi.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return tmp
