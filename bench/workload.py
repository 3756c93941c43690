"""The benchmarked operations: how each request is built (and signed) and how a success is recognised.

Shared by ``run.py`` (which builds the fixed requests wrk replays and checks one answer of each
before measuring) and ``loadgen.py`` (which builds a freshly signed request per call). Everything
here is written out independently of the simulator's own code (signing included), as a client would.

Operations (names are the JSON keys of ``operations``):

- ``baidu_face_audit``: ``POST /rest/2.0/solution/v1/face_audit?access_token=T``,
  ``configId=1&images=<urlencoded base64 of a ~30 KB JPEG>`` (a ~40 KB form body);
- ``showapi_2054_1``: ``POST /2054-1`` with the same image, ``showapi_timestamp`` from the simulator
  clock and an MD5 ``showapi_sign`` (the official SDKs' scheme);
- ``aliyun_image_scan``: ``POST /green/image/scan?RegionId=cn-shanghai``, 10 tasks with ``#modsim=``
  URLs, signed ROA v1 (HMAC-SHA1) exactly as aliyunsdkcore 2.16.1 signs (``Date``, ``Content-MD5``,
  no nonce: aliyunsdkcore sends none for ROA);
- ``itapi_sync``: ``POST /api/badword/pic``, ``key=..&type=porn,ads&sync=yes&data=<base64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

FORM = "application/x-www-form-urlencoded"
CHINA = timezone(timedelta(hours=8))
FACE_AUDIT = "/rest/2.0/solution/v1/face_audit"
TOKEN = "/oauth/2.0/token"
#: the image's target size: "Baidu face_audit with a 30 KB JPEG"
IMAGE_BYTES = 30 * 1024
ALIYUN_TASKS = 10
ALIYUN_SCENES = ("porn", "terrorism", "ad")
#: the scenarios the Aliyun tasks' URLs name (cycled), a realistic mix of verdicts
ALIYUN_MARKERS = ("clean_avatar", "porn", "sexy", "bloody", "qrcode_ad", "logo", "two_faces", "smoking")


@dataclass(frozen=True)
class Creds:
    """The benchmark's credentials, created through ``POST /__modsim/credentials`` by run.py."""

    baidu_key: str = "bench-baidu-api-key"
    baidu_secret: str = "bench-baidu-secret-key"
    baidu_app_id: str = "19999999"
    showapi_appid: str = "199999"
    showapi_secret: str = "bench-showapi-secret"
    itapi_key: str = "bench-itapi-key"
    aliyun_ak: str = "bench-aliyun-ak"
    aliyun_secret: str = "bench-aliyun-secret"
    aliyun_uid: str = "1999999999999999"

    def admin_bodies(self) -> list[dict[str, Any]]:
        """``POST /__modsim/credentials`` bodies: no ``attrs.quota``, so no call limit applies."""
        return [
            {
                "vendor": "baidu",
                "id": self.baidu_key,
                "secret": self.baidu_secret,
                "attrs": {"app_id": self.baidu_app_id},
            },
            {
                "vendor": "showapi",
                "id": self.showapi_appid,
                "secret": self.showapi_secret,
                "attrs": {"description": "modsim benchmark", "apis": ["2054-1", "2054-2", "2054-3"]},
            },
            {"vendor": "itapi", "id": self.itapi_key},
            {
                "vendor": "aliyun",
                "id": self.aliyun_ak,
                "secret": self.aliyun_secret,
                "attrs": {"uid": self.aliyun_uid},
            },
        ]


@dataclass
class Context:
    """What building a request needs; written to a JSON file for the load generator process."""

    image_b64: str
    baidu_token: str = ""
    #: simulator clock minus this machine's clock (0 unless someone moved the simulator clock)
    clock_offset_s: float = 0.0
    creds: Creds = field(default_factory=Creds)

    @cached_property
    def image_quoted(self) -> str:
        """The base64 image, urlencoded once (quoting 40 KB per request would cost the client ~3 ms)."""
        return quote(self.image_b64, safe="")

    @cached_property
    def showapi_images_md5(self) -> Any:
        """MD5 state after ``"images" + <base64>``, the first pair in signing order."""
        return hashlib.md5(("images" + self.image_b64).encode())

    @cached_property
    def aliyun_body(self) -> bytes:
        return aliyun_scan_body()

    def now(self) -> float:
        return time.time() + self.clock_offset_s

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Context:
        raw = json.loads(text)
        raw["creds"] = Creds(**raw["creds"])
        return cls(**raw)


@dataclass(frozen=True)
class Request:
    method: str
    #: path and query, as sent
    target: str
    headers: dict[str, str]
    body: bytes


