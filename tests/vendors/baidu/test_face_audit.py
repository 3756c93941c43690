"""face_audit behaviour beyond error codes: policies, ordering, URL forms, multipart, determinism."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.content import make_image
from simulator.settings import Settings
from simulator.sim import Sim
from tests.helpers import FACE_AUDIT, baidu_token, face_audit, image_b64, without_log_ids

ALL_SERVICES = ["ocr", "face", "antiporn", "terror", "public", "politician", "quality"]


async def test_empty_config_id_uses_default_config(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await face_audit(client, token, {"configId": "", "images": image_b64("clean_avatar")})
    assert status == 200
    [item] = body["result"]
    assert list(item["data"]) == ALL_SERVICES
    assert item == {**item, "res_code": 0, "res_msg": []}


async def test_config_2_runs_only_its_services_and_rules(client: TestClient) -> None:
    token = await baidu_token(client)
    _, body = await face_audit(client, token, {"configId": "2", "images": image_b64("star_face")})
    [item] = body["result"]
    assert list(item["data"]) == ["antiporn", "terror"]
    assert item["res_code"] == 0 and item["res_msg"] == []


async def test_empty_config_id_can_be_configured_as_error(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "strict.yaml").write_text(
        "vendors:\n  baidu:\n    empty_config_id: error\n", encoding="utf-8"
    )
    sim = Sim(Settings(fixtures=(tmp_path,), validate_responses=True))
    client = await aiohttp_client(create_app(sim=sim))
    token = await baidu_token(client)
    _, body = await face_audit(client, token, {"images": image_b64()})
    assert body["error_code"] == 282800
    assert body["error_msg"] == "configId param is error or null"
    assert sim.schema_violations == []


async def test_one_result_per_image_in_order(client: TestClient) -> None:
    token = await baidu_token(client)
    names = ["porn", "clean_avatar", "two_faces", "qq_number", "bloody", "no_face"]
    images = ",".join(image_b64(n) for n in names)
    _, body = await face_audit(client, token, {"configId": "1", "images": images})
    assert [r["res_msg"] for r in body["result"]] == [[301], [], [203], [102], [201, 401, 501], [201]]
    assert [r["res_code"] for r in body["result"]] == [1, 0, 1, 1, 1, 1]
    journal = await (await client.get("/__modsim/journal", params={"vendor": "baidu", "limit": "1"})).json()
    assert journal["entries"][0]["scenario"] == names
    assert journal["entries"][0]["scenario_source"] == ["marker"] * 6


async def test_identity_rules_and_data_blocks(client: TestClient) -> None:
    token = await baidu_token(client)
    names = ["star_face", "politician_face", "public_figure", "blacklisted_user"]
    _, body = await face_audit(
        client, token, {"configId": "1", "images": ",".join(image_b64(n) for n in names)}
    )
    star, pol, pub, black = body["result"]
    assert star["res_msg"] == [204]
    assert star["data"]["public"]["result"][0]["stars"][0]["name"] == "范冰冰"
    assert pol["res_msg"] == [205]
    assert pol["data"]["politician"]["include_politician"] == "是"
    assert pol["data"]["politician"]["result"][0]["stars"][0]["star_id"] == "515617"
    assert pub["res_msg"] == [206]
    assert black["res_msg"] == [207]


async def test_ocr_rules(client: TestClient) -> None:
    token = await baidu_token(client)
    names = ["phone_number", "qq_number", "suspect_digits", "competitor_name"]
    _, body = await face_audit(
        client, token, {"configId": "1", "images": ",".join(image_b64(n) for n in names)}
    )
    assert [r["res_msg"] for r in body["result"]] == [[101], [102], [104], [103]]


async def test_java_raw_urls_and_python_double_encoded_urls(client: TestClient) -> None:
    token = await baidu_token(client)
    urls = [
        "http://img.example.invalid/a.jpg#modsim=porn",
        "https://img.example.invalid/b c.png#modsim=clean_avatar",
    ]
    raw = ",".join(urls)
    sdk = ",".join(quote(u) for u in urls)
    _, body_raw = await face_audit(client, token, {"imgUrls": raw})
    _, body_sdk = await face_audit(client, token, {"imgUrls": sdk})
    assert [r["res_msg"] for r in body_raw["result"]] == [[301], []]
    assert without_log_ids(body_sdk) == without_log_ids(body_raw)


async def test_url_rule_serving_a_fixture_file(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "avatar.jpg").write_bytes(make_image("sexy", "jpeg"))
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - name: cdn\n    match: {url: 'https://cdn.test.invalid/*'}\n    file: avatar.jpg\n",
        encoding="utf-8",
    )
    sim = Sim(Settings(fixtures=(tmp_path,), validate_responses=True))
    client = await aiohttp_client(create_app(sim=sim))
    token = await baidu_token(client)
    _, body = await face_audit(client, token, {"imgUrls": "https://cdn.test.invalid/u/1.jpg"})
    assert body["result"][0]["res_msg"] == [302]
    assert sim.schema_violations == []


async def test_multipart_form_as_the_cpp_sample_sends(client: TestClient) -> None:
    token = await baidu_token(client)
    form = FormData()
    form.add_field("configId", "1")
    form.add_field("images", image_b64("phone_number"))
    resp = await client.post(FACE_AUDIT, params={"access_token": token}, data=form)
    body = await resp.json()
    assert resp.status == 200
    assert body["result"][0]["res_msg"] == [101]


async def test_sdk_query_params_are_ignored(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await face_audit(
        client, token, {"images": image_b64()}, aipSdk="python", aipVersion="2_2_18", aipSdkVersion="x"
    )
    assert status == 200 and len(body["result"]) == 1


async def test_same_content_same_seed_same_answer(client: TestClient) -> None:
    token = await baidu_token(client)
    data = {"images": image_b64(None, size=(200, 180))}
    _, a = await face_audit(client, token, data)
    _, b = await face_audit(client, token, data)
    assert without_log_ids(a) == without_log_ids(b)
    assert a["log_id"] != b["log_id"]


async def test_default_scenario_depends_on_seed(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    image = base64.b64encode(make_image(None, "png", (200, 180))).decode()
    faces = []
    for seed in (0, 0, 1):
        client = await aiohttp_client(create_app(sim=Sim(Settings(seed=seed))))
        token = await baidu_token(client)
        _, body = await face_audit(client, token, {"images": image})
        faces.append(body["result"][0]["data"]["face"]["result"][0]["location"])
    assert faces[0] == faces[1]
    assert faces[0] != faces[2]


async def test_queued_outcome_beats_marker(client: TestClient) -> None:
    token = await baidu_token(client)
    resp = await client.post("/__modsim/queue", json={"scenario": "porn", "vendor": "baidu", "count": 1})
    assert resp.status == 201
    _, first = await face_audit(client, token, {"images": image_b64("clean_avatar")})
    _, second = await face_audit(client, token, {"images": image_b64("clean_avatar")})
    assert first["result"][0]["res_msg"] == [301]
    assert second["result"][0]["res_msg"] == []


async def test_token_by_post_form_as_the_java_sdk_sends(client: TestClient) -> None:
    resp = await client.post(
        "/oauth/2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-baidu-api-key",
            "client_secret": "demo-baidu-secret-key",
        },
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["access_token"].endswith(".282335-10000001")
    assert body["expires_in"] == 2592000
    assert "brain_all_scope" in body["scope"].split(" ")
