"""itapi verdicts: sync and async, every model, from the scenario truth; the seed's exact shape."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.content import make_image
from simulator.sim import Sim
from tests.vendors.itapi.common import (
    ALL,
    ASYNC_DEBUG,
    ENVELOPE_TASK,
    ENVELOPE_VERDICT,
    KEY,
    LOG_ID,
    PIC,
    UUID4,
    b64,
    call,
    last_journal,
    post_stream,
    query,
    submit,
    sync_verdict,
)

# The seed's sync/result example (doc id=80), byte for byte apart from the per-request values.
SEED_RESULT = """{
"code":200,
"msg":"请求成功",
"data":{
"taskid":"85104237-0e62-4104-8e94-05f9474a38e5",
"conclusion":"疑是",
"conclusion_type":"3",
"label":"色情",
"label_level":"3",
"porn":{
"label":"性感",
"label_level":1,
"details":[
]
},
"ads":{
"label":"正常",
"label_level":0
},
"politics":{
"name":"非政治人物",
"typename":"非政治人物",
"label":"非政治人物",
"label_level":2
},
"sensitive":{
"label_level":0,
"label":"正常"
},
"ocrtext":{
"label_level":0,
"label":"正常"
}
},
"exec_time":0.057025,
"log_id":"202305262038206087"
}"""


def compact(text: str) -> str:
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))


def key_paths(obj: Any, prefix: str = "") -> list[str]:
    """Every key path in document order (key order matters to the comparison)."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + k)
            out.extend(key_paths(v, prefix + k + "."))
    return out


async def test_sexy_image_reproduces_the_seed_example_exactly(client: TestClient) -> None:
    resp = await client.post(
        PIC,
        data={"key": KEY, "data": b64("sexy"), "type": "porn,ads,politics,sensitive,ocrtext", "sync": "yes"},
    )
    text = await resp.text()
    got = json.loads(text)
    seed = json.loads(SEED_RESULT)
    assert key_paths(got) == key_paths(seed)
    # the per-request values, then the whole body must be the seed's
    assert re.fullmatch(UUID4, got["data"]["taskid"])
    assert isinstance(got["exec_time"], float) and 0 < got["exec_time"] < 1
    assert re.fullmatch(LOG_ID, got["log_id"])
    for k in ("exec_time", "log_id"):
        seed[k] = got[k]
    seed["data"]["taskid"] = got["data"]["taskid"]
    assert got == seed
    # the wire text: compact UTF-8, the seed's mixed types (top-level label_level a string, the
    # models' label_level numbers), nothing escaped
    assert text == json.dumps(seed, ensure_ascii=False, separators=(",", ":"))
    assert (
        '"conclusion_type":"3","label":"色情","label_level":"3","porn":{"label":"性感","label_level":1,'
        in text
    )
    assert compact(SEED_RESULT).split('"taskid":')[0] == text.split('"taskid":')[0]


# scenario -> (conclusion, conclusion_type, label, label_level, {model: expected object})
CASES: dict[str, tuple[str, str, str, str, dict[str, dict[str, Any]]]] = {
    "porn": ("不通过", "2", "色情", "3", {"porn": {"label": "色情", "label_level": 0, "details": []}}),
    "sexy": ("疑是", "3", "色情", "3", {"porn": {"label": "性感", "label_level": 1, "details": []}}),
    "clean_avatar": (
        "通过",
        "1",
        "正常",
        "1",
        {
            "porn": {"label": "正常", "label_level": 2, "details": []},
            "ads": {"label": "正常", "label_level": 0},
            "politics": {
                "name": "非政治人物",
                "typename": "非政治人物",
                "label": "非政治人物",
                "label_level": 2,
            },
            "terror": {"label": "正常", "label_level": 0},
            "sensitive": {"label_level": 0, "label": "正常"},
            "ocrtext": {"label_level": 0, "label": "正常"},
        },
    ),
    "politician_face": (
        "不通过",
        "2",
        "涉政",
        "4",
        {"politics": {"name": "政治人物甲", "typename": "政治人物", "label": "政治人物", "label_level": 0}},
    ),
    "no_face": (
        "通过",
        "1",
        "正常",
        "1",
        {"politics": {"name": "无人脸", "typename": "无人脸", "label": "无人脸", "label_level": 3}},
    ),
    "bloody": ("不通过", "2", "暴恐", "2", {"terror": {"label": "血腥", "label_level": 1}}),
    "terror_flag": ("不通过", "2", "暴恐", "2", {"terror": {"label": "暴恐旗帜", "label_level": 1}}),
    "smoking": ("不通过", "2", "敏感", "5", {"sensitive": {"label_level": 1, "label": "抽烟"}}),
    "minor": ("不通过", "2", "敏感", "5", {"sensitive": {"label_level": 7, "label": "未成年"}}),
    "qrcode_ad": (
        "不通过",
        "2",
        "广告",
        "6",
        {"ads": {"label": "广告", "label_level": 1}, "ocrtext": {"label_level": 5, "label": "广告"}},
    ),
    "competitor_name": ("疑是", "3", "广告", "6", {"ads": {"label": "广告", "label_level": 1}}),
    # a phone number in the picture's text: the lexicon's pattern weight (0.6) is a review, not a block
    "phone_number": ("疑是", "3", "广告", "6", {"ocrtext": {"label_level": 5, "label": "广告"}}),
    # explicit + phone: the worst finding (不通过, 色情) wins over the 疑是 advert
    "explicit_with_phone": ("不通过", "2", "色情", "3", {"ocrtext": {"label_level": 5, "label": "广告"}}),
}


