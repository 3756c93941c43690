"""Every AI绿洲 gateway code, triggered the way a user would: by input, by account state, by a fault
rule. Each asserts HTTP 200, the code as a string, the exact text, charge false, no result, a 32-hex
requestId last (raw key order) and the remain the caller has left."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.aioasis import errors as aioasis_errors
from simulator.vendors.baidu import models as baidu_models
from tests.helpers import image_b64
from tests.vendors.aioasis.common import (
    API,
    DAILY,
    DENIED,
    DISABLED,
    EXPECTED_MSG,
    PAID,
    PERSONAL,
    TRIAL,
    assert_billed,
    assert_error,
    assert_free,
    call,
    journal_entry,
)

MB = 1024 * 1024
FAULT_CODES = ["10020", "10030", "11010", "11030"]
INPUT_CODES = {"10001", "10003", "10004", "10090"}
STATE_CODES = {"10010", "10040", "10050", "10060", "10070"}
FORM = "application/x-www-form-urlencoded"


def test_every_code_is_covered() -> None:
    assert set(EXPECTED_MSG) == set(aioasis_errors.MESSAGES)
    assert set(FAULT_CODES) | INPUT_CODES | STATE_CODES == set(EXPECTED_MSG)


def test_texts_are_verbatim() -> None:
    # the one code whose text mixes a full-width comma with an ASCII space
    assert aioasis_errors.MESSAGES["10030"] == "调用万象网关失败\uff0c 请与万象联系"
    for code, msg in EXPECTED_MSG.items():
        assert aioasis_errors.MESSAGES[code] == msg, code


# --- 10004 / 10001: the appkey, from the query only -----------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "query", [{}, {"appkey": ""}, {"APPKEY": PAID}], ids=["absent", "empty", "wrong-case"]
)
async def test_10004_no_appkey(client: TestClient, method: str, query: dict[str, str]) -> None:
    a = await call(client, None, method=method, query=query)
    assert_error(a, "10004")
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor"] == "aioasis" and entry["operation"] == "touxiangshenhe"
    assert entry["vendor_code"] == "10004"
    assert entry["auth"] == {"outcome": "rejected", "reason": "no appkey in the query"}


async def test_10004_appkey_in_the_body_does_not_count(client: TestClient) -> None:
    a = await call(client, None, {"appkey": PAID, "images": image_b64()})
    assert_error(a, "10004")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_10001_unknown_appkey(client: TestClient, method: str) -> None:
    a = await call(client, "no-such-appkey", method=method)
    assert_error(a, "10001")
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == "10001"
    assert entry["auth"]["outcome"] == "rejected"
    assert "no-such-appkey" in entry["auth"]["reason"]


async def test_10001_other_vendors_key_is_unknown(client: TestClient) -> None:
    assert_error(await call(client, "demo-baidu-api-key"), "10001")


async def test_10001_undecodable_appkey(client: TestClient) -> None:
    resp = await client.post(API + "?appkey=%ff%fe", data={"images": image_b64()})
    raw = await resp.text()
    assert resp.status == 200
    assert '"code":"10001"' in raw and '"msg":"错误的请求appkey"' in raw


async def test_appkey_is_found_among_undecodable_query_params(client: TestClient) -> None:
    resp = await client.post(API + f"?x=%ff&appkey={PAID}", data={"images": image_b64("clean_avatar")})
    body = await resp.json()
    assert (body["code"], body["charge"], body["remain"]) == ("10000", True, 999)


# --- 10003: no such API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/fantabulous/nope"),
        ("POST", "/fantabulous/touxiangshenhe2"),
        ("POST", "/fantabulous/touxiangshenhe/"),
        ("GET", "/fantabulous/"),
        ("DELETE", "/fantabulous/a/b/c"),
        ("PUT", API),
        ("PATCH", API),
    ],
)
async def test_10003_no_such_api(client: TestClient, method: str, path: str) -> None:
    # a valid appkey does not matter: there is no data package on a path that is no API
    a = await call(client, PAID, {"images": image_b64()}, method=method, path=path)
    assert_error(a, "10003", remain=0)
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor"] == "aioasis"
    assert entry["vendor_code"] == "10003"


async def test_10003_even_without_appkey(client: TestClient) -> None:
    assert_error(await call(client, None, method="GET", path="/fantabulous/x"), "10003")


@pytest.mark.parametrize("tail", ["a%0Ab", "%0A", "x%0D%0Ay/z", "%E4%B8%AD", "%ff"])
async def test_10003_any_tail(client: TestClient, tail: str) -> None:
    from yarl import URL

    resp = await client.get(URL(f"/fantabulous/{tail}?appkey={PAID}", encoded=True))
    raw = await resp.text()
    assert resp.status == 200, raw
    assert '"code":"10003"' in raw


# --- 10050 / 10060 / 10070: account flags ---------------------------------------------------------


@pytest.mark.parametrize(
    ("appkey", "code", "flag"),
    [
        (DISABLED, "10050", "disabled"),
        (DENIED, "10060", "provider_denied"),
        (PERSONAL, "10070", "enterprise_only"),
    ],
)
async def test_account_flags(client: TestClient, appkey: str, code: str, flag: str) -> None:
    a = await call(client, appkey)
    assert_error(a, code, remain=10)
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == code
    assert entry["credential"] == appkey
    assert entry["auth"] == {"outcome": "rejected", "reason": f"credential flag {flag}"}


async def test_flag_order_disabled_then_denied_then_enterprise(client: TestClient) -> None:
    flags = {"disabled": True, "provider_denied": True, "enterprise_only": True}
    for expect, drop in (("10050", None), ("10060", "disabled"), ("10070", "provider_denied")):
        if drop:
            flags.pop(drop)
        cred = {"vendor": "aioasis", "id": "flagged", "attrs": {"paid": 5, **flags}}
        assert (await client.post("/__modsim/credentials", json=cred)).status == 201
        assert_error(await call(client, "flagged"), expect, remain=5)


# --- 10010 / 10040: balance and the daily limit ---------------------------------------------------


async def test_10010_no_calls_left(client: TestClient) -> None:
    for _ in range(3):
        await call(client, TRIAL)
    a = await call(client, TRIAL, method="GET", query={"images": image_b64()})
    assert_error(a, "10010", remain=0)


async def test_10040_daily_limit(client: TestClient) -> None:
    assert (await client.post("/__modsim/clock", json={"freeze": True})).status == 200
    await call(client, DAILY)
    await call(client, DAILY)
    assert_error(await call(client, DAILY), "10040", remain=98)


# --- 10090: the body cap, refused before the body is read -----------------------------------------


def _big_form(total: int) -> io.BytesIO:
    """A stream: aiohttp warns about multi-MB raw bytes bodies."""
    head = b"images="
    return io.BytesIO(head + b"A" * (total - len(head)))


async def test_10090_body_over_1mb(client: TestClient) -> None:
    a = await call(
        client, PAID, _big_form(MB + 1), headers={"Content-Type": FORM, "Content-Length": str(MB + 1)}
    )
    assert_error(a, "10090", remain=1000)
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == "10090"
    assert entry["status"] == 200
    assert entry["credential"] == PAID
    assert entry["auth"]["outcome"] == "ok"
    assert entry["error"] == aioasis_errors.MESSAGES["10090"]
    assert any(f"body over {MB} bytes (Content-Length {MB + 1}): not read" in n for n in entry["notes"])
    assert entry["scenario"] == []  # the upstream was never called


async def test_10090_chunked_body_is_cut_while_streaming(client: TestClient) -> None:
    body = _big_form(3 * MB).getvalue()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]

    a = await call(client, PAID, chunks(), headers={"Content-Type": FORM})
    assert_error(a, "10090", remain=1000)
    entry = await journal_entry(client, a.request_id)
    assert any(f"body over {MB} bytes (Content-Length None)" in n for n in entry["notes"])


def multipart(fields: dict[str, bytes], boundary: str = "modsimBoundary") -> tuple[bytes, str]:
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_10090_multipart_body(client: TestClient, chunked: bool) -> None:
    data, ctype = multipart({"images": b"A" * (MB + 10)})
    if chunked:

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 65536):
                yield data[i : i + 65536]

        a = await call(client, PAID, chunks(), headers={"Content-Type": ctype})
    else:
        a = await call(client, PAID, io.BytesIO(data), headers={"Content-Type": ctype})
    assert_error(a, "10090", remain=1000)


async def test_multipart_text_fields_are_read(client: TestClient) -> None:
    data, ctype = multipart({"images": image_b64("explicit_with_phone", "jpeg").encode()})
    a = await call(client, PAID, data, headers={"Content-Type": ctype})
    assert assert_billed(a, 999)["result"][0]["res_msg"] == [101, 301]


async def test_exactly_1mb_is_accepted(client: TestClient) -> None:
    # 1 MB exactly is not "over"; the body then reaches Baidu, which finds no image in it
    a = await call(client, PAID, _big_form(MB), headers={"Content-Type": FORM, "Content-Length": str(MB)})
    assert assert_free(a, 1000)["error_code"] == 216201


async def test_10090_over_the_core_cap(aiohttp_client: Any) -> None:
    sim = Sim(Settings(seed=0, validate_responses=True, max_body_bytes=4096))
    client = await aiohttp_client(create_app(sim=sim))
    a = await call(client, PAID, _big_form(5000), headers={"Content-Type": FORM})
    # refused by the core before the body is read; the appkey in the query is already known
    assert_error(a, "10090", remain=1000)
    assert sim.schema_violations == []


@pytest.fixture
async def small_cap(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[TestClient]:
    (tmp_path / "aioasis.yaml").write_text(
        "vendors:\n  aioasis:\n    max_body_bytes: 2048\n", encoding="utf-8"
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    yield await aiohttp_client(create_app(sim=sim))
    assert sim.schema_violations == []


async def test_10090_limit_is_configurable(small_cap: TestClient) -> None:
    a = await call(small_cap, PAID, _big_form(2049), headers={"Content-Type": FORM})
    assert_error(a, "10090", remain=1000)
    a = await call(small_cap, PAID, _big_form(2048), headers={"Content-Type": FORM})
    assert assert_free(a, 1000)["error_code"] == 216201
    resp = await small_cap.post("/__modsim/reset")  # configure runs again and keeps the fixture's cap
    assert resp.status == 200
    assert_error(
        await call(small_cap, PAID, _big_form(2049), headers={"Content-Type": FORM}), "10090", remain=1000
    )


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("vendors:\n  aioasis:\n    max_body_bytes: 0\n", "vendors.aioasis"),
        ("vendors:\n  aioasis:\n    max_body: 10\n", "vendors.aioasis"),
        (
            "credentials:\n  - {vendor: aioasis, id: k, attrs: {free: -1}}\n",
            "aioasis credential 'k' attrs",
        ),
        (
            "credentials:\n  - {vendor: aioasis, id: k, attrs: {quota: {qps: 1}}}\n",
            "aioasis credential 'k' attrs",
        ),
    ],
)
def test_bad_fixture_is_refused(tmp_path: Path, section: str, problem: str) -> None:
    (tmp_path / "bad.yaml").write_text(section, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        Sim(Settings(fixtures=(tmp_path,)))


# --- check order ----------------------------------------------------------------------------------


async def test_order_appkey_before_body_size(client: TestClient) -> None:
    big = {"Content-Type": FORM}
    assert_error(await call(client, None, _big_form(MB + 1), headers=big), "10004")
    assert_error(await call(client, "nope", _big_form(MB + 1), headers=big), "10001")
    assert_error(await call(client, DISABLED, _big_form(MB + 1), headers=big), "10050", remain=10)


async def test_order_body_size_before_daily_and_balance(client: TestClient) -> None:
    assert (await client.post("/__modsim/clock", json={"freeze": True})).status == 200
    for _ in range(3):
        await call(client, TRIAL)
    await call(client, DAILY)
    await call(client, DAILY)
    big = {"Content-Type": FORM}
    assert_error(await call(client, TRIAL, _big_form(MB + 1), headers=big), "10090", remain=0)
    assert_error(await call(client, DAILY, _big_form(MB + 1), headers=big), "10090", remain=98)


async def test_order_daily_before_balance(client: TestClient) -> None:
    assert (await client.post("/__modsim/clock", json={"freeze": True})).status == 200
    cred = {"vendor": "aioasis", "id": "two", "attrs": {"paid": 2, "quota": {"daily": 2}}}
    assert (await client.post("/__modsim/credentials", json=cred)).status == 201
    assert_billed(await call(client, "two"), 1)
    assert_billed(await call(client, "two"), 0)
    assert_error(await call(client, "two"), "10040", remain=0)


async def test_order_balance_before_parameters(client: TestClient) -> None:
    for _ in range(3):
        await call(client, TRIAL)
    assert_error(await call(client, TRIAL, {"nothing": "here"}), "10010")


# --- by fault rule --------------------------------------------------------------------------------


@pytest.mark.parametrize("as_int", [False, True], ids=["str", "int"])
@pytest.mark.parametrize("code", FAULT_CODES)
async def test_fault_error(client: TestClient, code: str, as_int: bool) -> None:
    rule = {
        "vendor": "aioasis",
        "operation": "touxiangshenhe",
        "action": {"type": "error", "code": int(code) if as_int else code},
    }
    resp = await client.post("/__modsim/faults", json={"rules": [rule]})
    assert resp.status == 200, await resp.text()
    a = await call(client, PAID)
    assert_error(a, code, remain=1000)
    [listed] = (await (await client.get("/__modsim/faults")).json())["rules"]
    assert listed["hits"] == 1
    entry = await journal_entry(client, a.request_id)
    assert entry["fault"]["rule"] == listed["id"]
    assert entry["vendor_code"] == code


async def test_fault_matches_the_appkey(client: TestClient) -> None:
    rule = {"vendor": "aioasis", "credential": TRIAL, "action": {"type": "error", "code": 10030}}
    assert (await client.post("/__modsim/faults", json={"rules": [rule]})).status == 200
    assert_billed(await call(client, PAID), 999)
    assert_error(await call(client, TRIAL), "10030", remain=3)


@pytest.mark.parametrize("code", ["99999", "10000", "abc", 216201, "10041"])
async def test_fault_code_outside_the_table_is_11010(client: TestClient, code: str | int) -> None:
    rule = {"vendor": "aioasis", "action": {"type": "error", "code": code}}
    assert (await client.post("/__modsim/faults", json={"rules": [rule]})).status == 200
    assert_error(await call(client, PAID), "11010", remain=1000)


async def test_11010_unexpected_exception(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("provider exploded")

    monkeypatch.setattr(baidu_models, "face_audit", boom)
    a = await call(client, PAID)
    assert_error(a, "11010", remain=1000)
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == "11010"
    assert "provider exploded" in entry["traceback"]
    assert entry["error"] == "unexpected RuntimeError: provider exploded"
    monkeypatch.undo()
    assert_billed(await call(client, PAID), 999)  # the failed call was not billed


async def test_error_request_ids_differ(client: TestClient) -> None:
    ids = {(await call(client, "nope")).body["requestId"] for _ in range(5)}
    assert len(ids) == 5
