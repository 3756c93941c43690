"""Alibaba Cloud Content Moderation 2.0 (Green 2022-03-02): ImageModeration, TextModeration,
ImageAsyncModeration and DescribeImageModerationResult, RPC style on ``POST /``.

The official ``alibabacloud-green20220302`` client runs unchanged but for the endpoint, with its default
ACS3-HMAC-SHA256 signature and with ``signature_algorithm="v2"`` (RPC v1, HMAC-SHA1 over the
parameters); in-process requests are signed by the Tea client's own functions (``tests/.../rpc.py``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient
from alibabacloud_green20220302 import models
from alibabacloud_green20220302.client import Client
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_tea_openapi.models import Config

from simulator import schemas
from simulator.app import create_app
from simulator.scenarios.loader import ScenarioRule
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.aliyun import signing
from simulator.vendors.aliyun.cip import image as cip_image
from simulator.vendors.aliyun.cip.policy import cip_settings
from tests.live import LiveServer
from tests.store.conftest import REDIS_URL, drop_prefix
from tests.vendors.aliyun.helpers import AK, SCAN, SECRET, green, scan_body
from tests.vendors.aliyun.rpc import call, call_acs3, service_form, v1_query

PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"
PORN_URL = "https://img.example.invalid/a.jpg#modsim=porn"
RID = r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$"


def marker(name: str) -> str:
    return f"https://img.example.invalid/{name}.jpg#modsim={name}"


def image_form(url: str, service: str = "baselineCheck", **extra: Any) -> dict[str, str]:
    return service_form(service, imageUrl=url, **extra)


def text_form(content: str, service: str = "comment_detection", **extra: Any) -> dict[str, str]:
    return service_form(service, content=content, **extra)


def journal(sim: Sim) -> dict[str, Any]:
    entry: dict[str, Any] = sim.state.journal.query(vendor="aliyun")[-1]
    return entry


# ------------------------------------------------------------------------------------------------
# the official client


def tea(live: LiveServer, v2: bool, secret: str = SECRET, ak: str = AK) -> Client:
    cfg = Config(
        access_key_id=ak,
        access_key_secret=secret,
        region_id="cn-shanghai",
        endpoint=f"127.0.0.1:{live.port}",
        protocol="http",
    )
    if v2:
        cfg.signature_algorithm = "v2"
    return Client(cfg)


def live_journal(live: LiveServer, operation: str) -> dict[str, Any]:
    entries = requests.get(
        f"{live.url}/__modsim/journal", params={"vendor": "aliyun", "operation": operation}, timeout=10
    ).json()["entries"]
    entry: dict[str, Any] = entries[-1]
    return entry


SIGNATURES = pytest.mark.parametrize("v2", [False, True], ids=["acs3", "rpc-v1"])


@pytest.mark.sdk
@SIGNATURES
def test_sdk_image_moderation(live: LiveServer, v2: bool) -> None:
    client = tea(live, v2)
    sp = json.dumps({"imageUrl": PORN_URL, "dataId": "img-1"})
    out = client.image_moderation(
        models.ImageModerationRequest(service="baselineCheck", service_parameters=sp)
    )
    assert out.status_code == 200
    body = out.body.to_map()
    assert (body["Code"], body["Msg"]) == (200, "success") and re.fullmatch(RID, body["RequestId"])
    assert body["Data"] == {
        "DataId": "img-1",
        "Result": [{"Label": "pornographic_adultContent", "Confidence": 96.2, "RiskLevel": "high"}],
        "RiskLevel": "high",
    }
    entry = live_journal(live, "image_moderation")
    assert entry["auth"]["outcome"] == "ok"
    assert entry["auth"]["reason"].startswith("RPC HMAC-SHA1" if v2 else "ACS3-HMAC-SHA256")
    assert (entry["scenario"], entry["scenario_source"]) == (["porn"], ["marker"])
    assert body["RequestId"].replace("-", "").lower() == entry["request_id"]

    # a parameter error is a Code in an HTTP 200 body, which the client returns
    bad = client.image_moderation(
        models.ImageModerationRequest(service="baselineCheck", service_parameters=json.dumps({"dataId": "x"}))
    )
    assert bad.status_code == 200
    assert bad.body.to_map() == {
        "Code": 400,
        "Msg": "parameter empty(imageUrl)",
        "RequestId": bad.body.request_id,
    }


@pytest.mark.sdk
@SIGNATURES
def test_sdk_wrong_secret_is_the_gateways_error(live: LiveServer, v2: bool) -> None:
    client = tea(live, v2, secret="not-the-secret")
    with pytest.raises(tea_exceptions.ClientException) as info:
        client.text_moderation(
            models.TextModerationRequest(
                service="chat_detection", service_parameters=json.dumps({"content": "hi"})
            )
        )
    err = info.value
    assert (err.status_code, err.code) == (400, "SignatureDoesNotMatch")
    entry = live_journal(live, "text_moderation")
    sts = entry["auth"]["reason"].split("string to sign ")[1].split(";")[0]
    assert PREFIX in err.message
    if v2:  # RPC v1: the server's string to sign, as the Tea client itself built it
        assert err.message.split(PREFIX)[1].startswith(
            "POST&%2F&AccessKeyId%3Ddemo-aliyun-ak%26Action%3DTextModeration"
        )
    else:
        assert err.message.split(PREFIX)[1].startswith("ACS3-HMAC-SHA256\n")
    assert sts
    assert entry["status"] == 400 and entry["vendor_code"] == "SignatureDoesNotMatch"


@pytest.mark.sdk
@SIGNATURES
def test_sdk_unknown_access_key(live: LiveServer, v2: bool) -> None:
    with pytest.raises(tea_exceptions.ClientException) as info:
        tea(live, v2, ak="LTAI-nobody").describe_image_moderation_result(
            models.DescribeImageModerationResultRequest(req_id="X")
        )
    assert (info.value.status_code, info.value.code) == (404, "InvalidAccessKeyId.NotFound")
    assert "Specified access key is not found." in info.value.message


@pytest.mark.sdk
@SIGNATURES
def test_sdk_text_moderation(live: LiveServer, v2: bool) -> None:
    client = tea(live, v2)
    form = text_form("hi")
    q = v1_query("TextModeration", live.sim, form=form)
    sp = {"content": "兼职刷单 加微信 13812345678", "dataId": "t-1", "accountId": "u-9"}
    out = client.text_moderation(
        models.TextModerationRequest(service="comment_detection", service_parameters=json.dumps(sp))
    )
    body = out.body.to_map()
    assert (body["Code"], body["Message"]) == (200, "OK")
    data = body["Data"]
    assert (data["labels"], data["dataId"], data["accountId"]) == ("ad", "t-1", "u-9")
    assert json.loads(data["reason"]) == {
        "riskTips": "广告_引流",
        "riskWords": "加微信,兼职刷单,13812345678",  # lexicon order
        "adNums": "13812345678",
    }
    raw = requests.post(
        f"{live.url}/?" + "&".join(f"{k}={signing.percent_encode(v)}" for k, v in q.items()),
        data=form,
        timeout=10,
    )
    assert list(raw.json()) == ["RequestId", "Code", "Message", "Data"]
    clean = client.text_moderation(
        models.TextModerationRequest(
            service="chat_detection", service_parameters=json.dumps({"content": "你好"})
        )
    )
    assert clean.body.to_map()["Data"] == {"labels": "", "reason": ""}
    too_long = client.text_moderation(
        models.TextModerationRequest(
            service="chat_detection", service_parameters=json.dumps({"content": "字" * 601})
        )
    )
    assert too_long.body.to_map() == {
        "Code": 402,
        "Message": "parameter length invalid(content)",
        "RequestId": too_long.body.request_id,
    }


@pytest.mark.sdk
@SIGNATURES
def test_sdk_async_moderation_is_revealed_on_the_simulator_clock(live: LiveServer, v2: bool) -> None:
    client = tea(live, v2)
    sp = json.dumps({"imageUrl": marker("bloody"), "dataId": "a-1"})
    sub = client.image_async_moderation(
        models.ImageAsyncModerationRequest(service="baselineCheck", service_parameters=sp)
    ).body.to_map()
    assert (sub["Code"], sub["Msg"], sub["Data"]["DataId"]) == (200, "success", "a-1")
    req_id = sub["Data"]["ReqId"]
    ask = models.DescribeImageModerationResultRequest(req_id=req_id)
    first = client.describe_image_moderation_result(ask).body.to_map()
    assert (first["Code"], first["Msg"], first["Data"]["ReqId"]) == (280, "processing", req_id)
    done = client.describe_image_moderation_result(ask).body.to_map()
    assert (done["Code"], done["Msg"]) == (200, "success")
    assert done["Data"]["ReqId"] == req_id and done["Data"]["DataId"] == "a-1"
    assert done["Data"]["Result"][0] == {
        "Label": "violent_horrificContent",
        "Confidence": 91.0,
        "RiskLevel": "high",
    }
    # three days later (simulator clock) the result is gone; the client's own clock is still fine
    requests.post(f"{live.url}/__modsim/clock", json={"advance_s": 3 * 24 * 3600 + 1}, timeout=10)
    gone = client.describe_image_moderation_result(ask).body.to_map()
    assert (gone["Code"], gone["Msg"]) == (409, "reqId not found")
    missing = client.describe_image_moderation_result(models.DescribeImageModerationResultRequest()).body
    assert (missing.code, missing.msg) == (400, "parameter empty(ReqId)")


# ------------------------------------------------------------------------------------------------
# the RPC v1 signature and the gateway (in-process, signed by the Tea client's own functions)


def test_rpc_v1_worked_example() -> None:
    """docs/aliyun.md's worked example, whose signature was computed with openssl."""
    params = {
        "AccessKeyId": "testAK",
        "Action": "ImageModeration",
        "Format": "json",
        "Version": "2022-03-02",
        "Timestamp": "2026-11-30T21:33:46Z",
        "SignatureNonce": "3e5169469fe1a7e5b18b87e8128ee7db",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "Service": "baselineCheck",
        "ServiceParameters": '{"imageUrl":"https://img.example/a.jpg","dataId":"d1"}',
    }
    sts = signing.rpc_string_to_sign("POST", params.items())
    assert sts == (
        "POST&%2F&AccessKeyId%3DtestAK%26Action%3DImageModeration%26Format%3Djson%26Service%3DbaselineCheck"
        "%26ServiceParameters%3D%257B%2522imageUrl%2522%253A%2522https%253A%252F%252Fimg.example%252Fa.jpg"
        "%2522%252C%2522dataId%2522%253A%2522d1%2522%257D%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce"
        "%3D3e5169469fe1a7e5b18b87e8128ee7db%26SignatureVersion%3D1.0%26Timestamp%3D2026-11-30T21%253A33"
        "%253A46Z%26Version%3D2022-03-02"
    )
    assert signing.rpc_signature("testSecret", sts) == "Zsd6Q2h4x2KWg4KWdgCDEaABuaM="
    assert signing.rpc_string_to_sign("POST", [("a", "x y*~")]) == "POST&%2F&a%3Dx%2520y%252A~"


