"""The admin API under /__modsim/: every call's wire contract, and its effect on the vendor endpoints."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiohttp.typedefs import Handler

from simulator import schemas
from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from tests.helpers import BAIDU_API_KEY, BAIDU_SECRET, FACE_AUDIT, TOKEN, baidu_token, face_audit, image_b64

A = "/__modsim"
PLAIN_PNG = make_image(None)
PLAIN = image_b64(None)
PLAIN_SHA = hashlib.sha256(PLAIN_PNG).hexdigest()


async def admin(
    client: TestClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    status: int = 200,
    schema: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """One admin call: status, JSON content type, and the body's schema (admin/error for errors)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    resp = await client.request(method, A + path, data=data, headers=headers)
    text = await resp.text()
    assert resp.status == status, text
    assert resp.content_type == "application/json", resp.content_type
    parsed = json.loads(text)
    if status >= 400:
        schema = schema or "admin/error"
    if schema is not None:
        assert schemas.errors(schema, parsed) == [], (schema, parsed)
    return parsed


async def audit(client: TestClient, token: str, image: str = PLAIN) -> dict[str, Any]:
    status, body = await face_audit(client, token, {"configId": "1", "images": image})
    assert status == 200
    return body


async def last_entry(client: TestClient) -> dict[str, Any]:
    body = await admin(client, "GET", "/journal?limit=1", schema="admin/journal")
    [entry] = body["entries"]
    return entry  # type: ignore[no-any-return]


# --- health, reset, unknown paths -------------------------------------------------------------------


async def test_health(client: TestClient) -> None:
    body = await admin(client, "GET", "/health", schema="admin/health")
    assert body["status"] == "ok"
    assert "baidu" in body["vendors"]
    assert body["journal_entries"] == 0
    assert body["clock"]["frozen"] is False


@pytest.mark.parametrize("path", ["/nope", "/oauth/2.0/tokens", A + "/nope", A + "/vendors/baidu/nope"])
async def test_unknown_paths_outside_any_vendor_are_404_json(client: TestClient, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 404
    body = await resp.json()
    assert schemas.errors("admin/error", body) == []
    assert body == {"error": "Not Found", "detail": f"GET {path}"}


async def test_wrong_method_on_an_admin_path_is_405_json(client: TestClient) -> None:
    body = await admin(client, "PUT", "/health", status=405)
    assert body["error"] == "Method Not Allowed"


async def test_reset_restores_credentials_tokens_journal_faults_clock_and_queues(
    client: TestClient, sim: Sim
) -> None:
    token = await baidu_token(client)
    await admin(client, "POST", "/credentials", {"vendor": "baidu", "id": "temp", "secret": "s"}, status=201)
    await admin(client, "DELETE", f"/credentials/baidu/{BAIDU_API_KEY}")
    await admin(client, "POST", "/faults", [{"operation": "spam", "action": {"type": "error", "code": 18}}])
    await admin(client, "POST", "/clock", {"advance_s": 86400, "freeze": True})
    await admin(client, "POST", "/scenarios", {"name": "temp_scenario"}, status=201)
    await admin(client, "POST", "/queue", {"scenario": "porn", "count": 5}, status=201)
    await admin(client, "PATCH", "/rules", {"rules": [{"match": {"vendor": "baidu"}, "scenario": "porn"}]})
    assert (await admin(client, "GET", "/health"))["journal_entries"] == 1

    assert await admin(client, "POST", "/reset") == {"status": "reset"}

    creds = {c["id"] for c in (await admin(client, "GET", "/credentials?vendor=baidu"))["credentials"]}
    assert BAIDU_API_KEY in creds and "temp" not in creds
    assert (await admin(client, "GET", "/faults", schema="admin/faults")) == {"rules": []}
    assert (await admin(client, "GET", "/journal", schema="admin/journal")) == {"entries": []}
    clock = await admin(client, "GET", "/clock", schema="admin/clock")
    assert clock["frozen"] is False and abs(clock["offset_s"]) < 5
    assert (await admin(client, "GET", "/queue")) == {"queue": []}
    assert (await admin(client, "GET", "/rules")) == {"rules": []}
    names = {s["name"] for s in (await admin(client, "GET", "/scenarios"))["scenarios"]}
    assert "temp_scenario" not in names and "clean_avatar" in names
    assert (await admin(client, "GET", "/vendors/baidu/tokens")) == {"tokens": []}
    # the token issued before the reset is gone; the restored credential gets a new one
    assert (await audit(client, token))["error_code"] == 110
    assert "result" in await audit(client, await baidu_token(client))


# --- clock ------------------------------------------------------------------------------------------


async def test_clock_advance_freeze_set(client: TestClient) -> None:
    body = await admin(client, "POST", "/clock", {"advance_s": 3600}, schema="admin/clock")
    assert 3595 < body["offset_s"] < 3605 and body["frozen"] is False
    frozen = await admin(client, "POST", "/clock", {"freeze": True}, schema="admin/clock")
    assert frozen["frozen"] is True
    await asyncio.sleep(0.05)
    assert (await admin(client, "GET", "/clock"))["now"] == frozen["now"]
    body = await admin(client, "POST", "/clock", {"set": 2_000_000_000}, schema="admin/clock")
    assert body == {**body, "now": 2_000_000_000, "iso": "2033-05-18T03:33:20Z", "frozen": True}
    # applied in order set, advance, freeze
    body = await admin(client, "POST", "/clock", {"set": 1_000, "advance_s": 500, "freeze": False})
    assert 1_500 <= body["now"] < 1_510 and body["frozen"] is False


async def test_clock_drives_token_expiry(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(client, "POST", "/clock", {"advance_s": 2592000 - 60})
    assert "result" in await audit(client, token)
    await admin(client, "POST", "/clock", {"advance_s": 120})
    body = await audit(client, token)
    assert body == {"error_code": 111, "error_msg": "Access token expired"}
    entry = await last_entry(client)
    assert entry["auth"]["outcome"] == "rejected" and "expired" in entry["auth"]["reason"]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{}", "invalid_request"),  # nothing to do
        (b'{"advance_s": "soon"}', "invalid_request"),
        (b'{"freeze": 1}', "invalid_request"),
        (b'{"rewind": 5}', "invalid_request"),
        (b"[]", "invalid_request"),
        (b"", "invalid_request"),  # null
        (b"{not json", "invalid_json"),
    ],
)
async def test_clock_rejects_invalid_bodies(client: TestClient, raw: bytes, error: str) -> None:
    body = await admin(client, "POST", "/clock", raw=raw, status=400)
    assert body["error"] == error
    assert (await admin(client, "GET", "/clock"))["frozen"] is False


