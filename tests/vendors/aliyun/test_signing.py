"""The gateway's signature code against the facts file's worked example, the SDK's own test vector,
and requests built by the SDKs' signing functions (ROA v1 and ACS3-HMAC-SHA256)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from aliyunsdkcore.auth.composer import roa_signature_composer

from simulator.vendors.aliyun import signing

SEED_BODY = json.dumps(
    {
        "scenes": ["sface"],
        "tasks": [
            {
                "dataId": "68b531a8-9568-423b-957e-43b1c5119fac",
                "url": "https://img.alicdn.com/tfs/TB1urBOQFXXXXbMXFXXXXXXXXXX-1442-257.png",
            }
        ],
    }
).encode()

WORKED_STS = (
    "POST\napplication/json\np9aL1nITxayooAeJKdsjSg==\napplication/json\nTue, 17 Jan 2017 10:16:36 GMT\n"
    "x-acs-action:ImageSyncScan\nx-acs-region-id:cn-shanghai\nx-acs-signature-method:HMAC-SHA1\n"
    "x-acs-signature-version:1.0\nx-acs-version:2018-05-09\n/green/image/scan?RegionId=cn-shanghai"
)


def test_facts_worked_example_string_to_sign_and_signature() -> None:
    assert signing.content_md5(SEED_BODY) == "p9aL1nITxayooAeJKdsjSg=="
    headers = {
        "accept": "application/json",
        "content-md5": "p9aL1nITxayooAeJKdsjSg==",
        "content-type": "application/json",
        "date": "Tue, 17 Jan 2017 10:16:36 GMT",
        "x-acs-action": "ImageSyncScan",
        "x-acs-region-id": "cn-shanghai",
        "x-acs-signature-method": "HMAC-SHA1",
        "x-acs-signature-version": "1.0",
        "x-acs-version": "2018-05-09",
        "user-agent": "not signed",
    }
    query = signing.parse_query("RegionId=cn-shanghai")
    sts = signing.roa_string_to_sign("POST", headers, "/green/image/scan", query)
    assert sts == WORKED_STS
    assert signing.roa_signature("testSecret", sts) == "iEt9W49qNImkUDMbITubtD96kTI="


def test_sdk_unit_test_vector() -> None:
    """aliyun-python-sdk-core tests/auth/composer/test_roa_signature_composer.py."""
    sts = signing.roa_string_to_sign(
        "GET",
        {
            "accept": "application/octet-stream",
            "date": "2018-12-04T03:55:31Z",
            "x-acs-signature-method": "HMAC-SHA1",
            "x-acs-signature-version": "1.0",
        },
        "/",
        [],
    )
    assert sts == (
        "GET\napplication/octet-stream\n\n\n2018-12-04T03:55:31Z\n"
        "x-acs-signature-method:HMAC-SHA1\nx-acs-signature-version:1.0\n/"
    )
    assert signing.roa_signature("access_key_secret", sts) == "HKCpm41tJg6b3EYdtGMbNuwALZU="


def test_query_values_are_signed_decoded_and_sorted_like_the_sdk() -> None:
    raw = "RegionId=cn-shanghai&ClientInfo=%7B%22ip%22%3A+%22127.0.0.1%22%7D&Flag"
    query = signing.parse_query(raw)
    assert query == [("RegionId", "cn-shanghai"), ("ClientInfo", '{"ip": "127.0.0.1"}'), ("Flag", None)]
    ours = signing.roa_string_to_sign("POST", {}, "/green/image/scan", query)
    sdk = roa_signature_composer.compose_string_to_sign(
        "POST",
        {"RegionId": "cn-shanghai", "ClientInfo": '{"ip": "127.0.0.1"}', "Flag": None},
        "/green/image/scan",
        {},
        None,
    )
    assert ours == sdk
    assert ours.endswith('/green/image/scan?ClientInfo={"ip": "127.0.0.1"}&Flag&RegionId=cn-shanghai')


def test_empty_values_read_the_tea_way() -> None:
    assert signing.roa_bare_empty([("a", ""), ("b", "x"), ("c", None)]) == [
        ("a", None),
        ("b", "x"),
        ("c", None),
    ]


def test_acs3_matches_the_tea_clients_authorization() -> None:
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-version": "2018-05-09",
        "x-acs-action": "ImageSyncScan",
        "user-agent": "AlibabaCloud (Linux) Python/3.11",
        "x-acs-date": "2026-01-01T00:00:00Z",
        "x-acs-signature-nonce": "0f8c",
        "accept": "application/json",
        "content-type": "application/json; charset=utf-8",
    }

    body = b'{"scenes":["porn"]}'
    payload = signing.sha256_hex(body)
    headers["x-acs-content-sha256"] = payload
    req = SimpleNamespace(
        method="POST", pathname="/green/image/scan", query={"ClientInfo": "{}"}, headers=headers
    )
    tea = TeaUtils.get_authorization(req, "ACS3-HMAC-SHA256", payload, "AK", "SECRET")
    parts = signing.parse_acs3(tea.partition(" ")[2])
    assert parts is not None
    canonical = signing.acs3_canonical_request(
        "POST",
        "/green/image/scan",
        [("ClientInfo", "{}")],
        [(k.title(), v) for k, v in headers.items()],
        parts["SignedHeaders"].split(";"),
        payload,
    )
    assert signing.acs3_signature("SECRET", signing.acs3_string_to_sign(canonical)) == parts["Signature"]


def test_acs3_authorization_parsing() -> None:
    assert signing.parse_acs3("Credential=a,SignedHeaders=host;x-acs-date,Signature=ff") == {
        "Credential": "a",
        "SignedHeaders": "host;x-acs-date",
        "Signature": "ff",
    }
    assert signing.parse_acs3("Credential=a,Signature=ff") is None
    assert signing.parse_acs3("garbage") is None
