"""Baidu detect_gif and antispam v2: wire shapes, limits and codes, and the official SDK's antiPornGif/antiSpam."""

from __future__ import annotations

from dataclasses import replace

import aip
import pytest
from aiohttp.test_utils import TestClient

from simulator.content import make_image
from simulator.keys import SIM
from simulator.vendors.baidu.policy import settings_of
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET, TOKEN, baidu_token, image_b64
from tests.live import LiveServer

GIF = "/rest/2.0/antiporn/v1/detect_gif"
SPAM = "/rest/2.0/antispam/v2/spam"


async def post(client: TestClient, path: str, token: str, data: dict[str, str]) -> dict:  # type: ignore[type-arg]
    resp = await client.post(path, params={"access_token": token}, data=data)
    assert resp.status == 200
    body: dict = await resp.json()  # type: ignore[type-arg]
    return body


async def test_gif_reports_the_worst_frame(client: TestClient) -> None:
    token = await baidu_token(client)
    body = await post(client, GIF, token, {"image": image_b64("gif_mixed", "gif", frames=4)})
    assert list(body) == ["log_id", "frame_count", "porn_probability", "conclusion", "confidence_coefficient",
                          "result_num", "result"]  # fmt: skip
    assert body["frame_count"] == 4
    assert body["porn_probability"] == 0.91
    assert body["conclusion"] == "色情" and body["confidence_coefficient"] == "确定"
    assert body["result"] == [
        {"class_name": "色情", "probability": 0.91},
        {"class_name": "性感", "probability": 0.06},
        {"class_name": "正常", "probability": 0.03},
    ]


async def test_gif_clean_default(client: TestClient) -> None:
    token = await baidu_token(client)
    body = await post(client, GIF, token, {"image": image_b64(None, "gif", frames=3)})
    assert body["frame_count"] == 3 and body["conclusion"] == "正常"


@pytest.mark.parametrize(
    ("image", "code", "msg"),
    [
        (lambda: image_b64("porn", "png"), 282205, "image fromat must gif"),
        (lambda: image_b64("porn", "gif", frames=51), 282204, "image frames limit error"),
        (lambda: "", 216200, "empty image"),
        (lambda: "!!notbase64", 216201, "image format error"),
    ],
    ids=["not-gif", "51-frames", "empty", "bad-base64"],
)
async def test_gif_errors(client: TestClient, image, code: int, msg: str) -> None:  # type: ignore[no-untyped-def]
    token = await baidu_token(client)
    body = await post(client, GIF, token, {"image": image()})
    assert (body["error_code"], body["error_msg"]) == (code, msg)
    assert isinstance(body["log_id"], int)


async def test_gif_frame_size_limit_is_configurable(client: TestClient) -> None:
    sim = client.app[SIM]
    bs = settings_of(sim)
    sim.state.vendor_state("baidu")["settings"] = replace(
        bs, limits=replace(bs.limits, gif_max_frame_bytes=100)
    )
    token = await baidu_token(client)
    body = await post(client, GIF, token, {"image": image_b64(None, "gif", frames=2)})
    assert (body["error_code"], body["error_msg"]) == (282203, "image frame size error")


async def test_spam_clean_text_passes_every_label(client: TestClient) -> None:
    token = await baidu_token(client)
    body = await post(client, SPAM, token, {"content": "今天天气真好，我们去公园散步吧"})
    assert list(body) == ["result", "log_id"]
    result = body["result"]
    assert list(result) == ["spam", "reject", "review", "pass"]
    assert result["spam"] == 0 and result["reject"] == [] and result["review"] == []
    assert [p["label"] for p in result["pass"]] == [1, 2, 3, 4, 5]
    assert all(p["score"] < 0.3 and p["hit"] == [] for p in result["pass"])


async def test_spam_reject_and_review(client: TestClient) -> None:
    token = await baidu_token(client)
    body = await post(client, SPAM, token, {"content": "你这个傻逼，想要就加微信"})
    result = body["result"]
    assert result["spam"] == 1
    assert [(r["label"], r["hit"]) for r in result["reject"]] == [(4, ["加微信"]), (5, ["傻逼"])]
    body = await post(client, SPAM, token, {"content": "有事打我电话 13812345678"})
    result = body["result"]
    assert result["spam"] == 2
    assert [(r["label"], r["score"], r["hit"]) for r in result["review"]] == [(4, 0.6, ["13812345678"])]
    assert len(result["pass"]) == 4


async def test_spam_text_marker_and_rules(client: TestClient) -> None:
    token = await baidu_token(client)
    scenario = {"name": "forced_politics", "text_hits": [{"label": 3, "words": ["某词"], "score": 0.95}]}
    assert (await client.post("/__modsim/scenarios", json=scenario)).status == 201
    body = await post(client, SPAM, token, {"content": "普通的话 [[modsim=forced_politics]]"})
    assert body["result"]["spam"] == 1
    assert body["result"]["reject"] == [{"label": 3, "score": 0.95, "hit": ["某词"]}]


@pytest.mark.parametrize(
    ("content", "code", "msg"),
    [("", 216101, "not enough param"), ("字" * 6667, 216103, "param too long")],
    ids=["empty", "over-20000-bytes"],
)
async def test_spam_errors(client: TestClient, content: str, code: int, msg: str) -> None:
    token = await baidu_token(client)
    body = await post(client, SPAM, token, {"content": content})
    assert (body["error_code"], body["error_msg"]) == (code, msg)


async def test_spam_same_text_same_scores(client: TestClient) -> None:
    token = await baidu_token(client)
    a = await post(client, SPAM, token, {"content": "随便说点什么"})
    b = await post(client, SPAM, token, {"content": "随便说点什么"})
    assert a["result"] == b["result"]


def sdk(live: LiveServer) -> aip.AipImageCensor:
    client = aip.AipImageCensor(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET)
    client._AipBase__accessTokenUrl = live.url + TOKEN
    client._AipImageCensor__antiPornGifUrl = live.url + GIF
    client._AipImageCensor__antiSpamUrl = live.url + SPAM
    return client


@pytest.mark.sdk
def test_sdk_anti_porn_gif(live: LiveServer) -> None:
    body = sdk(live).antiPornGif(make_image("gif_mixed", "gif", frames=5))
    assert body["frame_count"] == 5 and body["conclusion"] == "色情"
    png = sdk(live).antiPornGif(make_image(None, "png"))
    assert (png["error_code"], png["error_msg"]) == (282205, "image fromat must gif")


@pytest.mark.sdk
def test_sdk_anti_spam(live: LiveServer) -> None:
    client = sdk(live)
    assert client.antiSpam("你好")["result"]["spam"] == 0
    body = client.antiSpam("出售枪支弹药，自制炸药教程")
    assert body["result"]["spam"] == 1
    assert body["result"]["reject"][0]["label"] == 1
    assert set(body["result"]["reject"][0]["hit"]) == {"枪支弹药", "自制炸药"}