# --- journal ----------------------------------------------------------------------------------------


async def test_journal_entries_and_filters(client: TestClient) -> None:
    token = await baidu_token(client)
    await audit(client, token, image_b64("clean_avatar"))
    await face_audit(client, "24.bogus", {"images": PLAIN})

    body = await admin(client, "GET", "/journal", schema="admin/journal")
    issued, ok, rejected = body["entries"]
    assert [e["seq"] for e in body["entries"]] == sorted(e["seq"] for e in body["entries"])
    assert issued["operation"] == "token" and issued["status"] == 200
    assert issued["auth"]["outcome"] == "ok" and issued["credential"] == BAIDU_API_KEY
    assert ok["vendor"] == "baidu" and ok["operation"] == "face_audit"
    assert ok["method"] == "POST" and ok["path"] == FACE_AUDIT
    assert (ok["status"], ok["vendor_code"]) == (200, 0)
    assert ok["auth"]["outcome"] == "ok" and ok["auth"]["reason"]
    assert ok["credential"] == BAIDU_API_KEY
    assert ok["scenario"] == ["clean_avatar"] and ok["scenario_source"] == ["marker"]
    assert ok["latency_ms"] >= 0 and ok["fault"] is None
    assert (rejected["status"], rejected["vendor_code"]) == (200, 110)
    assert rejected["auth"]["outcome"] == "rejected"
    assert "never issued" in rejected["auth"]["reason"]
    assert rejected["scenario"] == []

    assert (await admin(client, "GET", "/journal?vendor=baidu"))["entries"] == body["entries"]
    assert (await admin(client, "GET", "/journal?vendor=aliyun"))["entries"] == []
    assert (await admin(client, "GET", "/journal?limit=2"))["entries"] == [ok, rejected]
    only = await admin(client, "GET", "/journal?operation=token", schema="admin/journal")
    assert only["entries"] == [issued]
    by_id = await admin(client, "GET", f"/journal?request_id={ok['request_id']}")
    assert by_id["entries"] == [ok]
    bad = await admin(client, "GET", "/journal?limit=lots", status=400)
    assert bad["error"] == "invalid_request"

    assert await admin(client, "DELETE", "/journal", schema="admin/journal") == {"entries": []}
    assert (await admin(client, "GET", "/health"))["journal_entries"] == 0


