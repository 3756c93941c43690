"""baidu-aip 2.2.18.0 (Python) methods the simulator serves, beyond what test_sdk.py and test_censor.py drive:
the token fetch itself, and antiPornGif / antiSpam success and error answers with what the simulator saw.

The SDK is unchanged but for its private URL attributes (``sdk``). What it sends (aip/base.py,
aip/imagecensor.py): the token by ``GET`` with the credentials in the query; API calls as ``POST
<url>?access_token=..&aipSdk=python&aipVersion=2_2_18`` with a urlencoded form; on 110 one token refresh and
one retry whose query carries only ``access_token``; a token answer without ``brain_all_scope`` (an OAuth
error included) switches it to BCE signing.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import aip
import pytest
import requests

from simulator.content import make_image
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET, TOKEN
from tests.live import LiveServer

pytestmark = pytest.mark.sdk

GIF = "/rest/2.0/antiporn/v1/detect_gif"
SPAM = "/rest/2.0/antispam/v2/spam"
SDK_QUERY = {"aipSdk": ["python"], "aipVersion": ["2_2_18"]}
BCE_AUTH = re.compile(
    r"bce-auth-v1/(?P<ak>[^/]+)/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/1800/host;x-bce-date/[0-9a-f]{64}"
)
UTCNOW_WARNING = "ignore:datetime.datetime.utcnow:DeprecationWarning"


def sdk(live: LiveServer, api_key: str = BAIDU_API_KEY, secret_key: str = BAIDU_SECRET) -> aip.AipImageCensor:
    client = aip.AipImageCensor(BAIDU_APP_ID, api_key, secret_key)
    client._AipBase__accessTokenUrl = live.url + TOKEN
    client._AipImageCensor__antiPornGifUrl = live.url + GIF
    client._AipImageCensor__antiSpamUrl = live.url + SPAM
    return client


def journal(live: LiveServer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{live.url}/__modsim/journal", params={"vendor": "baidu"}, timeout=10
    ).json()["entries"]
    return entries


def admin(live: LiveServer, method: str, path: str, body: Any = None) -> Any:
    resp = requests.request(method, f"{live.url}/__modsim{path}", json=body, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp.json()


def query_of(entry: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(entry["query"], keep_blank_values=True)


def headers_of(entry: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in entry["exchange"]["request_headers"]}


def without_log_id(body: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(body.get("log_id"), int), body
    return {k: v for k, v in body.items() if k != "log_id"}


# ----------------------------------------------------------------------------------------------- token


def test_token_is_a_get_with_the_credentials_in_the_query_and_is_cached(live: LiveServer) -> None:
    client = sdk(live)
    assert client.antiSpam("你好")["result"]["spam"] == 0
    assert client.antiSpam("今天天气不错")["result"]["spam"] == 0

    [issued] = [t["token"] for t in admin(live, "GET", "/vendors/baidu/tokens")["tokens"]]
    auth = client._authObj
    assert auth["access_token"] == issued
    assert auth["expires_in"] == 2592000
    assert "brain_all_scope" in auth["scope"].split(" ")
    assert client._isCloudUser is False

    token, first, second = journal(live)
    assert (token["method"], token["path"], token["status"]) == ("GET", TOKEN, 200)
    assert query_of(token) == {
        "grant_type": ["client_credentials"],
        "client_id": [BAIDU_API_KEY],
        "client_secret": [BAIDU_SECRET],
    }
    assert token["exchange"]["request_body"]["text"] == ""
    assert headers_of(token)["accept"] == "*/*"
    # both calls reuse the one token
    for call in (first, second):
        assert (call["operation"], call["vendor_code"]) == ("spam", 0)
        assert query_of(call) == {"access_token": [issued], **SDK_QUERY}


@pytest.mark.filterwarnings(UTCNOW_WARNING)
def test_unknown_api_key_401_sends_the_sdk_into_bce_signing_and_14(live: LiveServer) -> None:
    client = sdk(live, api_key="no-such-key", secret_key="whatever")
    body = client.antiPornGif(make_image(None, "gif", frames=2))
    assert body == {"error_code": 14, "error_msg": "IAM Certification failed"}
    assert {k: v for k, v in client._authObj.items() if k != "time"} == {
        "error_description": "unknown client id",
        "error": "invalid_client",
    }
    assert client._isCloudUser is True

    token, call = journal(live)
    assert (token["operation"], token["status"], token["vendor_code"]) == ("token", 401, "invalid_client")
    assert token["exchange"]["response_body"]["text"] == (
        '{"error_description":"unknown client id","error":"invalid_client"}\n'
    )
    assert (call["operation"], call["vendor_code"]) == ("detect_gif", 14)
    assert query_of(call) == SDK_QUERY  # no access_token
    headers = headers_of(call)
    match = BCE_AUTH.fullmatch(headers["authorization"])
    assert match and match["ak"] == "no-such-key", headers
    assert headers["host"] == "127.0.0.1"  # the SDK signs and sends the host without its port


# ---------------------------------------------------------------------------------------- antiPornGif


def test_anti_porn_gif_answer_and_what_the_simulator_saw(live: LiveServer) -> None:
    body = sdk(live).antiPornGif(make_image("gif_mixed", "gif", frames=5))
    assert list(body) == ["log_id", "frame_count", "porn_probability", "conclusion", "confidence_coefficient",
                          "result_num", "result"]  # fmt: skip
    assert (body["frame_count"], body["porn_probability"], body["conclusion"]) == (5, 0.91, "色情")
    assert body["result_num"] == 3

    token, call = journal(live)
    assert (token["operation"], token["method"]) == ("token", "GET")
    assert (call["operation"], call["method"], call["path"], call["vendor_code"]) == (
        "detect_gif",
        "POST",
        GIF,
        0,
    )
    assert (call["scenario"], call["scenario_source"]) == (["gif_mixed"], ["marker"])
    assert set(query_of(call)) == {"access_token", "aipSdk", "aipVersion"}
    assert headers_of(call)["content-type"] == "application/x-www-form-urlencoded"
    assert call["exchange"]["request_body"]["text"].startswith("image=R0lGOD")


def test_anti_porn_gif_over_50_frames_is_282204(live: LiveServer) -> None:
    body = sdk(live).antiPornGif(make_image(None, "gif", size=(32, 32), frames=51))
    assert without_log_id(body) == {"error_code": 282204, "error_msg": "image frames limit error"}
    assert [(e["operation"], e["vendor_code"]) for e in journal(live)][-1] == ("detect_gif", 282204)


# ------------------------------------------------------------------------------------------- antiSpam


def test_anti_spam_answer_and_what_the_simulator_saw(live: LiveServer) -> None:
    body = sdk(live).antiSpam("你这个傻逼，想要就加微信")
    assert list(body) == ["result", "log_id"]
    result = body["result"]
    assert result["spam"] == 1
    assert [(r["label"], r["hit"]) for r in result["reject"]] == [(4, ["加微信"]), (5, ["傻逼"])]
    assert sorted(p["label"] for p in result["pass"] + result["review"] + result["reject"]) == [1, 2, 3, 4, 5]

    _, call = journal(live)
    assert (call["operation"], call["path"], call["vendor_code"]) == ("spam", SPAM, 0)
    assert call["exchange"]["request_body"]["text"] == (
        "content=%E4%BD%A0%E8%BF%99%E4%B8%AA%E5%82%BB%E9%80%BC%EF%BC%8C"
        "%E6%83%B3%E8%A6%81%E5%B0%B1%E5%8A%A0%E5%BE%AE%E4%BF%A1"
    )


@pytest.mark.parametrize(
    ("content", "code", "msg"),
    [("", 216101, "not enough param"), ("字" * 6667, 216103, "param too long")],
    ids=["empty", "over-20000-bytes"],
)
def test_anti_spam_errors(live: LiveServer, content: str, code: int, msg: str) -> None:
    body = sdk(live).antiSpam(content)
    assert without_log_id(body) == {"error_code": code, "error_msg": msg}
    assert [(e["operation"], e["vendor_code"]) for e in journal(live)] == [("token", None), ("spam", code)]


def test_anti_spam_revoked_token_110_is_refreshed_and_retried_once(live: LiveServer) -> None:
    client = sdk(live)
    assert client.antiSpam("你好")["result"]["spam"] == 0
    old = client._authObj["access_token"]
    assert admin(live, "POST", "/vendors/baidu/tokens/revoke", {"token": old}) == {"revoked": 1}

    assert client.antiSpam("你好")["result"]["spam"] == 0
    new = client._authObj["access_token"]
    assert new != old
    entries = journal(live)
    assert [
        (e["operation"], e["vendor_code"] if e["operation"] == "spam" else e["status"]) for e in entries
    ] == [
        ("token", 200),
        ("spam", 0),
        ("spam", 110),
        ("token", 200),
        ("spam", 0),
    ]
    assert query_of(entries[2]) == {"access_token": [old], **SDK_QUERY}
    assert query_of(entries[4]) == {"access_token": [new]}  # the retry drops aipSdk / aipVersion