def assert_pop(result: tuple[int, Any, dict[str, str]], status: int, code: str, message: str) -> None:
    got_status, body, headers = result
    assert (got_status, body["Code"], body["Message"]) == (status, code, message), body
    assert list(body) == ["RequestId", "HostId", "Code", "Message", "Recommend"]
    assert headers["Content-Type"] == "application/json;charset=utf-8"


async def test_rpc_v1_and_acs3_both_verified(client: TestClient, sim: Sim) -> None:
    for result in (
        await call(client, "ImageModeration", image_form(PORN_URL)),
        await call_acs3(client, "ImageModeration", image_form(PORN_URL)),
    ):
        status, body, headers = result
        assert (status, body["Code"], body["Data"]["Result"][0]["Label"]) == (
            200,
            200,
            "pornographic_adultContent",
        )
        assert list(body) == ["RequestId", "Code", "Msg", "Data"]
        assert headers["Content-Type"] == "application/json;charset=utf-8"
    # ImageAsyncModeration takes Service and ServiceParameters in the query, both ways
    for result in (
        await call(client, "ImageAsyncModeration", query=image_form(PORN_URL)),
        await call_acs3(client, "ImageAsyncModeration", query=image_form(PORN_URL)),
    ):
        assert result[1]["Code"] == 200 and result[1]["Data"]["ReqId"]


