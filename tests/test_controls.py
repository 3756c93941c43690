"""Rehearsal controls do exactly what they say (issue 11), with the official clients where they exist.

1. faults hit what they name (a rule without operation never reaches Baidu's token endpoint; a rule
   naming it answers OAuth errors only);
2. the simulator clock ages server state; client timestamps are checked against the wall clock or
   the simulator clock; skew has its own control;
3. queued outcomes and rules stand in for content that cannot be loaded;
4. text is content: a text scenario is analysed as that text, on every text operation;
5. a name that does not exist is an error (or a warning, inside content);
6. per-item service errors;
7. Alibaba Cloud as seed 004 says (10 MB, 581 at 6 s, one HostId rule).
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import aip
import pytest
import requests
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkgreen.request.v20180509 import (
    ImageAsyncScanRequest,
    ImageAsyncScanResultsRequest,
    ImageSyncScanRequest,
    UploadCredentialsRequest,
)

from simulator.cli import main as cli_main
from simulator.content import make_image
from simulator.scenarios.loader import FixtureError
from simulator.settings import Settings
from simulator.sim import Sim
from tests.helpers import BAIDU_API_KEY, BAIDU_APP_ID, BAIDU_SECRET, FACE_AUDIT, TOKEN
from tests.live import LiveServer
from tests.vendors.aliyun.helpers import AK, SECRET
from tests.vendors.showapi.common import china_time, signed

GIF = "/rest/2.0/antiporn/v1/detect_gif"
SPAM = "/rest/2.0/antispam/v2/spam"
NOWHERE = "https://img.nowhere.invalid/avatar.jpg"  # no rule, no marker, not allowlisted: resolves nowhere
TEXT_SCENARIOS = {"text_terror": 1, "text_porn": 2, "text_politics": 3, "text_ads": 4, "text_abuse": 5}


# --- helpers ----------------------------------------------------------------------------------------


def admin(live: LiveServer, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
    """An admin call; ``status``: the one expected (default: any 2xx)."""
    resp = requests.request(method, f"{live.url}/__modsim{path}", json=body, timeout=10)
    if status is None:
        assert 200 <= resp.status_code < 300, resp.text
    else:
        assert resp.status_code == status, resp.text
    return resp.json()


def journal(live: LiveServer, **filters: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = admin(
        live, "GET", "/journal?" + "&".join(f"{k}={v}" for k, v in filters.items())
    )["entries"]
    return entries


def baidu(live: LiveServer) -> aip.AipImageCensor:
    """The official client, repointed as the README says (nothing else changed)."""
    client = aip.AipImageCensor(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET)
    client._AipBase__accessTokenUrl = live.url + TOKEN
    client._AipImageCensor__faceAuditUrl = live.url + FACE_AUDIT
    client._AipImageCensor__antiPornGifUrl = live.url + GIF
    client._AipImageCensor__antiSpamUrl = live.url + SPAM
    return client


def aliyun(live: LiveServer, secret: str = SECRET) -> AcsClient:
    client = AcsClient(AK, secret, "cn-shanghai")
    client.add_endpoint("cn-shanghai", "Green", f"127.0.0.1:{live.port}")
    return client


def aliyun_call(client: AcsClient, request: Any, body: Any) -> dict[str, Any]:
    request.set_protocol_type("http")
    request.set_content(json.dumps(body))
    out: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    return out


def showapi(live: LiveServer, api: str, params: dict[str, str]) -> requests.Response:
    return requests.post(f"{live.url}/{api}", data=signed(params), timeout=10)


def spam_labels(result: dict[str, Any]) -> dict[int, str]:
    """Baidu antispam v2 ``result``: label -> bucket (reject / review / pass)."""
    return {item["label"]: bucket for bucket in ("reject", "review", "pass") for item in result[bucket]}


def b64(scenario: str | None, fmt: str = "png") -> str:
    return base64.b64encode(make_image(scenario, fmt)).decode()


# --- 1. faults hit what they name -------------------------------------------------------------------

README_SEQUENCE = {
    "vendor": "baidu",
    "sequence": [{"type": "error", "code": 18}, None, {"type": "error", "code": 2}],
}
README_FIRST_N = {
    "vendor": "baidu",
    "operation": "face_audit",
    "first_n": 2,
    "action": {"type": "error", "code": 18},
}


def test_readme_sequence_example_gives_18_a_result_2_and_leaves_the_token_alone(live: LiveServer) -> None:
    admin(live, "PATCH", "/faults", {"rules": [README_SEQUENCE]})
    client = baidu(live)
    image = make_image("clean_avatar", "jpeg")
    answers = [client.faceAudit(image) for _ in range(4)]
    assert answers[0] == {"error_code": 18, "error_msg": "Open api qps request limit reached"}
    assert [item["res_code"] for item in answers[1]["result"]] == [0]
    assert answers[2] == {"error_code": 2, "error_msg": "Service temporarily unavailable"}
    assert "result" in answers[3]  # the sequence is over: answers are normal again
    [token] = journal(live, operation="token")
    assert (token["status"], token["vendor_code"], token["fault"]) == (200, None, None)
    audits = journal(live, operation="face_audit")
    assert [e["vendor_code"] for e in audits] == [18, 0, 2, 0]
    [rule] = admin(live, "GET", "/faults")["rules"]
    assert (rule["seen"], rule["hits"]) == (4, 2)  # the token request was never seen


def test_readme_first_n_example_after_the_tour(live: LiveServer) -> None:
    admin(live, "POST", "/faults", {"rules": [README_FIRST_N]})
    client = baidu(live)
    codes = [client.faceAudit(make_image("clean_avatar", "jpeg")).get("error_code", 0) for _ in range(3)]
    assert codes == [18, 18, 0]
    assert [e["status"] for e in journal(live, operation="token")] == [200]


def test_a_rule_without_operation_never_reaches_credential_or_routing_endpoints(live: LiveServer) -> None:
    admin(live, "POST", "/faults", {"rules": [{"action": {"type": "error", "code": 2}}]})  # every vendor
    resp = requests.get(
        live.url + TOKEN,
        params={
            "grant_type": "client_credentials",
            "client_id": BAIDU_API_KEY,
            "client_secret": BAIDU_SECRET,
        },
        timeout=10,
    )
    assert resp.status_code == 200 and "access_token" in resp.json()
    resp = requests.post(live.url + "/rest/2.0/no/such/api", timeout=10)
    assert resp.json() == {"error_code": 3, "error_msg": "Unsupported openapi method"}
    # Alibaba Cloud's upload credentials are a credential endpoint too; its scans are not
    client = aliyun(live)
    creds = aliyun_call(client, UploadCredentialsRequest.UploadCredentialsRequest(), {})
    assert (creds["code"], creds["msg"]) == (200, "OK")
    scan = aliyun_call(
        client, ImageSyncScanRequest.ImageSyncScanRequest(), {"scenes": ["porn"], "tasks": [{"url": NOWHERE}]}
    )
    assert (scan["code"], scan["msg"]) == (
        500,
        "GENERAL_ERROR",
    )  # code 2 is no Green code: its internal error


@pytest.mark.parametrize(
    ("code", "status", "error", "description"),
    [
        (18, 500, "server_error", "The authorization server encountered an unexpected condition"),
        (110, 500, "server_error", "The authorization server encountered an unexpected condition"),
        ("invalid_client", 401, "invalid_client", "unknown client id"),
    ],
)
def test_a_rule_naming_the_token_endpoint_answers_in_its_envelope(
    live: LiveServer, code: int | str, status: int, error: str, description: str
) -> None:
    rule = {"vendor": "baidu", "operation": "token", "first_n": 1, "action": {"type": "error", "code": code}}
    admin(live, "POST", "/faults", {"rules": [rule]})
    resp = requests.get(
        live.url + TOKEN,
        params={
            "grant_type": "client_credentials",
            "client_id": BAIDU_API_KEY,
            "client_secret": BAIDU_SECRET,
        },
        timeout=10,
    )
    assert resp.status_code == status
    assert (
        resp.text
        == json.dumps({"error_description": description, "error": error}, separators=(",", ":")) + "\n"
    )
    assert "error_code" not in resp.json()


# --- 2. ageing and clients' clocks are separate ----------------------------------------------------


def test_aliyun_sdk_sees_594_after_the_clock_ages_its_task(live: LiveServer) -> None:
    """The official core SDK with its own real-time Date header, unpatched."""
    client = aliyun(live)
    submitted = aliyun_call(
        client,
        ImageAsyncScanRequest.ImageAsyncScanRequest(),
        {"scenes": ["porn"], "tasks": [{"dataId": "d1", "url": "https://a.invalid/x.png#modsim=porn"}]},
    )
    [item] = submitted["data"]
    task_id = item["taskId"]

    def poll() -> dict[str, Any]:
        body = aliyun_call(client, ImageAsyncScanResultsRequest.ImageAsyncScanResultsRequest(), [task_id])
        [one] = body["data"]
        return one

    assert poll()["code"] == 280
    assert poll()["code"] == 200
    admin(live, "POST", "/clock", {"advance_s": 3600})
    assert poll() == {"code": 594, "msg": "EXPIRED", "taskId": task_id}
    last = journal(live, operation="image_results")[-1]
    assert last["auth"]["outcome"] == "ok"
    assert "from the wall clock" in last["auth"]["reason"]


def test_a_client_in_step_with_a_set_simulator_clock_is_accepted(live: LiveServer) -> None:
    past = time.time() - 30 * 86400
    admin(live, "POST", "/clock", {"set": past, "freeze": True})
    resp = showapi(live, "2054-3", {"content": "你好", "showapi_timestamp": china_time(past + 5)})
    assert resp.json()["showapi_res_code"] == 0
    assert re.search(
        r"[+][45] s from the simulator clock", journal(live, vendor="showapi")[-1]["auth"]["reason"]
    )
    resp = showapi(live, "2054-3", {"content": "你好", "showapi_timestamp": china_time(time.time())})
    assert resp.json()["showapi_res_code"] == 0
    assert "from the wall clock" in journal(live, vendor="showapi")[-1]["auth"]["reason"]


def test_a_stale_timestamp_and_a_skewed_clock_still_get_the_vendors_error(live: LiveServer) -> None:
    stale = showapi(live, "2054-3", {"content": "x", "showapi_timestamp": china_time(time.time() - 3600)})
    assert (stale.json()["showapi_res_code"], stale.json()["showapi_res_error"]) == (
        -1005,
        "showapi_timestamp无效",
    )
    assert "outside ±600 s" in journal(live, vendor="showapi")[-1]["auth"]["reason"]
    admin(live, "POST", "/clock", {"skew_s": 1200})
    now = showapi(live, "2054-3", {"content": "x", "showapi_timestamp": china_time(time.time())})
    assert now.json()["showapi_res_code"] == -1005
    assert "after a skew of +1200 s" in journal(live, vendor="showapi")[-1]["auth"]["reason"]
    with pytest.raises(ServerException) as caught:
        aliyun_call(
            aliyun(live),
            ImageSyncScanRequest.ImageSyncScanRequest(),
            {"scenes": ["porn"], "tasks": [{"url": NOWHERE}]},
        )
    assert (caught.value.http_status, caught.value.error_code) == (400, "InvalidTimeStamp.Expired")
    assert caught.value.message == "Specified time stamp or date value is expired."
    assert admin(live, "GET", "/clock")["skew_s"] == 1200


# --- 3. queued outcomes and rules stand in for the content ------------------------------------------


def test_a_queued_outcome_applies_to_an_unresolvable_url(live: LiveServer) -> None:
    client = baidu(live)
    none = client.faceAudit([NOWHERE])
    assert (none["error_code"], none["error_msg"]) == (282804, "download image error")
    admin(live, "POST", "/queue", {"scenario": "porn", "vendor": "baidu"})
    got = client.faceAudit([NOWHERE])
    [item] = got["result"]
    assert (item["res_code"], item["res_msg"]) == (1, [301])
    assert admin(live, "GET", "/queue")["queue"] == []
    entry = journal(live, operation="face_audit")[-1]
    assert (entry["scenario"], entry["scenario_source"]) == (["porn"], ["queued"])


def test_a_queue_use_is_given_back_when_the_request_fails_after_all(live: LiveServer) -> None:
    admin(live, "POST", "/queue", {"scenario": "porn", "vendor": "baidu", "count": 1})
    got = baidu(live).faceAudit([NOWHERE, "https://other.nowhere.invalid/b.jpg"])
    assert (got["error_code"], got["error_msg"]) == (282873, "some img urls invalid")
    assert [(q["scenario"], q["remaining"]) for q in admin(live, "GET", "/queue")["queue"]] == [("porn", 1)]


def test_a_rule_stands_in_for_a_url_that_cannot_be_loaded(live: LiveServer) -> None:
    rules = [
        {"name": f"all-{v}", "match": {"vendor": v}, "scenario": "sexy"} for v in ("baidu", "itapi", "aliyun")
    ]
    admin(live, "PATCH", "/rules", {"rules": rules})
    [item] = baidu(live).faceAudit([NOWHERE])["result"]
    assert item["res_msg"] == [302]
    entry = journal(live, operation="face_audit")[-1]
    assert entry["scenario_source"] == ["rule:all-baidu"]
    assert f"{NOWHERE!r} could not be loaded (failed): rule:all-baidu stands in for it" in entry["notes"]
    # itapi and Alibaba Cloud alike
    resp = requests.post(
        f"{live.url}/api/badword/pic",
        data={"key": "demo-itapi-key", "type": "porn", "sync": "yes", "data": NOWHERE},
        timeout=10,
    )
    assert (resp.json()["code"], resp.json()["data"]["porn"]["label"]) == (200, "性感")
    scan = aliyun_call(
        aliyun(live),
        ImageSyncScanRequest.ImageSyncScanRequest(),
        {"scenes": ["porn"], "tasks": [{"url": NOWHERE}]},
    )
    [task] = scan["data"]
    assert (task["code"], task["results"][0]["label"]) == (200, "sexy")


def test_without_queue_or_rule_an_unresolvable_url_is_the_download_error(live: LiveServer) -> None:
    scan = aliyun_call(
        aliyun(live),
        ImageSyncScanRequest.ImageSyncScanRequest(),
        {"scenes": ["porn"], "tasks": [{"url": NOWHERE}]},
    )
    assert [(t["code"], t["msg"]) for t in scan["data"]] == [(480, "DOWNLOAD_FAILED")]
    admin(live, "POST", "/queue", {"scenario": "porn", "vendor": "aliyun"})
    scan = aliyun_call(
        aliyun(live),
        ImageSyncScanRequest.ImageSyncScanRequest(),
        {"scenes": ["porn"], "tasks": [{"url": NOWHERE}]},
    )
    [task] = scan["data"]
    assert (task["code"], task["results"][0]["label"], task["results"][0]["suggestion"]) == (
        200,
        "porn",
        "block",
    )


# --- 4. text is content ---------------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "label"), sorted(TEXT_SCENARIOS.items()))
def test_each_text_scenario_gives_its_label_on_every_text_operation(
    live: LiveServer, scenario: str, label: int
) -> None:
    admin(live, "POST", "/queue", {"scenario": scenario, "vendor": "showapi", "operation": "2054-3"})
    body = showapi(live, "2054-3", {"content": "hello world"}).json()["showapi_res_body"]
    assert body["result"]["spam"] == 1
    assert [item["label"] for item in body["result"]["reject"]] == [label]
    # the official Baidu SDK, by marker inside the text
    got = baidu(live).antiSpam(f"hello [[modsim={scenario}]] world")
    assert got["result"]["spam"] == 1
    assert spam_labels(got["result"])[label] == "reject"
    assert [k for k, v in spam_labels(got["result"]).items() if v == "reject"] == [label]
    assert journal(live, operation="spam")[-1]["scenario_source"] == ["marker"]


def test_text_ads_hits_name_the_contact_details(live: LiveServer) -> None:
    admin(live, "POST", "/queue", {"scenario": "text_ads", "vendor": "baidu", "operation": "spam"})
    [ads] = baidu(live).antiSpam("hello world")["result"]["reject"]
    assert ads["label"] == 4
    assert {"加微信", "13812345678", "QQ: 12345678"} <= set(ads["hit"])


def test_a_queued_image_scenario_with_text_lines_is_analysed_as_that_text(live: LiveServer) -> None:
    admin(live, "POST", "/queue", {"scenario": "phone_number", "vendor": "showapi", "operation": "2054-3"})
    body = showapi(live, "2054-3", {"content": "hello world"}).json()["showapi_res_body"]
    assert body["result"]["spam"] == 2
    [review] = body["result"]["review"]
    assert (review["label"], review["hit"]) == (4, ["13812345678"])


def test_an_image_only_scenario_is_refused_for_a_text_operation(live: LiveServer) -> None:
    for scenario in ("porn", "terror_flag"):
        resp = admin(
            live,
            "POST",
            "/queue",
            {"scenario": scenario, "vendor": "showapi", "operation": "2054-3"},
            status=400,
        )
        assert resp["error"] == "invalid_request"
        assert resp["detail"] == (
            f"scenario {scenario!r} has no text (neither text lines nor text_hits): showapi 2054-3 cannot render it"
        )
    # for the vendor as a whole it is fine: the image operations take it, the text one leaves it
    admin(live, "POST", "/queue", {"scenario": "porn", "vendor": "showapi"}, status=201)
    body = showapi(live, "2054-3", {"content": "hello world"}).json()["showapi_res_body"]
    assert body["result"]["spam"] == 0
    assert [q["scenario"] for q in admin(live, "GET", "/queue")["queue"]] == ["porn"]
    notes = journal(live, vendor="showapi")[-1]["notes"]
    assert any("queued 'porn' left in the queue for a later call" in n for n in notes)


def test_a_broad_rule_reaching_a_text_operation_warns(live: LiveServer) -> None:
    admin(
        live,
        "PATCH",
        "/rules",
        {"rules": [{"name": "all-porn", "match": {"vendor": "showapi"}, "scenario": "porn"}]},
    )
    resp = showapi(live, "2054-3", {"content": "hello world"})
    assert resp.json()["showapi_res_body"]["result"]["spam"] == 0
    warning = (
        "rule:all-porn reaches showapi 2054-3, which cannot render it: "
        "scenario 'porn' has no text (neither text lines nor text_hits)"
    )
    assert resp.headers["X-Modsim-Warning"] == warning
    assert journal(live, vendor="showapi")[-1]["warnings"] == [warning]


# --- 5. a name that does not exist is an error ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "body", "detail"),
    [
        ("/queue", "POST", {"scenario": "prn"}, "unknown scenario 'prn'; closest: porn, text_porn"),
        (
            "/queue",
            "POST",
            {"scenario": "porn", "vendor": "baiduu"},
            "unknown vendor 'baiduu'; closest: baidu, aliyun",
        ),
        (
            "/queue",
            "POST",
            {"scenario": "porn", "vendor": "baidu", "operation": "faceaudit"},
            "unknown baidu operation 'faceaudit'; closest: face_audit",
        ),
        (
            "/rules",
            "PATCH",
            {"rules": [{"match": {"vendor": "baidu"}, "scenario": "sexxy"}]},
            "unknown scenario 'sexxy'; closest: sexy",
        ),
        (
            "/faults",
            "POST",
            {
                "rules": [
                    {"vendor": "showapi", "operation": "2054-4", "action": {"type": "error", "code": -1009}}
                ]
            },
            "unknown showapi operation '2054-4'; closest: 2054-3, 2054-2, 2054-1",
        ),
    ],
)
def test_unknown_names_are_refused_with_the_closest(
    live: LiveServer, path: str, method: str, body: Any, detail: str
) -> None:
    resp = admin(live, method, path, body, status=400)
    assert resp == {"error": "invalid_request", "detail": detail}


def test_a_misspelt_scenario_field_names_the_closest(live: LiveServer) -> None:
    resp = admin(live, "POST", "/scenarios", {"name": "mine", "pron": {"porn": 0.9}}, status=400)
    assert resp["error"] == "invalid_request"
    assert resp["detail"] == [
        "(root): Additional properties are not allowed ('pron' was unexpected) (closest: 'pron' -> porn)"
    ]


def test_an_unknown_marker_gives_the_default_verdict_and_a_warning(live: LiveServer) -> None:
    resp = requests.post(
        f"{live.url}{FACE_AUDIT}",
        params={"access_token": _token(live)},
        data={"imgUrls": "https://img.example/a.jpg#modsim=prn"},
        timeout=10,
    )
    [item] = resp.json()["result"]
    assert (item["res_code"], item["res_msg"]) == (0, [])
    warning = "marker in the content names an unknown scenario 'prn'; closest: porn, text_porn"
    assert resp.headers["X-Modsim-Warning"] == warning
    entry = journal(live, operation="face_audit")[-1]
    assert (entry["scenario_source"], entry["warnings"]) == (["default"], [warning])


def _token(live: LiveServer) -> str:
    resp = requests.get(
        live.url + TOKEN,
        params={
            "grant_type": "client_credentials",
            "client_id": BAIDU_API_KEY,
            "client_secret": BAIDU_SECRET,
        },
        timeout=10,
    )
    token: str = resp.json()["access_token"]
    return token


def test_modsim_image_with_an_unknown_scenario_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["image", "--scenario", "nope", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err == "modsim: unknown scenario 'nope'; closest: no_face (among the built-in scenarios)\n"
    assert not (tmp_path / "x.png").exists()
    (tmp_path / "mine.yaml").write_text("scenarios:\n  - {name: nope}\n", encoding="utf-8")
    assert (
        cli_main(["image", "--scenario", "nope", "--fixtures", str(tmp_path), "-o", str(tmp_path / "x.png")])
        == 0
    )


def test_a_fixture_credential_for_an_unknown_vendor_stops_serve_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "creds.yaml").write_text(
        "# my apps\ncredentials:\n  - vendor: baidu\n    id: ok-key\n    secret: s\n  - vendor: baiduu\n    id: typo-key\n",
        encoding="utf-8",
    )
    with pytest.raises(FixtureError) as caught:
        Sim(Settings(fixtures=(tmp_path,)))
    assert (
        str(caught.value)
        == f"{tmp_path / 'creds.yaml'}:6: credential 'typo-key': unknown vendor 'baiduu'; closest: baidu, aliyun"
    )
    assert cli_main(["serve", "--port", "0", "--fixtures", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"modsim: cannot load fixtures: {caught.value}\n"


def test_a_fixture_fault_for_an_unknown_operation_stops_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "faults.json").write_text(
        json.dumps(
            {"faults": [{"vendor": "baidu", "operation": "spamm", "action": {"type": "error", "code": 18}}]},
            indent=2,
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        FixtureError,
        match=re.escape(
            f"{tmp_path / 'faults.json'}:3: fault: unknown baidu operation 'spamm'; closest: spam"
        ),
    ):
        Sim(Settings(fixtures=(tmp_path,)))


# --- 6. per-item service errors -------------------------------------------------------------------


def test_a_service_error_marks_only_its_own_image(live: LiveServer) -> None:
    client = baidu(live)
    got = client.faceAudit([make_image("service_error", "jpeg"), make_image("clean_avatar", "jpeg")])
    failed, fine = got["result"]
    assert (
        failed["error_code"],
        failed["error_msg"],
        failed["res_code"],
        failed["res_msg"],
        failed["data"],
    ) == (
        282805,
        "internal request failed",
        0,
        [],
        {},
    )
    assert "error_code" not in fine and fine["data"]["face"]["result_num"] == 1


def test_a_service_error_with_its_own_code_and_service(live: LiveServer) -> None:
    scenario = {
        "name": "porn_service_down",
        "faces": [{"box": [80, 80, 100, 110]}],
        "porn": {"porn": 0.95, "sexy": 0.03, "normal": 0.02},
        "text": ["加我 13812345678"],
        "service_error": {"code": 282202, "service": "antiporn"},
    }
    admin(live, "POST", "/scenarios", scenario, status=201)
    admin(live, "POST", "/queue", {"scenario": "porn_service_down", "vendor": "baidu"}, status=201)
    [item] = baidu(live).faceAudit([NOWHERE])["result"]
    assert (item["error_code"], item["error_msg"]) == (282202, "antiporn detect timeout")
    assert "antiporn" not in item["data"] and "ocr" in item["data"]
    assert item["res_msg"] == [101]  # the OCR rule still decides; the porn rule could not


def test_resellers_carry_the_item_error_in_their_envelopes(live: LiveServer) -> None:
    body = showapi(live, "2054-1", {"images": b64("service_error")}).json()
    assert body["showapi_res_code"] == 0
    [item] = body["showapi_res_body"]["result"]
    assert (item["error_code"], item["error_msg"]) == (282805, "internal request failed")
    resp = requests.post(
        f"{live.url}/fantabulous/touxiangshenhe",
        params={"appkey": "demo-aioasis-appkey"},
        data={"images": b64("service_error")},
        timeout=10,
    )
    [item] = resp.json()["result"]["result"]
    assert (resp.json()["code"], item["error_code"]) == ("10000", 282805)


def test_a_service_error_on_alibaba_cloud_and_itapi(live: LiveServer) -> None:
    scan = aliyun_call(
        aliyun(live),
        ImageSyncScanRequest.ImageSyncScanRequest(),
        {
            "scenes": ["porn"],
            "tasks": [
                {"url": "https://a.invalid/1.png#modsim=service_error"},
                {"url": "https://a.invalid/2.png#modsim=porn"},
            ],
        },
    )
    assert [(t["code"], t["msg"], "results" in t) for t in scan["data"]] == [
        (586, "ALGO_FAILED", False),
        (200, "OK", True),
    ]
    resp = requests.post(
        f"{live.url}/api/badword/pic",
        data={"key": "demo-itapi-key", "type": "porn", "sync": "yes", "data": b64("service_error")},
        timeout=10,
    )
    assert (resp.json()["code"], resp.json()["msg"]) == (500, "服务器内部错误")


# --- 7. Alibaba Cloud as seed 004 says ------------------------------------------------------------


def test_an_image_over_10_mb_is_refused_per_task(live: LiveServer, tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(make_image("porn", "png") + b"\0" * (10 * 1024 * 1024))
    small = tmp_path / "small.png"
    small.write_bytes(make_image("porn", "png"))
    for name, path in (("big", big), ("small", small)):
        live.call(live.sim.state.rules.insert, 0, _file_rule(name, path))
    scan = aliyun_call(
        aliyun(live),
        ImageSyncScanRequest.ImageSyncScanRequest(),
        {
            "scenes": ["porn"],
            "tasks": [{"url": "https://files.example/big.png"}, {"url": "https://files.example/small.png"}],
        },
    )
    assert [(t["code"], t["msg"]) for t in scan["data"]] == [(589, "TOO_LARGE"), (200, "OK")]


def _file_rule(name: str, path: Path) -> Any:
    from simulator.scenarios.loader import ScenarioRule

    return ScenarioRule(match={"url": f"https://files.example/{name}.png"}, file=path, name=name)


def test_a_long_latency_fault_on_a_sync_scan_answers_581_at_the_limit(tmp_path: Path) -> None:
    (tmp_path / "limit.yaml").write_text(
        "vendors:\n  aliyun:\n    limits: {sync_timeout_s: 0.3}\n", encoding="utf-8"
    )
    server = LiveServer(Settings(fixtures=(tmp_path,), validate_responses=True)).start()
    try:
        fault = {"vendor": "aliyun", "operation": "image_scan", "action": {"type": "latency", "ms": 20000}}
        admin(server, "POST", "/faults", {"rules": [fault]})
        started = time.monotonic()
        scan = aliyun_call(
            aliyun(server),
            ImageSyncScanRequest.ImageSyncScanRequest(),
            {"scenes": ["porn"], "tasks": [{"url": NOWHERE}]},
        )
        waited = time.monotonic() - started
        assert (scan["code"], scan["msg"]) == (581, "TIMEOUT")
        assert waited < 10  # answered at the 0.3 s limit, not after the 20 s the fault asked for
        entry = journal(server, operation="image_scan")[-1]
        assert scan["requestId"].replace("-", "").lower() == entry["request_id"]
        assert any("past the vendor's 0.3 s limit" in n for n in entry["notes"])
        # the asynchronous scan has no such limit: the fault does not apply to it (it names image_scan)
        assert server.sim.schema_violations == []
    finally:
        server.stop()


def test_hostid_and_requestid_follow_one_rule_for_every_error(live: LiveServer) -> None:
    gateway = _aliyun_error(live, secret="wrong")
    admin(
        live,
        "POST",
        "/faults",
        {
            "rules": [
                {
                    "vendor": "aliyun",
                    "operation": "image_scan",
                    "action": {"type": "error", "code": "ServiceUnavailable"},
                }
            ]
        },
    )
    fault = _aliyun_error(live)
    for body, headers in (gateway, fault):
        assert body["HostId"] == f"127.0.0.1:{live.port}"
        assert body["RequestId"].replace("-", "").lower() == headers["X-Modsim-Request-Id"]
    assert (gateway[0]["Code"], fault[0]["Code"]) == ("SignatureDoesNotMatch", "ServiceUnavailable")


def _aliyun_error(live: LiveServer, secret: str = SECRET) -> tuple[dict[str, Any], dict[str, str]]:
    from tests.vendors.aliyun.helpers import rfc2616, sign_headers

    raw = json.dumps({"scenes": ["porn"], "tasks": [{"url": NOWHERE}]}).encode()
    headers = sign_headers("/green/image/scan", raw, date=rfc2616(time.time()), secret=secret)
    resp = requests.post(f"{live.url}/green/image/scan", data=raw, headers=headers, timeout=10)
    assert resp.status_code in (400, 503), resp.text
    return resp.json(), dict(resp.headers)
