"""The three connectors with the demo app: bodies, signing modes, timestamps, gzip, uploads, GET,
and Baidu's errors passed through inside a code-0 envelope."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from simulator.content import make_image
from simulator.keys import SIM
from simulator.vendors.baidu.policy import settings_of
from tests.vendors.showapi.common import (
    APPID,
    SECRET,
    TINY_APPID,
    TINY_SECRET,
    assert_error,
    assert_ok,
    b64,
    call,
    china_time,
    frozen_now,
    last_journal,
    multipart,
    signed,
)

# --- the three APIs -----------------------------------------------------------------------------------


async def test_2054_1_avatar_audit_is_baidus_face_audit_body(client: TestClient) -> None:
    inner = assert_ok(*await call(client, "/2054-1", signed({"images": b64("explicit_with_phone")})))
    assert list(inner) == ["log_id", "result"]
    [result] = inner["result"]
    assert result["res_code"] == 1
    assert result["res_msg"] == [101, 301]
    assert "ret_code" not in inner
    entry = await last_journal(client)
    assert entry["operation"] == "2054-1"
    assert entry["credential"] == APPID
    assert entry["auth"]["outcome"] == "ok"
    assert entry["scenario"] == ["explicit_with_phone"]
    assert entry["vendor_code"] == 0


async def test_2054_1_several_images_and_config_id(client: TestClient) -> None:
    images = b64("clean_avatar") + "," + b64("porn")
    inner = assert_ok(*await call(client, "/2054-1", signed({"images": images, "configId": "2"})))
    assert [r["res_msg"] for r in inner["result"]] == [[], [301]]
    assert set(inner["result"][0]["data"]) == {"antiporn", "terror"}  # config 2's services


async def test_2054_1_image_urls(client: TestClient) -> None:
    url = "https://img.example.com/a.jpg#modsim=star_face"
    inner = assert_ok(*await call(client, "/2054-1", signed({"imgUrls": url})))
    assert inner["result"][0]["res_msg"] == [204]


async def test_2054_2_gif_body_has_logid(client: TestClient) -> None:
    image = b64("gif_mixed", "gif", frames=4)
    inner = assert_ok(*await call(client, "/2054-2", signed({"image": image})))
    assert list(inner) == [
        "logid", "frame_count", "porn_probability", "conclusion", "confidence_coefficient", "result_num", "result"
    ]  # fmt: skip
    assert isinstance(inner["logid"], int)
    assert inner["frame_count"] == 4 and inner["porn_probability"] == 0.91
    assert inner["result"][0] == {"class_name": "色情", "probability": 0.91}


async def test_2054_3_text_censor_is_baidus_spam_body(client: TestClient) -> None:
    status, text, body = await call(client, "/2054-3", signed({"content": "你这个傻逼，想要就加微信"}))
    inner = assert_ok(status, text, body)
    assert list(inner) == ["result", "log_id"]
    assert inner["result"]["spam"] == 1
    assert [(r["label"], r["hit"]) for r in inner["result"]["reject"]] == [(4, ["加微信"]), (5, ["傻逼"])]
    assert "傻逼" in text  # UTF-8 on the wire, not \\u escapes


async def test_same_content_same_answer(client: TestClient) -> None:
    a = assert_ok(*await call(client, "/2054-3", signed({"content": "随便说点什么"})))
    b = assert_ok(*await call(client, "/2054-3", signed({"content": "随便说点什么"})))
    assert a["result"] == b["result"] and a["log_id"] != b["log_id"]


# --- signing modes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("upper", [True, False], ids=["java-upper-case", "php-lower-case"])
async def test_md5_sign_in_either_case(client: TestClient, upper: bool) -> None:
    params = signed({"content": "测试", "showapi_timestamp": ""}, upper=upper)
    assert params["showapi_sign"] == (
        params["showapi_sign"].upper() if upper else params["showapi_sign"].lower()
    )
    assert_ok(*await call(client, "/2054-3", params))
    entry = await last_journal(client)
    assert f"{'upper' if upper else 'lower'}-case hex" in entry["auth"]["reason"]


async def test_plain_secret_as_sign(client: TestClient) -> None:
    params = {"showapi_appid": APPID, "showapi_sign": SECRET, "content": "测试"}
    assert_ok(*await call(client, "/2054-3", params))
    assert "app secret" in (await last_journal(client))["auth"]["reason"]


async def test_plain_secret_is_case_sensitive(client: TestClient) -> None:
    params = {"showapi_appid": APPID, "showapi_sign": SECRET.upper(), "content": "测试"}
    assert_error(*await call(client, "/2054-3", params), -1004)


async def test_node_sdk_signs_its_secret_param_too(client: TestClient) -> None:
    # the official Node SDK sends secret=<secret> as a parameter and signs it like any other
    assert_ok(*await call(client, "/2054-3", signed({"content": "测试", "secret": SECRET})))


async def test_sign_covers_query_and_form_together(client: TestClient) -> None:
    all_params = signed({"content": "测试", "showapi_timestamp": ""})
    query = {k: all_params[k] for k in ("showapi_appid", "showapi_sign")}
    form = {"content": "测试"}
    assert_ok(*await call(client, "/2054-3", form, query=query))


async def test_query_wins_over_the_form(client: TestClient) -> None:
    query = signed({"content": "查询里的"})
    status, text, body = await call(client, "/2054-3", {"content": "表单里的 加微信"}, query=query)
    assert assert_ok(status, text, body)["result"]["spam"] == 0


async def test_get_with_query_only(client: TestClient) -> None:
    status, text, body = await call(client, "/2054-3", signed({"content": "今天天气真好"}), method="GET")
    assert assert_ok(status, text, body)["result"]["spam"] == 0
    assert (await last_journal(client))["method"] == "GET"


# --- timestamp ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("offset_min", "ok"), [(-9, True), (9, True), (-11, False), (11, False)])
async def test_timestamp_window(client: TestClient, offset_min: int, ok: bool) -> None:
    now = await frozen_now(client)
    params = signed({"content": "测试", "showapi_timestamp": china_time(now + offset_min * 60)})
    status, text, body = await call(client, "/2054-3", params)
    if ok:
        assert_ok(status, text, body)
    else:
        assert_error(status, text, body, -1005)
        assert "±600 s" in (await last_journal(client))["auth"]["reason"]


async def test_timestamp_is_read_in_utc_plus_8(client: TestClient) -> None:
    now = await frozen_now(client)
    utc_wall = china_time(now - 8 * 3600)  # a client sending UTC wall time is 8 hours off
    assert_error(
        *await call(client, "/2054-3", signed({"content": "x", "showapi_timestamp": utc_wall})), -1005
    )


# --- gzip ---------------------------------------------------------------------------------------------


async def _raw_post(client: TestClient, path: str, data: dict[str, str]) -> tuple[bytes, str | None]:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.post(client.make_url(path), data=data) as resp,
    ):
        assert resp.status == 200
        return await resp.read(), resp.headers.get("Content-Encoding")


async def test_gzip_round_trip(client: TestClient) -> None:
    params = signed({"content": "今天天气真好", "showapi_res_gzip": "1"})
    raw, encoding = await _raw_post(client, "/2054-3", params)
    assert raw[:2] == b"\x1f\x8b"
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0: the same answer compresses to the same bytes
    assert encoding == "gzip"
    text = gzip.decompress(raw).decode("utf-8")
    body = json.loads(text)
    assert assert_ok(200, text, body)["result"]["spam"] == 0
    # an ordinary client decompresses it transparently
    assert_ok(*await call(client, "/2054-3", params))


async def test_gzip_applies_to_errors_too(client: TestClient) -> None:
    params = {**signed({"content": "x", "showapi_res_gzip": "1"}), "showapi_sign": "0" * 32}
    raw, encoding = await _raw_post(client, "/2054-3", params)
    assert encoding == "gzip"
    text = gzip.decompress(raw).decode("utf-8")
    assert_error(200, text, json.loads(text), -1004)


@pytest.mark.parametrize("value", ["0", "true", "yes", "", "01"])
async def test_gzip_only_for_1(client: TestClient, value: str) -> None:
    raw, encoding = await _raw_post(client, "/2054-3", signed({"content": "x", "showapi_res_gzip": value}))
    assert encoding is None
    assert raw.startswith(b'{"showapi_res_error":""')


# --- multipart uploads --------------------------------------------------------------------------------


async def test_multipart_file_upload_2054_1(client: TestClient) -> None:
    fields = signed({"configId": "1"})  # files are not signed
    form = multipart(fields, {"images": ("avatar.png", make_image("explicit_with_phone", "png"))})
    inner = assert_ok(*await call(client, "/2054-1", data=form))
    assert inner["result"][0]["res_msg"] == [101, 301]


async def test_multipart_several_files_are_several_images(client: TestClient) -> None:
    files = {
        "a": ("a.png", make_image("clean_avatar", "png")),
        "b": ("b.jpg", make_image("porn", "jpeg")),
    }
    inner = assert_ok(*await call(client, "/2054-1", data=multipart(signed({}), files)))
    assert [r["res_msg"] for r in inner["result"]] == [[], [301]]


async def test_multipart_file_upload_2054_2(client: TestClient) -> None:
    gif = make_image("gif_mixed", "gif", frames=4)
    inner = assert_ok(*await call(client, "/2054-2", data=multipart(signed({}), {"image": ("a.gif", gif)})))
    assert inner["frame_count"] == 4 and inner["porn_probability"] == 0.91


async def test_multipart_text_fields_only(client: TestClient) -> None:
    form = multipart(signed({"content": "今天天气真好"}), {})
    assert assert_ok(*await call(client, "/2054-3", data=form))["result"]["spam"] == 0


# --- Baidu's errors pass through ----------------------------------------------------------------------


def assert_upstream(status: int, text: str, body: dict[str, object], code: int, msg: str) -> None:
    inner = assert_ok(status, text, body)
    assert list(inner) == ["log_id", "error_code", "error_msg"], text
    assert isinstance(inner["log_id"], int)
    assert (inner["error_code"], inner["error_msg"]) == (code, msg)


@pytest.mark.parametrize(
    ("path", "params", "code", "msg"),
    [
        ("/2054-1", {}, 282801, "image and imgUrl are empty"),
        ("/2054-1", {"images": "!!!!"}, 216201, "image format error"),
        ("/2054-1", {"images": b64(), "imgUrls": "https://x.example/a.jpg"}, 282802, "either image and imgUrl has value"),
        ("/2054-1", {"imgUrls": ",".join(f"https://x.example/{i}.jpg" for i in range(31))}, 282872,
         "too many img urls max num is 30"),
        ("/2054-1", {"images": b64(), "configId": "999"}, 282800, "configId param is error or null"),
        ("/2054-2", {"image": b64("porn", "png")}, 282205, "image fromat must gif"),
        ("/2054-2", {}, 216200, "empty image"),
        ("/2054-3", {}, 216101, "not enough param"),
        ("/2054-3", {"content": "字" * 6667}, 216103, "param too long"),
    ],
    ids=["no-image", "bad-base64", "both", "31-urls", "unknown-config", "gif-not-gif", "gif-empty",
         "spam-empty", "spam-20001-bytes"],
)  # fmt: skip
async def test_upstream_error_passes_through(
    client: TestClient, path: str, params: dict[str, str], code: int, msg: str
) -> None:
    assert_upstream(*await call(client, path, signed(params)), code, msg)
    entry = await last_journal(client)
    assert entry["auth"]["outcome"] == "ok"
    assert entry["vendor_code"] == 0
    assert f"upstream Baidu {code}" in entry["error"]


async def test_20000_bytes_of_content_is_fine(client: TestClient) -> None:
    assert_ok(*await call(client, "/2054-3", signed({"content": "a" * 20000})))


async def test_upstream_errors_are_counted(client: TestClient) -> None:
    await frozen_now(client)
    for _ in range(2):
        assert_upstream(
            *await call(client, "/2054-3", signed({}, TINY_APPID, TINY_SECRET)), 216101, "not enough param"
        )
        await client.post("/__modsim/clock", json={"advance_s": 1})
    assert_error(*await call(client, "/2054-3", signed({"content": "x"}, TINY_APPID, TINY_SECRET)), -2)


async def test_empty_config_id_uses_baidus_default_even_when_baidu_refuses_empty(client: TestClient) -> None:
    sim = client.app[SIM]
    sim.state.vendor_state("baidu")["settings"] = replace(settings_of(sim), empty_config_id="error")
    assert_ok(*await call(client, "/2054-1", signed({"images": b64("clean_avatar"), "configId": ""})))
    assert_ok(*await call(client, "/2054-1", signed({"images": b64("clean_avatar")})))


async def test_demo_credentials(client: TestClient) -> None:
    sim = client.app[SIM]
    demo = sim.vendors["showapi"].demo_credentials(sim)
    assert {"showapi_appid": APPID, "secret": SECRET, "apis": ["2054-1", "2054-2", "2054-3"]} in demo
