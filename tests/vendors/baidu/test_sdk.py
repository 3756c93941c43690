"""The official Baidu SDK (baidu-aip 2.2.18.0, ``aip.AipImageCensor.faceAudit``) against a live simulator.

Nothing of the SDK is changed but its two private URL attributes (see ``sdk_client``); everything
else (token fetch and caching, the 110 refresh, BCE fallback, URL double-encoding) is the SDK's own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aip
import pytest
import requests
import yaml

from simulator.content import make_image
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET, FACE_AUDIT, TOKEN
from tests.live import LiveServer

pytestmark = pytest.mark.sdk

POLICIES = Path(__file__).resolve().parents[3] / "fixtures" / "baidu" / "policies.yaml"
# BCE-mode signing calls datetime.utcnow() (deprecated since 3.12); scoped to the tests that sign.
UTCNOW_WARNING = "ignore:datetime.datetime.utcnow:DeprecationWarning"


def sdk_client(
    live: LiveServer, api_key: str = BAIDU_API_KEY, secret_key: str = BAIDU_SECRET
) -> aip.AipImageCensor:
    """An unmodified SDK client whose two endpoint URLs point at the live simulator."""
    client = aip.AipImageCensor(BAIDU_APP_ID, api_key, secret_key)
    client._AipBase__accessTokenUrl = live.url + TOKEN
    client._AipImageCensor__faceAuditUrl = live.url + FACE_AUDIT
    return client


def admin(live: LiveServer, method: str, path: str, body: Any = None) -> Any:
    resp = requests.request(method, f"{live.url}/__modsim{path}", json=body, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp.json()


def journal(live: LiveServer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{live.url}/__modsim/journal", params={"vendor": "baidu"}, timeout=10
    ).json()["entries"]
    return entries


def query_of(entry: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(entry["query"], keep_blank_values=True)


def res(body: dict[str, Any]) -> list[tuple[int, list[int]]]:
    assert "error_code" not in body, body
    return [(item["res_code"], item["res_msg"]) for item in body["result"]]


def without_log_ids(obj: Any) -> Any:
    """Sub-service blocks (ocr, face, terror, ...) carry their own per-call log_id; drop them all."""
    if isinstance(obj, dict):
        return {k: without_log_ids(v) for k, v in obj.items() if k != "log_id"}
    if isinstance(obj, list):
        return [without_log_ids(v) for v in obj]
    return obj


def config_services(config_id: str) -> list[str]:
    services: list[str] = yaml.safe_load(POLICIES.read_text("utf-8"))["vendors"]["baidu"]["configs"][
        config_id
    ]["services"]
    return services


def test_bytes_plain_image_passes_with_config_1_data(live: LiveServer) -> None:
    client = sdk_client(live)
    body = client.faceAudit(make_image(None, "png"))
    assert list(body) == ["log_id", "result"]
    assert isinstance(body["log_id"], int)
    [item] = body["result"]
    assert item["res_code"] == 0
    assert item["res_msg"] == []
    # the SDK's default configId is empty: the default config "1" answers
    assert list(item["data"]) == config_services("1")
    assert query_of(journal(live)[-1])["aipSdk"] == ["python"]


def test_several_images_in_one_call_keep_their_order(live: LiveServer) -> None:
    client = sdk_client(live)
    images = [make_image(name, "png") for name in ("clean_avatar", "porn", "phone_number")]
    body = client.faceAudit(images)
    assert res(body) == [(0, []), (1, [301]), (1, [101])]
    assert journal(live)[-1]["scenario"] == ["clean_avatar", "porn", "phone_number"]


def test_star_face_fails_config_1_and_passes_config_2(live: LiveServer) -> None:
    client = sdk_client(live)
    image = make_image("star_face", "jpeg")
    [item] = client.faceAudit(image)["result"]
    assert item["res_code"] == 1
    assert 204 in item["res_msg"]
    assert item["data"]["public"]["result"][0]["stars"][0]["name"] == "范冰冰"

    [lenient] = client.faceAudit(image, configId=2)["result"]
    assert (lenient["res_code"], lenient["res_msg"]) == (0, [])
    assert list(lenient["data"]) == config_services("2")


def test_urls_are_decoded_once_after_the_sdk_double_encoding(live: LiveServer) -> None:
    client = sdk_client(live)
    body = client.faceAudit(
        [
            "http://img.example.invalid/a.jpg#modsim=porn",
            "https://cdn.example.invalid/b%20c.png#modsim=clean_avatar",
        ]
    )
    assert res(body) == [(1, [301]), (0, [])]
    entry = journal(live)[-1]
    assert entry["scenario"] == ["porn", "clean_avatar"]
    assert entry["scenario_source"] == ["marker", "marker"]

    # the URL the caller gave ("%20" kept) is what rules match: one decode too many would give "b c.png"
    admin(
        live,
        "PATCH",
        "/rules",
        {"rules": [{"match": {"url": "https://cdn.example.invalid/b%20c.png"}, "scenario": "star_face"}]},
    )
    assert res(client.faceAudit(["https://cdn.example.invalid/b%20c.png"])) == [(1, [204])]


def test_url_resolving_nowhere_is_282804_until_a_rule_gives_it_a_scenario(live: LiveServer) -> None:
    client = sdk_client(live)
    url = "https://img.test.invalid/avatar/1.jpg"
    body = client.faceAudit([url])
    assert isinstance(body.pop("log_id"), int)
    assert body == {"error_code": 282804, "error_msg": "download image error"}

    admin(
        live,
        "PATCH",
        "/rules",
        {"rules": [{"match": {"url": "https://img.test.invalid/*"}, "scenario": "qrcode_ad"}]},
    )
    body = client.faceAudit([url])
    [item] = body["result"]
    assert (item["res_code"], item["res_msg"]) == (1, [201])  # a QR code, no face
    assert item["data"]["ocr"]["words_result"] == [{"words": "扫码领红包"}]
    entry = journal(live)[-1]
    assert entry["scenario"] == ["qrcode_ad"]
    assert entry["scenario_source"][0].startswith("rule:")


def test_revoked_token_is_110_then_sdk_refreshes_and_retries_once(live: LiveServer) -> None:
    client = sdk_client(live)
    image = make_image(None, "png")
    first = client.faceAudit(image)
    assert res(first) == [(0, [])]
    old_token = client._authObj["access_token"]
    assert admin(live, "POST", "/vendors/baidu/tokens/revoke", {"token": old_token}) == {"revoked": 1}

    second = client.faceAudit(image)
    assert res(second) == [(0, [])]
    new_token = client._authObj["access_token"]
    assert new_token != old_token

    entries = journal(live)
    steps = [
        (e["operation"], e["vendor_code"] if e["operation"] == "face_audit" else e["status"]) for e in entries
    ]
    assert steps == [
        ("token", 200),
        ("face_audit", 0),
        ("face_audit", 110),
        ("token", 200),
        ("face_audit", 0),
    ]
    sdk_query = {"aipSdk": ["python"], "aipVersion": ["2_2_18"]}
    assert query_of(entries[1]) == {"access_token": [old_token], **sdk_query}
    assert query_of(entries[2]) == {"access_token": [old_token], **sdk_query}
    # the retry rebuilds the params from the new token only
    assert query_of(entries[4]) == {"access_token": [new_token]}


def test_expired_token_111_is_returned_not_retried(live: LiveServer) -> None:
    client = sdk_client(live)
    image = make_image(None, "png")
    assert res(client.faceAudit(image)) == [(0, [])]
    admin(live, "POST", "/clock", {"advance_s": 2592001})

    # the SDK judges expiry by its own wall clock, so it still trusts its cached token
    assert client.faceAudit(image) == {"error_code": 111, "error_msg": "Access token expired"}
    steps = [(e["operation"], e["vendor_code"]) for e in journal(live)]
    assert [op for op, _ in steps] == ["token", "face_audit", "face_audit"]
    assert steps[-1] == ("face_audit", 111)


def _spy_posts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the headers/params of every ``requests.post`` (the SDK's client is the module)."""
    seen: list[dict[str, Any]] = []
    real_post = requests.post

    def spy(url: str, *args: Any, **kwargs: Any) -> requests.Response:
        seen.append(
            {"url": url, "headers": dict(kwargs.get("headers") or {}), "params": kwargs.get("params")}
        )
        return real_post(url, *args, **kwargs)

    monkeypatch.setattr(requests, "post", spy)
    return seen