def check_verdict(data: dict[str, Any], scenario: str, models: tuple[str, ...]) -> None:
    conclusion, ctype, label, level, objects = CASES[scenario]
    assert re.fullmatch(UUID4, data["taskid"])
    assert (data["conclusion"], data["conclusion_type"], data["label"], data["label_level"]) == (
        conclusion,
        ctype,
        label,
        level,
    )
    assert list(data)[5:] == list(models)
    for model, want in objects.items():
        if model in models:
            assert data[model] == want, (model, data[model])
            assert list(data[model]) == list(want)


@pytest.mark.parametrize("scenario", sorted(CASES))
async def test_sync_verdict_from_the_truth(client: TestClient, scenario: str) -> None:
    data = await sync_verdict(client, b64(scenario))
    check_verdict(data, scenario, ("porn", "ads", "politics", "terror", "sensitive", "ocrtext"))
    entry = await last_journal(client)
    assert entry["scenario"] == [scenario] and entry["scenario_source"] == ["marker"]
    assert entry["operation"] == "pic" and entry["vendor_code"] == 200
    assert entry["auth"]["outcome"] == "ok" and entry["credential"] == KEY


@pytest.mark.parametrize("scenario", sorted(CASES))
async def test_async_verdict_is_the_same_as_sync(client: TestClient, scenario: str) -> None:
    taskid = await submit(client, b64(scenario))
    status, body = await query(client, taskid)
    assert status == 200 and list(body) == ENVELOPE_VERDICT, body
    assert body["data"]["taskid"] == taskid
    check_verdict(body["data"], scenario, ("porn", "ads", "politics", "terror", "sensitive", "ocrtext"))
    entry = await last_journal(client)
    assert entry["operation"] == "picresult" and entry["vendor_code"] == 200


MODEL_SCENARIOS = {
    "porn": ("porn", {"label": "色情", "label_level": 0, "details": []}),
    "ads": ("qrcode_ad", {"label": "广告", "label_level": 1}),
    "politics": (
        "politician_face",
        {"name": "政治人物甲", "typename": "政治人物", "label": "政治人物", "label_level": 0},
    ),
    "terror": ("bloody", {"label": "血腥", "label_level": 1}),
    "sensitive": ("smoking", {"label_level": 1, "label": "抽烟"}),
    "ocrtext": ("phone_number", {"label_level": 5, "label": "广告"}),
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("model", sorted(MODEL_SCENARIOS))
async def test_one_model_answers_only_its_object(client: TestClient, model: str, mode: str) -> None:
    scenario, want = MODEL_SCENARIOS[model]
    if mode == "sync":
        data = await sync_verdict(client, b64(scenario), model)
    else:
        status, body = await query(client, await submit(client, b64(scenario), model))
        assert status == 200 and body["code"] == 200, body
        data = body["data"]
    assert list(data) == ["taskid", "conclusion", "conclusion_type", "label", "label_level", model]
    assert data[model] == want
    assert data["conclusion"] in ("不通过", "疑是")


async def test_other_models_do_not_see_what_is_not_theirs(client: TestClient) -> None:
    # an explicit image checked only for ads and terror passes
    data = await sync_verdict(client, b64("porn"), "ads,terror")
    assert (data["conclusion"], data["label"], data["label_level"]) == ("通过", "正常", "1")


async def test_type_order_spaces_and_duplicates(client: TestClient) -> None:
    data = await sync_verdict(client, b64("clean_avatar"), " ocrtext , porn,porn,")
    assert list(data)[5:] == ["porn", "ocrtext"]


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "bmp"])
async def test_image_formats(client: TestClient, fmt: str) -> None:
    data = await sync_verdict(client, b64("porn", fmt), "porn")
    assert data["porn"]["label_level"] == 0


