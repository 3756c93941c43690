"""The official Node.js SDKs against a live simulator, every Green operation it serves, one success and
one error each: ``@alicloud/pop-core`` 1.8.0 (``ROAClient``, ROA v1 HMAC-SHA1) and
``@alicloud/openapi-client`` 0.4.15 (``callApi`` with the Params the generated ``@alicloud/green20180509``
passes; its default ACS3-HMAC-SHA256 signature and ``signatureAlgorithm: 'v2'``).

The driver is ``tests/node/aliyun.js``; it also reports the request the SDK handed to its HTTP layer.
From that request each test re-derives the SDK's string to sign with an implementation written from
the SDKs' sources (``pop-core/lib/roa.js``, ``openapi-util`` ``getStringToSign`` / ``getAuthorization``),
checks it reproduces the signature the SDK sent, and expects the gateway's ``SignatureDoesNotMatch``
Message to carry exactly that string. Setup (persons, faces, async tasks) goes through aliyunsdkcore.
The success and the error of a test run concurrently (two node processes); the journal is read by
request id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import AcsRequest
from aliyunsdkgreen.request.v20180509 import (
    AddFacesRequest,
    AddPersonRequest,
    ImageAsyncScanRequest,
)

from tests.live import LiveServer
from tests.nodesdk import run
from tests.vendors.aliyun.helpers import AK, SECRET, UID

pytestmark = pytest.mark.sdk

PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"
WRONG_SECRET = "not-the-secret"
UNKNOWN_AK = "LTAI-no-such-key"
PORN_URL = "https://img.example.invalid/avatar.jpg#modsim=porn"
FACE_URL = "https://faces.invalid/a.jpg#modsim=star_face"
POP_KEYS = ["RequestId", "HostId", "Code", "Message", "Recommend"]

CLIENTS = {
    "pop-core": {"client": "pop-core"},
    "tea-acs3": {"client": "tea", "signature": "v3"},
    "tea-v2": {"client": "tea", "signature": "v2"},
}


# ------------------------------------------------------------------------------------------------
# The SDKs' signing, re-derived from their sources (not the simulator's code)


def _roa_sts(sent: dict[str, Any]) -> str:
    """pop-core ``buildStringToSign`` and openapi-util ``getStringToSign``: method, accept,
    content-md5, content-type, date, then the ``x-acs-*`` headers (names as the SDK keyed them,
    sorted, values with tabs/newlines blanked and trimmed), then the path and the raw query."""
    h = sent["headers"]
    url = urlsplit(sent["url"])
    s = f"{sent['method']}\n{h['accept']}\n{h.get('content-md5', '')}\n{h.get('content-type', '')}\n"
    s += f"{h.get('date', '')}\n"
    for name in sorted(k for k in h if k.startswith("x-acs-")):
        value = str(h[name])
        for ch in "\t\n\r\f":
            value = value.replace(ch, " ")
        s += f"{name}:{value.strip()}\n"
    query = sorted(parse_qsl(url.query, keep_blank_values=True))
    return s + url.path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


def _acs3_sts(sent: dict[str, Any]) -> str:
    """openapi-util ``getAuthorization``: canonical request over ``x-acs-*``, ``host`` and
    ``content-type`` (lower-cased, trimmed, sorted), the RFC 3986 query and hex(sha256(body))."""
    h = {k.lower(): str(v).strip() for k, v in sent["headers"].items()}
    signed = sorted(k for k in h if k.startswith("x-acs-") or k in ("host", "content-type"))
    url = urlsplit(sent["url"])
    query = "&".join(
        f"{k}={quote(v, safe='~')}" for k, v in sorted(parse_qsl(url.query, keep_blank_values=True))
    )
    payload = hashlib.sha256((sent["body"] or "").encode()).hexdigest()
    assert h["x-acs-content-sha256"] == payload
    canonical = (
        f"{sent['method']}\n{url.path or '/'}\n{query}\n"
        + "".join(f"{k}:{h[k]}\n" for k in signed)
        + f"\n{';'.join(signed)}\n{payload}"
    )
    return "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()


def expected_sts(kind: str, sent: dict[str, Any], secret: str) -> str:
    """The string the SDK signed; asserts it reproduces the Authorization the SDK sent."""
    auth = next(v for k, v in sent["headers"].items() if k.lower() == "authorization")
    if kind == "tea-acs3":
        sts = _acs3_sts(sent)
        sig = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
        assert auth.startswith("ACS3-HMAC-SHA256 Credential=") and auth.endswith(",Signature=" + sig)
        return sts
    sts = _roa_sts(sent)
    sig = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    assert auth.endswith(":" + sig) and auth.startswith("acs ")
    return sts


# ------------------------------------------------------------------------------------------------
# Setup through aliyunsdkcore, journal


def core_call(live: LiveServer, request: AcsRequest, body: Any) -> dict[str, Any]:
    client = AcsClient(AK, SECRET, "cn-shanghai")
    client.add_endpoint("cn-shanghai", "Green", f"127.0.0.1:{live.port}")
    request.set_protocol_type("http")
    request.set_content(json.dumps(body))
    out: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    assert out["code"] == 200, out
    return out


def person(live: LiveServer) -> dict[str, Any]:
    """p-node (张三, note n1) in group g-node with one face."""
    core_call(
        live,
        AddPersonRequest.AddPersonRequest(),
        {"personId": "p-node", "groupIds": ["g-node"], "name": "张三", "note": "n1"},
    )
    added = core_call(live, AddFacesRequest.AddFacesRequest(), {"personId": "p-node", "urls": [FACE_URL]})
    return {"face": added["data"]["faceImageItems"][0]["faceId"]}


def async_task(live: LiveServer) -> dict[str, Any]:
    body = {"scenes": ["porn"], "tasks": [{"dataId": "a1", "url": PORN_URL}]}
    out = core_call(live, ImageAsyncScanRequest.ImageAsyncScanRequest(), body)
    return {"task": out["data"][0]["taskId"]}


def journal_entry(live: LiveServer, request_id: str) -> dict[str, Any]:
    entries = requests.get(f"{live.url}/__modsim/journal", params={"vendor": "aliyun"}, timeout=10).json()[
        "entries"
    ]
    wanted = request_id.replace("-", "").lower()
    [entry] = [e for e in entries if e["request_id"] == wanted]
    return entry


def received(entry: dict[str, Any], name: str) -> str:
    [value] = [v for k, v in entry["exchange"]["request_headers"] if k.lower() == name]
    return str(value)


# ------------------------------------------------------------------------------------------------
# The operations


@dataclass(frozen=True)
class Op:
    operation: str
    action: str
    pathname: str
    body: Callable[[dict[str, Any]], Any]
    check: Callable[[Any, dict[str, Any]], None]
    error: str  # "secret": wrong secret; "ak": unknown AccessKeyId; "body": a bad body
    bad_body: Callable[[dict[str, Any]], Any] = field(default=lambda ctx: None)
    setup: Callable[[LiveServer], dict[str, Any]] | None = None


def _check_scan(data: Any, ctx: dict[str, Any]) -> None:
    [task] = data
    assert task["taskId"].startswith("img")
    assert task == {
        "code": 200,
        "dataId": "d1",
        "extras": {},
        "msg": "OK",
        "results": [{"label": "porn", "rate": 96.2, "scene": "porn", "suggestion": "block"}],
        "taskId": task["taskId"],
        "url": PORN_URL,
    }


def _check_async(data: Any, ctx: dict[str, Any]) -> None:
    [task] = data
    assert task == {"code": 200, "dataId": "d1", "msg": "OK", "taskId": task["taskId"]}
    assert task["taskId"].startswith("img")


def _check_results(data: Any, ctx: dict[str, Any]) -> None:
    assert data == [
        {"code": 280, "dataId": "a1", "msg": "PROCESSING", "taskId": ctx["task"], "url": PORN_URL}
    ]


def _check_upload(data: Any, ctx: dict[str, Any]) -> None:
    assert sorted(data) == [
        "accessKeyId",
        "accessKeySecret",
        "expiredTime",
        "ossEndpoint",
        "ossInternalEndpoint",
        "securityToken",
        "uploadBucket",
        "uploadFolder",
    ]
    assert data["accessKeyId"].startswith("STS.")
    assert data["uploadBucket"] == "green-upload-cn-shanghai"  # no x-acs-region-id: cn-shanghai
    assert data["uploadFolder"].startswith(UID + "/")


def _check_add_faces(data: Any, ctx: dict[str, Any]) -> None:
    [item] = data.pop("faceImageItems")
    assert data == {"code": 200, "personId": "p-node", "groupId": ["g-node"]}
    assert item["success"] is True and item["faceId"].isdigit() and item["faceId"] != ctx["face"]
    assert item["url"] == "https://faces.invalid/b.jpg#modsim=clean_avatar"


def _equals(expected: Callable[[dict[str, Any]], Any]) -> Callable[[Any, dict[str, Any]], None]:
    def check(data: Any, ctx: dict[str, Any]) -> None:
        assert data == expected(ctx)

    return check


SCAN_BODY = {"scenes": ["porn"], "tasks": [{"dataId": "d1", "url": PORN_URL}]}

OPS = [
    Op("image_scan", "ImageSyncScan", "/green/image/scan", lambda c: SCAN_BODY, _check_scan, "secret"),
    Op(
        "image_asyncscan",
        "ImageAsyncScan",
        "/green/image/asyncscan",
        lambda c: SCAN_BODY,
        _check_async,
        "body",
        bad_body=lambda c: {**SCAN_BODY, "callback": "http://127.0.0.1:9/cb"},  # callback without seed
    ),
    Op(
        "image_results",
        "ImageAsyncScanResults",
        "/green/image/results",
        lambda c: [c["task"]],
        _check_results,
        "body",
        bad_body=lambda c: {"taskIds": [c["task"]]},  # an object, not the bare array
        setup=async_task,
    ),
    Op(
        "upload_credentials",
        "UploadCredentials",
        "/green/credentials/uploadcredentials",
        lambda c: {},
        _check_upload,
        "secret",
    ),
    Op(
        "add_person",
        "AddPerson",
        "/green/sface/person/add",
        lambda c: {"personId": "p-new", "groupIds": ["g-new"], "name": "李四"},
        _equals(lambda c: {"code": 200, "personId": "p-new", "groupIds": ["g-new"]}),
        "body",
        bad_body=lambda c: {"groupIds": ["g-new"], "name": "李四"},  # no personId
    ),
    Op(
        "delete_person",
        "DeletePerson",
        "/green/sface/person/delete",
        lambda c: {"personId": "p-node"},
        _equals(lambda c: {"code": 200, "personId": "p-node"}),
        "body",
        bad_body=lambda c: {"personId": 7},
        setup=person,
    ),
    Op(
        "set_person",
        "SetPerson",
        "/green/sface/person/update",
        lambda c: {"personId": "p-node", "name": "王五"},
        _equals(lambda c: {"code": 200, "personId": "p-node"}),
        "body",
        bad_body=lambda c: {"name": "王五"},
        setup=person,
    ),
    Op(
        "get_person",
        "GetPerson",
        "/green/sface/person",
        lambda c: {"personId": "p-node"},
        _equals(
            lambda c: {
                "code": 200,
                "personId": "p-node",
                "name": "张三",
                "note": "n1",
                "groupIds": ["g-node"],
                "faceIds": [c["face"]],
            }
        ),
        "ak",
        setup=person,
    ),
    Op(
        "add_groups",
        "AddGroups",
        "/green/sface/person/groups/add",
        lambda c: {"personId": "p-node", "groupIds": ["g-vip"]},
        _equals(lambda c: {"code": 200, "personId": "p-node", "groupIds": ["g-node", "g-vip"]}),
        "body",
        bad_body=lambda c: {"personId": "p-node", "groupIds": []},
        setup=person,
    ),
    Op(
        "delete_groups",
        "DeleteGroups",
        "/green/sface/person/groups/delete",
        lambda c: {"personId": "p-node", "groupIds": ["g-node"]},
        _equals(lambda c: {"code": 200, "personId": "p-node", "groupIds": []}),
        "body",
        bad_body=lambda c: {"personId": "p-node"},
        setup=person,
    ),
    Op(
        "add_faces",
        "AddFaces",
        "/green/sface/face/add",
        lambda c: {"personId": "p-node", "urls": ["https://faces.invalid/b.jpg#modsim=clean_avatar"]},
        _check_add_faces,
        "body",
        bad_body=lambda c: {"personId": "p-node", "urls": "https://faces.invalid/b.jpg"},
        setup=person,
    ),
    Op(
        "delete_faces",
        "DeleteFaces",
        "/green/sface/face/delete",
        lambda c: {"personId": "p-node", "faceIds": [c["face"]]},
        _equals(lambda c: {"code": 200, "personId": "p-node", "faceIds": []}),
        "body",
        bad_body=lambda c: {"faceIds": [c["face"]]},
        setup=person,
    ),
    Op(
        "get_faces",
        "GetFaces",
        "/green/sface/faces",
        lambda c: {"personId": "p-node"},
        _equals(
            lambda c: {
                "code": 200,
                "personId": "p-node",
                "faceItems": [{"faceId": c["face"], "url": FACE_URL}],
            }
        ),
        "secret",
        setup=person,
    ),
    Op(
        "get_groups",
        "GetGroups",
        "/green/sface/groups",
        lambda c: {},
        _equals(lambda c: {"code": 200, "groupIds": ["g-node"]}),
        "secret",
        setup=person,
    ),
    Op(
        "get_persons",
        "GetPersons",
        "/green/sface/group/persons",
        lambda c: {"groupId": "g-node"},
        _equals(
            lambda c: {
                "code": 200,
                "groupId": "g-node",
                "personIds": ["p-node"],
                "persons": [{"personId": "p-node", "name": "张三"}],
            }
        ),
        "body",
        bad_body=lambda c: {"group": "g-node"},
        setup=person,
    ),
    Op(
        "search_person",
        "SearchPerson",
        "/green/sface/search",
        lambda c: {"groupId": "g-node", "url": FACE_URL},
        _equals(
            lambda c: {
                "code": 200,
                "groupId": "g-node",
                "persons": [{"personId": "p-node", "name": "张三", "rate": 99.9}],
            }
        ),
        "ak",
        setup=person,
    ),
]


# ------------------------------------------------------------------------------------------------


def _ok_body(kind: str, out: dict[str, Any]) -> dict[str, Any]:
    """The Green body the SDK returned: pop-core resolves to it, Tea wraps it."""
    assert out["ok"], out
    result = out["result"]
    if kind == "pop-core":
        body: dict[str, Any] = result
        return body
    assert result["statusCode"] == 200
    assert result["headers"]["content-type"] == "application/json;charset=utf-8"
    tea_body: dict[str, Any] = result["body"]
    return tea_body


def _pop_error(kind: str, out: dict[str, Any], status: int, code: str, message: str) -> dict[str, Any]:
    """The gateway error as the SDK raised it; returns the body it carries."""
    assert not out["ok"], out
    err = out["error"]
    [sent] = out["sent"]
    assert (err["code"], err["statusCode"]) == (code, status)
    if kind == "pop-core":  # roa.js: Error named <Code>Error, the body in .result
        body: dict[str, Any] = err["result"]
        assert err["name"] == f"{code}Error"
        assert err["message"] == f"code: {status}, {message}, requestid: {body['RequestId']}"
    else:  # openapi-client: ResponseError, the body plus statusCode in .data
        body = dict(err["data"])
        assert body.pop("statusCode") == status
        assert err["name"] == "Error"
        assert err["message"] == f"{code}: code: {status}, {message} request id: {body['RequestId']}"
        assert err["description"] == "undefined"
    assert list(body) == POP_KEYS
    rid = body["RequestId"]
    assert body == {
        "RequestId": rid,
        "HostId": sent["headers"]["host"],  # pop-core sends the host without the port
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Green&requestId={rid}",
    }
    return body


@pytest.mark.parametrize("op", OPS, ids=[o.operation for o in OPS])
@pytest.mark.parametrize("kind", list(CLIENTS))
def test_node_sdk_operation(live: LiveServer, kind: str, op: Op) -> None:
    ctx = op.setup(live) if op.setup else {}
    base = {"base": live.url, **CLIENTS[kind], "action": op.action, "pathname": op.pathname}
    good = {**base, "body": op.body(ctx)}
    if op.error == "secret":
        bad = {**good, "accessKeySecret": WRONG_SECRET}
    elif op.error == "ak":
        bad = {**good, "accessKeyId": UNKNOWN_AK}
    else:
        bad = {**base, "body": op.bad_body(ctx)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        ok_future, bad_future = pool.submit(run, "aliyun.js", good), pool.submit(run, "aliyun.js", bad)
        ok, err = ok_future.result(), bad_future.result()

    # success: the Green envelope (fastjson key order) and the operation's data
    body = _ok_body(kind, ok)
    assert list(body) == ["code", "data", "msg", "requestId"]
    assert (body["code"], body["msg"]) == (200, "OK")
    op.check(body["data"], ctx)
    [sent] = ok["sent"]
    assert sent["method"] == "POST" and urlsplit(sent["url"]).path == op.pathname
    assert json.loads(sent["body"]) == op.body(ctx)
    expected_sts(kind, sent, SECRET)  # the SDK signed what its source says
    entry = journal_entry(live, body["requestId"])
    assert (entry["operation"], entry["status"], entry["vendor_code"]) == (op.operation, 200, 200)
    assert (entry["credential"], entry["auth"]["outcome"]) == (AK, "ok")
    assert entry["auth"]["reason"].startswith("ACS3-HMAC-SHA256 " if kind == "tea-acs3" else "acs ")
    for name in ("authorization", "user-agent"):
        assert received(entry, name) == next(v for k, v in sent["headers"].items() if k.lower() == name)

    # the error
    [sent] = err["sent"]
    if op.error == "body":
        body = _ok_body(kind, err)  # a Green business code: HTTP 200, no exception
        assert list(body) == ["code", "msg", "requestId"]
        assert (body["code"], body["msg"]) == (400, "BAD_REQUEST")
        entry = journal_entry(live, body["requestId"])
        assert (entry["operation"], entry["status"], entry["vendor_code"]) == (op.operation, 200, 400)
        assert entry["auth"]["outcome"] == "ok"
        assert any(n.startswith("400 BAD_REQUEST: ") for n in entry["notes"]), entry["notes"]
    elif op.error == "secret":
        sts = expected_sts(kind, sent, WRONG_SECRET)
        body = _pop_error(kind, err, 400, "SignatureDoesNotMatch", PREFIX + sts)
        entry = journal_entry(live, body["RequestId"])
        assert (entry["operation"], entry["status"], entry["vendor_code"]) == (
            op.operation,
            400,
            "SignatureDoesNotMatch",
        )
        assert (entry["credential"], entry["auth"]["outcome"]) == (AK, "rejected")
        assert repr(sts) in entry["auth"]["reason"]
    else:
        body = _pop_error(kind, err, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        entry = journal_entry(live, body["RequestId"])
        assert (entry["operation"], entry["status"], entry["vendor_code"]) == (
            op.operation,
            404,
            "InvalidAccessKeyId.NotFound",
        )
        assert entry["auth"]["outcome"] == "rejected" and UNKNOWN_AK in entry["auth"]["reason"]
