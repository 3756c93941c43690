"""The official Baidu Node.js SDK (npm ``baidu-aip-sdk`` 4.16.16, ``AipContentCensorClient``) against a live simulator.

``tests/node/baidu.js`` builds the client and repoints it with the SDK's own hook,
``HttpClient.setRequestInterceptor``, which swaps ``https://aip.baidubce.com`` for the simulator's origin;
everything else (token fetch, query string, body encoding, BCE fallback) is the SDK's own.

What this SDK sends (node_modules/baidu-aip-sdk/src):

- token: ``POST /oauth/2.0/token`` with a form body (``auth/devAuth.js``), once, when the client is built;
- API calls: ``POST <path>?aipSdk=node&access_token=<token>?aipSdk=node``: ``client/requestInfo.js`` appends
  ``?aipSdk=node&access_token=`` to the path and ``getUrl()`` appends ``?aipSdk=node`` again, so the
  ``access_token`` value on the wire ends in ``?aipSdk=node``. The SDK has sent this since its first release
  and the real service answers it normally;
- header ``Host: aip.baidubce.com`` whatever the URL; a form body encoded by ``request``/``qs``; ``faceAudit``
  URLs ``encodeURIComponent``-ed before the form encoding (so double-encoded);
- no retry on 110 / 111; a token answer with ``error`` switches the client to BCE signing.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import requests

from simulator.content import make_image
from tests.helpers import BAIDU_API_KEY, BAIDU_SECRET, FACE_AUDIT, TOKEN
from tests.live import LiveServer
from tests.nodesdk import run

pytestmark = pytest.mark.sdk

GIF = "/rest/2.0/antiporn/v1/detect_gif"
SPAM = "/rest/2.0/antispam/v2/spam"
ACCESS_TOKEN = re.compile(r"24\.[0-9a-f]{32}\.2592000\.\d+\.282335-10000001")
BCE_AUTH = re.compile(
    r"bce-auth-v1/(?P<ak>[^/]+)/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/1800/content-type;host;x-bce-date/[0-9a-f]{64}"
)


def node(live: LiveServer, method: str, *args: Any, **extra: Any) -> dict[str, Any]:
    """Build a client, call ``method(*args)`` and return the driver's answer."""
    return run("baidu.js", {"base": live.url, "method": method, "args": list(args), **extra})


def result_of(answer: dict[str, Any]) -> Any:
    assert answer["ok"] is True, answer
    return answer["result"]


def journal(live: LiveServer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{live.url}/__modsim/journal", params={"vendor": "baidu"}, timeout=10
    ).json()["entries"]
    return entries