async def test_rpc_v1_tampered_parameter_is_signature_does_not_match(client: TestClient, sim: Sim) -> None:
    form = image_form(PORN_URL)
    q = v1_query("ImageModeration", sim, form=form)
    sent = {**q, "Format": "JSON"}
    resp = await client.post(
        "/?" + "&".join(f"{k}={signing.percent_encode(v)}" for k, v in sent.items()),
        data=form,
    )
    body = await resp.json()
    expected_sts = signing.rpc_string_to_sign("POST", [*sent.items(), *form.items()])
    assert (resp.status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert body["Message"] == PREFIX + expected_sts
    entry = journal(sim)
    assert entry["auth"]["outcome"] == "rejected"
    assert f"received {q['Signature']}" in entry["auth"]["reason"]
    # a wrong secret over ACS3 is the same code
    assert (await call_acs3(client, "TextModeration", text_form("hi"), secret="nope"))[1]["Code"] == (
        "SignatureDoesNotMatch"
    )


@pytest.mark.parametrize(
    ("common", "drop", "status", "code", "message"),
    [
        ({}, "Signature", 400, "MissingSignature", "Signature is mandatory for this action."),
        ({}, "AccessKeyId", 400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action."),
        ({}, "SignatureNonce", 400, "MissingSignatureNonce", "SignatureNonce is mandatory for this action."),
        ({}, "Timestamp", 400, "MissingTimestamp", "Timestamp is mandatory for this action."),
        ({"Version": "2018-05-09"}, None, 400, "InvalidVersion", "Specified parameter Version is not valid."),
        (
            {"SignatureMethod": "HMAC-SHA256"},
            None,
            400,
            "InvalidSignatureMethod",
            "Specified signature method is not valid.",
        ),
        (
            {"Timestamp": "Mon, 30 Nov 2026 21:28:31 GMT"},
            None,
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ),
        (
            {"Timestamp": "2001-01-01T00:00:00Z"},
            None,
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ),
        (
            {"AccessKeyId": "LTAI-x"},
            None,
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ),
    ],
)
async def test_rpc_v1_gateway_errors(
    client: TestClient,
    sim: Sim,
    common: dict[str, str],
    drop: str | None,
    status: int,
    code: str,
    message: str,
) -> None:
    form = text_form("hi")
    q = v1_query("TextModeration", sim, form=form, common=common)
    q.pop(drop or "", None)
    headers = {"x-acs-version": "2022-03-02"} if "Version" not in common else {}
    resp = await client.post(
        "/?" + "&".join(f"{k}={signing.percent_encode(v)}" for k, v in q.items()), data=form, headers=headers
    )
    body = await resp.json()
    assert (resp.status, body["Code"], body["Message"]) == (status, code, message)


async def test_rpc_v1_nonce_and_xml(client: TestClient, sim: Sim) -> None:
    nonce = {"SignatureNonce": "same-nonce-1"}
    assert (await call(client, "TextModeration", text_form("hi"), common=nonce))[1]["Code"] == 200
    assert_pop(
        await call(client, "TextModeration", text_form("hi"), common=nonce),
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    )
    status, body, headers = await call(
        client, "TextModeration", text_form("hi"), common={"Format": "XML", "AccessKeyId": "x"}
    )
    assert status == 404 and headers["Content-Type"] == "text/xml;charset=utf-8"
    assert "<Code>InvalidAccessKeyId.NotFound</Code>" in body


async def test_the_rpc_entry_answers_everything_else_on_root(client: TestClient, sim: Sim) -> None:
    resp = await client.post("/")
    assert (resp.status, (await resp.json())["Code"]) == (400, "MissingAction")
    assert (await resp.json())["Message"] == "Action is mandatory for this action."
    resp = await client.post("/?Action=ScanImage")
    body = await resp.json()
    assert (resp.status, body["Code"], body["Message"]) == (
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    )
    resp = await client.get("/?Action=ImageModeration")
    assert (resp.status, (await resp.json())["Code"]) == (404, "InvalidApi.NotFound")
    assert journal(sim)["operation"] == "rpc_entry"
    # a Green 2018 ROA request to / with its own action is not an RPC action either
    status, body, _ = await green(client, "/", scan_body(PORN_URL))
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")
    # and the ROA paths are untouched
    status, body, _ = await green(client, SCAN, scan_body(PORN_URL))
    assert (status, body["code"]) == (200, 200)


# ------------------------------------------------------------------------------------------------
# parameters and business codes


@pytest.mark.parametrize(
    ("form", "code", "msg"),
    [
        ({}, 400, "parameter empty(Service)"),
        ({"Service": "baselineCheck"}, 400, "parameter empty(ServiceParameters)"),
        ({"Service": "nudityCheck", "ServiceParameters": "{}"}, 401, "parameter invalid(Service)"),
        ({"Service": "baselineCheck", "ServiceParameters": "{"}, 401, "parameter invalid(ServiceParameters)"),
        (
            {"Service": "baselineCheck", "ServiceParameters": "[]"},
            401,
            "parameter invalid(ServiceParameters)",
        ),
        (image_form(""), 400, "parameter empty(imageUrl)"),
        (image_form("ftp://a.invalid/x.png"), 401, "parameter invalid(imageUrl)"),
        (image_form(7), 401, "parameter invalid(imageUrl)"),
        (image_form("https://a.invalid/" + "x" * 2048), 402, "parameter length invalid(imageUrl)"),
        (image_form(PORN_URL, dataId="d" * 65), 402, "parameter length invalid(dataId)"),
        (image_form("http://127.0.0.1/a.png"), 401, "parameter invalid(imageUrl)"),
        (image_form("https://nowhere.invalid/a.png"), 404, "download image failed"),
    ],
)
async def test_image_parameter_codes(client: TestClient, form: dict[str, str], code: int, msg: str) -> None:
    status, body, _ = await call(client, "ImageModeration", form)
    assert status == 200
    assert body == {"RequestId": body["RequestId"], "Code": code, "Msg": msg}
    assert list(body) == ["RequestId", "Code", "Msg"]


@pytest.mark.parametrize(("outcome", "code"), [("timeout", 405), ("too_large", 406), ("forbidden", 404)])
async def test_download_outcomes_are_codes(client: TestClient, sim: Sim, outcome: str, code: int) -> None:
    sim.state.rules.append(ScenarioRule(match={"url": "https://cdn.example.invalid/bad/*"}, download=outcome))
    status, body, _ = await call(
        client, "ImageModeration", image_form("https://cdn.example.invalid/bad/a.png")
    )
    assert (status, body["Code"]) == (200, code)


async def test_text_parameter_codes(client: TestClient) -> None:
    for form, code, message in [
        (text_form(""), 400, "parameter empty(content)"),
        (service_form("comment_detection", content=["x"]), 401, "parameter invalid(content)"),
        (text_form("x", service="image_detection"), 401, "parameter invalid(Service)"),
        (text_form("x", dataId="d" * 65), 402, "parameter length invalid(dataId)"),
    ]:
        status, body, _ = await call(client, "TextModeration", form)
        assert (status, body) == (200, {"RequestId": body["RequestId"], "Code": code, "Message": message})


async def test_qps_and_disabled_account(client: TestClient, sim: Sim) -> None:
    state = sim.state.vendor_state("aliyun")
    state["cip_settings"] = dataclasses.replace(cip_settings(sim), image_qps=2, text_qps=1)
    sim.clock.freeze()
    for _ in range(2):
        assert (await call(client, "ImageModeration", image_form(PORN_URL)))[1]["Code"] == 200
    third = (await call(client, "ImageModeration", image_form(PORN_URL)))[1]
    assert (third["Code"], third["Msg"]) == (403, "qps exceed limit")
    assert (await call(client, "TextModeration", text_form("a")))[1]["Code"] == 200
    assert (await call(client, "TextModeration", text_form("a")))[1]["Message"] == "qps exceed limit"
    sim.clock.advance(1.5)
    sim.state.credentials.get("aliyun", AK).attrs["disabled"] = True  # type: ignore[union-attr]
    out = (await call(client, "TextModeration", text_form("a")))[1]
    assert (out["Code"], out["Message"]) == (408, "permission denied")


async def test_async_results_belong_to_their_account(client: TestClient, sim: Sim) -> None:
    other = await client.post(
        "/__modsim/credentials",
        json={"vendor": "aliyun", "id": "other-ak", "secret": "other-secret", "attrs": {"uid": "42"}},
    )
    assert other.status in (200, 201), await other.text()
    _, sub, _ = await call(client, "ImageAsyncModeration", query=image_form(PORN_URL))
    req_id = sub["Data"]["ReqId"]
    _, theirs, _ = await call(
        client, "DescribeImageModerationResult", query={"ReqId": req_id}, ak="other-ak", secret="other-secret"
    )
    assert (theirs["Code"], theirs["Msg"]) == (409, "reqId not found")
    record = await cip_image.task_table(sim).get(req_id)
    assert record is not None and record["uid"] == "1234567890123456"
    # a download failure is revealed by the result, not by the submission
    _, sub, _ = await call(client, "ImageAsyncModeration", query=image_form("https://nowhere.invalid/x.png"))
    assert sub["Code"] == 200
    sim.clock.advance(6)
    _, failed, _ = await call(client, "DescribeImageModerationResult", query={"ReqId": sub["Data"]["ReqId"]})
    assert (failed["Code"], failed["Msg"]) == (404, "download image failed")


# ------------------------------------------------------------------------------------------------
# the vendor-neutral truth: every built-in scenario, queue and faults


def _flagged_2018(results: list[dict[str, Any]]) -> set[str]:
    """The 2.0 labels the 2018 scan's flagged scene labels stand for."""
    out = set()
    for r in results:
        if r["suggestion"] == "pass" or r["scene"] == "ad":
            continue
        label = "TV" if r["scene"] == "logo" else r["label"]
        if r["scene"] == "logo" and r["label"] == "trademark":
            continue
        out.add(cip_image.FROM_2018[label])
    return out


async def test_every_built_in_scenario_renders_consistently(client: TestClient, sim: Sim) -> None:
    names = sorted(n for n, s in sim.state.scenarios.items() if s.service_error is None)
    assert len(names) >= 30
    for name in names:
        _, new, _ = await call(client, "ImageModeration", image_form(marker(name)))
        assert new["Code"] == 200, (name, new)
        assert schemas.errors("aliyun/cip/image_moderation.success", new) == []
        labels = {r["Label"] for r in new["Data"]["Result"]}
        _, old, _ = await green(
            client,
            SCAN,
            scan_body(marker(name), scenes=("porn", "terrorism", "qrcode", "live", "logo", "sface")),
        )
        flagged = _flagged_2018(old["data"][0]["results"])
        assert flagged <= labels, (name, flagged, labels)
        if labels == {"nonLabel"}:
            assert new["Data"]["RiskLevel"] == "none"
            assert not flagged
        s = sim.state.scenarios[name]
        _, text, _ = await call(client, "TextModeration", text_form(f"[[modsim={name}]]"))
        if not s.has_text:  # an image-only scenario cannot decide a text: the submitted text does
            assert text["Data"] == {"labels": "", "reason": ""}, name
            assert any("cannot render" in w for w in journal(sim).get("warnings", []))
            continue
        verdict = sim.lexicon.truth(s, sim.rng)
        expected = [
            {1: "violence", 2: "sexual_content", 3: "political_content", 4: "ad", 5: "profanity"}[ls.label]
            for ls in verdict.labels
            if verdict.bucket(ls) != "pass"
        ]
        assert sorted(text["Data"]["labels"].split(",") if text["Data"]["labels"] else []) == sorted(
            expected
        ), name
    # a few by name
    _, porn, _ = await call(client, "ImageModeration", image_form(marker("porn")))
    assert porn["Data"]["Result"][0] == {
        "Label": "pornographic_adultContent",
        "Confidence": 96.2,
        "RiskLevel": "high",
    }
    _, clean, _ = await call(client, "ImageModeration", image_form(marker("clean_avatar")))
    assert clean["Data"] == {"Result": [{"Label": "nonLabel"}], "RiskLevel": "none"}
    _, phone, _ = await call(client, "ImageModeration", image_form(marker("phone_number")))
    assert phone["Data"]["Ext"]["TextInImage"] == {
        "OcrResult": [{"Text": "加我 13812345678"}, {"Text": "有惊喜"}],
        "RiskWord": ["13812345678"],
    }
    _, ads, _ = await call(client, "TextModeration", text_form("随便说点什么 [[modsim=text_ads]]"))
    reason = json.loads(ads["Data"]["reason"])
    assert ads["Data"]["labels"] == "ad"
    assert {"加微信", "13812345678", "QQ: 12345678"} <= set(reason["riskWords"].split(","))


async def test_queue_and_faults_apply(client: TestClient, sim: Sim) -> None:
    resp = await client.post(
        "/__modsim/queue", json={"scenario": "porn", "vendor": "aliyun", "operation": "image_moderation"}
    )
    assert resp.status in (200, 201), await resp.text()
    _, body, _ = await call(client, "ImageModeration", image_form(marker("clean_avatar")))
    assert body["Data"]["Result"][0]["Label"] == "pornographic_adultContent"
    assert journal(sim)["scenario_source"] == ["queued"]
    # an image-only scenario cannot be queued for the text operation alone
    resp = await client.post(
        "/__modsim/queue", json={"scenario": "porn", "vendor": "aliyun", "operation": "text_moderation"}
    )
    assert resp.status == 400
    resp = await client.post(
        "/__modsim/queue", json={"scenario": "text_abuse", "vendor": "aliyun", "operation": "text_moderation"}
    )
    assert resp.status in (200, 201)
    _, body, _ = await call(client, "TextModeration", text_form("你好"))
    assert body["Data"]["labels"] == "profanity"

    sim.faults.replace(
        [{"vendor": "aliyun", "operation": "image_moderation", "action": {"type": "error", "code": 408}}]
    )
    status, body, _ = await call(client, "ImageModeration", image_form(PORN_URL))
    assert (status, body) == (200, {"RequestId": body["RequestId"], "Code": 408, "Msg": "permission denied"})
    assert (await call(client, "TextModeration", text_form("hi")))[1]["Code"] == 200  # another operation
    sim.faults.replace(
        [
            {
                "vendor": "aliyun",
                "operation": "text_moderation",
                "action": {"type": "error", "code": "Throttling"},
            }
        ]
    )
    assert_pop(
        await call(client, "TextModeration", text_form("hi")),
        400,
        "Throttling",
        "Request was denied due to request throttling.",
    )
    sim.faults.replace(
        [
            {
                "vendor": "aliyun",
                "operation": "describe_image_moderation_result",
                "action": {"type": "error", "code": 500},
            }
        ]
    )
    status, body, _ = await call(client, "DescribeImageModerationResult", query={"ReqId": "x"})
    assert (status, body["Code"], body["Msg"]) == (200, 500, "system error")


# ------------------------------------------------------------------------------------------------
# two instances on one Redis: the task table and the nonce claims are the store's


async def test_async_task_and_nonce_are_shared_through_redis(aiohttp_client: Any) -> None:
    prefix = f"modsim-test:{uuid.uuid4().hex[:12]}:"
    try:
        one, two = [
            await aiohttp_client(
                create_app(
                    sim=Sim(
                        Settings(
                            seed=0,
                            validate_responses=True,
                            state_url=REDIS_URL,
                            state_prefix=prefix,
                            instance=n,
                        )
                    )
                )
            )
            for n in ("i0", "i1")
        ]
        _, sub, _ = await call(one, "ImageAsyncModeration", query=image_form(PORN_URL, dataId="r1"))
        req_id = sub["Data"]["ReqId"]
        seen = []
        for client in (two, one, two):
            _, out, _ = await call(client, "DescribeImageModerationResult", query={"ReqId": req_id})
            seen.append(out["Code"])
        assert seen == [280, 200, 200]
        assert (
            out["Data"]["Result"][0]["Label"] == "pornographic_adultContent" and out["Data"]["DataId"] == "r1"
        )
        nonce = {"SignatureNonce": uuid.uuid4().hex}
        assert (await call(one, "TextModeration", text_form("hi"), common=nonce))[1]["Code"] == 200
        assert (await call(two, "TextModeration", text_form("hi"), common=nonce))[1][
            "Code"
        ] == "SignatureNonceUsed"
    finally:
        drop_prefix(prefix)
