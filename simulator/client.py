"""A small typed client for the admin API (``/__modsim/``), sync and async, usable from any test framework.

    from simulator.client import ModsimClient
    sim = ModsimClient("http://127.0.0.1:8080")
    sim.reset()
    sim.add_faults([{"vendor": "baidu", "operation": "face_audit", "first_n": 2, "action": {"type": "error", "code": 18}}])
    ...
    assert [e["vendor_code"] for e in sim.journal(vendor="baidu")] == [18, 18, 0]

The sync client uses only the standard library; the async one uses aiohttp (a modsim dependency).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import aiohttp

Json = Any
#: the admin API is the simulator's own address: never through HTTP(S)_PROXY (which may point at
#: modsim's proxy mode, which serves vendor hosts only)
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ModsimAdminError(Exception):
    """The admin API answered with an error status: ``status``, ``error`` and ``detail`` from its body."""

    def __init__(self, status: int, body: Json) -> None:
        self.status = status
        self.error = body.get("error") if isinstance(body, dict) else None
        self.detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"admin API {status}: {self.error}: {self.detail}")


def _query(params: dict[str, Any]) -> str:
    clean = {k: v for k, v in params.items() if v is not None}
    return ("?" + urllib.parse.urlencode(clean)) if clean else ""


def _fault_body(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rules": rules}


def _queue_body(
    scenario: str, vendor: str | None, operation: str | None, credential: str | None, count: int
) -> dict[str, Any]:
    body: dict[str, Any] = {"scenario": scenario, "count": count}
    body.update(
        {k: v for k, v in (("vendor", vendor), ("operation", operation), ("credential", credential)) if v}
    )
    return body


def _clock_body(
    advance_s: float | None, freeze: bool | None, set_to: float | None, skew_s: float | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if skew_s is not None:
        body["skew_s"] = skew_s
    if set_to is not None:
        body["set"] = set_to
    if advance_s is not None:
        body["advance_s"] = advance_s
    if freeze is not None:
        body["freeze"] = freeze
    return body


class ModsimClient:
    """Blocking admin client."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Json = None) -> Json:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + "/__modsim" + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-Modsim-Token", self.token)
        try:
            with _DIRECT.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise ModsimAdminError(exc.code, parsed) from None
        return json.loads(raw) if raw else None

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = self.request("GET", "/health")
        return out

    def reset(self) -> None:
        self.request("POST", "/reset")

    def clock(
        self,
        advance_s: float | None = None,
        freeze: bool | None = None,
        set_to: float | None = None,
        skew_s: float | None = None,
    ) -> dict[str, Any]:
        """Age server state (``advance_s``, ``freeze``, ``set_to``) or see clients' timestamps as
        ``skew_s`` seconds off; no argument: read the clock."""
        body = _clock_body(advance_s, freeze, set_to, skew_s)
        out: dict[str, Any] = self.request("POST", "/clock", body) if body else self.request("GET", "/clock")
        return out

    def journal(
        self, vendor: str | None = None, limit: int | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.request(
            "GET", "/journal" + _query({"vendor": vendor, "limit": limit, **filters})
        )["entries"]
        return entries

    def clear_journal(self) -> None:
        self.request("DELETE", "/journal")

    def faults(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self.request("GET", "/faults")["rules"]
        return rules

    def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.request("POST", "/faults", _fault_body(rules))["rules"]
        return out

    def add_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.request("PATCH", "/faults", _fault_body(rules))["rules"]
        return out

    def clear_faults(self) -> None:
        self.request("DELETE", "/faults")

    def queue(self, scenario: str, vendor: str | None = None, operation: str | None = None,
              credential: str | None = None, count: int = 1) -> None:  # fmt: skip
        self.request("POST", "/queue", _queue_body(scenario, vendor, operation, credential, count))

    def add_scenario(self, scenario: dict[str, Any]) -> None:
        self.request("POST", "/scenarios", scenario)

    def add_rules(self, rules: list[dict[str, Any]]) -> None:
        self.request("PATCH", "/rules", {"rules": rules})

    def put_credential(
        self, vendor: str, cred_id: str, secret: str | None = None, attrs: dict[str, Any] | None = None
    ) -> None:
        body: dict[str, Any] = {"vendor": vendor, "id": cred_id, "attrs": attrs or {}}
        if secret is not None:
            body["secret"] = secret
        self.request("POST", "/credentials", body)

    def credentials(self, vendor: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.request("GET", "/credentials" + _query({"vendor": vendor}))[
            "credentials"
        ]
        return out


class AsyncModsimClient:
    """The same calls, awaitable (one aiohttp session per call: simple and leak-free)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    async def request(self, method: str, path: str, body: Json = None) -> Json:
        headers = {"X-Modsim-Token": self.token} if self.token else {}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, self.base_url + "/__modsim" + path, json=body, headers=headers) as resp,
        ):
            raw = await resp.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            if resp.status >= 400:
                raise ModsimAdminError(resp.status, parsed)
            return parsed

    async def health(self) -> dict[str, Any]:
        out: dict[str, Any] = await self.request("GET", "/health")
        return out

    async def reset(self) -> None:
        await self.request("POST", "/reset")

    async def clock(
        self,
        advance_s: float | None = None,
        freeze: bool | None = None,
        set_to: float | None = None,
        skew_s: float | None = None,
    ) -> dict[str, Any]:
        body = _clock_body(advance_s, freeze, set_to, skew_s)
        out: dict[str, Any] = await (
            self.request("POST", "/clock", body) if body else self.request("GET", "/clock")
        )
        return out

    async def journal(
        self, vendor: str | None = None, limit: int | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        body = await self.request("GET", "/journal" + _query({"vendor": vendor, "limit": limit, **filters}))
        entries: list[dict[str, Any]] = body["entries"]
        return entries

    async def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = (await self.request("POST", "/faults", _fault_body(rules)))["rules"]
        return out

    async def add_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = (await self.request("PATCH", "/faults", _fault_body(rules)))["rules"]
        return out

    async def faults(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = (await self.request("GET", "/faults"))["rules"]
        return out

    async def clear_faults(self) -> None:
        await self.request("DELETE", "/faults")

    async def queue(self, scenario: str, vendor: str | None = None, operation: str | None = None,
                    credential: str | None = None, count: int = 1) -> None:  # fmt: skip
        await self.request("POST", "/queue", _queue_body(scenario, vendor, operation, credential, count))

    async def add_scenario(self, scenario: dict[str, Any]) -> None:
        await self.request("POST", "/scenarios", scenario)

    async def add_rules(self, rules: list[dict[str, Any]]) -> None:
        await self.request("PATCH", "/rules", {"rules": rules})

    async def put_credential(self, vendor: str, cred_id: str, secret: str | None = None,
                             attrs: dict[str, Any] | None = None) -> None:  # fmt: skip
        body: dict[str, Any] = {"vendor": vendor, "id": cred_id, "attrs": attrs or {}}
        if secret is not None:
            body["secret"] = secret
        await self.request("POST", "/credentials", body)
