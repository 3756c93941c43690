"""Schemathesis, driven from Python: one operation of the served OpenAPI document, a bounded number
of cases, each sent to a live server and judged by schemathesis' checks *and* ``check_answer``.

Half of the cases carry the vendor's demo credentials (a Baidu token, showapi's appid and secret,
the aioasis appkey, the itapi key, an Aliyun ROA v1 signature over the generated body), so the
generated parameters reach past authentication into the models.
"""

from __future__ import annotations

import json
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from simulator.testing import ThreadedServer
from tests.contract.harness import check_answer
from tests.vendors.aliyun.helpers import sign_headers
from tests.vendors.aliyun.rpc import v1_query

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SHOWAPI = {"showapi_appid": "100001", "showapi_sign": "demo-showapi-secret"}


@schemathesis.deserializer("text/xml")
def _aliyun_xml(_ctx: Any, response: Any) -> str:
    """Aliyun's XML error, as the schema file describes it: the text (its first 200 characters)."""
    return str(response.content.decode("utf-8")[:200])


def baidu_token(server: ThreadedServer, session: requests.Session) -> str:
    resp = session.get(
        server.url + "/oauth/2.0/token",
        params={
            "grant_type": "client_credentials",
            "client_id": "demo-baidu-api-key",
            "client_secret": "demo-baidu-secret-key",
        },
    )
    token: str = resp.json()["access_token"]
    return token


class Runner:
    """Sends cases of one schema to ``server``; ``authed`` cases get the vendor's demo credentials."""

    def __init__(self, server: ThreadedServer, schema: Any) -> None:
        self.server = server
        self.schema = schema
        self.session = requests.Session()
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = baidu_token(self.server, self.session)
        return self._token

    def forget(self) -> None:
        """After a server reset: the token it issued is gone."""
        self._token = None

    def _credentials(self, vendor: str, operation: str) -> dict[str, str]:
        if vendor == "baidu" and operation not in ("token", "unknown_method"):
            return {"access_token": self.token()}
        if vendor == "showapi" and operation != "unknown_api":
            return SHOWAPI
        if vendor == "aioasis":
            return {"appkey": "demo-aioasis-appkey"}
        if vendor == "itapi":
            return {"key": "demo-itapi-key"}
        return {}

    def send(self, case: Case, operation_id: str, authed: bool) -> Any:
        vendor, operation, _ = operation_id.split(".")
        if authed and vendor == "aliyun" and operation == "rpc_entry" and case.method.upper() == "POST":
            return self._rpc_signed(case)
        if authed and vendor == "aliyun" and operation not in ("unknown_api", "rpc_entry"):
            return self._signed(case)
        creds = self._credentials(vendor, operation) if authed else {}
        if creds:
            case.query = {**(case.query if isinstance(case.query, dict) else {}), **creds}
            if isinstance(case.body, dict) and "key" in case.body:  # itapi: the form's key wins
                case.body = {**case.body, "key": creds.get("key", case.body["key"])}
        return case.call(base_url=self.server.url, session=self.session)

    def _signed(self, case: Case) -> requests.Response:
        kwargs = case.as_transport_kwargs(base_url=self.server.url)
        if "json" in kwargs:
            raw = json.dumps(kwargs["json"]).encode()
        else:
            data = kwargs.get("data") or b""
            raw = data.encode() if isinstance(data, str) else bytes(data)
        query = {"RegionId": "cn-shanghai"}
        headers = sign_headers(case.operation.path, raw, sim=self.server.sim, query=query)
        return self.session.post(
            self.server.url + case.operation.path, params=query, data=raw, headers=headers, timeout=30
        )

    def _rpc_signed(self, case: Case) -> requests.Response:
        """Green 2022-03-02 (RPC on ``/``): the generated action and its parameters, signed RPC v1."""
        kwargs = case.as_transport_kwargs(base_url=self.server.url)
        generated = {k: str(v) for k, v in (kwargs.get("params") or {}).items()}
        data = kwargs.get("data")
        form = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        own = {k: generated[k] for k in ("Service", "ServiceParameters", "ReqId") if k in generated}
        action = generated.get("Action") or "ImageModeration"
        query = v1_query(action, self.server.sim, form=form, query=own)
        return self.session.post(self.server.url + "/", params=query, data=form, timeout=30)

    def check(self, case: Case, operation_id: str, authed: bool) -> None:
        response = self.send(case, operation_id, authed)
        case.validate_response(response, checks=CHECKS)
        headers = {k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
        check_answer(self.server, case.method, response.status_code, headers, response.content, decoded=True)

    def fuzz(self, operation_id: str, max_examples: int, shrink: bool = True) -> int:
        """Runs ``max_examples`` cases (explicit examples first); returns how many were sent."""
        op = self.schema.find_operation_by_id(operation_id)
        strategies = [op.as_strategy(GenerationMode.POSITIVE)]
        if not op.path.startswith("/{"):
            # a negated first segment (showapi's ``/{api}``) is no vendor's path at all: not generated
            strategies.append(op.as_strategy(GenerationMode.NEGATIVE))
        strategies += self.schema.get_strategies_from_examples(op)
        sent = 0

        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else []),
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies), authed=st.booleans())
        def prop(case: Case, authed: bool) -> None:
            nonlocal sent
            sent += 1
            self.check(case, operation_id, authed)

        prop()
        return sent
