"""touxiangshenhe end to end: GET and POST, Baidu's body verbatim in ``result``, scenarios, upstream
errors passed through, the wire format."""

from __future__ import annotations

import base64
import io
import json

import pytest
from aiohttp.test_utils import TestClient

from simulator.content import make_image
from tests.helpers import FACE_AUDIT, baidu_token, image_b64, without_log_ids
from tests.vendors.aioasis.common import (
    API,
    PAID,
    TRIAL,
    assert_billed,
    assert_error,
    assert_free,
    call,
    journal_entry,
)

EXPLICIT = base64.b64encode(make_image("explicit_with_phone", "jpeg")).decode()
#: small enough for a request line (aiohttp, like most servers, caps it at 8 KB)
EXPLICIT_SMALL = base64.b64encode(make_image("explicit_with_phone", "jpeg", (48, 48))).decode()


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_scenario_marked_image(client: TestClient, method: str) -> None:
    if method == "POST":
        a = await call(client, PAID, {"images": EXPLICIT})
    else:
        a = await call(client, PAID, method="GET", query={"images": EXPLICIT_SMALL})
    result = assert_billed(a, 999)
    assert list(result) == ["log_id", "result"]
    [item] = result["result"]
    assert item["res_code"] == 1
    assert item["res_msg"] == [101, 301]
    assert item["data"]["ocr"]["words_result"] == [{"words": "约 13900001111"}]
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor"] == "aioasis" and entry["operation"] == "touxiangshenhe"
    assert entry["scenario"] == ["explicit_with_phone"]
    assert entry["credential"] == PAID
    assert entry["vendor_code"] == "10000"
    assert entry["auth"] == {"outcome": "ok", "reason": "appkey known"}


async def test_result_is_baidus_body_verbatim(client: TestClient) -> None:
    """The same image through Baidu directly and through the gateway: the same body, ids aside."""
    token = await baidu_token(client)
    resp = await client.post(
        FACE_AUDIT, params={"access_token": token}, data={"configId": "1", "images": EXPLICIT}
    )
    direct = await resp.json()
    a = await call(client, PAID, {"images": EXPLICIT})
    assert without_log_ids(a.body["result"]) == without_log_ids(direct)


async def test_wire_format(client: TestClient) -> None:
    a = await call(client, TRIAL, {"images": EXPLICIT})
    assert a.status == 200
    assert a.content_type == "application/json"
    assert a.raw.startswith('{"code":"10000","charge":false,"remain":2,"msg":"查询成功","result":{"log_id":')
    assert "\\u" not in a.raw and "约 13900001111" in a.raw  # UTF-8, non-ASCII unescaped
    assert ": " not in a.raw and ", " not in a.raw.replace("约 1", "")  # compact
    resp = await client.post(API, params={"appkey": PAID}, data={"images": EXPLICIT})
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert (
        (await resp.read())
        .decode("utf-8")
        .startswith('{"code":"10000","charge":true,"remain":999,"remainTimes":999,')
    )


async def test_several_images_one_call(client: TestClient) -> None:
    images = ",".join([image_b64("clean_avatar"), EXPLICIT, image_b64("porn", "jpeg")])
    a = await call(client, PAID, {"images": images})
    result = assert_billed(a, 999)  # one call, whatever the number of images
    assert [r["res_msg"] for r in result["result"]] == [[], [101, 301], [301]]


async def test_get_reads_the_body_first_then_the_query(client: TestClient) -> None:
    a = await call(
        client,
        PAID,
        {"images": EXPLICIT},
        method="GET",
        query={"images": image_b64("clean_avatar")},
    )
    assert assert_billed(a, 999)["result"][0]["res_msg"] == [101, 301]


async def test_post_ignores_images_in_the_query(client: TestClient) -> None:
    a = await call(client, PAID, {"x": "1"}, query={"images": EXPLICIT_SMALL})
    assert assert_free(a, 1000)["error_code"] == 282801


async def test_head_is_served_as_get(client: TestClient) -> None:
    resp = await client.head(API, params={"appkey": PAID, "images": EXPLICIT_SMALL})
    assert resp.status == 200
    assert_billed(await call(client, PAID), 998)


async def test_client_config_id_is_ignored(client: TestClient) -> None:
    # the reseller audits with its own configId ("1"); a client's 2 (porn/terror only) or 999 changes nothing
    for config in ("2", "999"):
        a = await call(client, PAID, {"images": EXPLICIT, "configId": config})
        assert a.body["result"]["result"][0]["res_msg"] == [101, 301]


