from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.helpers import baidu_token, face_audit, image_b64


async def test_seed_curl_form_returns_seed_shaped_body(client: TestClient) -> None:
    token = await baidu_token(client)
    status, body = await face_audit(
        client, token, {"configId": "1", "images": image_b64("explicit_with_phone")}
    )
    assert status == 200
    assert list(body) == ["log_id", "result"]
    [item] = body["result"]
    assert item["res_code"] == 1
    assert item["res_msg"] == [101, 301]
    assert item["data"]["ocr"]["words_result"] == [{"words": "约 13900001111"}]
    assert [c["class_name"] for c in item["data"]["antiporn"]] == ["色情", "正常", "性感"]
