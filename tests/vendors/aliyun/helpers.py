"""Signing Green requests in tests with the SDK's own code (aliyunsdkcore's ROA composer and
HMAC-SHA1), so the simulator's verifier is checked against an independent implementation."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from email.utils import formatdate
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from aliyunsdkcore.auth.algorithm import sha_hmac1
from aliyunsdkcore.auth.composer import roa_signature_composer

from simulator.keys import SIM as _SIM
from simulator.sim import Sim
from simulator.vendors.aliyun.signing import content_md5

AK = "demo-aliyun-ak"
SECRET = "demo-aliyun-secret"
UID = "1234567890123456"
SCAN = "/green/image/scan"
ASYNC = "/green/image/asyncscan"
RESULTS = "/green/image/results"
JSON_CT = "application/json;charset=utf-8"

Result = tuple[int, Any, dict[str, str]]


def rfc2616(t: float) -> str:
    return formatdate(t, usegmt=True)


def sign_headers(
    path: str,
    body: bytes,
    *,
    sim: Sim | None = None,
    date: str | None = None,
    ak: str = AK,
    secret: str = SECRET,
    query: dict[str, str] | None = None,
    action: str = "ImageSyncScan",
    nonce: str | None = None,
    extra: dict[str, str] | None = None,
    content_type: str = "application/json",
    method: str = "POST",
) -> dict[str, str]:
    """Headers of a ROA v1 request as aliyunsdkcore builds them (Date from the simulator clock)."""
    if date is None:
        assert sim is not None
        date = rfc2616(sim.clock.now())
    headers = {
        "Accept": "application/json",
        "Content-Type": content_type,
        "Date": date,
        "x-acs-action": action,
        "x-acs-version": "2018-05-09",
        "x-acs-region-id": "cn-shanghai",
        "x-acs-signature-method": "HMAC-SHA1",
        "x-acs-signature-version": "1.0",
    }
    if body:
        headers["Content-MD5"] = content_md5(body)
    if nonce is not None:
        headers["x-acs-signature-nonce"] = nonce
    headers.update(extra or {})
    sts = roa_signature_composer.compose_string_to_sign(
        method, dict(query or {"RegionId": "cn-shanghai"}), path, headers, None
    )
    headers["Authorization"] = f"acs {ak}:{sha_hmac1.get_sign_string(sts, secret)}"
    return headers


async def green(
    client: TestClient,
    path: str,
    payload: Any,
    *,
    raw: bytes | None = None,
    query: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    override: dict[str, str] | None = None,
    **kw: Any,
) -> Result:
    """POST a signed Green request; ``drop``/``override`` tamper with headers after signing."""
    body = raw if raw is not None else json.dumps(payload).encode()
    sim: Sim = client.app[_SIM]
    q = query or {"RegionId": "cn-shanghai"}
    headers = sign_headers(path, body, sim=sim, query=q, **kw)
    for name in drop:
        headers.pop(name, None)
    headers.update(override or {})
    resp = await client.post(f"{path}?{urlencode(q)}", data=body, headers=headers)
    text = await resp.text()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return resp.status, parsed, dict(resp.headers)


def scan_body(*urls: str, scenes: tuple[str, ...] = ("porn",), **extra: Any) -> dict[str, Any]:
    tasks = [{"dataId": f"d{i}", "url": u} for i, u in enumerate(urls)]
    return {"scenes": list(scenes), "tasks": tasks, **extra}


def nonce() -> str:
    return uuid.uuid4().hex


def acs3_headers(
    path: str,
    body: bytes,
    *,
    sim: Sim,
    ak: str = AK,
    secret: str = SECRET,
    date: str | None = None,
    nonce_value: str | None = None,
    host: str = "127.0.0.1",
    action: str = "ImageSyncScan",
) -> dict[str, str]:
    """Headers of an ACS3-HMAC-SHA256 request signed by the Tea client's own ``get_authorization``."""
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": host,
        "x-acs-version": "2018-05-09",
        "x-acs-action": action,
        "user-agent": "modsim-tests",
        "x-acs-date": date or datetime.fromtimestamp(sim.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce_value or nonce(),
        "accept": "application/json",
        "content-type": "application/json; charset=utf-8",
        "x-acs-content-sha256": payload,
    }
    req = SimpleNamespace(method="POST", pathname=path, query={}, headers=headers)
    headers = {
        **headers,
        "Authorization": TeaUtils.get_authorization(req, "ACS3-HMAC-SHA256", payload, ak, secret),
    }
    return headers
