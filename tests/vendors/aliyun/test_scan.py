"""Green image moderation on the vendor-neutral truth: scenes, bizType policies, dataIds, async
tasks on the simulator clock, and the face library's matching (in-process client)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.content import make_image
from simulator.scenarios.loader import ScenarioRule
from simulator.settings import Settings
from simulator.sim import Sim
from tests.vendors.aliyun.helpers import ASYNC, RESULTS, SCAN, green, scan_body

ALL = ("porn", "terrorism", "ad", "qrcode", "live", "logo", "sface")


def marker(name: str) -> str:
    return f"https://img.example.invalid/{name}.jpg#modsim={name}"


async def verdicts(
    client: TestClient, scenario: str, scenes: tuple[str, ...] = ALL, **extra: Any
) -> dict[str, Any]:
    status, body, _ = await green(client, SCAN, scan_body(marker(scenario), scenes=scenes, **extra))
    assert (status, body["code"]) == (200, 200), body
    return {r["scene"]: r for r in body["data"][0]["results"]}


def short(results: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {k: (v["label"], v["suggestion"]) for k, v in results.items()}


async def test_clean_avatar_passes_every_scene(client: TestClient) -> None:
    r = await verdicts(client, "clean_avatar")
    assert short(r) == {s: ("normal", "pass") for s in ALL}
    assert r["porn"]["rate"] == 97.16  # the truth's normal probability


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("porn", {"porn": ("porn", "block")}),
        ("sexy", {"porn": ("sexy", "review")}),
        ("bloody", {"terrorism": ("bloody", "block")}),
        ("terror_flag", {"terrorism": ("flag", "review")}),  # 88 < 90
        ("qrcode_ad", {"qrcode": ("qrcode", "block"), "ad": ("ad", "block")}),
        ("logo", {"logo": ("trademark", "block")}),
        ("smoking", {"live": ("smoking", "block")}),
        ("politician_face", {"sface": ("sface", "review")}),
        ("star_face", {}),
        ("phone_number", {"ad": ("ad", "review")}),
    ],
)
async def test_scenario_truth_through_the_default_policy(
    client: TestClient, scenario: str, expected: dict[str, tuple[str, str]]
) -> None:
    r = short(await verdicts(client, scenario))
    want = {s: ("normal", "pass") for s in ALL}
    want.update(expected)
    assert r == want


async def test_scene_data(client: TestClient) -> None:
    qr = await verdicts(client, "qrcode_ad", ("qrcode", "ad"))
    assert qr["qrcode"]["qrcodeData"] == ["https://ad.example.invalid/promo"]
    assert (qr["ad"]["label"], qr["ad"]["hintWordsInfo"]) == ("ad", [{"context": "扫码领红包"}])
    lg = await verdicts(client, "logo", ("logo",))
    assert lg["logo"]["logoData"] == [
        {"type": "trademark", "name": "某品牌", "x": 8, "y": 8, "w": 64, "h": 64}
    ]
    ph = await verdicts(client, "phone_number", ("ad",))
    assert ph["ad"]["hintWordsInfo"] == [{"context": "13812345678"}]
    assert ph["ad"]["rate"] == 60.0


async def test_biz_type_selects_the_policy(client: TestClient, sim: Sim) -> None:
    assert short(await verdicts(client, "sexy", ("porn",)))["porn"] == ("sexy", "review")
    assert short(await verdicts(client, "sexy", ("porn",), bizType="strict"))["porn"] == ("sexy", "block")
    assert short(await verdicts(client, "porn", ("porn",), bizType="lenient"))["porn"] == ("porn", "review")
    assert short(await verdicts(client, "star_face", ("sface",), bizType="strict"))["sface"] == (
        "sface",
        "block",
    )
    # unknown bizType: the default policy, with a journal note
    assert short(await verdicts(client, "sexy", ("porn",), bizType="no-such"))["porn"] == ("sexy", "review")
    assert any("bizType 'no-such'" in n for n in sim.state.journal.query(vendor="aliyun")[-1]["notes"])


async def test_policy_thresholds_come_from_the_fixture_section(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        json.dumps(
            {
                "vendors": {
                    "aliyun": {
                        "biz_types": {"kids": {"scenes": {"porn": {"review": 5, "block": 8}}}},
                        "default_biz_type": "kids",
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    c = await aiohttp_client(create_app(sim=sim))
    r = await verdicts(c, "sexy", ("porn",))
    assert short(r)["porn"] == ("porn", "block")  # porn 8.1 >= 8, more severe than sexy's review
    assert r["porn"]["rate"] == 8.1


def test_a_bad_fixture_section_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        json.dumps({"vendors": {"aliyun": {"limits": {"max_tasks": 0}}}}), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"vendors\.aliyun fixture section"):
        Sim(Settings(fixtures=(tmp_path,)))


async def test_same_content_same_answer_and_dataids_echoed(client: TestClient, sim: Sim) -> None:
    urls = [f"https://cdn.example.invalid/u/{i}.png" for i in range(3)]
    body = {
        "scenes": ["porn", "sface"],
        "tasks": [{"dataId": f"id-{i}", "url": u} for i, u in enumerate(urls)],
    }
    sim.state.rules.append(ScenarioRule(match={"url": "https://cdn.example.invalid/u/*"}))
    _, first, _ = await green(client, SCAN, body)
    _, second, _ = await green(client, SCAN, body)
    assert [t["dataId"] for t in first["data"]] == ["id-0", "id-1", "id-2"]
    assert [t["results"] for t in first["data"]] == [t["results"] for t in second["data"]]
    assert len({t["taskId"] for t in first["data"] + second["data"]}) == 6


async def test_image_bytes_with_a_marker_from_a_fixture_file(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "porn.jpg").write_bytes(make_image("porn", "jpeg"))
    (tmp_path / "r.yaml").write_text(
        json.dumps({"rules": [{"match": {"url": "https://files.invalid/porn.jpg"}, "file": "porn.jpg"}]}),
        encoding="utf-8",
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    c = await aiohttp_client(create_app(sim=sim))
    _, body, _ = await green(c, SCAN, scan_body("https://files.invalid/porn.jpg"))
    assert body["data"][0]["results"][0]["label"] == "porn"
    assert sim.state.journal.query(vendor="aliyun")[-1]["scenario_source"] == ["marker"]


async def test_async_task_is_ready_after_processing_seconds_without_polls(
    client: TestClient, sim: Sim
) -> None:
    _, sub, _ = await green(client, ASYNC, scan_body(marker("porn")), action="ImageAsyncScan")
    task_id = sub["data"][0]["taskId"]
    assert task_id.startswith("img") and task_id.rsplit("-", 1)[1].isdigit()
    sim.clock.advance(5)
    _, res, _ = await green(client, RESULTS, [task_id], action="ImageAsyncScanResults")
    assert res["data"][0]["code"] == 200
    assert res["data"][0]["results"][0]["label"] == "porn"


async def test_async_task_of_another_account_is_unknown(client: TestClient, sim: Sim) -> None:
    from simulator.state import Credential

    sim.state.credentials.put(Credential("aliyun", "other-ak", "other-secret", {"uid": "42"}))
    _, sub, _ = await green(client, ASYNC, scan_body(marker("porn")), action="ImageAsyncScan")
    task_id = sub["data"][0]["taskId"]
    _, res, _ = await green(
        client, RESULTS, [task_id], action="ImageAsyncScanResults", ak="other-ak", secret="other-secret"
    )
    assert res["data"] == [{"code": 594, "msg": "EXPIRED", "taskId": task_id}]


async def test_async_download_failure_shows_in_the_result(client: TestClient, sim: Sim) -> None:
    sim.state.rules.append(ScenarioRule(match={"url": "https://slow.invalid/*"}, download="timeout"))
    _, sub, _ = await green(client, ASYNC, scan_body("https://slow.invalid/a.png"), action="ImageAsyncScan")
    assert sub["data"][0]["code"] == 200  # accepted; the download happens "later"
    sim.clock.advance(6)
    _, res, _ = await green(client, RESULTS, [sub["data"][0]["taskId"]], action="ImageAsyncScanResults")
    assert (res["data"][0]["code"], res["data"][0]["msg"]) == (592, "DOWNLOAD_TIMEOUT")


async def test_task_store_is_bounded(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        json.dumps({"vendors": {"aliyun": {"async": {"max_tasks": 2, "processing_polls": 0}}}}),
        encoding="utf-8",
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    c = await aiohttp_client(create_app(sim=sim))
    ids = []
    for _ in range(3):
        _, sub, _ = await green(c, ASYNC, scan_body(marker("porn")), action="ImageAsyncScan")
        ids.append(sub["data"][0]["taskId"])
    _, res, _ = await green(c, RESULTS, ids, action="ImageAsyncScanResults")
    assert [t["code"] for t in res["data"]] == [594, 200, 200]


async def test_face_library_matches_by_content_and_by_custom_identity(client: TestClient, sim: Sim) -> None:
    sim.state.rules.append(ScenarioRule(match={"url": "https://faces.invalid/*"}))  # content, no scenario

    async def lib(path: str, body: Any, action: str) -> Any:
        status, out, _ = await green(client, path, body, action=action)
        assert (status, out["code"]) == (200, 200), out
        return out["data"]

    await lib(
        "/green/sface/person/add",
        {"personId": "p-0001", "groupIds": ["blacklist"], "name": "黑名单用户"},
        "AddPerson",
    )
    await lib(
        "/green/sface/person/add",
        {"personId": "p-0002", "groupIds": ["blacklist"], "name": "路人"},
        "AddPerson",
    )
    await lib(
        "/green/sface/face/add", {"personId": "p-0002", "urls": ["https://faces.invalid/p2.png"]}, "AddFaces"
    )
    tasks = [
        {"dataId": "by-identity", "url": marker("blacklisted_user"), "extras": {"groupId": "blacklist"}},
        {"dataId": "by-content", "url": "https://faces.invalid/p2.png", "extras": {"groupId": "blacklist"}},
        {"dataId": "nobody", "url": marker("clean_avatar"), "extras": {"groupId": "blacklist"}},
    ]
    _, body, _ = await green(client, SCAN, {"scenes": ["sface-n"], "tasks": tasks})
    found = {t["dataId"]: t["results"][0] for t in body["data"]}
    assert found["by-identity"]["sfaceData"][0]["faces"] == [
        {"id": "p-0001", "name": "黑名单用户", "rate": 99.0}
    ]
    assert found["by-identity"]["suggestion"] == "block"
    assert found["by-content"]["sfaceData"][0]["faces"] == [{"id": "p-0002", "name": "路人", "rate": 99.9}]
    assert (found["nobody"]["label"], found["nobody"]["suggestion"]) == ("normal", "pass")


async def test_face_library_bad_bodies_are_400(client: TestClient) -> None:
    for body in [
        None,
        [],
        {"personId": ""},
        {"personId": "p", "groupIds": "g"},
        {"personId": "p", "groupIds": [1]},
    ]:
        _, out, _ = await green(client, "/green/sface/person/add", body, action="AddPerson")
        assert (out["code"], out["msg"]) == (400, "BAD_REQUEST")


async def test_twenty_faces_per_person(client: TestClient) -> None:
    await green(client, "/green/sface/person/add", {"personId": "p", "groupIds": ["g"]}, action="AddPerson")
    urls = [f"https://faces.invalid/{i}.png#modsim=clean_avatar" for i in range(21)]
    _, out, _ = await green(
        client, "/green/sface/face/add", {"personId": "p", "urls": urls}, action="AddFaces"
    )
    assert [i["success"] for i in out["data"]["faceImageItems"]] == [True] * 20 + [False]