@pytest.mark.parametrize(
    ("url", "model", "level"),
    [
        ("https://img.example.com/a.jpg#modsim=porn", "porn", 0),
        ("http://img.example.com/b.png#modsim=sexy", "porn", 1),
        ("https://img.example.com/c.jpg#modsim=politician_face", "politics", 0),
        ("https://img.example.com/d.jpg#x=1&modsim=bloody", "terror", 1),
        ("HTTPS://img.example.com/e.jpg#modsim=smoking", "sensitive", 1),
        ("  https://img.example.com/f.jpg#modsim=qrcode_ad  ", "ads", 1),
        ("https://img.example.com/g.jpg#modsim=phone_number", "ocrtext", 5),
    ],
)
async def test_url_with_a_scenario_fragment(client: TestClient, url: str, model: str, level: int) -> None:
    data = await sync_verdict(client, url, model)
    assert data[model]["label_level"] == level
    taskid = await submit(client, url, model)
    _, body = await query(client, taskid)
    assert body["data"][model]["label_level"] == level
    entry = await last_journal(client)
    assert entry["operation"] == "picresult"


async def test_url_rule_names_the_scenario(client: TestClient) -> None:
    resp = await client.patch(
        "/__modsim/rules",
        json={
            "rules": [
                {"match": {"url": "https://cdn.example.com/*", "vendor": "itapi"}, "scenario": "bloody"}
            ]
        },
    )
    assert resp.status == 200
    data = await sync_verdict(client, "https://cdn.example.com/x.jpg", "terror")
    assert data["terror"] == {"label": "血腥", "label_level": 1}


@pytest.mark.parametrize(
    ("method", "style"),
    [("GET", "query"), ("POST", "form"), ("POST", "multipart"), ("POST", "query")],
    ids=["GET-query", "POST-form", "POST-multipart", "POST-query"],
)
async def test_get_and_post(client: TestClient, method: str, style: str) -> None:
    params = {"key": KEY, "data": b64("porn"), "type": "porn", "sync": "yes"}
    status, body = await call(client, params, method=method, style=style)
    assert status == 200 and body["code"] == 200, body
    assert body["data"]["porn"]["label_level"] == 0
    status, body = await call(
        client, {"key": KEY, "data": b64("porn"), "type": "porn"}, method=method, style=style
    )
    assert list(body) == ENVELOPE_TASK
    status, body = await query(client, body["data"]["taskid"])
    assert body["data"]["porn"]["label_level"] == 0


async def test_key_in_the_query_data_in_the_form(client: TestClient) -> None:
    resp = await client.post(
        PIC, params={"key": KEY}, data={"data": b64("bloody"), "type": "terror", "sync": "yes"}
    )
    body = await resp.json()
    assert body["data"]["terror"]["label_level"] == 1


async def test_the_form_wins_over_the_query(client: TestClient) -> None:
    resp = await client.post(
        PIC,
        params={"key": "wrong", "type": "porn", "sync": "no"},
        data={"key": KEY, "data": b64("bloody"), "type": "terror", "sync": "yes"},
    )
    body = await resp.json()
    assert body["code"] == 200 and list(body["data"])[5:] == ["terror"], body


async def test_get_ignores_a_body(client: TestClient) -> None:
    resp = await client.get(PIC, params={"key": KEY, "type": "porn"}, data=b"data=abc")
    body = await resp.json()
    assert body["code"] == 400 and body["debug"] == "缺少参数data"


@pytest.mark.parametrize("sync", ["no", "YES", "true", "1", ""])
async def test_only_sync_yes_is_synchronous(client: TestClient, sync: str) -> None:
    _, body = await call(client, {"key": KEY, "data": b64(), "type": "porn", "sync": sync})
    assert list(body) == ENVELOPE_TASK and list(body["data"]) == ["taskid"]


async def test_async_envelope(client: TestClient, sim: Sim) -> None:
    await client.post("/__modsim/clock", json={"set": 1688612280.0, "freeze": True})  # 2023-07-06 10:58 UTC+8
    status, body = await call(client, {"key": KEY, "data": b64("porn"), "type": "porn"})
    assert status == 200
    assert list(body) == ["code", "msg", "data", "debug", "exec_time", "user_ip", "log_id"]
    assert (body["code"], body["msg"], body["debug"]) == (200, "请求成功", ASYNC_DEBUG)
    assert re.fullmatch(UUID4, body["data"]["taskid"])
    assert isinstance(body["exec_time"], float) and 0.15 <= body["exec_time"] <= 0.35
    assert body["user_ip"] == "127.0.0.1"
    assert re.fullmatch(r"202307061058\d{6}", body["log_id"]), body["log_id"]