async def test_admin_calls_are_not_journalled(client: TestClient) -> None:
    for _ in range(3):
        await admin(client, "GET", "/health")
    assert (await admin(client, "GET", "/journal"))["entries"] == []


async def test_unknown_vendor_paths_are_journalled_as_vendor_requests(client: TestClient) -> None:
    resp = await client.get("/rest/2.0/nope")
    assert (resp.status, await resp.json()) == (
        200,
        {"error_code": 3, "error_msg": "Unsupported openapi method"},
    )
    entry = await last_entry(client)
    assert (entry["vendor"], entry["operation"], entry["vendor_code"]) == ("baidu", "unknown_method", 3)


# --- faults: CRUD -----------------------------------------------------------------------------------

E18 = {"type": "error", "code": 18}


async def test_faults_crud(client: TestClient) -> None:
    assert await admin(client, "GET", "/faults", schema="admin/faults") == {"rules": []}
    body = await admin(client, "POST", "/faults", [{"id": "a", "action": E18}], schema="admin/faults")
    assert [r["id"] for r in body["rules"]] == ["a"]
    body = await admin(
        client,
        "PATCH",
        "/faults",
        {"rules": [{"id": "b", "operation": "spam", "action": E18}, {"action": {"type": "reset"}}]},
        schema="admin/faults",
    )
    assert [r["id"] for r in body["rules"]] == ["a", "b", "f3"]  # generated ids count every rule built
    assert body["rules"][1] == {
        "id": "b",
        "operation": "spam",
        "probability": 1.0,
        "action": E18,
        "seen": 0,
        "hits": 0,
    }
    # POST replaces
    body = await admin(
        client, "POST", "/faults", {"rules": [{"id": "c", "action": E18}]}, schema="admin/faults"
    )
    assert [r["id"] for r in body["rules"]] == ["c"]
    await admin(client, "PATCH", "/faults", [{"id": "d", "action": E18}])
    body = await admin(client, "DELETE", "/faults/c", schema="admin/faults")
    assert [r["id"] for r in body["rules"]] == ["d"]
    missing = await admin(client, "DELETE", "/faults/c", status=404)
    assert missing["error"] == "not_found"
    assert await admin(client, "DELETE", "/faults", schema="admin/faults") == {"rules": []}


@pytest.mark.parametrize(
    "body",
    [
        [{"action": {"type": "explode"}}],
        [{"action": E18, "probability": 2}],
        [{"action": E18, "first_n": 0}],
        {"rules": [{"action": E18}], "extra": True},
        {"rule": []},
        [{"operation": "face_audit"}],
        "error",
    ],
)
async def test_faults_reject_invalid_rules_and_keep_the_old_ones(client: TestClient, body: Any) -> None:
    await admin(client, "POST", "/faults", [{"id": "keep", "action": E18}])
    for method in ("POST", "PATCH"):
        err = await admin(client, method, "/faults", body, status=400)
        assert err["error"] == "invalid_request" and err["detail"]
    assert [r["id"] for r in (await admin(client, "GET", "/faults"))["rules"]] == ["keep"]
    err = await admin(client, "POST", "/faults", raw=b"[{", status=400)
    assert err["error"] == "invalid_json"


# --- faults: actions, end to end on face_audit ------------------------------------------------------


