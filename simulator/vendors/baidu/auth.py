"""Baidu OAuth (client_credentials) and access-token checks, on the simulator clock.

Tokens look like the real ones: ``24.<32 hex>.2592000.<expiry>.282335-<AppID>`` (refresh: ``25.`` and
315360000). Tokens are remembered per simulator run; an unknown, garbled or revoked token is 110, an
expired one 111, a missing one 100. A credential's ``attrs.quota`` (qps / daily / total) gives
18 / 17 / 19 once reached (see ``simulator/quotas.py``). A request signed the BCE way (``authorization: bce-auth-v1/...``,
what the SDK falls back to when the token answer lacks ``brain_all_scope``) is 14, as the real
service answers AI-platform keys.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterator, ValuesView
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.heap import IndexedHeap
from simulator.state import Credential
from simulator.vendors.baidu.errors import BaiduError, OAuthError
from simulator.vendors.baidu.policy import settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim

ACCESS_TTL = 2592000
REFRESH_TTL = 315360000
DEFAULT_SCOPE = (
    "public brain_all_scope brain_solution brain_antiporn brain_antiterror brain_antispam brain_solution_face_audit "
    "vis-antiporn_antiporn_v2 wise_adapt lebo_resource_base lightservice_public hetu_basic lightcms_map_poi "
    "kaidian_kaidian ApsMisTest_Test权限 vis-classify_flower lpq_开放 cop_helloScope ApsMis_fangdi_permission "
    "smartapp_snsapi_base smartapp_mapp_dev_manage iop_autocar oauth_tp_app smartapp_smart_game_openapi "
    "oauth_sessionkey smartapp_swanid_verify smartapp_opensource_openapi smartapp_opensource_recapi "
    "fake_face_detect_开放Scope vis-ocr_虚拟人物助理 idl-video_虚拟人物助理 smartapp_component"
)


#: attrs.quota limit -> Baidu code: 18 QPS, 17 daily, 19 total. Every authenticated API call counts.
QUOTA_CODES = {"qps": 18, "daily": 17, "total": 19}


@dataclass
class Token:
    token: str
    api_key: str
    app_id: str
    issued: float
    expires: float
    revoked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "api_key": self.api_key,
            "app_id": self.app_id,
            "issued": self.issued,
            "expires": self.expires,
            "revoked": self.revoked,
        }


class TokenStore:
    """Issued tokens by value, in issue order, at most ``cap`` (``add``): past it, the token that expires
    first goes if it has expired (simulator clock; ``attrs.token_ttl_s`` makes expiry order differ from
    issue order), else the oldest. O(log n) a token: an expiry heap that can remove any token, an
    issue-ordered dict, and each API key's tokens for ``revoke``."""

    def __init__(self) -> None:
        self._tokens: OrderedDict[str, Token] = OrderedDict()
        self._expiry: IndexedHeap[str] = IndexedHeap()
        self._by_key: dict[str, dict[str, None]] = {}
        self._issued = 0

    def add(self, rec: Token, now: float, cap: int) -> None:
        key = rec.token
        if key in self._tokens:
            self._drop(key)
        self._issued += 1
        self._tokens[key] = rec
        self._expiry.push(key, (rec.expires, self._issued))
        self._by_key.setdefault(rec.api_key, {})[key] = None
        while len(self._tokens) > cap:
            first = self._expiry.peek()
            self._drop(first[1] if first is not None and first[0][0] <= now else next(iter(self._tokens)))

    def _drop(self, key: str) -> None:
        rec = self._tokens.pop(key)
        self._expiry.remove(key)
        mine = self._by_key[rec.api_key]
        del mine[key]
        if not mine:
            del self._by_key[rec.api_key]

    def revoke(self, token: str | None = None, api_key: str | None = None) -> int:
        """Revoke ``token`` and/or every token of ``api_key``; how many tokens that names."""
        hits: dict[str, None] = dict.fromkeys([token] if token and token in self._tokens else [])
        if api_key:
            hits.update(self._by_key.get(api_key, {}))
        for key in hits:
            self._tokens[key].revoked = True
        return len(hits)

    def get(self, token: str) -> Token | None:
        return self._tokens.get(token)

    def __getitem__(self, token: str) -> Token:
        return self._tokens[token]

    def __contains__(self, token: object) -> bool:
        return token in self._tokens

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def values(self) -> ValuesView[Token]:
        return self._tokens.values()


def tokens(sim: Sim) -> TokenStore:
    bag = sim.state.vendor_state("baidu")
    store: TokenStore | None = bag.get("tokens")
    if store is None:
        store = bag["tokens"] = TokenStore()
    return store


