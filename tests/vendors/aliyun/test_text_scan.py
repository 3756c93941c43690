"""Green 2018-05-09 text moderation (``/green/text/scan``, scene ``antispam``) and the feedback calls
(``/green/image/feedback``, ``/green/text/feedback``): the official aliyunsdkcore + aliyunsdkgreen
3.6.6 requests (TextScanRequest, TextFeedbackRequest, ImageScanFeedbackRequest) and the Tea client
(``call_api``, ACS3 and v2) against a live simulator, and the wire contract in-process."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkgreen.request.v20180509 import ImageScanFeedbackRequest, TextFeedbackRequest, TextScanRequest

from simulator.sim import Sim
from simulator.vendors.aliyun.scan import settings_of
from tests.live import LiveServer
from tests.vendors.aliyun.helpers import SECRET, green
from tests.vendors.aliyun.test_sdk_methods import core, tea_call
from tests.vendors.aliyun.test_sdk_methods import core_call as send

TEXT = "/green/text/scan"
IMAGE_FEEDBACK = "/green/image/feedback"
TEXT_FEEDBACK = "/green/text/feedback"
PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"
TASK_ID = re.compile(r"^txt[0-9A-Za-z]{22}-[0-9A-Za-z]{6}$")
RID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def text_body(*contents: str, **extra: Any) -> dict[str, Any]:
    return {
        "scenes": ["antispam"],
        "tasks": [{"dataId": f"t{i}", "content": c} for i, c in enumerate(contents)],
        **extra,
    }


# ------------------------------------------------------------------------------------------------
# aliyunsdkcore + aliyunsdkgreen 3.6.6


def journal(live: LiveServer, operation: str) -> dict[str, Any]:
    entries = requests.get(
        f"{live.url}/__modsim/journal", params={"vendor": "aliyun", "operation": operation}, timeout=10
    ).json()["entries"]
    entry: dict[str, Any] = entries[-1]
    return entry


@pytest.mark.sdk
def test_sdk_text_scan(live: LiveServer) -> None:
    body = send(
        core(live),
        TextScanRequest.TextScanRequest(),
        text_body("加微信 13812345678", "你好 [[modsim=text_abuse]]", "今天天气不错"),
    )
    assert list(body) == ["code", "data", "msg", "requestId"]
    assert (body["code"], body["msg"]) == (200, "OK") and RID.match(body["requestId"])
    ad, abuse, clean = body["data"]
    for task in body["data"]:
        assert TASK_ID.match(task["taskId"]), task["taskId"]
    assert ad == {
        "code": 200,
        "msg": "OK",
        "dataId": "t0",
        "taskId": ad["taskId"],
        "content": "加微信 13812345678",
        "results": [
            {
                "scene": "antispam",
                "label": "ad",
                "suggestion": "block",
                "rate": 94.0,
                "details": [{"label": "ad", "contexts": [{"context": "加微信"}, {"context": "13812345678"}]}],
            }
        ],
    }
    assert abuse["results"][0]["label"] == "abuse" and abuse["results"][0]["suggestion"] == "block"
    assert {c["context"] for c in abuse["results"][0]["details"][0]["contexts"]} >= {"脑残", "傻逼", "废物"}
    assert clean["results"] == [{"scene": "antispam", "label": "normal", "suggestion": "pass", "rate": 72.03}]
    entry = journal(live, "text_scan")
    assert entry["auth"]["outcome"] == "ok" and entry["query"] == "RegionId=cn-shanghai"
    assert entry["scenario_source"] == ["default", "marker", "default"]


@pytest.mark.sdk
def test_sdk_text_scan_errors(live: LiveServer) -> None:
    with pytest.raises(ServerException) as info:
        send(core(live, secret="not-the-secret"), TextScanRequest.TextScanRequest(), text_body("x"))
    err = info.value
    assert (err.get_http_status(), err.get_error_code()) == (400, "SignatureDoesNotMatch")
    msg = err.get_error_msg()
    assert msg.startswith(PREFIX + "POST\napplication/json\n") and msg.endswith(
        "/green/text/scan?RegionId=cn-shanghai"
    )
    assert "\nx-acs-action:TextScan\n" in msg and "\nx-acs-version:2018-05-09\n" in msg
    assert repr(msg[len(PREFIX) :]) in journal(live, "text_scan")["auth"]["reason"]
    bad = send(
        core(live), TextScanRequest.TextScanRequest(), {"scenes": ["porn"], "tasks": [{"content": "x"}]}
    )
    assert bad == {"code": 400, "msg": "BAD_REQUEST", "requestId": bad["requestId"]}


@pytest.mark.sdk
def test_sdk_feedback(live: LiveServer) -> None:
    image = send(
        core(live),
        ImageScanFeedbackRequest.ImageScanFeedbackRequest(),
        {
            "taskId": "img-1",
            "url": "https://img.example/a.jpg",
            "suggestion": "block",
            "scenes": ["porn"],
            "note": "x",
        },
    )
    assert list(image) == ["code", "msg", "requestId"] and (image["code"], image["msg"]) == (200, "OK")
    assert "image feedback: taskId 'img-1'" in " ".join(journal(live, "image_feedback")["notes"])
    text = send(
        core(live),
        TextFeedbackRequest.TextFeedbackRequest(),
        {"taskId": "txt-1", "dataId": "t0", "content": "foobar", "label": "spam", "note": "blabla"},
    )
    assert list(text) == ["code", "msg", "requestId"] and text["code"] == 200
    both = send(
        core(live),
        TextFeedbackRequest.TextFeedbackRequest(),
        [{"taskId": "a"}, {"taskId": "b", "label": "normal"}],
    )
    assert both["code"] == 200
    # errors: a body the API does not take, a wrong secret, an unknown AccessKeyId
    for request, body in [
        (
            ImageScanFeedbackRequest.ImageScanFeedbackRequest(),
            {"url": "https://a/b.jpg", "suggestion": "block"},
        ),
        (TextFeedbackRequest.TextFeedbackRequest(), {"label": "spam"}),
        (TextFeedbackRequest.TextFeedbackRequest(), {"taskId": "a", "label": "nudity"}),
    ]:
        out = send(core(live), request, body)
        assert out == {"code": 400, "msg": "BAD_REQUEST", "requestId": out["requestId"]}, body
    with pytest.raises(ServerException) as info:
        send(
            core(live, secret="nope"),
            ImageScanFeedbackRequest.ImageScanFeedbackRequest(),
            {"url": "https://a/b"},
        )
    assert (info.value.get_http_status(), info.value.get_error_code()) == (400, "SignatureDoesNotMatch")
    assert info.value.get_error_msg().startswith(PREFIX + "POST\n")
    with pytest.raises(ServerException) as info:
        send(core(live, ak="LTAI-nobody"), TextFeedbackRequest.TextFeedbackRequest(), {"taskId": "a"})
    assert (info.value.get_http_status(), info.value.get_error_code(), info.value.get_error_msg()) == (
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    )


@pytest.mark.sdk
@pytest.mark.parametrize("v2", [False, True], ids=["acs3", "v2"])
def test_tea_text_scan_and_feedback(live: LiveServer, v2: bool) -> None:
    def tea(action: str, pathname: str, body: Any, secret: str = SECRET) -> dict[str, Any]:
        return tea_call(live, v2, action, pathname, body, secret=secret)

    out = tea("TextScan", TEXT, text_body("约炮 裸聊"))
    assert out["statusCode"] == 200
    result = out["body"]["data"][0]["results"][0]
    assert (result["label"], result["suggestion"]) == ("porn", "block")
    assert [c["context"] for c in result["details"][0]["contexts"]] == ["约炮", "裸聊"]
    assert tea("TextFeedback", TEXT_FEEDBACK, {"taskId": "t"})["body"]["code"] == 200
    with pytest.raises(tea_exceptions.ClientException) as info:
        tea("ImageScanFeedback", IMAGE_FEEDBACK, {"url": "https://a/b.jpg"}, secret="nope")
    assert (info.value.status_code, info.value.code) == (400, "SignatureDoesNotMatch")


# ------------------------------------------------------------------------------------------------
# the truth: every built-in text scenario, image scenarios' text lines, queue, faults


@pytest.mark.parametrize(
    ("scenario", "label", "words"),
    [
        ("text_terror", "terrorism", {"自制炸药", "起爆装置", "买卖枪支"}),
        ("text_porn", "porn", {"约炮", "裸聊", "一夜情"}),
        ("text_politics", "politics", {"非法集会", "反动标语", "颠覆政权"}),
        ("text_ads", "ad", {"加微信", "13812345678", "QQ: 12345678"}),
        ("text_abuse", "abuse", {"脑残", "傻逼", "废物"}),
        ("phone_number", "ad", {"13812345678"}),
        ("qrcode_ad", "ad", {"扫码领红包"}),
    ],
)
async def test_text_scenarios(client: TestClient, scenario: str, label: str, words: set[str]) -> None:
    status, body, _ = await green(client, TEXT, text_body(f"随便 [[modsim={scenario}]]"), action="TextScan")
    assert status == 200
    result = body["data"][0]["results"][0]
    assert (result["scene"], result["label"]) == ("antispam", label)
    assert result["suggestion"] in ("block", "review")
    details = {d["label"]: {c["context"] for c in d.get("contexts", ())} for d in result["details"]}
    assert words <= details[label]
    assert result["details"][0]["label"] == label  # the label shown comes first


async def test_image_only_scenario_leaves_the_text_to_decide(client: TestClient, sim: Sim) -> None:
    status, body, headers = await green(client, TEXT, text_body("你好 [[modsim=porn]]"), action="TextScan")
    assert (status, body["data"][0]["results"][0]["label"]) == (200, "normal")
    assert "cannot render" in headers["X-Modsim-Warning"]


async def test_queue_rules_and_faults_apply(client: TestClient, sim: Sim) -> None:
    resp = await client.post(
        "/__modsim/queue", json={"scenario": "text_porn", "vendor": "aliyun", "operation": "text_scan"}
    )
    assert resp.status in (200, 201), await resp.text()
    _, body, _ = await green(client, TEXT, text_body("你好", "你好"), action="TextScan")
    assert [t["results"][0]["label"] for t in body["data"]] == ["porn", "normal"]  # one use, one task
    resp = await client.post(
        "/__modsim/queue", json={"scenario": "bloody", "vendor": "aliyun", "operation": "text_scan"}
    )
    assert resp.status == 400 and "no text" in await resp.text()
    resp = await client.patch(
        "/__modsim/rules", json={"rules": [{"match": {"text": "^红包"}, "scenario": "text_ads"}]}
    )
    assert resp.status == 200, await resp.text()
    _, body, _ = await green(client, TEXT, text_body("红包来了"), action="TextScan")
    assert body["data"][0]["results"][0]["label"] == "ad"

    sim.faults.replace(
        [{"vendor": "aliyun", "operation": "text_scan", "action": {"type": "error", "code": 588}}]
    )
    status, body, _ = await green(client, TEXT, text_body("x"), action="TextScan")
    assert (status, body) == (200, {"code": 588, "msg": "EXCEED_QUOTA", "requestId": body["requestId"]})
    sim.faults.replace(
        [
            {
                "vendor": "aliyun",
                "operation": "text_feedback",
                "action": {"type": "error", "code": "ServiceUnavailable"},
            }
        ]
    )
    status, body, _ = await green(client, TEXT_FEEDBACK, {"taskId": "a"}, action="TextFeedback")
    assert (status, body["Code"], body["Message"]) == (
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
    )
    status, body, _ = await green(client, IMAGE_FEEDBACK, {"url": "https://a/b"}, action="ImageScanFeedback")
    assert (status, body["code"]) == (200, 200)  # the fault names another operation


async def test_text_qps_is_588(client: TestClient, sim: Sim) -> None:
    st = settings_of(sim)
    sim.state.vendor_state("aliyun")["settings"] = dataclasses.replace(
        st, limits=dataclasses.replace(st.limits, text_qps=3)
    )
    sim.clock.freeze()
    assert (await green(client, TEXT, text_body("a", "b"), action="TextScan"))[1]["code"] == 200
    _, body, _ = await green(client, TEXT, text_body("a", "b"), action="TextScan")
    assert (body["code"], body["msg"]) == (588, "EXCEED_QUOTA")
    sim.clock.advance(1.1)
    assert (await green(client, TEXT, text_body("a"), action="TextScan"))[1]["code"] == 200


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"tasks": [{"content": "x"}]},
        {"scenes": ["antispam", "porn"], "tasks": [{"content": "x"}]},
        {"scenes": ["antispam"]},
        {"scenes": ["antispam"], "tasks": []},
        {"scenes": ["antispam"], "tasks": [{"content": "x"}] * 101},
        {"scenes": ["antispam"], "tasks": ["x"]},
        {"scenes": ["antispam"], "tasks": [{"dataId": "a"}]},
        {"scenes": ["antispam"], "tasks": [{"content": ""}]},
        {"scenes": ["antispam"], "tasks": [{"content": 5}]},
        {"scenes": ["antispam"], "tasks": [{"content": "字" * 10001}]},
        {"scenes": ["antispam"], "tasks": [{"content": "x", "dataId": "d" * 129}]},
        {"scenes": ["antispam"], "tasks": [{"content": "x", "dataId": "a"}, {"content": "y", "dataId": "a"}]},
        {"scenes": ["antispam"], "tasks": [{"content": "x"}], "bizType": 3},
    ],
)
async def test_bad_bodies_are_400(client: TestClient, payload: Any) -> None:
    status, body, _ = await green(client, TEXT, payload, action="TextScan")
    assert (status, body) == (200, {"code": 400, "msg": "BAD_REQUEST", "requestId": body["requestId"]})


async def test_the_longest_text_and_a_full_request_are_taken(client: TestClient, sim: Sim) -> None:
    status, body, _ = await green(client, TEXT, text_body("字" * 10000), action="TextScan")
    assert (status, body["code"]) == (200, 200)
    sim.clock.advance(1.1)  # 100 texts a second: the next request's 100 would be the 101st
    status, body, _ = await green(
        client, TEXT, text_body(*(f"第{i}条" for i in range(100))), action="TextScan"
    )
    assert (status, len(body["data"])) == (200, 100)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"note": "x"},
        {"url": "https://a/b", "suggestion": "maybe", "scenes": ["porn"]},
        {"url": "https://a/b", "scenes": ["sface"]},
        {"url": "https://a/b", "scenes": []},
        {"taskId": 7},
    ],
)
async def test_bad_image_feedback_is_400(client: TestClient, payload: Any) -> None:
    status, body, _ = await green(client, IMAGE_FEEDBACK, payload, action="ImageScanFeedback")
    assert (status, body) == (200, {"code": 400, "msg": "BAD_REQUEST", "requestId": body["requestId"]})


async def test_every_built_in_scenario_renders_consistently(client: TestClient, sim: Sim) -> None:
    """A scenario with text: its lexicon categories at review or reject are the details, the worst shown;
    without text (image-only): a warning, and the submitted text decides."""
    labels = {1: "terrorism", 2: "porn", 3: "politics", 4: "ad", 5: "abuse"}
    names = sorted(n for n, s in sim.state.scenarios.items() if s.service_error is None)
    for name in names:
        s = sim.state.scenarios[name]
        _, body, headers = await green(client, TEXT, text_body(f"今天 [[modsim={name}]]"), action="TextScan")
        result = body["data"][0]["results"][0]
        if not s.has_text:
            assert result["label"] == "normal" and "cannot render" in headers["X-Modsim-Warning"], name
            continue
        verdict = sim.lexicon.truth(s, sim.rng)
        flagged = {labels[ls.label]: set(ls.hits) for ls in verdict.labels if verdict.bucket(ls) != "pass"}
        details = {
            d["label"]: {c["context"] for c in d.get("contexts", ())} for d in result.get("details", ())
        }
        assert details == flagged, name
        assert (result["label"] == "normal") == (not flagged), name