async def test_fault_latency_delays_a_normal_answer(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(
        client,
        "POST",
        "/faults",
        [{"id": "slow", "operation": "face_audit", "action": {"type": "latency", "ms": 150}}],
    )
    body = await audit(client, token)
    assert [list(body), len(body["result"])] == [["log_id", "result"], 1]
    entry = await last_entry(client)
    assert entry["latency_ms"] >= 150
    assert entry["fault"] == {"rule": "slow", "action": {"type": "latency", "ms": 150}, "latency_ms": 150.0}
    assert (entry["status"], entry["vendor_code"]) == (200, 0)


@pytest.mark.parametrize(
    ("action", "status", "body"),
    [
        ({"type": "http", "status": 503}, 503, b""),
        ({"type": "http", "status": 503, "body": "empty"}, 503, b""),
        ({"type": "http", "status": 502, "body": "garbled"}, 502, None),
    ],
)
async def test_fault_http_answers_a_bare_status(
    client: TestClient, action: dict[str, Any], status: int, body: bytes | None
) -> None:
    token = await baidu_token(client)
    await admin(client, "POST", "/faults", [{"operation": "face_audit", "action": action}])
    resp = await client.post(FACE_AUDIT, params={"access_token": token}, data={"images": PLAIN})
    raw = await resp.read()
    assert resp.status == status
    if body is not None:
        assert raw == body
    else:  # garbled: not JSON, not UTF-8
        assert raw
        with pytest.raises(ValueError):
            json.loads(raw)
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    entry = await last_entry(client)
    assert entry["status"] == status and entry["fault"]["action"] == action
    # the token endpoint is untouched by a face_audit rule
    await baidu_token(client)


async def test_fault_error_answers_the_vendor_code(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(
        client, "POST", "/faults", [{"operation": "face_audit", "action": {"type": "error", "code": 17}}]
    )
    assert await audit(client, token) == {
        "error_code": 17,
        "error_msg": "Open api daily request limit reached",
    }
    assert (await last_entry(client))["vendor_code"] == 17


async def test_fault_first_n_then_success(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(
        client, "POST", "/faults", [{"id": "qps", "operation": "face_audit", "first_n": 2, "action": E18}]
    )
    answers = [await audit(client, token) for _ in range(4)]
    qps = {"error_code": 18, "error_msg": "Open api qps request limit reached"}
    assert answers[:2] == [qps, qps]
    assert all("result" in a for a in answers[2:])
    [rule] = (await admin(client, "GET", "/faults", schema="admin/faults"))["rules"]
    assert (rule["seen"], rule["hits"]) == (4, 2)


async def test_fault_every_nth(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(
        client,
        "POST",
        "/faults",
        [{"operation": "face_audit", "every_nth": 2, "action": {"type": "http", "status": 503}}],
    )
    statuses = []
    for _ in range(6):
        resp = await client.post(FACE_AUDIT, params={"access_token": token}, data={"images": PLAIN})
        await resp.read()
        statuses.append(resp.status)
    assert statuses == [200, 503] * 3


async def test_fault_matching_by_credential(client: TestClient) -> None:
    mine = await baidu_token(client)
    other = await baidu_token(client, "demo-baidu-cloud-key", "demo-baidu-cloud-secret")
    await admin(client, "POST", "/faults", [{"credential": BAIDU_API_KEY, "action": E18}])
    assert (await audit(client, mine))["error_code"] == 18
    assert "result" in await audit(client, other)


async def test_fault_reset_drops_the_connection(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(
        client,
        "POST",
        "/faults",
        [{"id": "rst", "operation": "face_audit", "first_n": 1, "action": {"type": "reset"}}],
    )
    with pytest.raises(aiohttp.ClientError):
        resp = await client.post(FACE_AUDIT, params={"access_token": token}, data={"images": PLAIN})
        await resp.read()
    entry = await last_entry(client)
    assert entry["fault"]["rule"] == "rst"
    # the next call is served normally
    assert "result" in await audit(client, token)


async def test_fault_hang_then_close(client: TestClient) -> None:
    token = await baidu_token(client)
    await admin(
        client, "POST", "/faults", [{"operation": "face_audit", "action": {"type": "hang", "max_s": 0.2}}]
    )
    t0 = time.perf_counter()
    with pytest.raises(aiohttp.ClientError):
        resp = await client.post(FACE_AUDIT, params={"access_token": token}, data={"images": PLAIN})
        await resp.read()
    assert time.perf_counter() - t0 >= 0.2


async def test_fault_reset_on_a_real_socket(live: Any) -> None:
    live.call(live.sim.faults.replace, [{"operation": "token", "action": {"type": "reset"}}])
    params = {"grant_type": "client_credentials", "client_id": BAIDU_API_KEY, "client_secret": BAIDU_SECRET}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.get(live.url + TOKEN, params=params) as resp:
                await resp.read()


# --- credentials ------------------------------------------------------------------------------------


async def test_a_new_credential_can_get_a_token_until_deleted(client: TestClient) -> None:
    cred = {"vendor": "baidu", "id": "new-key", "secret": "new-secret", "attrs": {"app_id": "42"}}
    assert await admin(client, "POST", "/credentials", cred, status=201) == cred
    listed = (await admin(client, "GET", "/credentials?vendor=baidu"))["credentials"]
    assert cred in listed
    token = await baidu_token(client, "new-key", "new-secret")
    assert token.startswith("24.") and token.endswith(".282335-42")
    assert "result" in await audit(client, token)

    assert await admin(client, "DELETE", "/credentials/baidu/new-key") == {"deleted": True}
    assert (await admin(client, "DELETE", "/credentials/baidu/new-key", status=404))["error"] == "not_found"
    resp = await client.get(
        TOKEN,
        params={"grant_type": "client_credentials", "client_id": "new-key", "client_secret": "new-secret"},
    )
    assert (resp.status, await resp.json()) == (
        401,
        {"error_description": "unknown client id", "error": "invalid_client"},
    )
    # tokens issued to a deleted key stop working
    assert (await audit(client, token))["error_code"] == 110


async def test_credential_replace_changes_the_secret(client: TestClient) -> None:
    await admin(
        client,
        "POST",
        "/credentials",
        {"vendor": "baidu", "id": BAIDU_API_KEY, "secret": "rotated"},
        status=201,
    )
    resp = await client.get(
        TOKEN,
        params={
            "grant_type": "client_credentials",
            "client_id": BAIDU_API_KEY,
            "client_secret": BAIDU_SECRET,
        },
    )
    assert resp.status == 401
    assert (await resp.json())["error_description"] == "Client authentication failed"
    await baidu_token(client, BAIDU_API_KEY, "rotated")


@pytest.mark.parametrize(
    "body",
    [
        {"vendor": "nope", "id": "x"},
        {"vendor": "baidu"},
        {"vendor": "baidu", "id": ""},
        {"vendor": "baidu", "id": "x", "colour": "red"},
        [],
    ],
)
async def test_credentials_reject_invalid_bodies(client: TestClient, body: Any) -> None:
    err = await admin(client, "POST", "/credentials", body, status=400)
    assert err["error"] == "invalid_request"


# --- scenarios, queue, rules ------------------------------------------------------------------------

MY_SCENARIO = {
    "name": "my_custom",
    "description": "no face, explicit",
    "porn": {"porn": 0.97, "sexy": 0.02, "normal": 0.01},
    "tags": ["test"],
}


async def test_scenarios_list_and_post_then_queue(client: TestClient) -> None:
    listed = (await admin(client, "GET", "/scenarios"))["scenarios"]
    clean = next(s for s in listed if s["name"] == "clean_avatar")
    assert set(clean) == {"name", "description", "tags"}
    assert await admin(client, "POST", "/scenarios", MY_SCENARIO, status=201) == {"name": "my_custom"}
    listed = (await admin(client, "GET", "/scenarios"))["scenarios"]
    assert {"name": "my_custom", "description": "no face, explicit", "tags": ["test"]} in listed

    token = await baidu_token(client)
    queued = await admin(
        client, "POST", "/queue", {"scenario": "my_custom", "operation": "face_audit", "count": 2}, status=201
    )
    assert queued == {
        "queue": [
            {
                "scenario": "my_custom",
                "vendor": None,
                "operation": "face_audit",
                "credential": None,
                "remaining": 2,
            }
        ]
    }
    for remaining in (1, 0):
        [item] = (await audit(client, token))["result"]
        assert (item["res_code"], item["res_msg"]) == (1, [201, 301])
        assert item["data"]["face"]["result_num"] == 0
        entry = await last_entry(client)
        assert (entry["scenario"], entry["scenario_source"]) == (["my_custom"], ["queued"])
        assert len((await admin(client, "GET", "/queue"))["queue"]) == remaining
    # then the deterministic default again
    [item] = (await audit(client, token))["result"]
    assert item["data"]["face"]["result_num"] == 1
    entry = await last_entry(client)
    assert (entry["scenario"], entry["scenario_source"]) == (["default"], ["default"])


async def test_queue_applies_to_its_credential_only_and_clears(client: TestClient) -> None:
    mine = await baidu_token(client)
    other = await baidu_token(client, "demo-baidu-cloud-key", "demo-baidu-cloud-secret")
    await admin(
        client, "POST", "/queue", {"scenario": "porn", "credential": "demo-baidu-cloud-key"}, status=201
    )
    await audit(client, mine)
    assert (await last_entry(client))["scenario"] == ["default"]
    await audit(client, other)
    assert (await last_entry(client))["scenario"] == ["porn"]
    await admin(client, "POST", "/queue", {"scenario": "porn", "count": 3}, status=201)
    assert await admin(client, "DELETE", "/queue") == {"queue": []}
    await audit(client, mine)
    assert (await last_entry(client))["scenario"] == ["default"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/scenarios", {"name": "has space"}),
        ("/scenarios", {"name": "x", "porn": {"porn": 1.5}}),
        ("/scenarios", {"description": "no name"}),
        ("/queue", {"scenario": "ghost"}),
        ("/queue", {"scenario": "porn", "count": 0}),
        ("/queue", {"count": 1}),
    ],
)
async def test_scenarios_and_queue_reject_invalid_bodies(client: TestClient, path: str, body: Any) -> None:
    err = await admin(client, "POST", path, body, status=400)
    assert err["error"] == "invalid_request"


async def test_rules_patch_goes_first_and_delete_restores_the_fixture_rules(client: TestClient) -> None:
    token = await baidu_token(client)
    body = await admin(
        client,
        "PATCH",
        "/rules",
        {"rules": [{"name": "by-hash", "match": {"sha256": PLAIN_SHA}, "scenario": "porn"}]},
    )
    assert body["rules"][0] == {
        "name": "by-hash",
        "match": {"sha256": PLAIN_SHA},
        "scenario": "porn",
        "download": None,
        "file": None,
    }
    [item] = (await audit(client, token))["result"]
    assert item["res_msg"] == [301]
    entry = await last_entry(client)
    assert (entry["scenario"], entry["scenario_source"]) == (["porn"], ["rule:by-hash"])
    # a later PATCH goes before the earlier one
    body = await admin(
        client,
        "PATCH",
        "/rules",
        {"rules": [{"name": "mine", "match": {"credential": BAIDU_API_KEY}, "scenario": "sexy"}]},
    )
    assert [r["name"] for r in body["rules"]] == ["mine", "by-hash"]
    await audit(client, token)
    assert (await last_entry(client))["scenario_source"] == ["rule:mine"]

    assert await admin(client, "DELETE", "/rules") == {"rules": []}
    await audit(client, token)
    assert (await last_entry(client))["scenario_source"] == ["default"]


@pytest.mark.parametrize(
    "body",
    [
        {"rules": [{"match": {"vendor": "baidu"}, "scenario": "ghost"}]},
        {"rules": [{"match": {"url": "https://x/*"}, "file": "a.png"}]},
        {"rules": [{"match": {}, "scenario": "porn"}]},
        {"rules": [{"match": {"sha256": "ABC"}, "scenario": "porn"}]},
        {"rule": []},
    ],
)
async def test_rules_reject_invalid_bodies(client: TestClient, body: Any) -> None:
    err = await admin(client, "PATCH", "/rules", body, status=400)
    assert err["error"] == "invalid_request"
    assert (await admin(client, "GET", "/rules")) == {"rules": []}


# --- Baidu's own admin routes -----------------------------------------------------------------------


async def test_baidu_tokens_list_and_revoke(client: TestClient) -> None:
    t1 = await baidu_token(client)
    t2 = await baidu_token(client)
    t3 = await baidu_token(client, "demo-baidu-cloud-key", "demo-baidu-cloud-secret")
    tokens = (await admin(client, "GET", "/vendors/baidu/tokens"))["tokens"]
    assert [t["token"] for t in tokens] == [t1, t2, t3]
    assert tokens[0]["api_key"] == BAIDU_API_KEY and tokens[0]["app_id"] == "10000001"
    assert tokens[0]["expires"] - tokens[0]["issued"] == 2592000 and tokens[0]["revoked"] is False

    assert await admin(client, "POST", "/vendors/baidu/tokens/revoke", {"token": t1}) == {"revoked": 1}
    assert await audit(client, t1) == {
        "error_code": 110,
        "error_msg": "Access token invalid or no longer valid",
    }
    assert "revoked" in (await last_entry(client))["auth"]["reason"]
    assert "result" in await audit(client, t2)

    assert await admin(client, "POST", "/vendors/baidu/tokens/revoke", {"api_key": BAIDU_API_KEY}) == {
        "revoked": 2
    }
    assert (await audit(client, t2))["error_code"] == 110
    assert "result" in await audit(client, t3)
    revoked = {
        t["token"]: t["revoked"] for t in (await admin(client, "GET", "/vendors/baidu/tokens"))["tokens"]
    }
    assert revoked == {t1: True, t2: True, t3: False}


@pytest.mark.parametrize(
    ("raw", "error"), [(b"{}", "invalid_request"), (b"[]", "invalid_request"), (b"{", "invalid_json")]
)
async def test_baidu_revoke_rejects_invalid_bodies(client: TestClient, raw: bytes, error: str) -> None:
    err = await admin(client, "POST", "/vendors/baidu/tokens/revoke", raw=raw, status=400)
    assert err["error"] == error


# --- access control ---------------------------------------------------------------------------------


def peer(address: str) -> Any:
    @web.middleware
    async def fake_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request.clone(remote=address))

    return fake_peer


async def app_client(aiohttp_client: Any, settings: Settings, remote: str | None = None) -> TestClient:
    app = create_app(sim=Sim(settings))
    if remote is not None:  # a test-only outermost middleware standing in for a remote peer
        app.middlewares.insert(0, peer(remote))
    client: TestClient = await aiohttp_client(app)
    return client


@pytest.mark.parametrize("remote", ["10.1.2.3", "192.168.0.9", "2001:db8::1", "unknown"])
async def test_admin_answers_loopback_peers_only(aiohttp_client: Any, remote: str) -> None:
    client = await app_client(aiohttp_client, Settings(admin_allow_remote=False), remote)
    for method, path in (("GET", "/faults"), ("POST", "/reset"), ("GET", "/vendors/baidu/tokens")):
        err = await admin(client, method, path, status=403)
        assert err["error"] == "forbidden"
    # health answers every prober, but says nothing more than that
    assert await admin(client, "GET", "/health") == {"status": "ok"}
    # the vendor endpoints serve everyone
    await baidu_token(client)


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.8.9.10", "::1"])
async def test_admin_loopback_peers_are_served(aiohttp_client: Any, remote: str) -> None:
    client = await app_client(aiohttp_client, Settings(admin_allow_remote=False), remote)
    await admin(client, "GET", "/health", schema="admin/health")


async def test_admin_allow_remote(aiohttp_client: Any) -> None:
    settings = Settings(admin_allow_remote=True, admin_token="t0k")
    client = await app_client(aiohttp_client, settings, "10.1.2.3")
    await admin(client, "GET", "/health", schema="admin/health", headers={"X-Modsim-Token": "t0k"})


@pytest.fixture
async def token_client(aiohttp_client: Any) -> AsyncIterator[TestClient]:
    yield await app_client(aiohttp_client, Settings(admin_token="s3cret"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Modsim-Token": ""},
        {"X-Modsim-Token": "wrong"},
        {"X-Modsim-Token": "S3CRET"},
        {"X-Modsim-Token": "s3cret2"},
    ],
)
async def test_admin_token_required(token_client: TestClient, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/faults"), ("POST", "/reset"), ("GET", "/vendors/baidu/tokens")):
        err = await admin(token_client, method, path, status=401, headers=headers)
        assert err["error"] == "unauthorized"
    # a container's health check needs no token, and learns only that the server is up
    assert await admin(token_client, "GET", "/health", headers=headers) == {"status": "ok"}


async def test_admin_token_accepted(token_client: TestClient) -> None:
    ok = {"X-Modsim-Token": "s3cret"}
    await admin(token_client, "GET", "/health", headers=ok, schema="admin/health")
    assert await admin(token_client, "POST", "/reset", headers=ok) == {"status": "reset"}
    # the vendor endpoints need no admin token
    await baidu_token(token_client)
