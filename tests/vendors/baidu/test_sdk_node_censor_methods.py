"""The official Baidu Node.js SDK (npm ``baidu-aip-sdk`` 4.16.16) on the methods ``test_sdk_censor_methods.py``
drives with the Python SDK: antiPorn, antiTerror, imageCensorUserDefined, textCensorUserDefined,
imageCensorComb and report (``src/AipContentCensor.js``). Form methods go out as the other form calls
do (``test_sdk_node.py``); imageCensorComb and report as JSON (``HttpClientExt``, ``Content-Type:
application/json``), with the same ``access_token=<token>?aipSdk=node`` query.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests

from simulator.content import make_image
from tests.live import LiveServer
from tests.nodesdk import run

pytestmark = pytest.mark.sdk


def node(live: LiveServer, method: str, *args: Any) -> Any:
    answer = run("baidu.js", {"base": live.url, "method": method, "args": list(args)})
    assert answer["ok"] is True, answer
    return answer["result"]


def last_call(live: LiveServer) -> dict[str, Any]:
    entries = requests.get(f"{live.url}/__modsim/journal", params={"vendor": "baidu"}, timeout=10).json()[
        "entries"
    ]
    call: dict[str, Any] = entries[-1]
    assert call["status"] == 200 and call["query"].endswith("?aipSdk=node"), call
    return call


def b64(scenario: str | None, fmt: str = "png", **kw: Any) -> str:
    return base64.b64encode(make_image(scenario, fmt, **kw)).decode()


def test_anti_porn_and_anti_terror(live: LiveServer) -> None:
    body = node(live, "antiPorn", b64("porn", "jpeg"))
    assert body["conclusion"] == "色情"
    assert last_call(live)["operation"] == "antiporn"
    body = node(live, "antiTerror", "")
    assert (body["error_code"], body["error_msg"]) == (216200, "empty image")
    assert last_call(live)["operation"] == "antiterror"


def test_image_censor_user_defined(live: LiveServer) -> None:
    body = node(live, "imageCensorUserDefined", "https://img.example.invalid/a.jpg#modsim=bloody", "url")
    assert (body["conclusion"], [(d["type"], d["subType"]) for d in body["data"]]) == ("不合规", [(2, 1)])
    call = last_call(live)
    assert call["operation"] == "img_censor_user_defined"
    assert call["exchange"]["request_body"]["text"] == (
        "imgUrl=https%3A%2F%2Fimg.example.invalid%2Fa.jpg%23modsim%3Dbloody"
    )
    body = node(live, "imageCensorUserDefined", b64(None, "png", size=(100, 100)), "base64")
    assert (body["error_code"], body["error_msg"]) == (282806, "image length or width error")


def test_text_censor_user_defined(live: LiveServer) -> None:
    body = node(live, "textCensorUserDefined", "聊点别的 [[modsim=text_abuse]]")
    assert [(d["type"], d["subType"], d["msg"]) for d in body["data"]] == [(12, 5, "存在低俗辱骂不合规")]
    body = node(live, "textCensorUserDefined", "")
    assert (body["error_code"], body["error_msg"]) == (216101, "not enough param")


def test_image_censor_comb_and_report_are_json(live: LiveServer) -> None:
    url = "https://img.example.invalid/a.jpg#modsim=politician_face"
    body = node(live, "imageCensorComb", url, "url", ["politician", "antiporn"], {})
    assert list(body["result"]) == ["politician", "antiporn"]
    assert body["result"]["politician"]["include_politician"] == "是"
    call = last_call(live)
    assert call["operation"] == "img_censor_comb"
    headers = {k.lower(): v for k, v in call["exchange"]["request_headers"]}
    assert headers["content-type"] == "application/json"
    sent = json.loads(call["exchange"]["request_body"]["text"])
    assert sent == {"imgUrl": url, "scenes": ["politician", "antiporn"], "sceneConf": {}}
    body = node(live, "imageCensorComb", b64(None), "base64", [], {})
    assert (body["error_code"], body["error_msg"]) == (216101, "not enough param")

    feedback = [
        {"api_url": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect", "log_id": 1, "correct": 1},
        {"api_url": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect", "correct": 0},
    ]
    body = node(live, "report", feedback)
    assert body["result"] == [
        {"error_code": 0, "error_msg": ""},
        {"error_code": 282004, "error_msg": "params error"},
    ]
    assert last_call(live)["operation"] == "report"
    body = node(live, "report", [])
    assert (body["error_code"], body["error_msg"]) == (216101, "not enough param")
