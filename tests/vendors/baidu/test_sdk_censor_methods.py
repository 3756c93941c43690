"""baidu-aip 2.2.18.0 (Python): the rest of ``AipImageCensor`` against a live simulator, unchanged but for
its private URL attributes. Each method: a success and at least one error, with what went over the wire.

What the SDK sends (aip/imagecensor.py, aip/base.py), all ``POST <url>?access_token=..&aipSdk=python&aipVersion=2_2_18``:

- ``antiPorn(bytes)`` / ``antiTerror(bytes)``: form ``image=<base64>``;
- ``imageCensorUserDefined(bytes | str)``: form ``image=<base64>``, or ``imgUrl=<url>`` (a str starting with
  ``http``, sent raw: not quoted, unlike faceAudit);
- ``textCensorUserDefined(str)``: form ``text=``;
- ``imageCensorComb(image, scenes="antiporn", options=None)``: ``Content-Type: application/json``, body
  ``{"scenes": [...], "image" | "imgUrl": ..., **options}`` (a scenes string is split on commas by the SDK);
- ``report(feedback)`` (on ``AipBase``, URL ``_AipBase__reportUrl``): requests form-encodes
  ``{"feedback": [dict, ...]}`` as ``feedback=<key>&feedback=<key>...``: the items' keys, not the items.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import aip
import pytest
import requests

from simulator.content import make_image
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET, TOKEN
from tests.live import LiveServer

pytestmark = pytest.mark.sdk

PATHS = {
    "antiPorn": "/rest/2.0/antiporn/v1/detect",
    "antiTerror": "/rest/2.0/antiterror/v1/detect",
    "imageCensorUserDefined": "/rest/2.0/solution/v1/img_censor/v2/user_defined",
    "textCensorUserDefined": "/rest/2.0/solution/v1/text_censor/v2/user_defined",
    "imageCensorComb": "/api/v1/solution/direct/img_censor",
}
REPORT = "/rpc/2.0/feedback/v1/report"
SDK_QUERY = {"aipSdk": ["python"], "aipVersion": ["2_2_18"]}


def sdk(live: LiveServer) -> aip.AipImageCensor:
    client = aip.AipImageCensor(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET)
    client._AipBase__accessTokenUrl = live.url + TOKEN
    client._AipBase__reportUrl = live.url + REPORT
    for method, path in PATHS.items():
        setattr(client, f"_AipImageCensor__{method[0].lower()}{method[1:]}Url", live.url + path)
    return client


def journal(live: LiveServer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{live.url}/__modsim/journal", params={"vendor": "baidu"}, timeout=10
    ).json()["entries"]
    return entries


def last_call(live: LiveServer, operation: str, path: str) -> dict[str, Any]:
    """The SDK's last API call: its operation, path, method, query (the SDK's own) and HTTP 200."""
    call = journal(live)[-1]
    assert (call["operation"], call["path"], call["method"], call["status"]) == (operation, path, "POST", 200)
    query = parse_qs(call["query"], keep_blank_values=True)
    assert set(query) == {"access_token", *SDK_QUERY}
    assert {k: query[k] for k in SDK_QUERY} == SDK_QUERY
    return call


def headers_of(entry: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in entry["exchange"]["request_headers"]}


def error_of(body: dict[str, Any]) -> tuple[int, str]:
    assert list(body) == ["log_id", "error_code", "error_msg"], body
    assert isinstance(body["log_id"], int)
    return body["error_code"], body["error_msg"]


# ------------------------------------------------------------------------------------------- antiPorn


def test_anti_porn(live: LiveServer) -> None:
    client = sdk(live)
    body = client.antiPorn(make_image("porn", "jpeg"))
    assert (body["conclusion"], body["confidence_coefficient"], body["result_num"]) == ("色情", "确定", 16)
    assert {f["class_name"]: f["probability"] for f in body["result_fine"]}["一般色情"] == 0.962
    call = last_call(live, "antiporn", PATHS["antiPorn"])
    assert (call["vendor_code"], call["scenario"], call["scenario_source"]) == (0, ["porn"], ["marker"])
    assert call["exchange"]["request_body"]["text"].startswith("image=%2F9j%2F")

    body = client.antiPorn(make_image(None, "gif"))
    assert error_of(body) == (216201, "image format error")
    assert last_call(live, "antiporn", PATHS["antiPorn"])["vendor_code"] == 216201


# ----------------------------------------------------------------------------------------- antiTerror


def test_anti_terror(live: LiveServer) -> None:
    client = sdk(live)
    body = client.antiTerror(make_image("bloody", "png"))
    assert list(body) == ["result", "log_id", "result_fine", "result_coarse"]
    assert body["result"] == 0.91
    assert {f["name"]: f["score"] for f in body["result_fine"]}["血腥"] == 0.91
    assert last_call(live, "antiterror", PATHS["antiTerror"])["vendor_code"] == 0

    assert error_of(client.antiTerror(b"")) == (216200, "empty image")
    assert last_call(live, "antiterror", PATHS["antiTerror"])["vendor_code"] == 216200


# ----------------------------------------------------------------------------- imageCensorUserDefined


def test_image_censor_user_defined_bytes_and_url(live: LiveServer) -> None:
    client = sdk(live)
    path = PATHS["imageCensorUserDefined"]
    body = client.imageCensorUserDefined(make_image("porn", "jpeg"))
    assert list(body) == ["conclusion", "log_id", "data", "isHitMd5", "conclusionType"]
    assert (body["conclusion"], body["conclusionType"]) == ("不合规", 2)
    assert body["data"] == [
        {
            "msg": "存在一般色情不合规",
            "conclusion": "不合规",
            "probability": 0.962,
            "subType": 0,
            "conclusionType": 2,
            "type": 1,
        }
    ]
    call = last_call(live, "img_censor_user_defined", path)
    assert call["exchange"]["request_body"]["text"].startswith("image=%2F9j%2F")

    body = client.imageCensorUserDefined("https://img.example.invalid/a.jpg#modsim=clean_avatar")
    assert (body["conclusion"], body["conclusionType"], body["isHitMd5"]) == ("合规", 1, False)
    call = last_call(live, "img_censor_user_defined", path)
    # the URL goes out raw (form-encoded once by requests), not quoted as faceAudit's
    assert call["exchange"]["request_body"]["text"] == (
        "imgUrl=https%3A%2F%2Fimg.example.invalid%2Fa.jpg%23modsim%3Dclean_avatar"
    )
    assert call["scenario_source"] == ["marker"]


def test_image_censor_user_defined_errors(live: LiveServer) -> None:
    client = sdk(live)
    path = PATHS["imageCensorUserDefined"]
    body = client.imageCensorUserDefined(make_image(None, "png", size=(100, 100)))
    assert error_of(body) == (282806, "image length or width error")
    assert last_call(live, "img_censor_user_defined", path)["vendor_code"] == 282806
    body = client.imageCensorUserDefined("https://img.example.invalid/no-rule-here.jpg")
    assert error_of(body) == (282804, "download image error")
    assert last_call(live, "img_censor_user_defined", path)["vendor_code"] == 282804


# ------------------------------------------------------------------------------ textCensorUserDefined


def test_text_censor_user_defined(live: LiveServer) -> None:
    client = sdk(live)
    path = PATHS["textCensorUserDefined"]
    body = client.textCensorUserDefined("兼职刷单，日赚千元，加微信")
    assert (body["conclusion"], body["conclusionType"]) == ("不合规", 2)
    [item] = body["data"]
    assert (item["type"], item["subType"], item["msg"]) == (12, 4, "存在恶意推广不合规")
    assert item["hits"] == [
        {
            "probability": 0.99,
            "datasetName": "百度默认文本反作弊库",
            "words": ["加微信", "兼职刷单", "日赚千元"],
        }
    ]
    call = last_call(live, "text_censor_user_defined", path)
    assert headers_of(call)["content-type"] == "application/x-www-form-urlencoded"
    assert call["exchange"]["request_body"]["text"].startswith("text=%E5%85%BC")

    assert client.textCensorUserDefined("你好")["conclusion"] == "合规"

    assert error_of(client.textCensorUserDefined("")) == (216101, "not enough param")
    assert last_call(live, "text_censor_user_defined", path)["vendor_code"] == 216101
    assert error_of(client.textCensorUserDefined("字" * 6667)) == (216103, "param too long")


# ------------------------------------------------------------------------------------ imageCensorComb


def test_image_censor_comb(live: LiveServer) -> None:
    client = sdk(live)
    path = PATHS["imageCensorComb"]
    body = client.imageCensorComb(make_image("qrcode_ad", "png"), ["antiporn", "watermark", "ocr"])
    assert list(body) == ["result", "log_id"]
    assert list(body["result"]) == ["antiporn", "watermark", "ocr"]
    assert body["result"]["watermark"]["result"] == [{"probability": 0.95, "type": "QR code"}]
    assert body["result"]["ocr"]["words_result"] == [{"words": "扫码领红包"}]
    call = last_call(live, "img_censor_comb", path)
    assert headers_of(call)["content-type"] == "application/json"
    assert call["exchange"]["request_body"]["text"].startswith(
        '{"scenes": ["antiporn", "watermark", "ocr"], "image": "'
    )

    # a URL and the SDK's default scenes ("antiporn"), options merged into the body
    body = client.imageCensorComb("https://img.example.invalid/a.jpg#modsim=porn", options={"sceneConf": {}})
    assert list(body["result"]) == ["antiporn"]
    assert body["result"]["antiporn"]["conclusion"] == "色情"

    body = client.imageCensorComb(make_image(None, "png"), "antiporn,nope")
    assert error_of(body) == (216100, "invalid param")
    assert last_call(live, "img_censor_comb", path)["vendor_code"] == 216100
    body = client.imageCensorComb("https://img.example.invalid/no-rule-here.jpg", "terror")
    assert error_of(body) == (282804, "download image error")


# --------------------------------------------------------------------------------------------- report


def test_report(live: LiveServer) -> None:
    client = sdk(live)
    feedback = [
        {
            "api_url": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect",
            "log_id": 1,
            "level": 1,
            "correct": 1,
        }
    ]
    body = client.report(feedback)
    # the SDK's form carries the item's keys only: one item that is not an object
    assert list(body) == ["log_id", "result"]
    assert body["result"] == [{"error_code": 282004, "error_msg": "params error"}]
    call = journal(live)[-1]
    assert (call["operation"], call["path"], call["status"], call["vendor_code"]) == (
        "report",
        REPORT,
        200,
        0,
    )
    assert (
        call["exchange"]["request_body"]["text"]
        == "feedback=api_url&feedback=log_id&feedback=level&feedback=correct"
    )

    body = client.report([])
    assert error_of(body) == (216101, "not enough param")
    assert journal(live)[-1]["vendor_code"] == 216101
