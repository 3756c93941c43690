"""One success and one error per Green operation through the Python SDKs, where ``test_sdk.py`` does not
drive them yet.

- aliyunsdkcore 2.16.1 + aliyunsdkgreen 3.6.6: ``test_sdk.py`` drives every operation to a success
  (the face-library walk, async scan, upload credentials) but only ImageSyncScan to an error; here
  every other operation gets its error.
- Tea (alibabacloud-green20180509 1.0.2 / alibabacloud-tea-openapi 0.4.6, ``call_api`` with the Params
  the generated client passes): ``test_sdk.py`` covers ImageSyncScan (both signatures) and an
  ACS3 asyncscan + results success; here every other operation, success and error, with the default
  ACS3-HMAC-SHA256 signature and with ``signature_algorithm="v2"``.

Errors are of three kinds: a wrong secret (``SignatureDoesNotMatch``, HTTP 400, the Message ending in
the string the SDK signed), an unknown AccessKeyId (``InvalidAccessKeyId.NotFound``, HTTP 404) and a
malformed body (Green ``code`` 400 ``BAD_REQUEST`` in an HTTP 200 body, which neither SDK raises).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from alibabacloud_green20180509.client import Client as TeaGreenClient
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_tea_openapi import models as tea_models
from alibabacloud_tea_openapi.utils_models import Params
from alibabacloud_tea_util.models import RuntimeOptions
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import AcsRequest
from aliyunsdkgreen.request.v20180509 import (
    AddFacesRequest,
    AddGroupsRequest,
    AddPersonRequest,
    DeleteFacesRequest,
    DeleteGroupsRequest,
    DeletePersonRequest,
    GetFacesRequest,
    GetGroupsRequest,
    GetPersonRequest,
    GetPersonsRequest,
    ImageAsyncScanRequest,
    ImageAsyncScanResultsRequest,
    SearchPersonRequest,
    SetPersonRequest,
    UploadCredentialsRequest,
)

from simulator.settings import Settings
from simulator.testing import ThreadedServer
from tests.live import LiveServer
from tests.vendors.aliyun.helpers import AK, SECRET, UID

pytestmark = pytest.mark.sdk

PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"
WRONG_SECRET = "not-the-secret"
UNKNOWN_AK = "LTAI-no-such-key"
PORN_URL = "https://img.example.invalid/avatar.jpg#modsim=porn"
FACE_URL = "https://faces.invalid/a.jpg#modsim=star_face"
SCAN_BODY = {"scenes": ["porn"], "tasks": [{"dataId": "d1", "url": PORN_URL}]}


# ------------------------------------------------------------------------------------------------
# Clients


def core(live: LiveServer, ak: str = AK, secret: str = SECRET) -> AcsClient:
    client = AcsClient(ak, secret, "cn-shanghai")
    client.add_endpoint("cn-shanghai", "Green", f"127.0.0.1:{live.port}")
    return client


def core_call(client: AcsClient, request: AcsRequest, body: Any) -> dict[str, Any]:
    request.set_protocol_type("http")
    request.set_content(json.dumps(body))  # as the official samples: application/octet-stream
    out: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    return out


def tea_call(
    live: LiveServer, v2: bool, action: str, pathname: str, body: Any, ak: str = AK, secret: str = SECRET
) -> dict[str, Any]:
    config = tea_models.Config(
        access_key_id=ak,
        access_key_secret=secret,
        region_id="cn-shanghai",
        endpoint=f"127.0.0.1:{live.port}",
        protocol="http",
    )
    if v2:
        config.signature_algorithm = "v2"
    params = Params(
        action=action,
        version="2018-05-09",
        protocol="HTTPS",
        pathname=pathname,
        method="POST",
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )
    out: dict[str, Any] = TeaGreenClient(config).call_api(
        params, tea_models.OpenApiRequest(body=body), RuntimeOptions()
    )
    return out


# ------------------------------------------------------------------------------------------------
# Setup, journal, and the Tea client's string to sign re-derived from what it sent


def person(live: LiveServer) -> dict[str, Any]:
    """p-py (张三, note n1) in group g-py with one face."""
    client = core(live)
    body = {"personId": "p-py", "groupIds": ["g-py"], "name": "张三", "note": "n1"}
    assert core_call(client, AddPersonRequest.AddPersonRequest(), body)["code"] == 200
    added = core_call(client, AddFacesRequest.AddFacesRequest(), {"personId": "p-py", "urls": [FACE_URL]})
    return {"face": added["data"]["faceImageItems"][0]["faceId"]}


def async_task(live: LiveServer) -> dict[str, Any]:
    out = core_call(core(live), ImageAsyncScanRequest.ImageAsyncScanRequest(), SCAN_BODY)
    return {"task": out["data"][0]["taskId"]}


def journal_entry(live: LiveServer, request_id: str) -> dict[str, Any]:
    entries = requests.get(f"{live.url}/__modsim/journal", params={"vendor": "aliyun"}, timeout=10).json()[
        "entries"
    ]
    wanted = request_id.replace("-", "").lower()
    [entry] = [e for e in entries if e["request_id"] == wanted]
    return entry


def tea_signed_string(entry: dict[str, Any], v2: bool, secret: str) -> str:
    """What the Tea client signed, rebuilt from the request the simulator received following
    alibabacloud_tea_openapi 0.4.6 ``utils.py`` (``get_string_to_sign`` for v2, ``get_authorization``
    for ACS3); checked against the signature the client sent."""
    headers = {k.lower(): v for k, v in entry["exchange"]["request_headers"]}
    body = entry["exchange"]["request_body"]["text"] or ""
    auth = headers["authorization"]
    if v2:
        sts = f"POST\n{headers['accept']}\n\n{headers['content-type']}\n{headers['date']}\n"
        sts += "".join(f"{k}:{headers[k]}\n" for k in sorted(k for k in headers if k.startswith("x-acs-")))
        sts += entry["path"]
        sig = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
        assert auth == f"acs {AK}:{sig}"
        return sts
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    payload = hashlib.sha256(body.encode()).hexdigest()
    canonical = (
        f"POST\n{entry['path']}\n\n"
        + "".join(f"{k}:{headers[k].strip()}\n" for k in signed)
        + f"\n{';'.join(signed)}\n{payload}"
    )
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    assert auth.endswith(",Signature=" + hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest())
    return sts


# ------------------------------------------------------------------------------------------------
# The operations (ImageSyncScan is covered in test_sdk.py for both SDKs)


@dataclass(frozen=True)
class Op:
    operation: str
    action: str
    pathname: str
    request: Callable[[], AcsRequest]
    body: Callable[[dict[str, Any]], Any]
    data: Callable[[dict[str, Any]], Any]  # the expected ``data`` (or a check returning None)
    error: str  # "secret" | "ak" | "body"
    bad_body: Callable[[dict[str, Any]], Any] = field(default=lambda c: None)
    setup: Callable[[LiveServer], dict[str, Any]] | None = None


def _async_data(c: dict[str, Any]) -> Callable[[Any], None]:
    def check(data: Any) -> None:
        [task] = data
        assert task == {"code": 200, "dataId": "d1", "msg": "OK", "taskId": task["taskId"]}
        assert task["taskId"].startswith("img")

    return check


def _upload_data(c: dict[str, Any]) -> Callable[[Any], None]:
    def check(data: Any) -> None:
        assert data["accessKeyId"].startswith("STS.") and data["securityToken"]
        assert data["uploadBucket"] == "green-upload-cn-shanghai"
        assert data["uploadFolder"].startswith(UID + "/")

    return check


def _add_faces_data(c: dict[str, Any]) -> Callable[[Any], None]:
    def check(data: Any) -> None:
        [item] = data["faceImageItems"]
        assert {k: v for k, v in data.items() if k != "faceImageItems"} == {
            "code": 200,
            "personId": "p-py",
            "groupId": ["g-py"],
        }
        assert item["success"] is True and item["faceId"].isdigit() and item["faceId"] != c["face"]

    return check


OPS = [
    Op(
        "image_asyncscan",
        "ImageAsyncScan",
        "/green/image/asyncscan",
        ImageAsyncScanRequest.ImageAsyncScanRequest,
        lambda c: SCAN_BODY,
        _async_data,
        "body",
        bad_body=lambda c: {**SCAN_BODY, "callback": "http://127.0.0.1:9/cb", "seed": "bad seed!"},
    ),
    Op(
        "image_results",
        "ImageAsyncScanResults",
        "/green/image/results",
        ImageAsyncScanResultsRequest.ImageAsyncScanResultsRequest,
        lambda c: [c["task"]],
        lambda c: [{"code": 280, "dataId": "d1", "msg": "PROCESSING", "taskId": c["task"], "url": PORN_URL}],
        "secret",
        setup=async_task,
    ),
    Op(
        "upload_credentials",
        "UploadCredentials",
        "/green/credentials/uploadcredentials",
        UploadCredentialsRequest.UploadCredentialsRequest,
        lambda c: {},
        _upload_data,
        "ak",
    ),
    Op(
        "add_person",
        "AddPerson",
        "/green/sface/person/add",
        AddPersonRequest.AddPersonRequest,
        lambda c: {"personId": "p-new", "groupIds": ["g-new"]},
        lambda c: {"code": 200, "personId": "p-new", "groupIds": ["g-new"]},
        "body",
        bad_body=lambda c: {"personId": "p-new", "groupIds": "g-new"},
    ),
    Op(
        "delete_person",
        "DeletePerson",
        "/green/sface/person/delete",
        DeletePersonRequest.DeletePersonRequest,
        lambda c: {"personId": "p-py"},
        lambda c: {"code": 200, "personId": "p-py"},
        "secret",
        setup=person,
    ),
    Op(
        "set_person",
        "SetPerson",
        "/green/sface/person/update",
        SetPersonRequest.SetPersonRequest,
        lambda c: {"personId": "p-py", "note": "n2"},
        lambda c: {"code": 200, "personId": "p-py"},
        "body",
        bad_body=lambda c: {"personId": ""},
        setup=person,
    ),
    Op(
        "get_person",
        "GetPerson",
        "/green/sface/person",
        GetPersonRequest.GetPersonRequest,
        lambda c: {"personId": "p-py"},
        lambda c: {
            "code": 200,
            "personId": "p-py",
            "name": "张三",
            "note": "n1",
            "groupIds": ["g-py"],
            "faceIds": [c["face"]],
        },
        "body",
        bad_body=lambda c: ["p-py"],
        setup=person,
    ),
    Op(
        "add_groups",
        "AddGroups",
        "/green/sface/person/groups/add",
        AddGroupsRequest.AddGroupsRequest,
        lambda c: {"personId": "p-py", "groupIds": ["g-vip"]},
        lambda c: {"code": 200, "personId": "p-py", "groupIds": ["g-py", "g-vip"]},
        "ak",
        setup=person,
    ),
    Op(
        "delete_groups",
        "DeleteGroups",
        "/green/sface/person/groups/delete",
        DeleteGroupsRequest.DeleteGroupsRequest,
        lambda c: {"personId": "p-py", "groupIds": ["g-py"]},
        lambda c: {"code": 200, "personId": "p-py", "groupIds": []},
        "secret",
        setup=person,
    ),
    Op(
        "add_faces",
        "AddFaces",
        "/green/sface/face/add",
        AddFacesRequest.AddFacesRequest,
        lambda c: {"personId": "p-py", "urls": ["https://faces.invalid/b.jpg#modsim=clean_avatar"]},
        _add_faces_data,
        "body",
        bad_body=lambda c: {"personId": "p-py", "urls": []},
        setup=person,
    ),
    Op(
        "delete_faces",
        "DeleteFaces",
        "/green/sface/face/delete",
        DeleteFacesRequest.DeleteFacesRequest,
        lambda c: {"personId": "p-py", "faceIds": [c["face"]]},
        lambda c: {"code": 200, "personId": "p-py", "faceIds": []},
        "ak",
        setup=person,
    ),
    Op(
        "get_faces",
        "GetFaces",
        "/green/sface/faces",
        GetFacesRequest.GetFacesRequest,
        lambda c: {"personId": "p-py"},
        lambda c: {"code": 200, "personId": "p-py", "faceItems": [{"faceId": c["face"], "url": FACE_URL}]},
        "body",
        bad_body=lambda c: {"personId": None},
        setup=person,
    ),
    Op(
        "get_groups",
        "GetGroups",
        "/green/sface/groups",
        GetGroupsRequest.GetGroupsRequest,
        lambda c: {},
        lambda c: {"code": 200, "groupIds": ["g-py"]},
        "ak",
        setup=person,
    ),
    Op(
        "get_persons",
        "GetPersons",
        "/green/sface/group/persons",
        GetPersonsRequest.GetPersonsRequest,
        lambda c: {"groupId": "g-py"},
        lambda c: {
            "code": 200,
            "groupId": "g-py",
            "personIds": ["p-py"],
            "persons": [{"personId": "p-py", "name": "张三"}],
        },
        "secret",
        setup=person,
    ),
    Op(
        "search_person",
        "SearchPerson",
        "/green/sface/search",
        SearchPersonRequest.SearchPersonRequest,
        lambda c: {"groupId": "g-py", "url": FACE_URL},
        lambda c: {
            "code": 200,
            "groupId": "g-py",
            "persons": [{"personId": "p-py", "name": "张三", "rate": 99.9}],
        },
        "body",
        bad_body=lambda c: {"groupId": "g-py"},
        setup=person,
    ),
]
IDS = [o.operation for o in OPS]


def _assert_data(op: Op, ctx: dict[str, Any], data: Any) -> None:
    expected = op.data(ctx)
    if callable(expected):
        expected(data)
    else:
        assert data == expected


def _assert_bad_request(live: LiveServer, op: Op, body: dict[str, Any]) -> None:
    assert list(body) == ["code", "msg", "requestId"]
    assert (body["code"], body["msg"]) == (400, "BAD_REQUEST")
    entry = journal_entry(live, body["requestId"])
    assert (entry["operation"], entry["status"], entry["vendor_code"]) == (op.operation, 200, 400)
    assert any(n.startswith("400 BAD_REQUEST: ") for n in entry["notes"]), entry["notes"]


def _assert_pop_journal(live: LiveServer, op: Op, request_id: str, status: int, code: str) -> dict[str, Any]:
    entry = journal_entry(live, request_id)
    assert (entry["operation"], entry["status"], entry["vendor_code"]) == (op.operation, status, code)
    assert entry["auth"]["outcome"] == "rejected"
    return entry


# ------------------------------------------------------------------------------------------------
# aliyunsdkcore: the error of each operation


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_core_sdk_error(live: LiveServer, op: Op) -> None:
    ctx = op.setup(live) if op.setup else {}
    request = op.request()
    if op.error == "body":
        _assert_bad_request(live, op, core_call(core(live), request, op.bad_body(ctx)))
        return
    client = core(live, secret=WRONG_SECRET) if op.error == "secret" else core(live, ak=UNKNOWN_AK)
    with pytest.raises(ServerException) as info:
        core_call(client, request, op.body(ctx))
    exc = info.value
    if op.error == "secret":
        # the SDK's own string to sign: its InvalidAccessKeySecret rewrite compares Message.split(':')[1]
        # with it, which a ROA string (it holds ':') never equals, so the gateway's text reaches the caller
        assert request.string_to_sign.endswith(f"\n{op.pathname}?RegionId=cn-shanghai")
        assert (exc.get_http_status(), exc.get_error_code()) == (400, "SignatureDoesNotMatch")
        assert exc.get_error_msg() == PREFIX + request.string_to_sign
        entry = _assert_pop_journal(live, op, exc.get_request_id(), 400, "SignatureDoesNotMatch")
        assert repr(request.string_to_sign) in entry["auth"]["reason"]
    else:
        assert (exc.get_http_status(), exc.get_error_code()) == (404, "InvalidAccessKeyId.NotFound")
        assert exc.get_error_msg() == "Specified access key is not found."
        _assert_pop_journal(live, op, exc.get_request_id(), 404, "InvalidAccessKeyId.NotFound")


# ------------------------------------------------------------------------------------------------
# Tea: one success and one error of each operation, ACS3 (default) and v2


@pytest.mark.parametrize("op", OPS, ids=IDS)
@pytest.mark.parametrize("v2", [False, True], ids=["acs3-default", "signature-v2"])
def test_tea_sdk_operation(live: LiveServer, v2: bool, op: Op) -> None:
    ctx = op.setup(live) if op.setup else {}

    out = tea_call(live, v2, op.action, op.pathname, op.body(ctx))
    assert out["statusCode"] == 200
    body = out["body"]
    assert list(body) == ["code", "data", "msg", "requestId"]
    assert (body["code"], body["msg"]) == (200, "OK")
    _assert_data(op, ctx, body["data"])
    entry = journal_entry(live, body["requestId"])
    assert (entry["operation"], entry["status"], entry["vendor_code"]) == (op.operation, 200, 200)
    assert (entry["credential"], entry["auth"]["outcome"]) == (AK, "ok")
    assert entry["auth"]["reason"].startswith("acs " if v2 else "ACS3-HMAC-SHA256 ")
    tea_signed_string(entry, v2, SECRET)

    if op.error == "body":
        bad = tea_call(live, v2, op.action, op.pathname, op.bad_body(ctx))
        assert bad["statusCode"] == 200  # a Green business code: no exception
        _assert_bad_request(live, op, bad["body"])
        return
    kw = {"secret": WRONG_SECRET} if op.error == "secret" else {"ak": UNKNOWN_AK}
    with pytest.raises(tea_exceptions.ClientException) as info:
        tea_call(live, v2, op.action, op.pathname, op.body(ctx), **kw)
    exc = info.value
    rid = exc.data["RequestId"]
    if op.error == "secret":
        status, code = 400, "SignatureDoesNotMatch"
        entry = _assert_pop_journal(live, op, rid, status, code)
        message = PREFIX + tea_signed_string(entry, v2, WRONG_SECRET)
    else:
        status, code, message = 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
        _assert_pop_journal(live, op, rid, status, code)
    assert (exc.status_code, exc.code, exc.request_id) == (status, code, rid)
    assert exc.message == f"code: {status}, {message} request id: {rid}"
    assert exc.data == {
        "RequestId": rid,
        "HostId": f"127.0.0.1:{live.port}",
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Green&requestId={rid}",
        "statusCode": status,
    }


# ------------------------------------------------------------------------------------------------
# Tea through proxy mode over plain HTTP (README "Proxy mode": a plain request in absolute form to a
# vendor host on port 80 is served). A forward proxy hands the gateway the origin-form path, so the
# real gateway verifies both signatures: the ACS3 canonical URI is the path, not the absolute-form
# request target (``http://green.cn-shanghai.aliyuncs.com/green/...``).


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    ca_dir = tmp_path_factory.mktemp("ca")
    server = ThreadedServer(Settings(seed=0, validate_responses=True, proxy_port=0, ca_dir=ca_dir))
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("v2", [False, True], ids=["acs3-default", "signature-v2"])
def test_tea_through_plain_http_proxy(proxied: ThreadedServer, v2: bool) -> None:
    proxied.reset()
    config = tea_models.Config(
        access_key_id=AK,
        access_key_secret=SECRET,
        region_id="cn-shanghai",
        endpoint="green.cn-shanghai.aliyuncs.com",  # the SDK's own endpoint, unchanged
        protocol="http",
        http_proxy=proxied.proxy_url,
    )
    if v2:
        config.signature_algorithm = "v2"
    params = Params(
        action="ImageSyncScan",
        version="2018-05-09",
        protocol="HTTPS",
        pathname="/green/image/scan",
        method="POST",
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )
    out = TeaGreenClient(config).call_api(params, tea_models.OpenApiRequest(body=SCAN_BODY), RuntimeOptions())
    body = out["body"]
    assert (out["statusCode"], body["code"], body["msg"]) == (200, 200, "OK")
    assert body["data"][0]["results"] == [
        {"label": "porn", "rate": 96.2, "scene": "porn", "suggestion": "block"}
    ]
    entry = journal_entry(proxied, body["requestId"])
    assert (entry["operation"], entry["status"], entry["auth"]["outcome"]) == ("image_scan", 200, "ok")
    assert {k.lower(): v for k, v in entry["exchange"]["request_headers"]}["host"] == (
        "green.cn-shanghai.aliyuncs.com"
    )


def test_upload_credentials_are_for_the_region_called(proxied: ThreadedServer) -> None:
    """Tea sends no region header: the bucket is the region of the host it called (green.cn-beijing...)."""
    proxied.reset()
    config = tea_models.Config(
        access_key_id=AK,
        access_key_secret=SECRET,
        endpoint="green.cn-beijing.aliyuncs.com",
        protocol="http",
        http_proxy=proxied.proxy_url,
        signature_algorithm="v2",
    )
    params = Params(
        action="UploadCredentials",
        version="2018-05-09",
        protocol="HTTPS",
        pathname="/green/credentials/uploadcredentials",
        method="POST",
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )
    out = TeaGreenClient(config).call_api(params, tea_models.OpenApiRequest(body={}), RuntimeOptions())
    data = out["body"]["data"]
    assert data["uploadBucket"] == "green-upload-cn-beijing"
    assert data["ossEndpoint"] == "https://oss-cn-beijing.aliyuncs.com"
