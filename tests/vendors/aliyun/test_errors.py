"""Every documented Aliyun code, triggered the way a user would: by input, by state, or by a fault rule.

The expected texts are written out here (not imported), so a typo in the simulator's tables fails.
POP gateway errors: HTTP status, ``Code`` and exact ``Message``; Green codes: HTTP 200 (411: 403),
``code`` and exact ``msg``, at the top level or per task.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.scenarios.loader import ScenarioRule
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.state import Credential
from tests.vendors.aliyun.helpers import AK, ASYNC, RESULTS, SCAN, SECRET, green, nonce, rfc2616, scan_body

POP: dict[str, tuple[int, str]] = {
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "ContentMD5NotMatched": (400, "Specified content md5 is not matched with your request body."),
    "InvalidSignatureMethod": (400, "Specified signature method is not valid."),
    "InvalidApi.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidAction.NotFound": (400, "Specified api is not found, please check your url and method."),
    "InvalidProduct.NotFound": (404, "Cannot find product according to your specified domain."),
    "Throttling": (400, "Request was denied due to request throttling."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
    # the RPC API (Green 2022-03-02)
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "MissingAction": (400, "Action is mandatory for this action."),
    "MissingVersion": (400, "Version is mandatory for this action."),
    "MissingAccessKeyId": (400, "AccessKeyId is mandatory for this action."),
    "MissingSignature": (400, "Signature is mandatory for this action."),
    "MissingSignatureMethod": (400, "SignatureMethod is mandatory for this action."),
    "MissingSignatureVersion": (400, "SignatureVersion is mandatory for this action."),
    "MissingSignatureNonce": (400, "SignatureNonce is mandatory for this action."),
    "MissingTimestamp": (400, "Timestamp is mandatory for this action."),
}
GREEN: dict[int, str] = {
    280: "PROCESSING",
    400: "BAD_REQUEST",
    401: "NOT_ALLOWED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    408: "No permissions.",
    411: "You don't have permission.",
    480: "DOWNLOAD_FAILED",
    500: "GENERAL_ERROR",
    503: "ServiceUnavailable",
    580: "DB_FAILED",
    581: "TIMEOUT",
    585: "CACHE_FAILED",
    586: "ALGO_FAILED",
    587: "MQ_FAILED",
    588: "EXCEED_QUOTA",
    589: "TOO_LARGE",
    590: "BAD_FORMAT",
    591: "CONNECTION_POOL_FULL",
    592: "DOWNLOAD_TIMEOUT",
    594: "EXPIRED",
    595: "CATCH_FRAME_FAILED",
    596: "PERMISSION_DENY",
}
OK_URL = "https://img.example.invalid/a.png#modsim=clean_avatar"


def assert_pop(
    result: tuple[int, Any, dict[str, str]], code: str, message: str | None = None
) -> dict[str, Any]:
    status, body, headers = result
    want_status, want_message = POP.get(code, (400, ""))
    assert status == want_status, body
    assert isinstance(body, dict), body
    assert list(body) == ["RequestId", "HostId", "Code", "Message", "Recommend"]
    assert body["Code"] == code
    assert body["Message"] == (message if message is not None else want_message)
    assert body["Recommend"].startswith(f"https://api.aliyun.com/troubleshoot?q={code}&product=Green")
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    return body


def assert_green(result: tuple[int, Any, dict[str, str]], code: int) -> dict[str, Any]:
    status, body, _ = result
    assert status == (403 if code == 411 else 200), body
    assert body["code"] == code, body
    assert body["msg"] == GREEN[code]
    assert "data" not in body
    return body


def last_auth(sim: Sim) -> str:
    reason: str = sim.state.journal.query(vendor="aliyun")[-1]["auth"]["reason"]
    return reason


# ----------------------------------------------------------------------------------------------
# POP gateway


async def test_unknown_access_key_is_404(client: TestClient, sim: Sim) -> None:
    assert_pop(await green(client, SCAN, scan_body(OK_URL), ak="nobody"), "InvalidAccessKeyId.NotFound")
    reason = last_auth(sim)
    assert "string to sign 'POST\\napplication/json\\n" in reason
    assert "expected signature (secret unknown)" in reason


async def test_inactive_access_key(client: TestClient, sim: Sim) -> None:
    sim.state.credentials.put(Credential("aliyun", "off-ak", "off-secret", {"inactive": True}))
    r = await green(client, SCAN, scan_body(OK_URL), ak="off-ak", secret="off-secret")
    assert_pop(r, "InvalidAccessKeyId.Inactive")


async def test_wrong_secret_message_carries_the_servers_string_to_sign(client: TestClient, sim: Sim) -> None:
    r = await green(client, SCAN, scan_body(OK_URL), secret="wrong")
    body = r[1]
    prefix = "Specified signature is not matched with our calculation. server string to sign is:"
    assert body["Message"].startswith(prefix)
    sts = body["Message"][len(prefix) :]
    assert_pop(r, "SignatureDoesNotMatch", prefix + sts)
    assert sts.startswith("POST\napplication/json\n")
    assert sts.endswith("x-acs-version:2018-05-09\n/green/image/scan?RegionId=cn-shanghai")
    reason = last_auth(sim)
    assert f"string to sign {sts!r}" in reason
    assert "expected signature " in reason and ", received " in reason


async def test_tampered_signed_header_is_signature_mismatch(client: TestClient, sim: Sim) -> None:
    r = await green(client, SCAN, scan_body(OK_URL), override={"x-acs-region-id": "cn-beijing"})
    assert r[1]["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "authorization", ["acs", "acs nocolon", "acs :sig", "Bearer abc", "ACS3-HMAC-SHA256 Credential=a"]
)
async def test_malformed_authorization_is_incomplete_signature(
    client: TestClient, sim: Sim, authorization: str
) -> None:
    r = await green(client, SCAN, scan_body(OK_URL), override={"Authorization": authorization})
    assert_pop(r, "IncompleteSignature")
    assert "IncompleteSignature" in last_auth(sim)


async def test_bad_date_format(client: TestClient, sim: Sim) -> None:
    assert_pop(await green(client, SCAN, scan_body(OK_URL), date="yesterday"), "InvalidTimeStamp.Format")


async def test_date_more_than_15_minutes_off_the_simulator_clock(client: TestClient, sim: Sim) -> None:
    now = sim.clock.now()
    ok = await green(client, SCAN, scan_body(OK_URL), date=rfc2616(now - 14 * 60))
    assert ok[0] == 200, ok[1]
    stale = await green(client, SCAN, scan_body(OK_URL), date=rfc2616(now - 16 * 60))
    assert_pop(stale, "InvalidTimeStamp.Expired")
    # the gateway remembers the last Date it read: a Date seen before is read again, not taken from it
    again = await green(client, SCAN, scan_body(OK_URL), date=rfc2616(now - 14 * 60))
    assert again[0] == 200, again[1]
    future = await green(client, SCAN, scan_body(OK_URL), date=rfc2616(now + 16 * 60))
    assert_pop(future, "InvalidTimeStamp.Expired")
    assert "from the simulator clock" in last_auth(sim)
    sim.clock.advance(-16 * 60)  # the simulator clock moves, the client's Date stays
    assert (await green(client, SCAN, scan_body(OK_URL), date=rfc2616(now - 16 * 60)))[0] == 200


async def test_replayed_nonce(client: TestClient, sim: Sim) -> None:
    n = nonce()
    assert (await green(client, SCAN, scan_body(OK_URL), nonce=n))[0] == 200
    assert_pop(await green(client, SCAN, scan_body(OK_URL), nonce=n), "SignatureNonceUsed")
    assert "SignatureNonceUsed" in last_auth(sim)
    sim.clock.advance(901)  # the nonce cache forgets after its TTL (the Date window moves with it)
    assert (await green(client, SCAN, scan_body(OK_URL), nonce=n))[0] == 200


async def test_content_md5_not_matching_the_body(client: TestClient, sim: Sim) -> None:
    r = await green(
        client, SCAN, scan_body(OK_URL), override={}, extra={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}
    )
    assert_pop(r, "ContentMD5NotMatched")


async def test_signature_method_other_than_hmac_sha1(client: TestClient, sim: Sim) -> None:
    r = await green(client, SCAN, scan_body(OK_URL), extra={"x-acs-signature-method": "HMAC-SHA256"})
    assert_pop(r, "InvalidSignatureMethod")


@pytest.mark.parametrize("header", ["x-acs-version", "Authorization", "Date"])
async def test_missing_mandatory_header(client: TestClient, sim: Sim, header: str) -> None:
    r = await green(client, SCAN, scan_body(OK_URL), drop=(header,))
    assert_pop(r, "MissingHeader", f"Specified header {header} is mandatory for this action.")
    assert "string to sign 'POST\\n" in last_auth(sim)  # every rejection shows what was signed


async def test_wrong_version_is_invalid_action(client: TestClient, sim: Sim) -> None:
    r = await green(client, SCAN, scan_body(OK_URL), extra={"x-acs-version": "2017-01-12"})
    assert_pop(r, "InvalidAction.NotFound")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/green/image/nothing"), ("GET", SCAN), ("POST", "/green/")]
)
async def test_unknown_api(client: TestClient, sim: Sim, method: str, path: str) -> None:
    resp = await client.request(method, path)
    body = await resp.json(content_type=None)
    assert_pop((resp.status, body, dict(resp.headers)), "InvalidApi.NotFound")


async def test_credential_quota_is_throttling_user(client: TestClient, sim: Sim) -> None:
    sim.state.credentials.put(
        Credential("aliyun", "slow-ak", "slow-secret", {"uid": "9", "quota": {"qps": 2}})
    )
    for _ in range(2):
        assert (await green(client, SCAN, scan_body(OK_URL), ak="slow-ak", secret="slow-secret"))[0] == 200
    r = await green(client, SCAN, scan_body(OK_URL), ak="slow-ak", secret="slow-secret")
    assert_pop(r, "Throttling.User")
    sim.clock.advance(1.5)
    assert (await green(client, SCAN, scan_body(OK_URL), ak="slow-ak", secret="slow-secret"))[0] == 200


async def test_xml_error_when_the_client_asks_for_xml(client: TestClient, sim: Sim) -> None:
    status, body, headers = await green(
        client, SCAN, scan_body(OK_URL), secret="wrong", override={"Accept": "application/xml"}
    )
    assert status == 400
    assert headers["Content-Type"] == "text/xml;charset=utf-8"
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>')
    assert "<Code>SignatureDoesNotMatch</Code>" in body
    assert "<HostId>" in body and "<Recommend>" in body and body.endswith("</Recommend></Error>")
    resp = await client.post("/green/nothing?format=XML")
    assert resp.headers["Content-Type"] == "text/xml;charset=utf-8"
    assert "<Code>InvalidApi.NotFound</Code>" in await resp.text()


@pytest.mark.parametrize("code", [c for c in POP if c != "InvalidApi.NotFound"])
async def test_every_pop_code_by_fault_rule(client: TestClient, sim: Sim, code: str) -> None:
    sim.faults.replace(
        [{"vendor": "aliyun", "operation": "image_scan", "action": {"type": "error", "code": code}}]
    )
    assert_pop(await green(client, SCAN, scan_body(OK_URL)), code)


# ----------------------------------------------------------------------------------------------
# Green business codes


@pytest.mark.parametrize("code", [500, 503, 580, 585, 586, 587, 591, 595, 408, 411, 581, 588, 596])
async def test_every_top_level_green_code_by_fault_rule(client: TestClient, sim: Sim, code: int) -> None:
    sim.faults.replace([{"vendor": "aliyun", "action": {"type": "error", "code": code}}])
    assert_green(await green(client, SCAN, scan_body(OK_URL)), code)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"tasks": [{"url": OK_URL}]},
        {"scenes": [], "tasks": [{"url": OK_URL}]},
        {"scenes": ["nudity"], "tasks": [{"url": OK_URL}]},
        {"scenes": "porn", "tasks": [{"url": OK_URL}]},
        {"scenes": ["porn"]},
        {"scenes": ["porn"], "tasks": []},
        {"scenes": ["porn"], "tasks": [{"url": OK_URL}] * 101},
        {"scenes": ["porn"], "tasks": ["https://a.invalid/x.png"]},
        {"scenes": ["porn"], "tasks": [{"dataId": "a"}]},
        {"scenes": ["porn"], "tasks": [{"url": 7}]},
        {"scenes": ["porn"], "tasks": [{"url": OK_URL, "dataId": 1}]},
        {"scenes": ["porn"], "tasks": [{"url": OK_URL, "dataId": "x" * 257}]},
        {"scenes": ["porn"], "tasks": [{"url": OK_URL, "dataId": "a"}, {"url": OK_URL, "dataId": "a"}]},
        {"scenes": ["porn"], "tasks": [{"url": OK_URL, "extras": "x"}]},
        {"scenes": ["sface-n"], "tasks": [{"url": OK_URL}]},
        {"scenes": ["porn"], "bizType": 5, "tasks": [{"url": OK_URL}]},
    ],
)
async def test_bad_request_is_top_level_400(client: TestClient, sim: Sim, payload: Any) -> None:
    assert_green(await green(client, SCAN, payload), 400)
    assert any("400 BAD_REQUEST" in n for n in sim.state.journal.query(vendor="aliyun")[-1]["notes"])


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe{}", b"[" * 100000 + b"]" * 100000, b"1" * 5000])
async def test_undecodable_body_is_400(client: TestClient, sim: Sim, raw: bytes) -> None:
    assert_green(await green(client, SCAN, None, raw=raw), 400)


@pytest.mark.parametrize(
    "payload",
    [
        {"scenes": ["porn"], "tasks": [{"url": OK_URL}], "callback": "http://127.0.0.1/cb"},
        {"scenes": ["porn"], "tasks": [{"url": OK_URL}], "callback": "ftp://x/cb", "seed": "s"},
        {
            "scenes": ["porn"],
            "tasks": [{"url": OK_URL}],
            "callback": "http://127.0.0.1/cb",
            "seed": "bad seed!",
        },
        {"scenes": ["porn"], "tasks": [{"url": OK_URL}], "cryptType": "SM3"},
    ],
)
async def test_async_bad_callback_parameters_are_400(client: TestClient, sim: Sim, payload: Any) -> None:
    assert_green(await green(client, ASYNC, payload, action="ImageAsyncScan"), 400)


@pytest.mark.parametrize("payload", [None, {"taskIds": ["x"]}, [], [1], ["t"] * 101])
async def test_results_body_must_be_an_array_of_task_ids(client: TestClient, sim: Sim, payload: Any) -> None:
    assert_green(await green(client, RESULTS, payload, action="ImageAsyncScanResults"), 400)


async def test_image_qps_over_50_is_588(client: TestClient, sim: Sim) -> None:
    sim.clock.freeze()
    first = await green(client, SCAN, {"scenes": ["porn"], "tasks": [{"url": OK_URL}] * 40})
    assert first[0] == 200 and first[1]["code"] == 200
    assert_green(await green(client, SCAN, {"scenes": ["porn"], "tasks": [{"url": OK_URL}] * 11}), 588)
    assert (await green(client, SCAN, {"scenes": ["porn"], "tasks": [{"url": OK_URL}] * 10}))[1][
        "code"
    ] == 200
    sim.clock.advance(1.01)
    assert (await green(client, SCAN, {"scenes": ["porn"], "tasks": [{"url": OK_URL}] * 50}))[1][
        "code"
    ] == 200
    assert_green(await green(client, SCAN, {"scenes": ["porn"], "tasks": [{"url": OK_URL}] * 100}), 588)


async def test_disabled_account_is_596(client: TestClient, sim: Sim) -> None:
    sim.state.credentials.put(Credential("aliyun", "arrears-ak", "s3cret", {"uid": "7", "disabled": True}))
    assert_green(await green(client, SCAN, scan_body(OK_URL), ak="arrears-ak", secret="s3cret"), 596)


async def test_latency_past_the_sync_limit_is_581(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "fast.yaml").write_text(
        json.dumps({"vendors": {"aliyun": {"limits": {"sync_timeout_s": 0.05}}}}), encoding="utf-8"
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    c = await aiohttp_client(create_app(sim=sim))
    sim.faults.replace(
        [{"vendor": "aliyun", "operation": "image_scan", "action": {"type": "latency", "ms": 100}}]
    )
    assert_green(await green(c, SCAN, scan_body(OK_URL)), 581)
    assert (await green(c, ASYNC, scan_body(OK_URL), action="ImageAsyncScan"))[1]["code"] == 200
    sim.faults.replace(
        [{"vendor": "aliyun", "operation": "image_scan", "action": {"type": "latency", "ms": 10}}]
    )
    assert (await green(c, SCAN, scan_body(OK_URL)))[1]["code"] == 200
    assert sim.schema_violations == []


# ----------------------------------------------------------------------------------------------
# per-task codes


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("failed", 480), ("timeout", 592), ("too_large", 589), ("not_found", 404), ("forbidden", 403)],
)
async def test_download_outcomes_are_per_task_codes(
    client: TestClient, sim: Sim, outcome: str, code: int
) -> None:
    sim.state.rules.append(ScenarioRule(match={"url": "https://cdn.example.invalid/bad/*"}, download=outcome))
    status, body, _ = await green(
        client,
        SCAN,
        scan_body(OK_URL, "https://cdn.example.invalid/bad/1.jpg"),
    )
    assert (status, body["code"], body["msg"]) == (200, 200, "OK")
    good, bad = body["data"]
    assert good["code"] == 200 and good["results"]
    assert bad == {
        "code": code,
        "msg": GREEN[code],
        "dataId": "d1",
        "taskId": bad["taskId"],
        "url": "https://cdn.example.invalid/bad/1.jpg",
    }


async def test_internal_address_nothing_resolves_is_401(client: TestClient, sim: Sim) -> None:
    _, body, _ = await green(client, SCAN, scan_body("http://192.168.1.5/a.png", "http://localhost/b.png"))
    assert [(t["code"], t["msg"]) for t in body["data"]] == [(401, "NOT_ALLOWED")] * 2


async def test_not_http_url_is_per_task_400(client: TestClient, sim: Sim) -> None:
    _, body, _ = await green(client, SCAN, scan_body("ftp://example.invalid/a.png"))
    assert (body["data"][0]["code"], body["data"][0]["msg"]) == (400, "BAD_REQUEST")


async def test_bytes_that_are_no_image_are_590_and_too_many_589(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"plain text, not an image")
    from simulator.content import make_image

    (tmp_path / "big.png").write_bytes(make_image("clean_avatar", "png", (64, 64)))
    (tmp_path / "f.yaml").write_text(
        json.dumps(
            {
                "rules": [
                    {"match": {"url": "https://files.invalid/notes.txt"}, "file": "notes.txt"},
                    {"match": {"url": "https://files.invalid/big.png"}, "file": "big.png"},
                ],
                "vendors": {"aliyun": {"limits": {"max_image_bytes": 100}}},
            }
        ),
        encoding="utf-8",
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    c = await aiohttp_client(create_app(sim=sim))
    _, body, _ = await green(
        c, SCAN, scan_body("https://files.invalid/notes.txt", "https://files.invalid/big.png")
    )
    assert [(t["code"], t["msg"]) for t in body["data"]] == [(590, "BAD_FORMAT"), (589, "TOO_LARGE")]
    assert sim.schema_violations == []


async def test_unknown_and_expired_task_ids_are_594(client: TestClient, sim: Sim) -> None:
    _, sub, _ = await green(client, ASYNC, scan_body(OK_URL), action="ImageAsyncScan")
    task_id = sub["data"][0]["taskId"]
    _, res, _ = await green(client, RESULTS, [task_id, "img-unknown"], action="ImageAsyncScanResults")
    assert [(t["code"], t["msg"]) for t in res["data"]] == [(280, "PROCESSING"), (594, "EXPIRED")]
    assert res["data"][1] == {"code": 594, "msg": "EXPIRED", "taskId": "img-unknown"}


def test_expected_tables_match_the_simulators() -> None:
    from simulator.vendors.aliyun.errors import GREEN_MESSAGES, POP_ERRORS

    assert {k: v for k, v in GREEN_MESSAGES.items() if k != 200} == GREEN
    assert {k: v for k, v in POP_ERRORS.items() if k not in ("SignatureDoesNotMatch", "MissingHeader")} == POP
    assert AK and SECRET


# ----------------------------------------------------------------------------------------------
# ACS3-HMAC-SHA256 (Tea's default), signed with the Tea client's own code


async def acs3(
    client: TestClient, body: bytes, drop: tuple[str, ...] = (), send: bytes | None = None, **kw: Any
) -> Any:
    from simulator.keys import SIM
    from tests.vendors.aliyun.helpers import acs3_headers

    host = f"127.0.0.1:{client.port}"
    headers = acs3_headers(SCAN, body, sim=client.app[SIM], host=host, **kw)
    for name in drop:
        headers.pop(name)
    resp = await client.post(SCAN, data=send if send is not None else body, headers=headers)
    return resp.status, await resp.json(content_type=None), dict(resp.headers)


async def test_acs3_accepted_and_its_failures(client: TestClient, sim: Sim) -> None:
    body = json.dumps(scan_body(OK_URL)).encode()
    ok = await acs3(client, body, nonce_value="n-1")
    assert (ok[0], ok[1]["code"]) == (200, 200), ok[1]
    assert_pop(await acs3(client, body, nonce_value="n-1"), "SignatureNonceUsed")
    wrong = await acs3(client, body, secret="wrong")
    msg = wrong[1]["Message"]
    assert_pop(wrong, "SignatureDoesNotMatch", msg)
    assert msg.startswith(
        "Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\n"
    )
    assert "canonical request 'POST\\n/green/image/scan\\n" in last_auth(sim)
    tampered = await acs3(client, body, send=body.replace(b"porn", b"live"))
    assert tampered[1]["Code"] == "SignatureDoesNotMatch"
    assert any("x-acs-content-sha256" in n for n in sim.state.journal.query(vendor="aliyun")[-1]["notes"])
    stale = await acs3(client, body, date="2001-01-01T00:00:00Z")
    assert_pop(stale, "InvalidTimeStamp.Expired")
    assert_pop(await acs3(client, body, date="01/01/2001"), "InvalidTimeStamp.Format")
    missing = await acs3(client, body, drop=("x-acs-signature-nonce",))
    assert_pop(
        missing, "MissingHeader", "Specified header x-acs-signature-nonce is mandatory for this action."
    )
    assert_pop(await acs3(client, body, ak="nobody"), "InvalidAccessKeyId.NotFound")


async def test_nonce_cache_is_bounded_and_forgets_on_the_simulator_clock(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nonces are claims of the store: the in-process store keeps ``MAX_CLAIMS`` per space (2 here)."""
    from simulator.store import memory
    from simulator.vendors.aliyun.gateway import nonce_used
    from simulator.vendors.aliyun.policy import GatewaySettings

    monkeypatch.setattr(memory, "MAX_CLAIMS", 2)
    gs = GatewaySettings(nonce_ttl_s=10)
    assert not await nonce_used(sim, gs, "a", 0)
    assert await nonce_used(sim, gs, "a", 1)
    assert not await nonce_used(sim, gs, "b", 1)
    assert not await nonce_used(sim, gs, "c", 1)  # over the size: "a" is forgotten
    assert not await nonce_used(sim, gs, "a", 2)
    assert await nonce_used(sim, gs, "c", 5)
    assert not await nonce_used(sim, gs, "c", 11)  # past its TTL
