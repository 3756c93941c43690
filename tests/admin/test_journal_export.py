"""Journal export: JSON lines and HAR 1.2."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from simulator.schemas import errors
from tests.helpers import baidu_token, face_audit, image_b64


async def test_jsonl_has_one_entry_per_line(client: TestClient) -> None:
    token = await baidu_token(client)
    await face_audit(client, token, {"images": image_b64("porn")})
    resp = await client.get("/__modsim/journal", params={"format": "jsonl"})
    assert resp.status == 200 and resp.content_type == "application/x-ndjson"
    lines = (await resp.text()).splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["operation"] for e in entries] == ["token", "face_audit"]
    assert entries[1]["scenario"] == ["porn"]


async def test_har_document(client: TestClient) -> None:
    token = await baidu_token(client)
    await face_audit(client, token, {"configId": "1", "images": image_b64("phone_number")})
    resp = await client.get("/__modsim/journal", params={"format": "har", "vendor": "baidu"})
    har = await resp.json()
    assert errors("admin/har", har) == []
    token_entry, audit_entry = har["log"]["entries"]
    assert har["log"]["creator"]["name"] == "modsim"
    assert token_entry["request"]["method"] == "GET"
    assert {"name": "grant_type", "value": "client_credentials"} in token_entry["request"]["queryString"]
    assert token_entry["response"]["status"] == 200
    req = audit_entry["request"]
    assert (
        req["url"].startswith("http://127.0.0.1:")
        and "/rest/2.0/solution/v1/face_audit?access_token=" in req["url"]
    )
    assert req["postData"]["mimeType"] == "application/x-www-form-urlencoded"
    assert req["postData"]["text"].startswith("configId=1&images=")
    content = audit_entry["response"]["content"]
    assert content["mimeType"].startswith("application/json")
    assert content["text"].startswith('{"log_id":')
    assert audit_entry["_modsim"]["vendor_code"] == 0 and audit_entry["_modsim"]["scenario"] == [
        "phone_number"
    ]
    assert audit_entry["_modsim"]["truncated"] is True  # the base64 image is longer than 1 KB


async def test_unknown_format_is_refused(client: TestClient) -> None:
    resp = await client.get("/__modsim/journal", params={"format": "xml"})
    assert resp.status == 400
    assert errors("admin/error", await resp.json()) == []