async def test_log_id_is_the_utc8_date_and_time(client: TestClient) -> None:
    # 2023-05-26 12:38 UTC is 20:38 in UTC+8 (the seed's 202305262038206087)
    when = datetime(2023, 5, 26, 12, 38, 30, tzinfo=UTC).timestamp()
    await client.post("/__modsim/clock", json={"set": when, "freeze": True})
    data = await call(client, {"key": KEY, "data": b64(), "type": "porn", "sync": "yes"})
    assert data[1]["log_id"].startswith("202305262038")
    # just before midnight UTC is the next day in UTC+8
    await client.post("/__modsim/clock", json={"set": datetime(2023, 12, 31, 23, 59, tzinfo=UTC).timestamp()})
    data = await call(client, {"key": KEY, "data": b64(), "type": "porn", "sync": "yes"})
    assert data[1]["log_id"].startswith("202401010759")


async def test_same_content_and_seed_same_answer(client: TestClient) -> None:
    first = await call(client, {"key": KEY, "data": b64(), "type": ALL, "sync": "yes"})
    await client.post("/__modsim/reset")
    second = await call(client, {"key": KEY, "data": b64(), "type": ALL, "sync": "yes"})
    assert first == second


async def test_default_scenario_without_a_marker(client: TestClient) -> None:
    data = await sync_verdict(client, b64(None))
    assert data["conclusion"] == "通过"
    entry = await last_journal(client)
    assert entry["scenario_source"] == ["default"]


async def test_queued_outcome(client: TestClient) -> None:
    resp = await client.post(
        "/__modsim/queue", json={"scenario": "porn", "vendor": "itapi", "operation": "pic", "count": 1}
    )
    assert resp.status == 201
    data = await sync_verdict(client, b64("clean_avatar"), "porn")
    assert data["porn"]["label"] == "色情"
    data = await sync_verdict(client, b64("clean_avatar"), "porn")
    assert data["porn"]["label"] == "正常"


async def test_sync_taskid_can_be_queried(client: TestClient) -> None:
    data = await sync_verdict(client, b64("bloody"), "terror")
    _, body = await query(client, data["taskid"])
    assert body["data"] == data


async def test_exactly_10_mb_is_accepted(client: TestClient) -> None:
    png = make_image("porn", "png", (64, 64))
    padded = png + b"\x00" * (10 * 1024 * 1024 - len(png))
    assert len(padded) == 10485760
    params = {"key": KEY, "data": base64.b64encode(padded).decode(), "type": "porn", "sync": "yes"}
    status, body = await post_stream(client, params)
    assert status == 200 and body["data"]["porn"]["label_level"] == 0, body


async def test_whitespace_and_urlsafe_base64(client: TestClient) -> None:
    raw = make_image("porn", "png", (32, 32))
    lines = "\n".join(base64.b64encode(raw).decode()[i : i + 76] for i in range(0, 400, 76))
    lines += base64.b64encode(raw).decode()[380:]
    data = await sync_verdict(client, lines, "porn")
    assert data["porn"]["label_level"] == 0
    data = await sync_verdict(client, base64.urlsafe_b64encode(raw).decode().rstrip("="), "porn")
    assert data["porn"]["label_level"] == 0


# --- configuration -------------------------------------------------------------------------------------


async def test_thresholds_are_configurable(configured: Any) -> None:
    client, _ = await configured({"thresholds": {"porn": {"block": 0.99}, "terror": {"block": 0.95}}})
    data = await sync_verdict(client, b64("porn"), "porn,terror")
    assert data["porn"] == {"label": "正常", "label_level": 2, "details": []}
    data = await sync_verdict(client, b64("bloody"), "terror")
    assert (data["conclusion"], data["terror"]) == ("疑是", {"label": "血腥", "label_level": 1})


async def test_empty_type_all(configured: Any) -> None:
    client, _ = await configured({"empty_type": "all"})
    for extra in ({}, {"type": ""}, {"type": " , "}):
        _, body = await call(client, {"key": KEY, "data": b64("bloody"), "sync": "yes", **extra})
        assert list(body["data"])[5:] == ["porn", "ads", "politics", "terror", "sensitive", "ocrtext"], body


