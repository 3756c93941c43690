"""Every itapi code, triggered the way a user would: by input, by state, by configuration or by a
fault rule; each checked for HTTP status, code and exact ``msg``.

The vendor documents four codes (doc id=80): 200 成功 (answered as "请求成功"), 400 限制或者错误,
403 权限问题, 500 服务器内部错误. The texts are written out here on purpose (not imported), so a typo in
the simulator's table fails a test.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.content import make_image
from simulator.sim import Sim
from simulator.vendors.itapi import errors as itapi_errors
from simulator.vendors.itapi import verdict
from tests.vendors.itapi.common import (
    KEY,
    PIC,
    RESULT,
    Result,
    assert_error,
    b64,
    call,
    last_journal,
    post_stream,
    query,
    submit,
)

MSG = {400: "限制或者错误", 403: "权限问题", 500: "服务器内部错误"}

Send = Callable[[TestClient], Awaitable[Result]]


def test_code_table_is_the_documented_one() -> None:
    assert itapi_errors.MESSAGES == {200: "成功", **MSG}
    assert itapi_errors.SUCCESS_MSG == "请求成功"


# --- 403 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "style", "params"),
    [
        ("GET", "query", {"data": "x", "type": "porn"}),
        ("POST", "form", {"data": "x", "type": "porn"}),
        ("POST", "multipart", {"data": "x", "type": "porn"}),
        ("GET", "query", {"key": "", "data": "x", "type": "porn"}),
        ("GET", "query", {}),
    ],
    ids=["GET", "POST-form", "POST-multipart", "empty-key", "nothing"],
)
async def test_403_missing_key(client: TestClient, method: str, style: str, params: dict[str, str]) -> None:
    status, body = await call(client, params, method=method, style=style)
    assert_error(status, body, 403, "权限问题")
    assert body["debug"] == "缺少请求密钥key"
    assert body["user_ip"] == "127.0.0.1"
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected" and entry["vendor_code"] == 403


@pytest.mark.parametrize(
    "key", ["wrong", "DEMO-ITAPI-KEY", " demo-itapi-key", "demo-itapi-key ", "demo-itapi-ke", "钥匙"]
)
@pytest.mark.parametrize("style", ["query", "form", "multipart"])
async def test_403_wrong_key(client: TestClient, key: str, style: str) -> None:
    status, body = await call(client, {"key": key, "data": b64(), "type": "porn"}, style=style)
    assert_error(status, body, 403, "权限问题")
    assert body["debug"] == "请求密钥key不正确"
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "no itapi credential" in entry["auth"]["reason"]


async def test_403_on_the_result_query(client: TestClient) -> None:
    taskid = await submit(client, b64())
    status, body = await query(client, taskid, key="wrong")
    assert_error(status, body, 403, "权限问题")
    status, body = await call(client, {"taskid": taskid}, method="GET", path=RESULT)
    assert_error(status, body, 403, "权限问题")


async def test_403_comes_before_parameter_errors(client: TestClient) -> None:
    status, body = await call(client, {"key": "wrong", "type": "nope"})
    assert_error(status, body, 403, "权限问题")


async def test_a_deleted_key_is_wrong(client: TestClient) -> None:
    resp = await client.delete(f"/__modsim/credentials/itapi/{KEY}")
    assert resp.status == 200
    status, body = await call(client, {"key": KEY, "data": b64(), "type": "porn"})
    assert_error(status, body, 403, "权限问题")


async def test_an_added_key_works(client: TestClient) -> None:
    resp = await client.post("/__modsim/credentials", json={"vendor": "itapi", "id": "my-key"})
    assert resp.status == 201
    _, body = await call(client, {"key": "my-key", "data": b64(), "type": "porn"})
    assert body["code"] == 200


# --- 400 by input ------------------------------------------------------------------------------------

URL_UNRESOLVED = "https://img.example.com/nowhere.jpg"


def p(**params: str) -> Send:
    async def send(client: TestClient) -> Result:
        return await call(client, {"key": KEY, "type": "porn", "sync": "yes", **params})

    return send


async def _invalid_utf8_query(client: TestClient) -> Result:
    resp = await client.get(PIC + "?key=demo-itapi-key&type=porn&data=%ff%fe")
    return resp.status, await resp.json()


async def _invalid_utf8_body(client: TestClient) -> Result:
    resp = await client.post(
        PIC,
        params={"key": KEY},
        data=b"type=porn&data=%ff%fe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return resp.status, await resp.json()


async def _invalid_utf8_multipart(client: TestClient) -> Result:
    body = b'--b\r\nContent-Disposition: form-data; name="data"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    resp = await client.post(
        PIC, params={"key": KEY}, data=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    return resp.status, await resp.json()


async def _over_10mb(client: TestClient) -> Result:
    raw = make_image("porn", "png", (64, 64))
    padded = raw + b"\x00" * (10 * 1024 * 1024 + 1 - len(raw))
    return await post_stream(client, {"key": KEY, "type": "porn", "data": base64.b64encode(padded).decode()})


async def _over_10mb_of_a(client: TestClient) -> Result:
    return await post_stream(client, {"key": KEY, "type": "porn", "data": "A" * 14_000_000})


async def _rule(client: TestClient, download: str) -> Result:
    resp = await client.patch(
        "/__modsim/rules",
        json={"rules": [{"match": {"url": "https://cdn.example.com/*"}, "download": download}]},
    )
    assert resp.status == 200
    return await call(client, {"key": KEY, "type": "porn", "data": "https://cdn.example.com/a.jpg"})


async def _file_part_is_not_data(client: TestClient) -> Result:
    from aiohttp import FormData

    form = FormData()
    form.add_field("key", KEY)
    form.add_field("type", "porn")
    form.add_field("data", make_image("porn"), filename="a.png", content_type="image/png")
    resp = await client.post(PIC, data=form)
    return resp.status, await resp.json()


def rule(download: str) -> Send:
    async def send(client: TestClient) -> Result:
        return await _rule(client, download)

    return send


# reason -> its debug text, and the inputs that trigger it (all code 400)
INPUT_CASES: list[Any] = [
    pytest.param("encoding", _invalid_utf8_query, id="encoding-query"),
    pytest.param("encoding", _invalid_utf8_body, id="encoding-form"),
    pytest.param("encoding", _invalid_utf8_multipart, id="encoding-multipart"),
    pytest.param("data_missing", p(), id="data_missing-absent"),
    pytest.param("data_missing", p(data=""), id="data_missing-empty"),
    pytest.param("data_missing", p(data=" \n"), id="data_missing-blank"),
    pytest.param("data_missing", _file_part_is_not_data, id="data_missing-file-part"),
    pytest.param("data_too_large", _over_10mb, id="data_too_large-10MB+1"),
    pytest.param("data_too_large", _over_10mb_of_a, id="data_too_large-14M-chars"),
    pytest.param("data_too_large", rule("too_large"), id="data_too_large-url"),
    pytest.param("data_invalid", p(data="!!!!not*base64"), id="data_invalid-chars"),
    pytest.param("data_invalid", p(data="图片"), id="data_invalid-non-ascii"),
    pytest.param("data_invalid", p(data="abcde"), id="data_invalid-length"),
    pytest.param("data_invalid", p(data="data:image/png;base64," + b64()), id="data_invalid-data-uri"),
    pytest.param("data_invalid", p(data="ftp://img.example.com/a.jpg"), id="data_invalid-ftp"),
    pytest.param("image_invalid", p(data=base64.b64encode(b"hello").decode()), id="image_invalid-text"),
    pytest.param(
        "image_invalid",
        p(data=base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 20).decode()),
        id="image_invalid-cut",
    ),
    pytest.param("download_failed", p(data=URL_UNRESOLVED), id="download_failed-no-rule"),
    pytest.param("download_failed", p(data="http://[::1"), id="download_failed-bad-url"),
    pytest.param("download_failed", rule("failed"), id="download_failed-rule-failed"),
    pytest.param("download_failed", rule("timeout"), id="download_failed-rule-timeout"),
    pytest.param("download_failed", rule("not_found"), id="download_failed-rule-404"),
    pytest.param("download_failed", rule("forbidden"), id="download_failed-rule-403"),
    pytest.param("type_missing", p(data=b64(), type=""), id="type_missing-empty"),
    pytest.param("type_missing", p(data=b64(), type=" , "), id="type_missing-commas"),
    pytest.param("type_invalid", p(data=b64(), type="porn,nude"), id="type_invalid-unknown"),
    pytest.param("type_invalid", p(data=b64(), type="PORN"), id="type_invalid-case"),
    pytest.param("type_invalid", p(data=b64(), type="porn;ads"), id="type_invalid-separator"),
]

DEBUG = {
    "encoding": "请求参数不是有效的UTF-8编码",
    "data_missing": "缺少参数data",
    "data_too_large": "图片超过10M",
    "data_invalid": "data不是有效的base64编码数据",
    "image_invalid": "图片格式不支持或图片已损坏",
    "download_failed": "网络图片下载失败",
    "type_missing": "缺少参数type",
    "type_invalid": "type参数包含不支持的审核模型",
    "too_large": "请求体过大",
    "quota": "调用次数超出限制",
    "taskid_missing": "缺少参数taskid",
    "task_not_found": "任务不存在",
    "task_processing": "任务处理中,请稍后查询",
    "task_expired": "任务已过期",
    "key_missing": "缺少请求密钥key",
    "key_invalid": "请求密钥key不正确",
    "limit": "限制或者错误",
    "forbidden": "权限问题",
    "internal": "服务器内部错误",
}


def test_every_reason_is_tested() -> None:
    assert set(DEBUG) == set(itapi_errors.REASONS)
    assert {k: v[1] for k, v in itapi_errors.REASONS.items()} == DEBUG


@pytest.mark.parametrize(("reason", "send"), INPUT_CASES)
async def test_400_by_input(client: TestClient, reason: str, send: Send) -> None:
    status, body = await send(client)
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"].split(": ")[0] == DEBUG[reason], body
    entry = await last_journal(client)
    assert entry["vendor_code"] == 400
    assert entry["error"] == "限制或者错误"


async def test_400_type_invalid_names_the_model(client: TestClient) -> None:
    _, body = await call(client, {"key": KEY, "data": b64(), "type": "porn,nude"})
    assert body["debug"] == "type参数包含不支持的审核模型: nude"


async def test_400_image_format_not_in_the_configured_list(configured: Any) -> None:
    client, _ = await configured({"limits": {"formats": ["png"]}})
    status, body = await call(client, {"key": KEY, "data": b64("porn", "jpeg"), "type": "porn"})
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"] == "图片格式不支持或图片已损坏"


async def test_400_empty_download(configured: Any, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "big.png").write_bytes(make_image("porn") + b"\0" * 2000)
    rules = [
        {"match": {"url": "https://cdn.example.com/empty.jpg"}, "file": str(folder / "empty.jpg")},
        {"match": {"url": "https://cdn.example.com/big.png"}, "file": str(folder / "big.png")},
        {"match": {"url": "https://cdn.example.com/ok.png"}, "file": str(folder / "big.png")},
    ]
    client, _ = await configured({"limits": {"max_image_bytes": 2000}}, rules=rules)
    status, body = await call(
        client, {"key": KEY, "type": "porn", "data": "https://cdn.example.com/empty.jpg"}
    )
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"] == "图片格式不支持或图片已损坏: 空图片"
    status, body = await call(client, {"key": KEY, "type": "porn", "data": "https://cdn.example.com/big.png"})
    assert body["debug"] == "图片超过10M"


async def test_400_a_file_served_by_a_rule_is_inspected(configured: Any, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.png").write_bytes(make_image("bloody"))
    client, _ = await configured(
        {}, rules=[{"match": {"url": "https://cdn.example.com/*"}, "file": str(folder / "a.png")}]
    )
    _, body = await call(
        client, {"key": KEY, "type": "terror", "sync": "yes", "data": "https://cdn.example.com/x"}
    )
    assert body["data"]["terror"] == {"label": "血腥", "label_level": 1}


# --- 400 by state: quota, tasks ------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["total", "daily", "qps"])
async def test_400_quota(client: TestClient, limit: str) -> None:
    resp = await client.post(
        "/__modsim/credentials", json={"vendor": "itapi", "id": "small-key", "attrs": {"quota": {limit: 2}}}
    )
    assert resp.status == 201
    await client.post("/__modsim/clock", json={"freeze": True})
    for _ in range(2):
        status, body = await call(client, {"key": "small-key", "data": b64(), "type": "porn,ads"})
        assert body["code"] == 200, body
    # errors are not billed: a bad type does not count
    status, body = await call(client, {"key": "small-key", "data": b64(), "type": "x"})
    assert body["debug"].startswith("type参数")
    status, body = await call(client, {"key": "small-key", "data": b64(), "type": "porn"})
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"] == "调用次数超出限制"
    entry = await last_journal(client)
    assert f"over its {limit} limit" in " ".join(entry["notes"])
    # the result query is not billed
    status, body = await call(client, {"key": "small-key", "taskid": "x"}, path=RESULT)
    assert body["debug"] == "任务不存在"
    if limit == "qps":
        await client.post("/__modsim/clock", json={"advance_s": 1.0})
        status, body = await call(client, {"key": "small-key", "data": b64(), "type": "porn"})
        assert body["code"] == 200
    if limit == "daily":
        await client.post("/__modsim/clock", json={"advance_s": 86400})
        status, body = await call(client, {"key": "small-key", "data": b64(), "type": "porn"})
        assert body["code"] == 200


async def test_a_submit_failing_after_the_quota_check_is_not_counted(client: TestClient) -> None:
    resp = await client.post(
        "/__modsim/credentials", json={"vendor": "itapi", "id": "small-key", "attrs": {"quota": {"total": 1}}}
    )
    assert resp.status == 201
    for data in ("!!not base64!!", base64.b64encode(b"not an image").decode()):  # after the check
        _, body = await call(client, {"key": "small-key", "data": data, "type": "porn"})
        assert (body["code"], body["debug"]) != (400, "调用次数超出限制"), body
    _, body = await call(client, {"key": "small-key", "data": b64(), "type": "porn"})
    assert body["code"] == 200, body
    _, body = await call(client, {"key": "small-key", "data": b64(), "type": "porn"})
    assert body["debug"] == "调用次数超出限制"


async def test_concurrent_submits_never_exceed_the_quota(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted when checked: submits that are all past the check at once cannot all pass it."""
    from simulator.vendors.itapi import models

    original = models.resolve

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)  # every submit is in flight before the first one is answered
        return await original(*args, **kwargs)

    monkeypatch.setattr(models, "resolve", slow)
    resp = await client.post(
        "/__modsim/credentials", json={"vendor": "itapi", "id": "small-key", "attrs": {"quota": {"total": 2}}}
    )
    assert resp.status == 201
    answers = await asyncio.gather(
        *(call(client, {"key": "small-key", "data": b64(), "type": "porn", "sync": "yes"}) for _ in range(5))
    )
    codes = sorted((body["code"], body.get("debug") or "") for _, body in answers)
    assert codes == [(200, "")] * 2 + [(400, "调用次数超出限制")] * 3, codes


