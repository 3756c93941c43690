"""Signing Green 2022-03-02 (RPC) requests in tests with the Tea client's own code
(``alibabacloud_tea_openapi.utils.Utils``: ``get_rpcsignature`` for RPC v1, ``get_authorization`` for
ACS3), so the simulator's verifier is checked against an independent implementation."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from alibabacloud_tea_openapi.utils import Utils as TeaUtils

from simulator.keys import SIM
from simulator.sim import Sim
from tests.vendors.aliyun.helpers import AK, SECRET

VERSION = "2022-03-02"
FORM_CT = "application/x-www-form-urlencoded"
Result = tuple[int, Any, dict[str, str]]


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_query(
    action: str,
    sim: Sim,
    *,
    ak: str = AK,
    secret: str = SECRET,
    form: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    method: str = "POST",
    common: dict[str, str] | None = None,
) -> dict[str, str]:
    """The query of an RPC v1 request as the Tea client builds it (``do_rpcrequest``), signed over the
    query and ``form``; ``common`` overrides common parameters before signing."""
    q = {
        "Action": action,
        "Format": "json",
        "Version": VERSION,
        "Timestamp": iso(sim.clock.now()),
        "SignatureNonce": uuid.uuid4().hex,
        **(query or {}),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": ak,
        **(common or {}),
    }
    q["Signature"] = TeaUtils.get_rpcsignature({**q, **(form or {})}, method, secret)
    return q


def service_form(service: str, **params: Any) -> dict[str, str]:
    return {"Service": service, "ServiceParameters": json.dumps(params, ensure_ascii=False)}


async def call(
    client: TestClient,
    action: str,
    form: dict[str, str] | None = None,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    tamper: dict[str, str] | None = None,
    method: str = "POST",
    **kw: Any,
) -> Result:
    """An RPC v1 call; ``tamper`` changes query parameters after signing."""
    sim: Sim = client.app[SIM]
    q = {**v1_query(action, sim, form=form, query=query, method=method, **kw), **(tamper or {})}
    data = urlencode(form).encode() if form else b""
    h = {"x-acs-action": action, "x-acs-version": VERSION, **({"Content-Type": FORM_CT} if form else {})}
    resp = await client.request(method, "/?" + urlencode(q), data=data, headers={**h, **(headers or {})})
    return await _result(resp)


async def call_acs3(
    client: TestClient,
    action: str,
    form: dict[str, str] | None = None,
    *,
    query: dict[str, str] | None = None,
    secret: str = SECRET,
    version: str = VERSION,
) -> Result:
    """An ACS3-HMAC-SHA256 call as the Tea client's ``do_request`` signs it."""
    sim: Sim = client.app[SIM]
    body = urlencode(form).encode() if form else b""
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": f"127.0.0.1:{client.port}",
        "x-acs-version": version,
        "x-acs-action": action,
        "user-agent": "modsim-tests",
        "x-acs-date": iso(sim.clock.now()),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "accept": "application/json",
        **({"content-type": FORM_CT} if form else {}),
        "x-acs-content-sha256": payload,
    }
    req = SimpleNamespace(method="POST", pathname="/", query=dict(query or {}), headers=headers)
    headers["Authorization"] = TeaUtils.get_authorization(req, "ACS3-HMAC-SHA256", payload, AK, secret)
    target = "/" + ("?" + urlencode(query) if query else "")
    resp = await client.post(target, data=body, headers=headers)
    return await _result(resp)


async def _result(resp: Any) -> Result:
    text = await resp.text()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return resp.status, parsed, dict(resp.headers)
