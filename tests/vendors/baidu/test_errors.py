"""Every Baidu error code, triggered the way a user would: by input, by state, or by a fault rule.

The expected texts are written out here on purpose (not imported from ``errors.MESSAGES``), so a typo
in the simulator's table fails a test. Vendor typos ("exsits", "fromat") are the real texts.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.vendors.baidu import errors as baidu_errors
from simulator.vendors.baidu import models
from tests.helpers import (
    BAIDU_API_KEY,
    BAIDU_APP_ID,
    BAIDU_SECRET,
    FACE_AUDIT,
    TOKEN,
    baidu_token,
    face_audit,
    image_b64,
)

# The vendor's exact texts, typos included.
EXPECTED_MSG: dict[int, str] = {
    1: "Unknown error",
    2: "Service temporarily unavailable",
    3: "Unsupported openapi method",
    4: "Open api request limit reached",
    6: "No permission to access data",
    13: "Get service token failed",
    14: "IAM Certification failed",
    15: "app not exsits or create failed",
    17: "Open api daily request limit reached",
    18: "Open api qps request limit reached",
    19: "Open api total request limit reached",
    100: "Invalid parameter",
    110: "Access token invalid or no longer valid",
    111: "Access token expired",
    216015: "module closed",
    216100: "invalid param",
    216101: "not enough param",
    216102: "service not support",
    216103: "param too long",
    216110: "appid not exist",
    216111: "invalid userid",
    216200: "empty image",
    216201: "image format error",
    216202: "image size error",
    216300: "db error",
    216400: "backend error",
    216401: "internal error",
    216500: "unknown error",
    282000: "logic internal error",
    282001: "logic backend error",
    282002: "input encoding error",
    282004: "params error",
    282100: "image transcode error",
    282202: "antiporn detect timeout",
    282203: "image frame size error",
    282204: "image frames limit error",
    282205: "image fromat must gif",
    282800: "configId param is error or null",
    282801: "image and imgUrl are empty",
    282802: "either image and imgUrl has value",
    282804: "download image error",
    282805: "internal request failed",
    282806: "image length or width error",
    282872: "too many img urls max num is 30",
    282873: "some img urls invalid",
}

FAULT_CODES = [
    1,
    2,
    4,
    13,
    15,
    17,
    18,
    19,
    216015,
    216100,
    216101,
    216102,
    216103,
    216110,
    216111,
    216300,
    216400,
    216401,
    216500,
    282000,
    282001,
    282004,
    282100,
    282202,
    282203,
    282204,
    282205,
    282805,
]
INPUT_CODES = {216200, 216201, 216202, 282806, 282801, 282802, 282800, 282804, 282873, 282872, 282002}
STATE_CODES = {3, 100, 110, 111, 6, 14}

Result = tuple[int, dict[str, Any]]


def assert_baidu_error(status: int, body: dict[str, Any], code: int) -> None:
    """HTTP 200, exact code and text; gateway codes (< 1000) without log_id, business ones with it first."""
    assert status == 200, body
    assert body["error_code"] == code, body
    assert body["error_msg"] == EXPECTED_MSG[code], body
    if code < 1000:
        assert list(body) == ["error_code", "error_msg"], body
    else:
        assert list(body) == ["log_id", "error_code", "error_msg"], body
        assert isinstance(body["log_id"], int) and body["log_id"] > 0


async def last_journal(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/__modsim/journal", params={"vendor": "baidu", "limit": "1"})
    assert resp.status == 200
    [entry] = (await resp.json())["entries"]
    return entry


def test_every_code_is_covered() -> None:
    # only the *codes* of the simulator's table are read here; the texts above stay literal
    assert set(EXPECTED_MSG) == set(baidu_errors.MESSAGES)
    assert set(FAULT_CODES) | INPUT_CODES | STATE_CODES == set(EXPECTED_MSG)
    assert not (set(FAULT_CODES) & INPUT_CODES) and not (set(FAULT_CODES) & STATE_CODES)


# --- by input ----------------------------------------------------------------------------------------

URL_OK = "https://img.example.com/ok.jpg#modsim=clean_avatar"
URL_UNRESOLVED = "https://img.example.com/nowhere.jpg"


async def _post(client: TestClient, token: str, data: dict[str, str]) -> Result:
    return await face_audit(client, token, data)


async def _empty_trailing_item(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": image_b64("clean_avatar") + ","})


async def _empty_leading_item(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": "," + image_b64("clean_avatar")})


async def _blank_item(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": " "})


async def _bad_base64(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": "!!!!not*base64"})


async def _gif(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": image_b64("clean_avatar", fmt="gif")})


async def _not_an_image(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": base64.b64encode(b"hello").decode()})


async def _post_b64_of_length(client: TestClient, token: str, n: int) -> Result:
    # a stream: aiohttp warns about multi-MB raw bytes bodies
    body = b"configId=1&images=" + b"A" * n
    resp = await client.post(
        FACE_AUDIT,
        params={"access_token": token},
        data=io.BytesIO(body),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))},
    )
    return resp.status, await resp.json(content_type=None)


async def _over_4mb_b64(client: TestClient, token: str) -> Result:
    return await _post_b64_of_length(client, token, 4 * 1024 * 1024 + 4)


async def _side_5000(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": image_b64(size=(5000, 20))})


async def _tiny_10x10(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": image_b64(size=(10, 10))})


async def _neither(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1"})


async def _both(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "images": image_b64(), "imgUrls": URL_OK})


async def _unknown_config(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "999", "images": image_b64("clean_avatar")})


async def _one_bad_url(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "imgUrls": URL_UNRESOLVED})


async def _some_bad_urls(client: TestClient, token: str) -> Result:
    return await _post(client, token, {"configId": "1", "imgUrls": f"{URL_OK},{URL_UNRESOLVED}"})


async def _31_urls(client: TestClient, token: str) -> Result:
    urls = ",".join(f"https://img.example.com/{i}.jpg#modsim=clean_avatar" for i in range(31))
    return await _post(client, token, {"configId": "1", "imgUrls": urls})


async def _invalid_utf8_body(client: TestClient, token: str) -> Result:
    resp = await client.post(
        FACE_AUDIT,
        params={"access_token": token},
        data=b"configId=1&images=%ff%fe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return resp.status, await resp.json(content_type=None)


INPUT_CASES = [
    pytest.param(216200, _empty_trailing_item, id="216200-trailing-empty-item"),
    pytest.param(216200, _empty_leading_item, id="216200-leading-empty-item"),
    pytest.param(216200, _blank_item, id="216200-blank-item"),
    pytest.param(216201, _bad_base64, id="216201-bad-base64"),
    pytest.param(216201, _gif, id="216201-gif"),
    pytest.param(216201, _not_an_image, id="216201-not-an-image"),
    pytest.param(216202, _over_4mb_b64, id="216202-over-4mb-base64"),
    pytest.param(216202, _side_5000, id="216202-5000x20"),
    pytest.param(282806, _tiny_10x10, id="282806-10x10"),
    pytest.param(282801, _neither, id="282801-neither"),
    pytest.param(282802, _both, id="282802-both"),
    pytest.param(282800, _unknown_config, id="282800-unknown-config"),
    pytest.param(282804, _one_bad_url, id="282804-one-unresolvable-url"),
    pytest.param(282873, _some_bad_urls, id="282873-one-of-two-urls"),
    pytest.param(282872, _31_urls, id="282872-31-urls"),
    pytest.param(282002, _invalid_utf8_body, id="282002-invalid-utf8-body"),
]


@pytest.mark.parametrize(("code", "send"), INPUT_CASES)
async def test_input_error(
    client: TestClient, code: int, send: Callable[[TestClient, str], Awaitable[Result]]
) -> None:
    token = await baidu_token(client)
    status, body = await send(client, token)
    assert_baidu_error(status, body, code)
    entry = await last_journal(client)
    assert entry["vendor_code"] == code
    assert entry["auth"]["outcome"] == "ok"


async def test_input_encoding_error_in_query(client: TestClient) -> None:
    resp = await client.post(FACE_AUDIT + "?access_token=x&aipSdk=%ff%fe", data={"images": image_b64()})
    assert_baidu_error(resp.status, await resp.json(content_type=None), 282002)


async def test_exactly_4mb_base64_is_not_a_size_error(client: TestClient) -> None:
    # the limit is "more than 4 MB of base64"; 4 MB of "A" passes it and then fails as no image
    token = await baidu_token(client)
    status, body = await _post_b64_of_length(client, token, 4 * 1024 * 1024)
    assert_baidu_error(status, body, 216201)


async def test_empty_config_id_uses_default_config(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await face_audit(client, token, {"configId": "", "images": image_b64("clean_avatar")})
    assert status == 200 and "error_code" not in body, body


# --- by state: routing and authentication --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/rest/2.0/nope", id="3-GET"),
        pytest.param("POST", "/rest/2.0/solution/v1/not_an_api", id="3-POST"),
        pytest.param("PUT", "/rest/2.0/image-classify/v1/x", id="3-PUT"),
        pytest.param("GET", FACE_AUDIT, id="3-GET-face_audit"),
    ],
)
async def test_3_unsupported_openapi_method(client: TestClient, method: str, path: str) -> None:
    token = await baidu_token(client)
    resp = await client.request(method, path, params={"access_token": token})
    assert_baidu_error(resp.status, await resp.json(content_type=None), 3)


async def test_100_missing_access_token(client: TestClient) -> None:
    status, body = await face_audit(client, None, {"configId": "1", "images": image_b64()})
    assert_baidu_error(status, body, 100)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "no access_token" in entry["auth"]["reason"]


async def test_110_unknown_token(client: TestClient) -> None:
    fake = "24.0123456789abcdef0123456789abcdef.2592000.1700000000.282335-10000001"
    status, body = await face_audit(client, fake, {"configId": "1", "images": image_b64()})
    assert_baidu_error(status, body, 110)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "never issued" in entry["auth"]["reason"]


async def test_110_revoked_token(client: TestClient) -> None:
    token = await baidu_token(client)
    resp = await client.post("/__modsim/vendors/baidu/tokens/revoke", json={"token": token})
    assert resp.status == 200
    assert await resp.json() == {"revoked": 1}
    status, body = await face_audit(client, token, {"configId": "1", "images": image_b64()})
    assert_baidu_error(status, body, 110)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "revoked" in entry["auth"]["reason"]
    assert entry["credential"] == BAIDU_API_KEY


async def test_token_listing_is_oldest_first_and_takes_a_limit(client: TestClient) -> None:
    issued = [await baidu_token(client) for _ in range(3)]
    resp = await client.get("/__modsim/vendors/baidu/tokens")
    listed = (await resp.json())["tokens"]
    assert [t["token"] for t in listed] == issued
    assert set(listed[0]) == {"token", "api_key", "app_id", "issued", "expires", "revoked"}
    resp = await client.get("/__modsim/vendors/baidu/tokens", params={"limit": "2"})
    assert [t["token"] for t in (await resp.json())["tokens"]] == issued[:2]
    for bad in ("-1", "x", "²"):
        resp = await client.get("/__modsim/vendors/baidu/tokens", params={"limit": bad})
        assert resp.status == 400, bad


async def test_revoking_a_key_revokes_its_tokens_only(client: TestClient) -> None:
    mine = [await baidu_token(client) for _ in range(2)]
    other = await baidu_token(client, "demo-baidu-cloud-key", "demo-baidu-cloud-secret")
    resp = await client.post("/__modsim/vendors/baidu/tokens/revoke", json={"api_key": BAIDU_API_KEY})
    assert await resp.json() == {"revoked": 2}
    # a token named twice (by value and by its key) counts once
    resp = await client.post(
        "/__modsim/vendors/baidu/tokens/revoke", json={"api_key": BAIDU_API_KEY, "token": mine[0]}
    )
    assert await resp.json() == {"revoked": 2}
    resp = await client.get("/__modsim/vendors/baidu/tokens")
    revoked = {t["token"]: t["revoked"] for t in (await resp.json())["tokens"]}
    assert revoked == {mine[0]: True, mine[1]: True, other: False}


async def test_111_expired_token(client: TestClient) -> None:
    token = await baidu_token(client)
    resp = await client.post("/__modsim/clock", json={"advance_s": 2592001})
    assert resp.status == 200
    status, body = await face_audit(client, token, {"configId": "1", "images": image_b64()})
    assert_baidu_error(status, body, 111)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "expired" in entry["auth"]["reason"]


async def test_token_still_valid_one_second_before_expiry(client: TestClient) -> None:
    token = await baidu_token(client)
    resp = await client.post("/__modsim/clock", json={"freeze": True})
    assert resp.status == 200
    expiry = int(token.split(".")[3])
    resp = await client.post("/__modsim/clock", json={"set": expiry - 1})
    assert resp.status == 200
    status, body = await face_audit(client, token, {"configId": "1", "images": image_b64()})
    assert status == 200 and "error_code" not in body, body


async def test_6_no_permission(client: TestClient) -> None:
    token = await baidu_token(client, "demo-baidu-noperm-key", "demo-baidu-noperm-secret")
    status, body = await face_audit(client, token, {"configId": "1", "images": image_b64()})
    assert_baidu_error(status, body, 6)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert entry["credential"] == "demo-baidu-noperm-key"


async def test_14_bce_signature(client: TestClient) -> None:
    resp = await client.post(
        FACE_AUDIT,
        params={"aipSdk": "python", "aipVersion": "2_2_18"},
        data={"configId": "1", "images": image_b64()},
        headers={
            "authorization": "bce-auth-v1/AK/2026-11-21T22:15:37Z/1800/host;x-bce-date/" + "ab" * 32,
            "x-bce-date": "2026-11-21T22:15:37Z",
        },
    )
    assert_baidu_error(resp.status, await resp.json(content_type=None), 14)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "rejected"
    assert "bce-auth-v1" in entry["auth"]["reason"]


# --- by fault rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", FAULT_CODES, ids=[str(c) for c in FAULT_CODES])
async def test_fault_error(client: TestClient, code: int) -> None:
    rule = {"vendor": "baidu", "operation": "face_audit", "action": {"type": "error", "code": code}}
    resp = await client.post("/__modsim/faults", json={"rules": [rule]})
    assert resp.status == 200, await resp.text()
    token = await baidu_token(client)
    status, body = await face_audit(client, token, {"configId": "1", "images": image_b64("clean_avatar")})
    assert_baidu_error(status, body, code)
    resp = await client.get("/__modsim/faults")
    [listed] = (await resp.json())["rules"]
    assert listed["hits"] == 1
    entry = await last_journal(client)
    assert entry["fault"]["rule"] == listed["id"]
    assert entry["vendor_code"] == code


async def test_282000_unexpected_exception(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(models, "render_result", boom)
    token = await baidu_token(client)
    resp = await client.post(
        FACE_AUDIT,
        params={"access_token": token},
        data={"configId": "1", "images": image_b64("clean_avatar")},
    )
    assert resp.status == 200
    body = await resp.json(content_type=None)
    assert list(body) == ["log_id", "error_code", "error_msg"]
    assert isinstance(body["log_id"], int)
    assert body["error_code"] == 282000
    assert body["error_msg"] == "logic internal error"
    entry = await last_journal(client)
    assert entry["vendor_code"] == 282000
    assert "RuntimeError" in entry["traceback"]


# --- OAuth /oauth/2.0/token ----------------------------------------------------------------------------


async def _token_call(client: TestClient, method: str, params: dict[str, str]) -> tuple[int, str, Any]:
    if method == "GET":
        resp = await client.get(TOKEN, params=params)
    else:
        resp = await client.post(TOKEN, data=params)
    return resp.status, await resp.text(), resp.headers


GOOD = {"grant_type": "client_credentials", "client_id": BAIDU_API_KEY, "client_secret": BAIDU_SECRET}


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["get-query", "post-form"])
@pytest.mark.parametrize(
    ("params", "status", "raw"),
    [
        pytest.param(
            {**GOOD, "client_id": "nobody"},
            401,
            '{"error_description":"unknown client id","error":"invalid_client"}\n',
            id="unknown-client",
        ),
        pytest.param(
            {**GOOD, "client_secret": "wrong"},
            401,
            '{"error_description":"Client authentication failed","error":"invalid_client"}\n',
            id="wrong-secret",
        ),
        pytest.param(
            {"grant_type": "client_credentials", "client_id": BAIDU_API_KEY},
            400,
            '{"error_description":"The request is missing a required parameter","error":"invalid_request"}\n',
            id="missing-secret",
        ),
        pytest.param(
            {"client_id": BAIDU_API_KEY, "client_secret": BAIDU_SECRET},
            400,
            '{"error_description":"The request is missing a required parameter","error":"invalid_request"}\n',
            id="missing-grant-type",
        ),
        pytest.param(
            {**GOOD, "grant_type": "password"},
            400,
            '{"error_description":"The authorization grant type is not supported",'
            '"error":"unsupported_grant_type"}\n',
            id="grant-type-password",
        ),
    ],
)
async def test_oauth_error(
    client: TestClient, method: str, params: dict[str, str], status: int, raw: str
) -> None:
    got_status, text, headers = await _token_call(client, method, params)
    assert got_status == status
    assert text == raw
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    entry = await last_journal(client)
    assert entry["operation"] == "token"
    assert entry["auth"]["outcome"] == "rejected"


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["get-query", "post-form"])
async def test_oauth_success_raw_body(client: TestClient, method: str) -> None:
    texts = []
    for _ in range(4):  # several tokens, so some session_key (base64) holds a "/"
        status, text, headers = await _token_call(client, method, GOOD)
        assert status == 200
        assert headers["Cache-Control"] == "no-store"
        texts.append(text)
        check_token_body(text)
    assert any("\\/" in t for t in texts)


def check_token_body(text: str) -> None:
    assert not text.endswith("\n")
    assert text.isascii()  # PHP json_encode: non-ASCII as \uXXXX
    assert "\\u6743\\u9650" in text  # "权限" in the scope, escaped
    body = json.loads(text)
    # PHP json_encode writes "/" as "\/"; no bare "/" anywhere
    assert re.search(r"(?<!\\)/", text) is None
    assert text.count("\\/") == sum(str(v).count("/") for v in body.values())
    assert list(body) == [
        "refresh_token",
        "expires_in",
        "session_key",
        "access_token",
        "scope",
        "session_secret",
    ]
    assert "权限" in body["scope"] and "brain_all_scope" in body["scope"].split(" ")
    assert body["expires_in"] == 2592000
    access = re.fullmatch(r"24\.[0-9a-f]{32}\.2592000\.(\d+)\.282335-" + BAIDU_APP_ID, body["access_token"])
    refresh = re.fullmatch(
        r"25\.[0-9a-f]{32}\.315360000\.(\d+)\.282335-" + BAIDU_APP_ID, body["refresh_token"]
    )
    assert access and refresh, body
    assert int(access[1]) - 2592000 == int(refresh[1]) - 315360000  # both: issue time + TTL
    assert re.fullmatch(r"[0-9a-f]{32}", body["session_secret"])
    assert re.fullmatch(r"9mzd[A-Za-z0-9+/=]+", body["session_key"])


SERVER_ERROR = (
    '{"error_description":"The authorization server encountered an unexpected condition",'
    '"error":"server_error"}\n'
)


@pytest.mark.parametrize(
    ("code", "status", "raw"),
    [
        pytest.param(
            "invalid_client",
            401,
            '{"error_description":"unknown client id","error":"invalid_client"}\n',
            id="invalid_client",
        ),
        pytest.param(
            "invalid_request",
            400,
            '{"error_description":"The request is missing a required parameter","error":"invalid_request"}\n',
            id="invalid_request",
        ),
        pytest.param(
            "unsupported_grant_type",
            400,
            '{"error_description":"The authorization grant type is not supported",'
            '"error":"unsupported_grant_type"}\n',
            id="unsupported_grant_type",
        ),
        pytest.param("server_error", 500, SERVER_ERROR, id="server_error"),
        pytest.param("invalid_grant", 500, SERVER_ERROR, id="other-name-is-server_error"),
    ],
)
async def test_oauth_fault_error(client: TestClient, code: str, status: int, raw: str) -> None:
    rule = {"vendor": "baidu", "operation": "token", "action": {"type": "error", "code": code}}
    resp = await client.post("/__modsim/faults", json={"rules": [rule]})
    assert resp.status == 200, await resp.text()
    got_status, text, _ = await _token_call(client, "GET", GOOD)
    assert (got_status, text) == (status, raw)
    resp = await client.get("/__modsim/faults")
    assert (await resp.json())["rules"][0]["hits"] == 1