BCE_AUTH = re.compile(
    r"bce-auth-v1/(?P<ak>[^/]+)/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/1800/host;x-bce-date/[0-9a-f]{64}"
)


@pytest.mark.filterwarnings(UTCNOW_WARNING)
def test_cloud_user_token_without_brain_all_scope_goes_bce_and_gets_14(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = _spy_posts(monkeypatch)
    client = sdk_client(live, "demo-baidu-cloud-key", "demo-baidu-cloud-secret")
    body = client.faceAudit(make_image(None, "png"))
    assert body == {"error_code": 14, "error_msg": "IAM Certification failed"}
    assert client._isCloudUser is True

    [post] = [p for p in posts if p["url"].endswith(FACE_AUDIT)]
    match = BCE_AUTH.fullmatch(post["headers"]["authorization"])
    assert match and match["ak"] == "demo-baidu-cloud-key", post["headers"]
    assert post["headers"]["Host"] == "127.0.0.1"

    token, audit = journal(live)
    assert (token["operation"], token["status"]) == ("token", 200)
    assert (audit["operation"], audit["vendor_code"]) == ("face_audit", 14)
    assert "access_token" not in query_of(audit)
    assert "bce-auth-v1" in audit["auth"]["reason"]


@pytest.mark.filterwarnings(UTCNOW_WARNING)
def test_wrong_secret_401_token_drops_sdk_into_bce_mode_and_14(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = _spy_posts(monkeypatch)
    client = sdk_client(live, secret_key="not-the-secret")
    body = client.faceAudit(make_image(None, "png"))
    assert body == {"error_code": 14, "error_msg": "IAM Certification failed"}
    assert client._authObj["error"] == "invalid_client"
    assert client._isCloudUser is True

    [post] = [p for p in posts if p["url"].endswith(FACE_AUDIT)]
    match = BCE_AUTH.fullmatch(post["headers"]["authorization"])
    assert match and match["ak"] == BAIDU_API_KEY, post["headers"]

    token, audit = journal(live)
    assert (token["operation"], token["status"], token["vendor_code"]) == ("token", 401, "invalid_client")
    assert (audit["operation"], audit["vendor_code"]) == ("face_audit", 14)
    assert "access_token" not in query_of(audit)


def test_same_image_same_result_across_calls_and_resets(live: LiveServer) -> None:
    image = make_image(None, "png")
    client = sdk_client(live)
    first, second = client.faceAudit(image), client.faceAudit(image)
    assert first["log_id"] != second["log_id"]
    assert without_log_ids(first["result"]) == without_log_ids(second["result"])

    live.reset()
    again = sdk_client(live).faceAudit(image)
    assert without_log_ids(again["result"]) == without_log_ids(first["result"])