def admin(live: LiveServer, method: str, path: str, body: Any = None) -> Any:
    resp = requests.request(method, f"{live.url}/__modsim{path}", json=body, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp.json()


def headers_of(entry: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in entry["exchange"]["request_headers"]}


def b64(scenario: str | None, fmt: str = "png", **kw: Any) -> str:
    return base64.b64encode(make_image(scenario, fmt, **kw)).decode()


def sdk_call(live: LiveServer, path: str, operation: str) -> tuple[str, dict[str, Any]]:
    """The one token fetch and the one API call the SDK made; checks the SDK's query string."""
    token, call = journal(live)
    assert (token["operation"], token["status"], token["path"]) == ("token", 200, TOKEN)
    assert (call["operation"], call["path"], call["method"]) == (operation, path, "POST")
    [issued] = [t["token"] for t in admin(live, "GET", "/vendors/baidu/tokens")["tokens"]]
    assert call["query"] == f"aipSdk=node&access_token={issued}?aipSdk=node"
    assert headers_of(call)["host"] == "aip.baidubce.com"
    assert headers_of(call)["content-type"] == "application/x-www-form-urlencoded"
    return issued, call


def without_log_id(body: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(body.get("log_id"), int), body
    return {k: v for k, v in body.items() if k != "log_id"}


# ----------------------------------------------------------------------------------------------- token


def test_token_is_fetched_once_by_a_form_post_and_kept(live: LiveServer) -> None:
    auth = result_of(node(live, "token"))
    assert auth["auth_type"] == "dev_or_bce"
    assert auth["status"] == "ready"
    assert auth["expires_in"] == 2592000
    assert auth["has_brain_all_scope"] is True
    assert ACCESS_TOKEN.fullmatch(auth["access_token"]), auth
    assert [t["token"] for t in admin(live, "GET", "/vendors/baidu/tokens")["tokens"]] == [
        auth["access_token"]
    ]

    [entry] = journal(live)
    assert (entry["method"], entry["path"], entry["query"]) == ("POST", TOKEN, "")
    assert (entry["status"], entry["auth"]["outcome"], entry["credential"]) == (200, "ok", BAIDU_API_KEY)
    assert headers_of(entry)["content-type"] == "application/x-www-form-urlencoded"
    assert entry["exchange"]["request_body"]["text"] == (
        f"grant_type=client_credentials&client_id={BAIDU_API_KEY}&client_secret={BAIDU_SECRET}"
    )


def test_token_401_switches_the_sdk_to_bce_signing_and_the_call_gets_14(live: LiveServer) -> None:
    answer = node(live, "antiSpam", "你好", secret_key="not-the-secret")
    assert result_of(answer) == {"error_code": 14, "error_msg": "IAM Certification failed"}
    assert answer["auth"]["auth_type"] == "bce"

    token, call = journal(live)
    assert (token["operation"], token["status"], token["vendor_code"]) == ("token", 401, "invalid_client")
    assert token["exchange"]["response_body"]["text"] == (
        '{"error_description":"Client authentication failed","error":"invalid_client"}\n'
    )
    assert (call["operation"], call["vendor_code"], call["query"]) == ("spam", 14, "aipSdk=node")
    headers = headers_of(call)
    match = BCE_AUTH.fullmatch(headers["authorization"])
    assert match and match["ak"] == BAIDU_API_KEY, headers
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["x-bce-date"])
    assert "bce-auth-v1" in call["auth"]["reason"]


def test_token_endpoint_html_502_rejects_the_call_without_reaching_the_api(live: LiveServer) -> None:
    admin(
        live,
        "POST",
        "/faults",
        {
            "rules": [
                {
                    "vendor": "baidu",
                    "operation": "token",
                    "action": {"type": "http", "status": 502, "body": "gateway"},
                }
            ]
        },
    )
    answer = node(live, "antiSpam", "你好")
    assert answer["ok"] is False, answer
    assert answer["error"]["errorType"] == "ERRTYPE_ILLEGAL_RESPONSE"
    assert "502 Bad Gateway" in answer["error"]["error"]
    assert answer["auth"]["status"] == "error"

    # the call waits on the constructor's fetch and rejects with it (a later call on the same client would
    # fetch again: baseClient.js doRequest); no API request goes out
    [entry] = journal(live)
    assert (entry["operation"], entry["status"], entry["fault"]["rule"]) == ("token", 502, "f1")


# ------------------------------------------------------------------------------------------ faceAudit


def test_face_audit_base64_images_are_joined_by_commas(live: LiveServer) -> None:
    images = [b64("clean_avatar", size=(64, 64)), b64("porn", size=(64, 64))]
    body = result_of(node(live, "faceAudit", images, "base64"))
    assert list(body) == ["log_id", "result"]
    assert [(r["res_code"], r["res_msg"]) for r in body["result"]] == [(0, []), (1, [301])]

    _, call = sdk_call(live, FACE_AUDIT, "face_audit")
    assert (call["status"], call["vendor_code"]) == (200, 0)
    assert call["scenario"] == ["clean_avatar", "porn"]
    # no configId argument: the SDK leaves the field out (the default config answers)
    text = call["exchange"]["request_body"]["text"]
    assert text.startswith("images=" + images[0][:40].replace("+", "%2B").replace("/", "%2F"))
    assert "configId" not in text


def test_face_audit_base64_that_is_not_base64_is_216201(live: LiveServer) -> None:
    body = result_of(node(live, "faceAudit", ["!!!!"], "base64"))
    assert without_log_id(body) == {"error_code": 216201, "error_msg": "image format error"}
    _, call = sdk_call(live, FACE_AUDIT, "face_audit")
    assert call["vendor_code"] == 216201


def test_face_audit_urls_are_double_encoded_and_decoded_once(live: LiveServer) -> None:
    urls = [
        "https://img.example.invalid/a.jpg#modsim=porn",
        "https://cdn.example.invalid/b%20c.png#modsim=clean_avatar",
    ]
    body = result_of(node(live, "faceAudit", urls, "url", "1"))
    assert [(r["res_code"], r["res_msg"]) for r in body["result"]] == [(1, [301]), (0, [])]

    _, call = sdk_call(live, FACE_AUDIT, "face_audit")
    assert call["vendor_code"] == 0
    assert (call["scenario"], call["scenario_source"]) == (["porn", "clean_avatar"], ["marker", "marker"])
    assert call["exchange"]["request_body"]["text"] == (
        "configId=1&imgUrls="
        "https%253A%252F%252Fimg.example.invalid%252Fa.jpg%2523modsim%253Dporn"
        "%2C"
        "https%253A%252F%252Fcdn.example.invalid%252Fb%252520c.png%2523modsim%253Dclean_avatar"
    )


def test_face_audit_url_resolving_nowhere_is_282804(live: LiveServer) -> None:
    body = result_of(node(live, "faceAudit", ["https://img.test.invalid/avatar/1.jpg"], "url"))
    assert without_log_id(body) == {"error_code": 282804, "error_msg": "download image error"}
    _, call = sdk_call(live, FACE_AUDIT, "face_audit")
    assert call["vendor_code"] == 282804


def test_face_audit_110_is_handed_to_the_caller_without_a_refresh(live: LiveServer) -> None:
    image = b64(None, size=(64, 64))
    # unlike the Python, PHP and C++ SDKs, this one neither refetches the token nor retries on 110: it
    # judges expiry by its own clock only (auth/devAuthToken.js isExpired)
    admin(
        live,
        "POST",
        "/faults",
        {"rules": [{"vendor": "baidu", "operation": "face_audit", "action": {"type": "error", "code": 110}}]},
    )
    body = result_of(node(live, "faceAudit", [image], "base64"))
    assert body == {"error_code": 110, "error_msg": "Access token invalid or no longer valid"}
    assert [
        (e["operation"], e["vendor_code"] if e["operation"] != "token" else e["status"])
        for e in journal(live)
    ] == [
        ("token", 200),
        ("face_audit", 110),
    ]


# ---------------------------------------------------------------------------------------- antiPornGif


def test_anti_porn_gif_reports_the_worst_frame(live: LiveServer) -> None:
    body = result_of(node(live, "antiPornGif", b64("gif_mixed", "gif", frames=4)))
    assert body["frame_count"] == 4
    assert (body["porn_probability"], body["conclusion"], body["confidence_coefficient"]) == (
        0.91,
        "色情",
        "确定",
    )
    assert body["result"] == [
        {"class_name": "色情", "probability": 0.91},
        {"class_name": "性感", "probability": 0.06},
        {"class_name": "正常", "probability": 0.03},
    ]
    _, call = sdk_call(live, GIF, "detect_gif")
    assert call["vendor_code"] == 0
    assert call["exchange"]["request_body"]["text"].startswith("image=R0lGOD")


def test_anti_porn_gif_of_a_png_is_282205(live: LiveServer) -> None:
    body = result_of(node(live, "antiPornGif", b64("porn", "png", size=(64, 64))))
    assert without_log_id(body) == {"error_code": 282205, "error_msg": "image fromat must gif"}
    _, call = sdk_call(live, GIF, "detect_gif")
    assert call["vendor_code"] == 282205


# ------------------------------------------------------------------------------------------- antiSpam


def test_anti_spam_rejects_violent_text(live: LiveServer) -> None:
    body = result_of(node(live, "antiSpam", "出售枪支弹药，自制炸药教程"))
    assert list(body) == ["result", "log_id"]
    result = body["result"]
    assert result["spam"] == 1
    assert result["reject"][0]["label"] == 1
    assert set(result["reject"][0]["hit"]) == {"枪支弹药", "自制炸药"}
    _, call = sdk_call(live, SPAM, "spam")
    assert call["vendor_code"] == 0
    assert call["exchange"]["request_body"]["text"] == (
        "content=%E5%87%BA%E5%94%AE%E6%9E%AA%E6%94%AF%E5%BC%B9%E8%8D%AF%EF%BC%8C"
        "%E8%87%AA%E5%88%B6%E7%82%B8%E8%8D%AF%E6%95%99%E7%A8%8B"
    )


def test_anti_spam_empty_content_is_216101(live: LiveServer) -> None:
    body = result_of(node(live, "antiSpam", ""))
    assert without_log_id(body) == {"error_code": 216101, "error_msg": "not enough param"}
    _, call = sdk_call(live, SPAM, "spam")
    assert call["vendor_code"] == 216101
    assert call["exchange"]["request_body"]["text"] == "content="