async def test_reseller_config_id_comes_from_the_fixture(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from simulator.app import create_app
    from simulator.settings import Settings
    from simulator.sim import Sim

    (tmp_path / "a.yaml").write_text("vendors:\n  aioasis:\n    config_id: 2\n", encoding="utf-8")
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    c = await aiohttp_client(create_app(sim=sim))
    a = await call(c, PAID, {"images": EXPLICIT})
    assert a.body["result"]["result"][0]["res_msg"] == [301]  # config 2: porn and terror only
    assert sim.schema_violations == []


async def test_image_urls_are_forwarded(client: TestClient) -> None:
    a = await call(client, PAID, {"imgUrls": "https://img.example.com/a.jpg#modsim=explicit_with_phone"})
    assert assert_billed(a, 999)["result"][0]["res_msg"] == [101, 301]


async def test_url_rules_match_vendor_aioasis(client: TestClient) -> None:
    rules = [
        {"match": {"vendor": "aioasis", "url": "https://cdn.example.com/*"}, "scenario": "porn"},
        {"match": {"vendor": "baidu", "url": "https://cdn.example.com/*"}, "download": "failed"},
    ]
    assert (await client.patch("/__modsim/rules", json={"rules": rules})).status == 200
    a = await call(client, PAID, {"imgUrls": "https://cdn.example.com/u/1.jpg"})
    assert assert_billed(a, 999)["result"][0]["res_msg"] == [301]


async def test_queued_outcome_for_the_appkey(client: TestClient) -> None:
    body = {"scenario": "bloody", "vendor": "aioasis", "operation": "touxiangshenhe", "credential": TRIAL}
    assert (await client.post("/__modsim/queue", json=body)).status == 201
    assert assert_billed(await call(client, PAID), 999)["result"][0]["res_msg"] == []
    a = await call(client, TRIAL)
    assert assert_free(a, 2)["result"][0]["res_msg"] == [201, 401, 501]  # no face, bloody, ugly
    assert (await journal_entry(client, a.request_id))["scenario_source"] == ["queued"]


async def test_same_image_same_answer(client: TestClient) -> None:
    img = image_b64(None, "jpeg")
    a = await call(client, PAID, {"images": img})
    b = await call(client, PAID, {"images": img})
    assert without_log_ids(a.body["result"]) == without_log_ids(b.body["result"])


# --- upstream (Baidu) errors: code 10000, not billed, Baidu's error object as result --------------------


@pytest.mark.parametrize(
    ("data", "code", "msg"),
    [
        ({"images": "!!!!not*base64"}, 216201, "image format error"),
        ({"images": base64.b64encode(b"hello").decode()}, 216201, "image format error"),
        ({"images": ""}, 282801, "image and imgUrl are empty"),
        ({}, 282801, "image and imgUrl are empty"),
        ({"images": image_b64() + ","}, 216200, "empty image"),
        ({"images": image_b64(size=(10, 10))}, 282806, "image length or width error"),
        (
            {"images": image_b64(), "imgUrls": "https://a.example/x.jpg"},
            282802,
            "either image and imgUrl has value",
        ),
        ({"imgUrls": "https://nowhere.example/x.jpg"}, 282804, "download image error"),
        (
            {"imgUrls": ",".join(f"https://img.example.com/{i}.jpg#modsim=clean_avatar" for i in range(31))},
            282872,
            "too many img urls max num is 30",
        ),
    ],
    ids=[
        "bad-base64",
        "not-an-image",
        "empty-images",
        "no-images",
        "empty-item",
        "10x10",
        "both",
        "bad-url",
        "31-urls",
    ],
)
async def test_upstream_error_passed_through(
    client: TestClient, data: dict[str, str], code: int, msg: str
) -> None:
    a = await call(client, TRIAL, data or {"other": "x"})
    result = assert_free(a, 3)  # not billed: the trial's free calls are untouched
    assert list(result) == ["log_id", "error_code", "error_msg"]
    assert isinstance(result["log_id"], int)
    assert (result["error_code"], result["error_msg"]) == (code, msg)
    assert "requestId" not in a.body
    entry = await journal_entry(client, a.request_id)
    assert entry["vendor_code"] == "10000"
    assert any(f"upstream face_audit answered {code}" in n and "not billed" in n for n in entry["notes"])
    assert_free(await call(client, TRIAL), 2)


async def test_upstream_error_passed_through_on_a_paid_key(client: TestClient) -> None:
    a = await call(client, PAID, {"images": "!!"})
    assert assert_free(a, 1000)["error_code"] == 216201
    assert "remainTimes" not in a.body


@pytest.mark.parametrize(
    ("method", "raw_query", "body"),
    [
        ("POST", "", b"images=%ff%fe"),
        ("POST", "", b"images=\xff\xfe"),
        ("GET", "&images=%ff", b""),
    ],
    ids=["post-escaped", "post-raw-bytes", "get-query"],
)
async def test_undecodable_parameters_are_baidus_282002(
    client: TestClient, method: str, raw_query: str, body: bytes
) -> None:
    from yarl import URL

    url = URL(f"{API}?appkey={PAID}{raw_query}", encoded=True)
    resp = await client.request(
        method, url, data=body or None, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    parsed = json.loads(await resp.text())
    assert resp.status == 200
    assert (parsed["code"], parsed["charge"], parsed["remain"]) == ("10000", False, 1000)
    assert (parsed["result"]["error_code"], parsed["result"]["error_msg"]) == (282002, "input encoding error")


async def test_undecodable_body_after_balance_checks(client: TestClient) -> None:
    for _ in range(3):
        await call(client, TRIAL)
    resp = await client.post(
        API,
        params={"appkey": TRIAL},
        data=io.BytesIO(b"images=%ff"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    a = json.loads(await resp.text())
    assert (a["code"], a["msg"]) == ("10010", "接口需要付费，请充值")


async def test_file_parts_are_not_images(client: TestClient) -> None:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field(
        "images", make_image("explicit_with_phone", "jpeg"), filename="a.jpg", content_type="image/jpeg"
    )
    a = await call(client, PAID, form)
    assert assert_free(a, 1000)["error_code"] == 282801


async def test_error_envelope_of_a_gateway_error(client: TestClient) -> None:
    a = await call(client, "unknown")
    assert_error(a, "10001")