# --- building -------------------------------------------------------------------------------------


def baidu_face_audit(ctx: Context) -> Request:
    body = "configId=1&images=" + ctx.image_quoted
    target = f"{FACE_AUDIT}?access_token={quote(ctx.baidu_token, safe='')}"
    return Request("POST", target, {"Content-Type": FORM}, body.encode())


def showapi_sign(params: dict[str, str], secret: str) -> str:
    """MD5 hex of the sorted ``key+value`` pairs (empty ones and the sign left out) + the secret."""
    text = "".join(k + v for k, v in sorted(params.items()) if k and v and k != "showapi_sign") + secret
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def showapi_2054_1(ctx: Context) -> Request:
    """Signed per call: ``showapi_sign(params, secret)``, computed from a cached MD5 prefix (the
    sorted pairs start with ``images``; ``check_showapi_signer`` proves it equal)."""
    appid, ts = ctx.creds.showapi_appid, datetime.fromtimestamp(ctx.now(), CHINA).strftime("%Y%m%d%H%M%S")
    md5 = ctx.showapi_images_md5.copy()
    md5.update(f"showapi_appid{appid}showapi_timestamp{ts}{ctx.creds.showapi_secret}".encode())
    body = (
        f"images={ctx.image_quoted}&showapi_appid={quote(appid, safe='')}&showapi_timestamp={ts}"
        f"&showapi_sign={md5.hexdigest()}"
    )
    return Request("POST", "/2054-1", {"Content-Type": FORM}, body.encode())


def check_showapi_signer(ctx: Context) -> None:
    """The fast path above equals the plain signature over the decoded form."""
    req = showapi_2054_1(ctx)
    params = dict(parse_qsl(req.body.decode(), keep_blank_values=True))
    assert params["images"] == ctx.image_b64
    assert params["showapi_sign"] == showapi_sign(params, ctx.creds.showapi_secret), params["showapi_sign"]


def itapi_sync(ctx: Context) -> Request:
    body = f"key={quote(ctx.creds.itapi_key, safe='')}&type=porn,ads&sync=yes&data=" + ctx.image_quoted
    return Request("POST", "/api/badword/pic", {"Content-Type": FORM}, body.encode())


def _url(i: int) -> str:
    return f"https://img.example.com/bench/{i}.jpg#modsim={ALIYUN_MARKERS[i % len(ALIYUN_MARKERS)]}"


def baidu_face_audit_url(ctx: Context) -> Request:
    """The fast variant (RSS mix): an image URL whose ``#modsim=`` fragment names the scenario."""
    body = "configId=1&imgUrls=" + quote(_url(1), safe="")
    target = f"{FACE_AUDIT}?access_token={quote(ctx.baidu_token, safe='')}"
    return Request("POST", target, {"Content-Type": FORM}, body.encode())


def showapi_2054_1_url(ctx: Context) -> Request:
    params = {
        "showapi_appid": ctx.creds.showapi_appid,
        "showapi_timestamp": datetime.fromtimestamp(ctx.now(), CHINA).strftime("%Y%m%d%H%M%S"),
        "imgUrls": _url(2),
    }
    params["showapi_sign"] = showapi_sign(params, ctx.creds.showapi_secret)
    return Request("POST", "/2054-1", {"Content-Type": FORM}, urlencode(params).encode())


def itapi_sync_url(ctx: Context) -> Request:
    body = f"key={quote(ctx.creds.itapi_key, safe='')}&type=porn,ads&sync=yes&data=" + quote(_url(3), safe="")
    return Request("POST", "/api/badword/pic", {"Content-Type": FORM}, body.encode())


def aliyun_scan_body() -> bytes:
    tasks = [
        {
            "dataId": f"bench-{i}",
            "url": _url(i),
        }
        for i in range(ALIYUN_TASKS)
    ]
    # json.dumps with its default separators, as the official samples send it
    return json.dumps({"scenes": list(ALIYUN_SCENES), "tasks": tasks}).encode()


def roa_v1_string_to_sign(method: str, path: str, query: str, headers: dict[str, str]) -> str:
    """A.2 of the vendor facts: method, Accept, Content-MD5, Content-Type, Date, the sorted
    ``x-acs-*`` headers, then the path and the sorted, decoded query (no newline before the path)."""
    h = {k.lower(): v for k, v in headers.items()}
    s = (
        method
        + "\n"
        + "".join(h.get(n, "") + "\n" for n in ("accept", "content-md5", "content-type", "date"))
    )
    s += "".join(f"{k}:{h[k]}\n" for k in sorted(k for k in h if k.startswith("x-acs-")))
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return s + path + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")