async def test_data_uri_prefix_when_enabled(configured: Any, client: TestClient) -> None:
    uri = "data:image/png;base64," + b64("porn")
    _, body = await call(client, {"key": KEY, "data": uri, "type": "porn", "sync": "yes"})
    assert body["code"] == 400
    lenient, _ = await configured({"accept_data_uri": True})
    data = await sync_verdict(lenient, uri, "porn")
    assert data["porn"]["label_level"] == 0


async def test_custom_words_and_faces_are_label_level_8(configured: Any) -> None:
    client, _ = await configured({"custom": {"words": ["惊喜"], "faces": ["黑名单用户"]}})
    data = await sync_verdict(client, b64("phone_number"), "ocrtext")
    assert (data["conclusion"], data["label"], data["label_level"]) == ("不通过", "自定义", "8")
    assert data["ocrtext"] == {"label_level": 5, "label": "广告"}
    data = await sync_verdict(client, b64("blacklisted_user"), "politics")
    assert (data["conclusion"], data["label"], data["label_level"]) == ("不通过", "自定义", "8")
    assert data["politics"]["label_level"] == 2
    # not checked when the model is not requested
    data = await sync_verdict(client, b64("blacklisted_user"), "porn")
    assert data["conclusion"] == "通过"


async def test_ocrtext_levels_from_the_lexicon(configured: Any) -> None:
    lexicon = {
        "labels": {
            "1": {"words": ["炸药包"]},
            "3": {"words": ["反动口号"]},
            "5": {"words": ["笨蛋"]},
            "6": {"name": "敏感", "words": ["敏感词甲"]},
            "7": {"name": "未成年", "words": ["小学生"]},
        }
    }
    scenarios = [
        {"name": f"text_{i}", "text": [text]}
        for i, text in enumerate(["炸药包", "约炮", "反动口号", "敏感词甲", "笨蛋", "小学生"])
    ]
    client, _ = await configured({"ocrtext_labels": {"6": 4, "7": 9}}, lexicon=lexicon, scenarios=scenarios)
    want = [
        (1, "暴恐", "2", "暴恐"),
        (2, "色情", "3", "色情"),
        (3, "涉政", "4", "涉政"),
        (4, "敏感", "5", "敏感"),
    ]
    want += [(6, "谩骂", "7", "谩骂"), (9, "未成年", "5", "敏感")]
    for i, (level, label, top_level, top_label) in enumerate(want):
        data = await sync_verdict(client, b64(f"text_{i}"), "ocrtext")
        assert data["ocrtext"] == {"label_level": level, "label": label}, (i, data)
        assert (data["conclusion"], data["label_level"], data["label"]) == ("不通过", top_level, top_label)


async def test_politics_borderline_is_the_middle_value(configured: Any) -> None:
    scenario = {
        "name": "maybe_politician",
        "faces": [{"probability": 0.62, "identity": {"kind": "politician", "name": "某人"}}],
    }
    client, _ = await configured({}, scenarios=[scenario])
    data = await sync_verdict(client, b64("maybe_politician"), "politics")
    assert data["politics"] == {"name": "某人", "typename": "政治人物", "label": "中间值", "label_level": 1}
    assert (data["conclusion"], data["conclusion_type"], data["label_level"]) == ("疑是", "3", "4")


@pytest.mark.parametrize(
    ("behaviour", "level", "label"),
    [
        ("smoking", 1, "抽烟"),
        ("drugs", 2, "吸毒"),
        ("tattoo", 3, "纹身"),
        ("gambling", 4, "赌博"),
        ("drinking", 5, "喝酒"),
        ("gesture", 6, "不文明手势"),
        ("minor", 7, "未成年"),
        ("superstition", 8, "封建迷信"),
    ],
)
async def test_every_sensitive_level(configured: Any, behaviour: str, level: int, label: str) -> None:
    scenarios = [
        {
            "name": "strong",
            "behaviours": [{"name": behaviour, "score": 0.9}, {"name": "tattoo", "score": 0.3}],
        },
        {"name": "weak", "behaviours": [{"name": behaviour, "score": 0.6}]},
        {"name": "faint", "behaviours": [{"name": behaviour, "score": 0.2}]},
    ]
    client, _ = await configured({}, scenarios=scenarios)
    data = await sync_verdict(client, b64("strong"), "sensitive")
    assert (data["conclusion"], data["sensitive"]) == ("不通过", {"label_level": level, "label": label})
    data = await sync_verdict(client, b64("weak"), "sensitive")
    assert (data["conclusion"], data["sensitive"]) == ("疑是", {"label_level": level, "label": label})
    data = await sync_verdict(client, b64("faint"), "sensitive")
    assert (data["conclusion"], data["sensitive"]) == ("通过", {"label_level": 0, "label": "正常"})
