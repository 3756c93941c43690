"""Every showapi code, triggered the way a user would: by input, by state, or by a fault rule.

Each answer is checked for HTTP 200, ``showapi_res_code``, the exact ``showapi_res_error``, body ``{}``
and the raw key order (``common.assert_error``); the texts are written out in ``common.EXPECTED``.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.showapi import handlers
from simulator.vendors.showapi.errors import MESSAGES
from tests.vendors.showapi.common import (
    APPID,
    APPID_NOT_A_NUMBER,
    EXPECTED,
    SECRET,
    TEXT_ONLY_APPID,
    TEXT_ONLY_SECRET,
    TINY_APPID,
    TINY_SECRET,
    assert_error,
    assert_ok,
    b64,
    call,
    china_time,
    frozen_now,
    last_journal,
    sdk_sign,
    signed,
)

FAULT_ONLY = {-3, -4, -5, -7, -1000, -1006, -1008, -1011, -1012, -1013, -1014}
BY_INPUT_OR_STATE = {-1, -2, -6, -1002, -1003, -1004, -1005, -1007, -1009, -1010}
AUTH_CODES = {-1002, -1004, -1005, -1007, -1009, -1010, -1003, -2}

Result = tuple[int, str, dict[str, Any]]


def test_every_code_is_covered() -> None:
    # only the *codes* of the simulator's table are read here; the texts in common.py stay literal
    assert set(EXPECTED) == set(MESSAGES)
    assert set(EXPECTED) == FAULT_ONLY | BY_INPUT_OR_STATE
    assert not FAULT_ONLY & BY_INPUT_OR_STATE


# --- by input and state ------------------------------------------------------------------------------


async def _no_appid(client: TestClient) -> Result:
    return await call(client, "/2054-3", {"showapi_sign": SECRET, "content": "x"})


async def _empty_appid(client: TestClient) -> Result:
    return await call(client, "/2054-3", {"showapi_appid": "", "showapi_sign": SECRET, "content": "x"})


async def _unknown_appid(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x"}, "999999", SECRET))


async def _no_sign(client: TestClient) -> Result:
    return await call(client, "/2054-3", {"showapi_appid": APPID, "content": "x"})


async def _empty_sign(client: TestClient) -> Result:
    return await call(client, "/2054-3", {"showapi_appid": APPID, "showapi_sign": "", "content": "x"})


async def _wrong_sign(client: TestClient) -> Result:
    return await call(client, "/2054-3", {**signed({"content": "x"}), "showapi_sign": "0" * 32})


async def _other_apps_secret(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x"}, APPID, TEXT_ONLY_SECRET))


async def _tampered_param(client: TestClient) -> Result:
    return await call(client, "/2054-3", {**signed({"content": "原文"}), "content": "被改过"})


async def _bad_timestamp_format(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x", "showapi_timestamp": "2024-01-01 10:00:00"}))


async def _ms_epoch_timestamp(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x", "showapi_timestamp": "1700000000000"}))


async def _timestamp_11_min_old(client: TestClient) -> Result:
    now = await frozen_now(client)
    return await call(client, "/2054-3", signed({"content": "x", "showapi_timestamp": china_time(now - 660)}))


async def _not_subscribed_2054_1(client: TestClient) -> Result:
    return await call(client, "/2054-1", signed({"images": b64()}, TEXT_ONLY_APPID, TEXT_ONLY_SECRET))


async def _not_subscribed_2054_2(client: TestClient) -> Result:
    return await call(
        client, "/2054-2", signed({"image": b64(None, "gif")}, TEXT_ONLY_APPID, TEXT_ONLY_SECRET)
    )


async def _qps(client: TestClient) -> Result:
    await frozen_now(client)
    assert_ok(*await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET)))
    return await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET))


async def _total(client: TestClient) -> Result:
    await frozen_now(client)
    for _ in range(2):
        assert_ok(*await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET)))
        assert (await client.post("/__modsim/clock", json={"advance_s": 1})).status == 200
    return await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET))


async def _daily(client: TestClient) -> Result:
    app = {"vendor": "showapi", "id": "100009", "secret": "s9", "attrs": {"quota": {"daily": 1}}}
    assert (await client.post("/__modsim/credentials", json=app)).status == 201
    assert_ok(*await call(client, "/2054-3", signed({"content": "x"}, "100009", "s9")))
    return await call(client, "/2054-3", signed({"content": "x"}, "100009", "s9"))


async def _unknown_api(client: TestClient) -> Result:
    return await call(client, "/9999-1", signed({"content": "x"}))


async def _unknown_api_get_no_params(client: TestClient) -> Result:
    return await call(client, "/2054-4", method="GET")


async def _appid_letters(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x"}, "abc"))


async def _appid_fullwidth_digits(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x"}, "１００００１"))


async def _appid_with_space(client: TestClient) -> Result:
    return await call(client, "/2054-3", signed({"content": "x"}, " 100001"))


async def _query_not_utf8(client: TestClient) -> Result:
    return await call(client, "/2054-3?showapi_appid=100001&showapi_sign=x&content=%ff%fe")


async def _body_not_utf8(client: TestClient) -> Result:
    data = b"showapi_appid=100001&showapi_sign=demo-showapi-secret&content=%B2%E2%CA%D4"  # GBK 测试
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await call(client, "/2054-3", data=data, headers=headers)


async def _broken_multipart(client: TestClient) -> Result:
    data = b'--b\r\nContent-Disposition: form-data; name="content"\r\n\r\nabc'  # never closed
    return await call(
        client, "/2054-3", data=data, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )


CASES = [
    pytest.param(-1002, _no_appid, id="-1002-no-appid"),
    pytest.param(-1002, _empty_appid, id="-1002-empty-appid"),
    pytest.param(-1010, _unknown_appid, id="-1010-unknown-appid"),
    pytest.param(-1003, _no_sign, id="-1003-no-sign"),
    pytest.param(-1003, _empty_sign, id="-1003-empty-sign"),
    pytest.param(-1004, _wrong_sign, id="-1004-wrong-sign"),
    pytest.param(-1004, _other_apps_secret, id="-1004-other-apps-secret"),
    pytest.param(-1004, _tampered_param, id="-1004-tampered-param"),
    pytest.param(-1005, _bad_timestamp_format, id="-1005-format"),
    pytest.param(-1005, _ms_epoch_timestamp, id="-1005-ms-epoch"),
    pytest.param(-1005, _timestamp_11_min_old, id="-1005-11-min-old"),
    pytest.param(-1007, _not_subscribed_2054_1, id="-1007-2054-1"),
    pytest.param(-1007, _not_subscribed_2054_2, id="-1007-2054-2"),
    pytest.param(-1009, _qps, id="-1009-qps"),
    pytest.param(-2, _total, id="-2-total"),
    pytest.param(-2, _daily, id="-2-daily"),
    pytest.param(-6, _unknown_api, id="-6-unknown-api"),
    pytest.param(-6, _unknown_api_get_no_params, id="-6-GET-no-params"),
    pytest.param(-1, _query_not_utf8, id="-1-query-not-utf8"),
    pytest.param(-1, _body_not_utf8, id="-1-body-gbk"),
    pytest.param(-1, _broken_multipart, id="-1-broken-multipart"),
]


@pytest.mark.parametrize(("code", "send"), CASES)
async def test_input_or_state_error(
    client: TestClient, code: int, send: Callable[[TestClient], Awaitable[Result]]
) -> None:
    assert_error(*await send(client), code)
    entry = await last_journal(client)
    assert entry["vendor_code"] == code
    if code in AUTH_CODES:
        assert entry["auth"]["outcome"] == "rejected"


@pytest.mark.parametrize("send", [_appid_letters, _appid_fullwidth_digits, _appid_with_space])
async def test_appid_not_a_number(
    client: TestClient, send: Callable[[TestClient], Awaitable[Result]]
) -> None:
    assert_error(*await send(client), -1, APPID_NOT_A_NUMBER)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "not a number" in entry["auth"]["reason"]


async def test_appid_leading_zeros_is_the_same_app(client: TestClient) -> None:
    assert_ok(*await call(client, "/2054-3", signed({"content": "x"}, "0100001")))


async def test_1004_journal_shows_signed_string_and_both_signs(client: TestClient) -> None:
    params = {**signed({"content": "测试", "showapi_timestamp": "20141114142239"}), "showapi_sign": "f" * 32}
    params["showapi_timestamp"] = ""  # still signed over nothing: empty values are skipped
    assert_error(*await call(client, "/2054-3", params), -1004)
    entry = await last_journal(client)
    reason = entry["auth"]["reason"]
    assert entry["auth"]["outcome"] == "rejected" and entry["credential"] == APPID
    assert "'content测试showapi_appid100001<secret>'" in reason
    expected = sdk_sign(params, SECRET)
    assert f"expected md5 {expected}" in reason
    assert f"received '{'f' * 32}'" in reason
    assert SECRET not in reason


async def test_rejected_calls_are_not_counted(client: TestClient) -> None:
    await frozen_now(client)
    for _ in range(3):
        bad = {**signed({"content": "x"}, TINY_APPID, TINY_SECRET), "showapi_sign": "bad"}
        assert_error(*await call(client, "/2054-3", bad), -1004)
    for _ in range(2):
        assert_ok(*await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET)))
        await client.post("/__modsim/clock", json={"advance_s": 1})
    assert_error(*await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET)), -2)


@pytest.mark.parametrize(
    ("params", "path", "code"),
    [
        pytest.param({"content": "x"}, "/2054-3", -1002, id="no-appid-no-sign: -1002"),
        pytest.param({"showapi_appid": "x1", "content": "x"}, "/2054-3", -1, id="bad-appid-no-sign: -1"),
        pytest.param(
            {"showapi_appid": "7", "showapi_sign": "bad"}, "/2054-3", -1010, id="unknown-app-bad-sign: -1010"
        ),
        pytest.param(
            {"showapi_appid": APPID, "showapi_sign": "bad", "showapi_timestamp": "x"},
            "/2054-3",
            -1004,
            id="bad-sign-bad-timestamp: -1004",
        ),
        pytest.param(
            {"showapi_appid": TEXT_ONLY_APPID, "showapi_sign": TEXT_ONLY_SECRET, "showapi_timestamp": "x"},
            "/2054-1",
            -1005,
            id="bad-timestamp-not-subscribed: -1005",
        ),
        pytest.param({"showapi_appid": "x1"}, "/1234-5", -6, id="unknown-api-bad-appid: -6"),
    ],
)
async def test_check_order(client: TestClient, params: dict[str, str], path: str, code: int) -> None:
    assert_error(*await call(client, path, params), code, APPID_NOT_A_NUMBER if code == -1 else None)


async def test_internal_error_is_minus_1(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*args: Any) -> dict[str, Any]:
        raise RuntimeError("connector exploded")

    monkeypatch.setitem(handlers.MODELS, "2054-3", boom)
    assert_error(*await call(client, "/2054-3", signed({"content": "x"})), -1)
    entry = await last_journal(client)
    assert entry["vendor_code"] == -1
    assert "RuntimeError" in entry["traceback"]


@pytest.fixture
async def small_client(aiohttp_client) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    sim = Sim(Settings(seed=0, validate_responses=True, max_body_bytes=1024))
    yield await aiohttp_client(create_app(sim=sim))
    assert sim.schema_violations == []


async def test_body_over_the_cap_is_minus_1(small_client: TestClient) -> None:
    assert_error(*await call(small_client, "/2054-3", signed({"content": "字" * 2000})), -1)
    assert (await last_journal(small_client))["vendor_code"] == -1


async def test_streamed_body_over_the_cap_is_minus_1(small_client: TestClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"showapi_appid=100001&content="
        for _ in range(10):
            yield b"a" * 200

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_error(*await call(small_client, "/2054-3", data=chunks(), headers=headers), -1)


async def test_body_under_the_cap_is_fine(small_client: TestClient) -> None:
    assert_ok(
        *await call(
            small_client,
            "/2054-3",
            data=io.BytesIO(b"content=x&showapi_appid=100001&showapi_sign=" + SECRET.encode()),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    )


# --- by fault rule -----------------------------------------------------------------------------------


async def _install(client: TestClient, code: int | str, operation: str = "2054-3") -> None:
    rule = {"vendor": "showapi", "operation": operation, "action": {"type": "error", "code": code}}
    resp = await client.post("/__modsim/faults", json={"rules": [rule]})
    assert resp.status == 200, await resp.text()


@pytest.mark.parametrize(
    "code", sorted(EXPECTED, reverse=True), ids=[str(c) for c in sorted(EXPECTED, reverse=True)]
)
async def test_fault_error(client: TestClient, code: int) -> None:
    await _install(client, code)
    assert_error(*await call(client, "/2054-3", signed({"content": "x"})), code)
    resp = await client.get("/__modsim/faults")
    [listed] = (await resp.json())["rules"]
    assert listed["hits"] == 1
    entry = await last_journal(client)
    assert entry["fault"]["rule"] == listed["id"]
    assert entry["vendor_code"] == code


async def test_fault_matches_the_querys_appid(client: TestClient) -> None:
    rule = {"vendor": "showapi", "credential": TEXT_ONLY_APPID, "action": {"type": "error", "code": -1008}}
    assert (await client.post("/__modsim/faults", json={"rules": [rule]})).status == 200
    assert_ok(*await call(client, "/2054-3", signed({"content": "x"})))
    query = signed({"content": "x"}, TEXT_ONLY_APPID, TEXT_ONLY_SECRET)
    assert_error(*await call(client, "/2054-3", query=query, method="GET"), -1008)


@pytest.mark.parametrize(
    ("code", "want"),
    [(0, -1), (-99, -1), ("-1009", -1009), ("busy", -1), (" 7 ", None)],
    ids=["zero", "unknown-negative", "numeric-string", "word", "padded-positive"],
)
async def test_fault_codes_outside_the_table(client: TestClient, code: int | str, want: int | None) -> None:
    await _install(client, code)
    status, text, body = await call(client, "/2054-3", signed({"content": "x"}))
    if want is None:
        inner = assert_ok(status, text, body)
        assert inner == {"error_code": 7, "error_msg": "Unknown error"}
    else:
        assert_error(status, text, body, want)


@pytest.mark.parametrize(
    ("code", "msg", "log_id"),
    [
        (216401, "internal error", True),
        (282804, "download image error", True),
        (18, "Open api qps request limit reached", False),
    ],
)
async def test_fault_positive_code_is_a_baidu_error_passed_through(
    client: TestClient, code: int, msg: str, log_id: bool
) -> None:
    await _install(client, code, "2054-1")
    inner = assert_ok(*await call(client, "/2054-1", signed({"images": b64()})))
    assert (inner["error_code"], inner["error_msg"]) == (code, msg)
    assert ("log_id" in inner) == log_id  # Baidu's gateway codes (< 1000) come without log_id
    assert list(inner)[-2:] == ["error_code", "error_msg"]