def roa_v1_sign(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_signed(
    ak: str, secret: str, path: str, query: str, body: bytes, action: str, date: str, region: str
) -> Request:
    headers = {
        "Accept": "application/json",
        "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "Content-Type": "application/json",
        "Date": date,
        "x-acs-action": action,
        "x-acs-region-id": region,
        "x-acs-signature-method": "HMAC-SHA1",
        "x-acs-signature-version": "1.0",
        "x-acs-version": "2018-05-09",
    }
    sts = roa_v1_string_to_sign("POST", path, query, headers)
    headers["Authorization"] = f"acs {ak}:{roa_v1_sign(secret, sts)}"
    return Request("POST", f"{path}?{query}" if query else path, headers, body)


def http_date(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def aliyun_image_scan(ctx: Context, body: bytes | None = None) -> Request:
    return aliyun_signed(
        ctx.creds.aliyun_ak,
        ctx.creds.aliyun_secret,
        "/green/image/scan",
        "RegionId=cn-shanghai",
        body if body is not None else ctx.aliyun_body,
        "ImageSyncScan",
        http_date(ctx.now()),
        "cn-shanghai",
    )


def check_aliyun_signer() -> None:
    """The worked example of the vendor facts (A.2): our signer must give its exact signature."""
    body = (
        b'{"scenes": ["sface"], "tasks": [{"dataId": "68b531a8-9568-423b-957e-43b1c5119fac", '
        b'"url": "https://img.alicdn.com/tfs/TB1urBOQFXXXXbMXFXXXXXXXXXX-1442-257.png"}]}'
    )
    req = aliyun_signed(
        "testAK",
        "testSecret",
        "/green/image/scan",
        "RegionId=cn-shanghai",
        body,
        "ImageSyncScan",
        "Tue, 17 Jan 2017 10:16:36 GMT",
        "cn-shanghai",
    )
    assert req.headers["Content-MD5"] == "p9aL1nITxayooAeJKdsjSg==", req.headers["Content-MD5"]
    assert req.headers["Authorization"] == "acs testAK:iEt9W49qNImkUDMbITubtD96kTI=", req.headers


# --- recognising a success ------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def ok_baidu(status: int, body: bytes) -> bool:
    return status == 200 and b'"error_code"' not in body and body.startswith(b'{"log_id"')


def ok_showapi(status: int, body: bytes) -> bool:
    return status == 200 and b'"showapi_res_code":0' in body


def ok_itapi(status: int, body: bytes) -> bool:
    return status == 200 and body.startswith(b'{"code":200')


def ok_aliyun(status: int, body: bytes) -> bool:
    return status == 200 and body.startswith(b'{"code":200')


def explain(op: str, status: int, body: bytes) -> str:
    """Why a sampled answer is not a success (for the run's error message)."""
    return f"{op}: HTTP {status}: {body[:300].decode('utf-8', 'replace')}"


def deep_ok_aliyun(body: bytes) -> bool:
    """Every task answered 200 too (checked once per run, not per request)."""
    doc = _json(body)
    return (
        isinstance(doc, dict)
        and doc.get("code") == 200
        and len(doc.get("data") or []) == ALIYUN_TASKS
        and all(t.get("code") == 200 for t in doc["data"])
    )


@dataclass(frozen=True)
class Operation:
    name: str
    vendor: str
    #: the simulator's operation name (journal ``operation``)
    sim_operation: str
    build: Callable[[Context], Request]
    ok: Callable[[int, bytes], bool]
    #: the request carries a timestamp: rebuild it per request (Python generator) or per phase (wrk)
    signed: bool
    #: the reference decodes a base64 image (so the same-decoder reference is measured too)
    base64_image: bool = False


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("baidu_face_audit", "baidu", "face_audit", baidu_face_audit, ok_baidu, False, True),
        Operation("showapi_2054_1", "showapi", "2054-1", showapi_2054_1, ok_showapi, True, True),
        Operation("aliyun_image_scan", "aliyun", "image_scan", aliyun_image_scan, ok_aliyun, True),
        Operation("itapi_sync", "itapi", "pic", itapi_sync, ok_itapi, False, True),
    )
}
#: fast variants (image by URL: no base64 to decode), for the RSS and soak mixes
EXTRA_OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("baidu_face_audit_url", "baidu", "face_audit", baidu_face_audit_url, ok_baidu, False),
        Operation("showapi_2054_1_url", "showapi", "2054-1", showapi_2054_1_url, ok_showapi, True),
        Operation("itapi_sync_url", "itapi", "pic", itapi_sync_url, ok_itapi, False),
    )
}
ALL_OPERATIONS = {**OPERATIONS, **EXTRA_OPERATIONS}