@lru_cache(maxsize=1024)
def _iso(t: float) -> str:
    """Memoised: every call with a token formats its expiry (one value per token)."""
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def issue_token(sim: Sim, ctx: RequestCtx, params: dict[str, str]) -> dict[str, Any]:
    """The token endpoint. ``params``: query (and form body) values. Returns the body in wire key order."""
    missing = [k for k in ("grant_type", "client_id", "client_secret") if not params.get(k)]
    if missing:
        ctx.auth("rejected", f"missing parameter(s): {', '.join(missing)}")
        raise OAuthError("invalid_request", "The request is missing a required parameter", 400)
    if params["grant_type"] != "client_credentials":
        ctx.auth("rejected", f"grant_type {params['grant_type']!r} is not client_credentials")
        raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported", 400)
    cred = sim.state.credentials.get("baidu", params["client_id"])
    if cred is None:
        ctx.auth("rejected", f"no Baidu app has API key {params['client_id']!r}")
        raise OAuthError("invalid_client", "unknown client id", 401)
    if not cred.secret_equals(params["client_secret"]):
        ctx.auth("rejected", f"secret key does not match API key {cred.id!r}", cred.id)
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    now = int(sim.clock.now())
    app_id = str(cred.attrs.get("app_id", "0"))
    ttl = int(cred.attrs.get("token_ttl_s", ACCESS_TTL))
    access = f"24.{sim.rng.hex(32)}.{ttl}.{now + ttl}.282335-{app_id}"
    refresh = f"25.{sim.rng.hex(32)}.{REFRESH_TTL}.{now + REFRESH_TTL}.282335-{app_id}"
    tokens(sim).add(Token(access, cred.id, app_id, now, now + ttl), now, settings_of(sim).limits.max_tokens)
    ctx.auth("ok", f"issued {access[:12]}… to API key {cred.id!r}, expires {_iso(now + ttl)}", cred.id)
    session_key = "9mzd" + base64.b64encode(bytes.fromhex(sim.rng.hex(126))).decode()
    return {
        "refresh_token": refresh,
        "expires_in": ttl,
        "session_key": session_key,
        "access_token": access,
        "scope": scope_of(cred),
        "session_secret": sim.rng.hex(32),
    }


def scope_of(cred: Credential) -> str:
    """``attrs.scope`` overrides; ``attrs.cloud_user: true`` drops ``brain_all_scope`` (SDK goes BCE mode)."""
    scope = str(cred.attrs.get("scope", DEFAULT_SCOPE))
    if cred.attrs.get("cloud_user"):
        scope = " ".join(s for s in scope.split(" ") if s != "brain_all_scope")
    return scope


def bare_token(token: str, ctx: RequestCtx | None = None) -> str:
    """The token up to a ``?``: the Node.js SDK (baidu-aip-sdk, every version since 2017) appends its
    ``?aipSdk=node`` a second time after the query (``...&access_token=TOKEN?aipSdk=node``), and the
    real service answers it (inferred: the official SDK works)."""
    if "?" not in token:
        return token
    head, _, tail = token.partition("?")
    if ctx is not None:
        ctx.note(f"access_token is followed by a second query string ?{tail[:40]}: read up to the '?'")
    return head


def check_token(
    sim: Sim, ctx: RequestCtx, token: str | None, authorization: str | None, operation: str
) -> Credential:
    if not token:
        if authorization and authorization.lower().startswith("bce-auth-v1/"):
            ak = authorization.split("/")[1] if authorization.count("/") >= 1 else ""
            ctx.auth(
                "rejected", f"BCE signature (bce-auth-v1) with AK {ak!r}: AI-platform keys are not IAM keys"
            )
            raise BaiduError(14)
        ctx.auth("rejected", "no access_token in the query")
        raise BaiduError(100)
    token = bare_token(token, ctx)
    rec = tokens(sim).get(token)
    if rec is None:
        ctx.auth("rejected", f"access_token {token[:40]!r} was never issued by this simulator")
        raise BaiduError(110)
    ctx.credential = rec.api_key
    if rec.revoked:
        ctx.auth("rejected", f"access_token {token[:12]}… of {rec.api_key!r} was revoked")
        raise BaiduError(110)
    now = sim.clock.now()
    if now >= rec.expires:
        ctx.auth(
            "rejected",
            f"access_token {token[:12]}… of {rec.api_key!r} expired at {_iso(rec.expires)} "
            f"(simulator clock {_iso(now)})",
        )
        raise BaiduError(111)
    cred = sim.state.credentials.get("baidu", rec.api_key)
    if cred is None:
        ctx.auth("rejected", f"API key {rec.api_key!r} of this token no longer exists")
        raise BaiduError(110)
    allowed = cred.attrs.get("operations")
    if allowed is not None and operation not in allowed:
        ctx.auth("rejected", f"app {cred.id!r} has no permission for {operation} (attrs.operations)")
        raise BaiduError(6)
    ctx.auth("ok", f"access_token {token[:12]}… of {rec.api_key!r} valid until {_iso(rec.expires)}")
    limits = sim.state.quotas.limits("baidu", cred.attrs)
    broken = sim.state.quotas.check("baidu", cred.id, limits, now)
    if broken is not None:
        ctx.note(f"quota {broken} of {cred.id!r} reached ({limits})")
        raise BaiduError(QUOTA_CODES[broken])
    sim.state.quotas.consume("baidu", cred.id, now)
    return cred


def revoke(sim: Sim, token: str | None = None, api_key: str | None = None) -> int:
    return tokens(sim).revoke(token, api_key)