async def test_400_taskid_missing(client: TestClient) -> None:
    for params in ({"key": KEY}, {"key": KEY, "taskid": ""}, {"key": KEY, "taskid": "  "}):
        status, body = await call(client, params, path=RESULT)
        assert_error(status, body, 400, "限制或者错误")
        assert body["debug"] == "缺少参数taskid"


async def test_400_task_not_found(client: TestClient) -> None:
    status, body = await query(client, "85104237-0e62-4104-8e94-05f9474a38e5")
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"] == "任务不存在"


async def test_400_task_of_another_key(client: TestClient) -> None:
    await client.post("/__modsim/credentials", json={"vendor": "itapi", "id": "other-key"})
    taskid = await submit(client, b64())
    status, body = await query(client, taskid, key="other-key")
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"] == "任务不存在"
    entry = await last_journal(client)
    assert "another key" in " ".join(entry["notes"])


async def test_400_task_processing(configured: Any) -> None:
    client, _ = await configured({"tasks": {"pending_polls": 1}})
    taskid = await submit(client, b64())
    status, body = await query(client, taskid)
    assert_error(status, body, 400, "限制或者错误")
    assert body["debug"] == "任务处理中,请稍后查询"
    status, body = await query(client, taskid)
    assert body["code"] == 200


async def test_400_task_expired(client: TestClient) -> None:
    taskid = await submit(client, b64())
    await client.post("/__modsim/clock", json={"advance_s": 86400})
    for _ in range(2):  # an expired task stays expired (until dropped)
        status, body = await query(client, taskid)
        assert_error(status, body, 400, "限制或者错误")
        assert body["debug"] == "任务已过期"


