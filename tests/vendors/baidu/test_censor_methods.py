"""The rest of baidu-aip's ``AipImageCensor`` on the wire (in-process): antiporn, antiterror, the 内容审核平台
image and text APIs (user_defined v2), the combination API and report. Bodies, key order, error codes
and texts; the queue and fault rules on each new operation; every built-in scenario on each.

The official SDK drives the same operations in ``test_sdk_censor_methods.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.keys import SIM
from simulator.vendors.baidu.censor_policy import WordList
from simulator.vendors.baidu.policy import settings_of
from tests.helpers import baidu_token, image_b64

ANTIPORN = "/rest/2.0/antiporn/v1/detect"
ANTITERROR = "/rest/2.0/antiterror/v1/detect"
IMG_CENSOR = "/rest/2.0/solution/v1/img_censor/v2/user_defined"
TEXT_CENSOR = "/rest/2.0/solution/v1/text_censor/v2/user_defined"
COMB = "/api/v1/solution/direct/img_censor"
REPORT = "/rpc/2.0/feedback/v1/report"

PORN_FINE = [
    "一般色情", "卡通色情", "SM", "艺术品色情", "儿童裸露", "低俗", "性玩具", "女性性感", "卡通女性性感",
    "男性性感", "自然男性裸露", "亲密行为", "卡通亲密行为", "特殊类", "一般正常", "卡通正常",
]  # fmt: skip
MESSAGES = {
    216100: "invalid param",
    216101: "not enough param",
    216103: "param too long",
    216200: "empty image",
    216201: "image format error",
    216202: "image size error",
    282002: "input encoding error",
    282004: "params error",
    282801: "image and imgUrl are empty",
    282802: "either image and imgUrl has value",
    282804: "download image error",
    282805: "internal request failed",
    282806: "image length or width error",
}


def url_of(scenario: str) -> str:
    return f"https://img.example.invalid/a.jpg#modsim={scenario}"


async def call(
    client: TestClient,
    path: str,
    token: str | None,
    data: Any = None,
    *,
    json_body: Any = None,
    raw: bytes | None = None,
) -> tuple[int, dict[str, Any]]:
    params = {"access_token": token} if token else {}
    if json_body is not None:
        resp = await client.post(path, params=params, json=json_body)
    elif raw is not None:
        resp = await client.post(path, params=params, data=raw, headers={"Content-Type": "application/json"})
    else:
        resp = await client.post(path, params=params, data=data)
    body: dict[str, Any] = json.loads(await resp.read())
    return resp.status, body


def assert_error(status: int, body: dict[str, Any], code: int) -> None:
    assert status == 200, body
    assert list(body) == ["log_id", "error_code", "error_msg"], body
    assert (body["error_code"], body["error_msg"]) == (code, MESSAGES[code])


async def last_entry(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/__modsim/journal", params={"vendor": "baidu", "limit": "1"})
    [entry] = (await resp.json())["entries"]
    return entry


# ------------------------------------------------------------------------------------------- antiporn


def test_the_subtype_tables_name_the_fine_classes() -> None:
    """One set of names: the wire's fine classes are the subType tables' (plus the two normal classes)."""
    from simulator.vendors.baidu import censor_policy, imagecensor, models

    assert set(censor_policy.TERROR_SUBTYPES) == set(models.TERROR_FINE)
    assert set(imagecensor.PORN_FINE) - set(censor_policy.PORN_SUBTYPES) == {"一般正常", "卡通正常"}


async def test_antiporn_answer(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await call(client, ANTIPORN, token, {"image": image_b64("porn", "jpeg")})
    assert status == 200
    assert list(body) == [
        "result",
        "conclusion",
        "log_id",
        "result_fine",
        "result_num",
        "confidence_coefficient",
    ]
    assert body["result"] == [
        {"probability": 0.031, "class_name": "性感"},
        {"probability": 0.962, "class_name": "色情"},
        {"probability": 0.007, "class_name": "正常"},
    ]
    assert (body["conclusion"], body["confidence_coefficient"], body["result_num"]) == ("色情", "确定", 16)
    fine = {f["class_name"]: f["probability"] for f in body["result_fine"]}
    assert [f["class_name"] for f in body["result_fine"]] == PORN_FINE
    assert (fine["一般色情"], fine["女性性感"], fine["一般正常"]) == (0.962, 0.031, 0.007)
    assert sum(fine.values()) == pytest.approx(1.0)
    entry = await last_entry(client)
    assert (entry["operation"], entry["vendor_code"], entry["scenario"]) == ("antiporn", 0, ["porn"])


async def test_antiporn_cartoon_and_male_classes(client: TestClient) -> None:
    token = await baidu_token(client)
    _, cartoon = await call(client, ANTIPORN, token, {"image": image_b64("cartoon")})
    fine = {f["class_name"]: f["probability"] for f in cartoon["result_fine"]}
    assert fine["一般正常"] == 0.0 and fine["卡通正常"] > 0.9
    _, smoking = await call(client, ANTIPORN, token, {"image": image_b64("smoking")})  # a man's face
    fine = {f["class_name"]: f["probability"] for f in smoking["result_fine"]}
    assert fine["女性性感"] == 0.0 and fine["男性性感"] == 0.02


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (lambda: "", 216200),
        (lambda: "!!!!", 216201),
        (lambda: image_b64(None, "gif"), 216201),
        (lambda: image_b64(None, "png", size=(10, 10)), 282806),
        (lambda: image_b64(None, "png", size=(5000, 20)), 216202),
    ],
    ids=["empty", "not-base64", "gif", "10x10", "5000px"],
)
async def test_antiporn_errors(client: TestClient, image, code: int) -> None:  # type: ignore[no-untyped-def]
    token = await baidu_token(client)
    assert_error(*await call(client, ANTIPORN, token, {"image": image()}), code)


async def test_antiporn_service_error_is_the_answer(client: TestClient) -> None:
    token = await baidu_token(client)
    assert_error(*await call(client, ANTIPORN, token, {"image": image_b64("service_error")}), 282805)


# ------------------------------------------------------------------------------------------ antiterror


async def test_antiterror_answer(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await call(client, ANTITERROR, token, {"image": image_b64("terror_flag")})
    assert status == 200
    assert list(body) == ["result", "log_id", "result_fine", "result_coarse"]
    assert body["result"] == 0.88
    fine = {f["name"]: f["score"] for f in body["result_fine"]}
    assert (fine["暴恐旗帜"], fine["军事武器"], fine["血腥"]) == (0.88, 0.73, 0.0)
    assert body["result_coarse"] == [{"score": 0.12, "name": "正常"}, {"score": 0.88, "name": "暴恐"}]


async def test_antiterror_errors(client: TestClient) -> None:
    token = await baidu_token(client)
    assert_error(*await call(client, ANTITERROR, token, {}), 216200)
    assert_error(*await call(client, ANTITERROR, token, {"image": "%%%"}), 216201)


# ------------------------------------------------------------------------ img_censor/v2/user_defined


async def test_img_censor_clean_is_compliant_without_data(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await call(client, IMG_CENSOR, token, {"image": image_b64("clean_avatar", "jpeg")})
    assert status == 200
    assert list(body) == ["conclusion", "log_id", "isHitMd5", "conclusionType"]
    assert (body["conclusion"], body["isHitMd5"], body["conclusionType"]) == ("合规", False, 1)


async def test_img_censor_porn_is_non_compliant_with_the_porn_subtype(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await call(client, IMG_CENSOR, token, {"imgUrl": url_of("porn")})
    assert status == 200
    assert list(body) == ["conclusion", "log_id", "data", "isHitMd5", "conclusionType"]
    assert (body["conclusion"], body["conclusionType"]) == ("不合规", 2)
    assert body["data"] == [
        {
            "msg": "存在一般色情不合规",
            "conclusion": "不合规",
            "probability": 0.962,
            "subType": 0,
            "conclusionType": 2,
            "type": 1,
        }
    ]


async def test_img_censor_text_in_image_and_politician(client: TestClient) -> None:
    token = await baidu_token(client)
    _, body = await call(client, IMG_CENSOR, token, {"imgUrl": url_of("phone_number")})
    assert (body["conclusion"], body["conclusionType"]) == ("疑似", 3)
    assert body["data"] == [
        {
            "msg": "疑似存在恶意推广不合规",
            "conclusion": "疑似",
            "hits": [{"probability": 0.6, "datasetName": "百度默认文本反作弊库", "words": ["13812345678"]}],
            "subType": 4,
            "conclusionType": 3,
            "type": 12,
        }
    ]
    _, body = await call(client, IMG_CENSOR, token, {"imgUrl": url_of("politician_face")})
    [item] = body["data"]
    assert list(item) == ["msg", "conclusion", "probability", "stars", "subType", "conclusionType", "type"]
    assert (item["type"], item["subType"], item["msg"]) == (5, 0, "存在政治敏感不合规")
    assert item["stars"] == [{"probability": 0.975, "name": "政治人物甲"}]


async def test_img_censor_strategy_is_the_fixture_section(client: TestClient) -> None:
    """Sexy images pass the default strategy (女性性感 is not a default label); adding it flags them."""
    token = await baidu_token(client)
    _, body = await call(client, IMG_CENSOR, token, {"imgUrl": url_of("sexy")})
    assert body["conclusion"] == "合规"
    sim = client.app[SIM]
    bs = settings_of(sim)
    labels = (*bs.censor.porn_labels, "女性性感")
    sim.state.vendor_state("baidu")["settings"] = replace(bs, censor=replace(bs.censor, porn_labels=labels))
    _, body = await call(client, IMG_CENSOR, token, {"imgUrl": url_of("sexy")})
    assert [(d["type"], d["subType"], d["msg"], d["probability"]) for d in body["data"]] == [
        (1, 9, "存在女性性感不合规", 0.813598)
    ]


async def test_img_censor_gif_first_frame_or_every_frame(client: TestClient) -> None:
    token = await baidu_token(client)
    gif = image_b64("gif_mixed", "gif", size=(128, 128), frames=4)
    _, first = await call(client, IMG_CENSOR, token, {"image": gif})
    assert first["conclusion"] == "合规"  # frame 1 is normal
    _, animated = await call(client, IMG_CENSOR, token, {"image": gif, "imgType": "1"})
    assert [(d["type"], d["subType"], d["probability"]) for d in animated["data"]] == [(1, 0, 0.91)]


async def test_img_censor_service_error_is_review_failed(client: TestClient) -> None:
    token = await baidu_token(client)
    _, body = await call(client, IMG_CENSOR, token, {"imgUrl": url_of("service_error")})
    assert body == {
        "conclusion": "审核失败",
        "log_id": body["log_id"],
        "isHitMd5": False,
        "conclusionType": 4,
    }


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (lambda: {}, 282801),
        (lambda: {"image": "", "imgUrl": ""}, 282801),
        (lambda: {"image": image_b64(None), "imgUrl": url_of("porn")}, 282802),
        (lambda: {"imgUrl": "https://img.example.invalid/nothing-here.jpg"}, 282804),
        (lambda: {"image": image_b64(None, "png", size=(100, 100))}, 282806),
        (lambda: {"image": image_b64(None, "png", size=(4097, 200))}, 216202),
        (lambda: {"image": "!!!!"}, 216201),
    ],
    ids=["neither", "both-empty", "both", "download", "under-128px", "over-4096px", "not-base64"],
)
async def test_img_censor_errors(client: TestClient, data, code: int) -> None:  # type: ignore[no-untyped-def]
    token = await baidu_token(client)
    assert_error(*await call(client, IMG_CENSOR, token, data()), code)


async def test_img_censor_accepts_an_encoded_url(client: TestClient) -> None:
    token = await baidu_token(client)
    _, body = await call(
        client, IMG_CENSOR, token, {"imgUrl": "https%3A%2F%2Fimg.example.invalid%2Fa.jpg%23modsim%3Dporn"}
    )
    assert body["conclusion"] == "不合规"


# ----------------------------------------------------------------------- text_censor/v2/user_defined


async def test_text_censor_ads_marker_hits_malicious_promotion_with_the_words(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await call(client, TEXT_CENSOR, token, {"text": "随便说点 [[modsim=text_ads]]"})
    assert status == 200
    assert list(body) == ["conclusion", "log_id", "data", "isHitMd5", "conclusionType"]
    assert (body["conclusion"], body["conclusionType"]) == ("不合规", 2)
    [item] = body["data"]
    assert list(item) == ["msg", "conclusion", "hits", "subType", "conclusionType", "type"]
    assert (item["type"], item["subType"], item["msg"], item["conclusion"]) == (
        12,
        4,
        "存在恶意推广不合规",
        "不合规",
    )
    [hit] = item["hits"]
    assert hit["datasetName"] == "百度默认文本反作弊库"
    assert {"加微信", "兼职刷单", "13812345678", "QQ: 12345678"} <= set(hit["words"])
    assert hit["probability"] >= 0.95


async def test_text_censor_plain_text(client: TestClient) -> None:
    token = await baidu_token(client)
    _, clean = await call(client, TEXT_CENSOR, token, {"text": "今天天气真好，我们去公园散步吧"})
    assert clean == {"conclusion": "合规", "log_id": clean["log_id"], "isHitMd5": False, "conclusionType": 1}
    _, body = await call(client, TEXT_CENSOR, token, {"text": "你这个傻逼，有事打我电话 13812345678"})
    assert body["conclusion"] == "不合规"
    assert [(d["subType"], d["conclusion"], d["msg"], d["hits"][0]["words"]) for d in body["data"]] == [
        (4, "疑似", "疑似存在恶意推广不合规", ["13812345678"]),
        (5, "不合规", "存在低俗辱骂不合规", ["傻逼"]),
    ]


async def test_text_censor_custom_black_and_white_lists(client: TestClient) -> None:
    token = await baidu_token(client)
    _, body = await call(client, TEXT_CENSOR, token, {"text": "专业代练上分，价格实惠"})
    assert body["conclusion"] == "不合规"
    assert body["data"] == [
        {
            "msg": "存在自定义文本黑名单不合规",
            "conclusion": "不合规",
            "hits": [{"datasetName": "自定义文本黑名单", "words": ["代练上分"]}],
            "subType": 0,
            "conclusionType": 2,
            "type": 13,
        }
    ]
    _, body = await call(client, TEXT_CENSOR, token, {"text": "官方公告：你这个傻逼"})
    assert (body["conclusion"], body["conclusionType"]) == ("合规", 1)
    assert body["data"] == [
        {
            "msg": "自定义文本白名单审核通过",
            "conclusion": "合规",
            "hits": [{"datasetName": "自定义文本白名单", "words": ["官方公告"]}],
            "subType": 0,
            "conclusionType": 1,
            "type": 14,
        }
    ]
    sim = client.app[SIM]
    bs = settings_of(sim)
    mine = (WordList("我的黑词库", ("禁词甲",)),)
    sim.state.vendor_state("baidu")["settings"] = replace(bs, censor=replace(bs.censor, blacklists=mine))
    _, body = await call(client, TEXT_CENSOR, token, {"text": "这里有禁词甲"})
    assert body["data"][0]["hits"] == [{"datasetName": "我的黑词库", "words": ["禁词甲"]}]


@pytest.mark.parametrize(
    ("text", "code"),
    [(None, 216101), ("", 216101), ("字" * 6667, 216103)],
    ids=["absent", "empty", "20001-bytes"],
)
async def test_text_censor_errors(client: TestClient, text: str | None, code: int) -> None:
    token = await baidu_token(client)
    assert_error(*await call(client, TEXT_CENSOR, token, {} if text is None else {"text": text}), code)


async def test_text_censor_20000_bytes_is_not_too_long(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await call(client, TEXT_CENSOR, token, {"text": "字" * 6666 + "ab"})
    assert status == 200 and body["conclusion"] == "合规"


# --------------------------------------------------------------------------------- combination API


async def test_comb_answers_each_scene_in_request_order(client: TestClient) -> None:
    token = await baidu_token(client)
    scenes = ["watermark", "antiporn", "terror", "ocr", "anti_spam", "webimage", "disgust", "quality"]
    status, body = await call(
        client, COMB, token, json_body={"image": image_b64("qrcode_ad"), "scenes": scenes, "sceneConf": {}}
    )
    assert status == 200
    assert list(body) == ["result", "log_id"]
    result = body["result"]
    assert list(result) == scenes
    assert result["watermark"]["result"] == [{"probability": 0.95, "type": "QR code"}]
    assert result["antiporn"]["conclusion"] == "正常" and result["antiporn"]["result_num"] == 16
    assert result["terror"]["result"] == 0.0
    assert result["ocr"]["words_result"] == [{"words": "扫码领红包"}]
    assert result["webimage"]["direction"] == 0
    spam = result["anti_spam"]
    assert spam["spam"] == 1 and spam["antispam_info"]["label"] == 4
    assert [r["label"] for r in spam["antispam_info_detail"]["reject"]] == [4]
    assert result["disgust"]["result"] == 0.0
    assert set(result["quality"]["result"]) == {"aesthetic", "clarity"}
    log_ids = [body["log_id"]] + [v["log_id"] for v in result.values()]
    assert len(set(log_ids)) == len(log_ids)


async def test_comb_by_url_and_a_failing_scene(client: TestClient) -> None:
    token = await baidu_token(client)
    _, body = await call(
        client, COMB, token, json_body={"imgUrl": url_of("bloody"), "scenes": ["terror", "disgust"]}
    )
    assert body["result"]["terror"]["result"] == 0.91 and body["result"]["disgust"]["result"] == 0.91
    _, body = await call(
        client, COMB, token, json_body={"imgUrl": url_of("service_error"), "scenes": ["antiporn", "ocr"]}
    )
    for scene in ("antiporn", "ocr"):
        failed = body["result"][scene]
        assert list(failed) == ["error_code", "error_msg", "log_id"]
        assert (failed["error_code"], failed["error_msg"]) == (282805, "internal request failed")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json", 216100),
        (b"[1, 2]", 216100),
        (b'{"image": "x"}', 216101),
        (b'{"image": "x", "scenes": []}', 216101),
        (b'{"image": "x", "scenes": ["antiporn", "nope"]}', 216100),
        (b'{"image": "x", "scenes": [1]}', 216100),
        (b'{"image": 5, "scenes": ["antiporn"]}', 216100),
        (b'{"scenes": ["antiporn"]}', 282801),
        (b'{"image": "x", "imgUrl": "https://a.example/b.jpg", "scenes": ["antiporn"]}', 282802),
        (b'{"imgUrl": "https://a.example/b.jpg", "scenes": ["antiporn"]}', 282804),
        (b'{"image": "\xff\xfe", "scenes": ["antiporn"]}', 282002),
    ],
    ids=["not-json", "array", "no-scenes", "empty-scenes", "unknown-scene", "scene-type", "image-type",
         "no-image", "both", "download", "not-utf8"],
)  # fmt: skip
async def test_comb_errors(client: TestClient, payload: bytes, code: int) -> None:
    token = await baidu_token(client)
    assert_error(*await call(client, COMB, token, raw=payload), code)


async def test_comb_get_is_an_unknown_method(client: TestClient) -> None:
    resp = await client.get(COMB)
    assert (resp.status, await resp.json()) == (
        200,
        {"error_code": 3, "error_msg": "Unsupported openapi method"},
    )
    resp = await client.post("/rpc/2.0/nope")
    assert (await resp.json())["error_code"] == 3


# ------------------------------------------------------------------------------------------- report


async def test_report_json_one_result_per_item(client: TestClient) -> None:
    token = await baidu_token(client)
    feedback = [
        {
            "api_url": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect",
            "log_id": 123456,
            "level": 1,
            "correct": 1,
        },
        {"api_url": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect", "level": 1, "correct": 0},
        {
            "api_url": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect",
            "image_md5": "ab12",
            "correct": 1,
        },
    ]
    status, body = await call(client, REPORT, token, json_body={"feedback": feedback})
    assert status == 200
    assert list(body) == ["log_id", "result"]
    assert body["result"] == [
        {"error_code": 0, "error_msg": ""},
        {"error_code": 282004, "error_msg": "params error"},
        {"error_code": 0, "error_msg": ""},
    ]


async def test_report_php_form_and_python_form(client: TestClient) -> None:
    token = await baidu_token(client)
    php = {"feedback[0][api_url]": "https://aip.baidubce.com/rest/2.0/antiporn/v1/detect", "feedback[0][correct]": "1",
           "feedback[0][image_md5]": "ab12", "feedback[1][api_url]": "x"}  # fmt: skip
    _, body = await call(client, REPORT, token, php)
    assert body["result"] == [
        {"error_code": 0, "error_msg": ""},
        {"error_code": 282004, "error_msg": "params error"},
    ]
    _, body = await call(client, REPORT, token, "feedback=api_url&feedback=correct&feedback=log_id")
    assert body["result"] == [{"error_code": 282004, "error_msg": "params error"}]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{}", 216101),
        (b'{"feedback": []}', 216101),
        (b'{"feedback": 5}', 216100),
        (b"[]", 216100),
        (b"{", 216100),
    ],
    ids=["no-feedback", "empty", "number", "array-body", "broken-json"],
)
async def test_report_errors(client: TestClient, payload: bytes, code: int) -> None:
    token = await baidu_token(client)
    assert_error(*await call(client, REPORT, token, raw=payload), code)


# ------------------------------------------------------------------ auth, faults, the queue: each op

FORM_OPS = {
    "antiporn": (ANTIPORN, lambda: {"image": image_b64("clean_avatar")}),
    "antiterror": (ANTITERROR, lambda: {"image": image_b64("clean_avatar")}),
    "img_censor_user_defined": (IMG_CENSOR, lambda: {"image": image_b64("clean_avatar")}),
    "text_censor_user_defined": (TEXT_CENSOR, lambda: {"text": "今天天气真好"}),
    "report": (REPORT, lambda: "feedback[0][api_url]=u&feedback[0][correct]=1&feedback[0][log_id]=1"),
}
ALL_OPS = [*FORM_OPS, "img_censor_comb"]


async def call_op(client: TestClient, op: str, token: str | None) -> tuple[int, dict[str, Any]]:
    if op == "img_censor_comb":
        return await call(
            client, COMB, token, json_body={"image": image_b64("clean_avatar"), "scenes": ["antiporn"]}
        )
    path, data = FORM_OPS[op]
    return await call(client, path, token, data())


@pytest.mark.parametrize("op", ALL_OPS)
async def test_auth_applies(client: TestClient, op: str) -> None:
    status, body = await call_op(client, op, None)
    assert (status, body) == (200, {"error_code": 100, "error_msg": "Invalid parameter"})
    status, body = await call_op(client, op, "24.nope")
    assert body == {"error_code": 110, "error_msg": "Access token invalid or no longer valid"}
    token = await baidu_token(client, "demo-baidu-noperm-key", "demo-baidu-noperm-secret")
    status, body = await call_op(client, op, token)
    assert body == {"error_code": 6, "error_msg": "No permission to access data"}
    entry = await last_entry(client)
    assert (entry["operation"], entry["vendor_code"]) == (op, 6)
    path = COMB if op == "img_censor_comb" else FORM_OPS[op][0]
    bce = "bce-auth-v1/demo-baidu-cloud-key/2024-01-01T00:00:00Z/1800/host;x-bce-date/" + "0" * 64
    resp = await client.post(path, data="x=1", headers={"authorization": bce})
    assert (resp.status, await resp.json()) == (
        200,
        {"error_code": 14, "error_msg": "IAM Certification failed"},
    )


@pytest.mark.parametrize("op", ALL_OPS)
async def test_a_fault_rule_reaches_the_operation(client: TestClient, op: str) -> None:
    rule = {"vendor": "baidu", "operation": op, "action": {"type": "error", "code": 282004}}
    assert (await client.post("/__modsim/faults", json={"rules": [rule]})).status == 200
    token = await baidu_token(client)
    assert_error(*await call_op(client, op, token), 282004)
    [listed] = (await (await client.get("/__modsim/faults")).json())["rules"]
    assert listed["hits"] == 1
    entry = await last_entry(client)
    assert (entry["operation"], entry["vendor_code"], entry["fault"]["rule"]) == (op, 282004, listed["id"])


QUEUED = {
    "antiporn": ("porn", lambda b: b["conclusion"] == "色情"),
    "antiterror": ("bloody", lambda b: b["result"] == 0.91),
    "img_censor_user_defined": (
        "porn",
        lambda b: b["conclusion"] == "不合规" and b["data"][0]["subType"] == 0,
    ),
    "text_censor_user_defined": (
        "text_ads",
        lambda b: b["conclusion"] == "不合规" and b["data"][0]["subType"] == 4,
    ),
    "img_censor_comb": ("porn", lambda b: b["result"]["antiporn"]["conclusion"] == "色情"),
}


@pytest.mark.parametrize("op", list(QUEUED))
async def test_a_queued_outcome_reaches_the_operation(client: TestClient, op: str) -> None:
    scenario, check = QUEUED[op]
    resp = await client.post(
        "/__modsim/queue", json={"scenario": scenario, "vendor": "baidu", "operation": op}
    )
    assert resp.status == 201, await resp.text()
    token = await baidu_token(client)
    _, first = await call_op(client, op, token)
    assert check(first), first
    _, second = await call_op(client, op, token)  # one use only: the content decides again
    assert not check(second), second
    entry = await last_entry(client)
    assert entry["operation"] == op
    resp = await client.get("/__modsim/journal", params={"vendor": "baidu", "operation": op})
    sources = [e["scenario_source"] for e in (await resp.json())["entries"] if e["vendor_code"] == 0]
    assert ["queued"] in sources


async def test_a_queued_outcome_is_taken_before_a_url_is_loaded(client: TestClient) -> None:
    resp = await client.post(
        "/__modsim/queue",
        json={"scenario": "porn", "vendor": "baidu", "operation": "img_censor_user_defined"},
    )
    assert resp.status == 201
    token = await baidu_token(client)
    _, body = await call(client, IMG_CENSOR, token, {"imgUrl": "https://img.example.invalid/nowhere.jpg"})
    assert body["conclusion"] == "不合规"


# ---------------------------------------------------------------- every scenario on every operation

#: img_censor/v2/user_defined under the default strategy: conclusion and sorted (type, subType, conclusionType)
IMG_EXPECTED: dict[str, tuple[str, list[tuple[int, int, int]]]] = {
    "clean_avatar": ("合规", []),
    "no_face": ("合规", []),
    "two_faces": ("合规", []),
    "star_face": ("合规", []),
    "public_figure": ("合规", []),
    "politician_face": ("不合规", [(5, 0, 2)]),
    "phone_number": ("疑似", [(12, 4, 3)]),
    "qq_number": ("疑似", [(12, 4, 3)]),
    "suspect_digits": ("合规", []),
    "porn": ("不合规", [(1, 0, 2)]),
    "sexy": ("合规", []),
    "explicit_with_phone": ("不合规", [(1, 0, 2), (12, 4, 3)]),
    "bloody": ("不合规", [(2, 1, 2)]),
    "terror_flag": ("不合规", [(2, 7, 3), (2, 8, 2)]),
    "qrcode_ad": ("不合规", [(4, 1, 2), (12, 4, 2)]),
    "smoking": ("合规", []),
    "cartoon": ("合规", []),
    "gif_mixed": ("不合规", [(1, 0, 2)]),
    "service_error": ("审核失败", []),
    "text_terror": ("不合规", [(12, 1, 2)]),
    "text_porn": ("不合规", [(12, 2, 2)]),
    "text_politics": ("不合规", [(12, 3, 2)]),
    "text_ads": ("不合规", [(12, 4, 2)]),
    "text_abuse": ("不合规", [(12, 5, 2)]),
}
CONCLUSION_TYPES = {"合规": 1, "不合规": 2, "疑似": 3, "审核失败": 4}


def builtin_scenarios() -> list[str]:
    from simulator.settings import Settings
    from simulator.sim import Sim

    return sorted(Sim(Settings(seed=0)).state.scenarios)


@pytest.mark.parametrize("scenario", builtin_scenarios())
async def test_every_scenario_renders_on_every_new_operation(client: TestClient, scenario: str) -> None:
    sim = client.app[SIM]
    s = sim.state.scenarios[scenario]
    token = await baidu_token(client)
    failing = s.service_error is not None and s.service_error.service is None

    # 内容审核平台-图像
    _, img = await call(client, IMG_CENSOR, token, {"imgUrl": url_of(scenario)})
    assert CONCLUSION_TYPES[img["conclusion"]] == img["conclusionType"], img
    got = sorted((d["type"], d["subType"], d["conclusionType"]) for d in img.get("data", []))
    if scenario in IMG_EXPECTED:
        assert (img["conclusion"], got) == IMG_EXPECTED[scenario], img
    worst = max((c for _, _, c in got), key=lambda c: (c == 2, c == 3), default=1)
    assert img["conclusionType"] == (4 if failing else worst), img

    # 色情识别 / 暴恐识别, on an image carrying the scenario's marker
    image = image_b64(scenario, "png", size=(64, 64))
    _, porn = await call(client, ANTIPORN, token, {"image": image})
    _, terror = await call(client, ANTITERROR, token, {"image": image})
    if failing:
        assert_error(200, porn, 282805)
        assert_error(200, terror, 282805)
    else:
        truth = {"性感": s.porn.sexy, "色情": s.porn.porn, "正常": s.porn.normal}
        assert {r["class_name"]: r["probability"] for r in porn["result"]} == truth
        assert porn["conclusion"] == max(truth, key=lambda k: truth[k])
        assert sum(f["probability"] for f in porn["result_fine"]) == pytest.approx(sum(truth.values()))
        assert terror["result"] == s.terror_score

    # 组合服务接口: the same truth in each scene
    _, comb = await call(
        client,
        COMB,
        token,
        json_body={"imgUrl": url_of(scenario), "scenes": ["antiporn", "terror", "ocr", "watermark"]},
    )
    if failing:
        assert {v["error_code"] for v in comb["result"].values()} == {282805}
    else:
        assert comb["result"]["antiporn"]["result"] == porn["result"]
        assert comb["result"]["terror"]["result"] == s.terror_score
        assert [w["words"] for w in comb["result"]["ocr"]["words_result"]] == list(s.text)
        assert comb["result"]["watermark"]["result_num"] == int(s.ads.qrcode) + int(s.ads.barcode)

    # 内容审核平台-文本: a text scenario's lines are the text; any other leaves the submitted text
    _, text = await call(client, TEXT_CENSOR, token, {"text": f"今天天气不错 [[modsim={scenario}]]"})
    if s.text_hits:
        assert text["conclusion"] == "不合规"
        assert {h.label for h in s.text_hits} <= {d["subType"] for d in text["data"] if d["type"] == 12}
    elif not s.has_text:
        assert text["conclusion"] == "合规"
    if scenario in IMG_EXPECTED and s.has_text:  # the image's text renders as the text does
        text_items = sorted((t, st, c) for t, st, c in IMG_EXPECTED[scenario][1] if t == 12)
        assert (
            sorted((d["type"], d["subType"], d["conclusionType"]) for d in text.get("data", [])) == text_items
        )