# --- 400 body over the size cap ----------------------------------------------------------------------


@pytest.fixture
async def small_client(aiohttp_client) -> Any:  # type: ignore[no-untyped-def]
    from simulator.app import create_app
    from simulator.settings import Settings

    sim = Sim(Settings(seed=0, validate_responses=True, max_body_bytes=1024))
    c = await aiohttp_client(create_app(sim=sim))
    yield c
    assert sim.schema_violations == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", [PIC, RESULT])
async def test_400_body_over_the_size_cap(small_client: TestClient, chunked: bool, path: str) -> None:
    payload = b"key=demo-itapi-key&type=porn&data=" + b"A" * 4000

    async def gen() -> Any:
        for i in range(0, len(payload), 500):
            yield payload[i : i + 500]

    resp = await small_client.post(
        path,
        data=gen() if chunked else payload,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    body = await resp.json()
    assert_error(resp.status, body, 400, "限制或者错误", peer=True)
    assert body["debug"] == "请求体过大"


async def test_400_multipart_over_the_size_cap(small_client: TestClient) -> None:
    from aiohttp import FormData

    form = FormData()
    form.add_field("key", KEY)
    form.add_field("data", "A" * 4000)
    resp = await small_client.post(PIC, data=form)
    body = await resp.json()
    assert_error(resp.status, body, 400, "限制或者错误", peer=True)
    assert body["debug"] == "请求体过大"


# --- 500 -----------------------------------------------------------------------------------------------


async def test_500_unexpected_exception(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(verdict, "render", boom)
    status, body = await call(client, {"key": KEY, "data": b64(), "type": "porn", "sync": "yes"})
    assert_error(status, body, 500, "服务器内部错误")
    assert body["debug"] == "服务器内部错误"
    assert body["user_ip"] == "127.0.0.1"
    entry = await last_journal(client)
    assert entry["vendor_code"] == 500
    assert "RuntimeError" in entry["traceback"]


# --- every code by fault rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "want"),
    [
        (400, 400),
        (403, 403),
        (500, 500),
        ("400", 400),
        ("403", 403),
        ("500", 500),
        (200, 500),
        (999, 500),
        ("x", 500),
    ],
)
@pytest.mark.parametrize("operation", ["pic", "picresult"])
async def test_fault_error(client: TestClient, code: int | str, want: int, operation: str) -> None:
    rule = {"vendor": "itapi", "operation": operation, "action": {"type": "error", "code": code}}
    resp = await client.post("/__modsim/faults", json={"rules": [rule]})
    assert resp.status == 200, await resp.text()
    path = PIC if operation == "pic" else RESULT
    status, body = await call(client, {"data": "x"}, method="GET", path=path)  # no key: faults come first
    assert_error(status, body, want, MSG[want])
    assert body["debug"] == MSG[want]
    assert body["user_ip"] == "127.0.0.1"
    resp = await client.get("/__modsim/faults")
    [listed] = (await resp.json())["rules"]
    assert listed["hits"] == 1
    entry = await last_journal(client)
    assert entry["fault"]["rule"] == listed["id"]
    assert entry["vendor_code"] == want


async def test_fault_rule_for_one_key(client: TestClient) -> None:
    rule = {"vendor": "itapi", "credential": KEY, "action": {"type": "error", "code": 400}}
    await client.post("/__modsim/faults", json={"rules": [rule]})
    status, body = await call(client, {"key": KEY, "data": b64(), "type": "porn"}, method="GET")
    assert_error(status, body, 400, "限制或者错误")
    # a key sent in the form body is not seen by fault rules (they run before the body is read)
    status, body = await call(client, {"key": KEY, "data": b64(), "type": "porn"})
    assert body["code"] == 200


# --- configuration: HTTP statuses and messages ---------------------------------------------------------


async def test_http_status_can_follow_the_code(configured: Any) -> None:
    client, _ = await configured({"error_http_status": "code"})
    status, body = await call(client, {"key": "wrong"})
    assert_error(status, body, 403, "权限问题", http=403)
    status, body = await call(client, {"key": KEY})
    assert_error(status, body, 400, "限制或者错误", http=400)
    await client.post("/__modsim/faults", json={"rules": [{"action": {"type": "error", "code": 500}}]})
    status, body = await call(client, {"key": KEY})
    assert_error(status, body, 500, "服务器内部错误", http=500)
    await client.delete("/__modsim/faults")
    status, body = await call(client, {"key": KEY, "data": b64(), "type": "porn"})
    assert (status, body["code"]) == (200, 200)


async def test_messages_can_be_overridden(configured: Any) -> None:
    client, _ = await configured({"messages": {"key_invalid": "请求密钥KEY不正确！", "400": "参数错误"}})
    status, body = await call(client, {"key": "wrong"})
    assert_error(status, body, 403, "请求密钥KEY不正确！")
    status, body = await call(client, {})
    assert_error(status, body, 403, "权限问题")
    status, body = await call(client, {"key": KEY})
    assert_error(status, body, 400, "参数错误")
