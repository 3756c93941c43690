"""Baidu OAuth (client_credentials) and access-token checks, on the simulator clock.

Tokens look like the real ones: ``24.<32 hex>.2592000.<expiry>.282335-<AppID>`` (refresh: ``25.`` and
315360000). Tokens are remembered per simulator run, in the store (``tokens``: issued on one instance,
valid and revocable on all); an unknown, garbled or revoked token is 110, an expired one 111, a
missing one 100. A credential's ``attrs.quota`` (qps / daily / total) gives
18 / 17 / 19 once reached (see ``simulator/quotas.py``). A request signed the BCE way (``authorization: bce-auth-v1/...``,
what the SDK falls back to when the token answer lacks ``brain_all_scope``) is 14, as the real
service answers AI-platform keys.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.state import Credential
from simulator.store import Record, Table
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
    """One issued access token; stored as ``to_dict()`` in the ``baidu:tokens`` table, by value."""

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

    @classmethod
    def from_dict(cls, d: Record) -> Token:
        return cls(
            token=d["token"],
            api_key=d["api_key"],
            app_id=d["app_id"],
            issued=d["issued"],
            expires=d["expires"],
            revoked=bool(d.get("revoked", False)),
        )


#: issued tokens by value (record: ``Token.to_dict()``, score: its expiry), at most
#: ``limits.max_tokens``: past it, the token that expires first goes if it has expired (simulator
#: clock; ``attrs.token_ttl_s`` makes expiry order differ from issue order), else the oldest
TOKENS = "baidu:tokens"
#: one table per API key (``baidu:tokens-of:<api_key>``): the tokens issued to it, by value
#: (record ``{"token": ...}``, score: its expiry), so revoking a key costs that key's tokens only
TOKENS_OF = "baidu:tokens-of:"


def tokens(sim: Sim) -> Table:
    """The issued tokens (``TOKENS``)."""
    # cached: every call reads its token; a shared store then answers from memory, and a revocation
    # (``update``) reaches every instance before it returns
    return sim.store.table(TOKENS, settings_of(sim).limits.max_tokens, expiring=True, cached=True)


def tokens_of(sim: Sim, api_key: str) -> Table:
    """The tokens issued to ``api_key`` (``TOKENS_OF``); some may since have left ``tokens(sim)``."""
    return sim.store.table(TOKENS_OF + api_key, settings_of(sim).limits.max_tokens, expiring=True)


async def token_record(sim: Sim, token: str) -> Token | None:
    rec = await tokens(sim).get(token)
    return Token.from_dict(rec) if rec is not None else None


@lru_cache(maxsize=1024)
def _iso(t: float) -> str:
    """Memoised: every call with a token formats its expiry (one value per token)."""
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


async def issue_token(sim: Sim, ctx: RequestCtx, params: dict[str, str]) -> dict[str, Any]:
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
    await tokens(sim).put(
        access, Token(access, cred.id, app_id, now, now + ttl).to_dict(), now, score=now + ttl
    )
    await tokens_of(sim, cred.id).put(access, {"token": access}, now, score=now + ttl)
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


async def check_token(
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
    rec = await token_record(sim, token)
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
    # counted without limits too (the dashboard shows every key's calls); a store waits for no
    # answer when nothing can break
    broken = await sim.store.consume("baidu", cred.id, limits, now)
    if broken is not None:
        ctx.note(f"quota {broken} of {cred.id!r} reached ({limits})")
        raise BaiduError(QUOTA_CODES[broken])
    return cred


def _revoked(rec: Record) -> Record:
    return {**rec, "revoked": True}


async def revoke(sim: Sim, token: str | None = None, api_key: str | None = None) -> int:
    """Revoke ``token`` and/or every token of ``api_key``; how many tokens that names. O(1) by token,
    O(the key's tokens) by key (those that left the token table since are forgotten on the way)."""
    table = tokens(sim)
    named = 0
    if token and await table.update(token, _revoked) is not None:
        named += 1
    if api_key:
        mine = tokens_of(sim, api_key)
        for rec in await mine.values():
            if rec["token"] == token:
                continue  # counted above
            if await table.update(rec["token"], _revoked) is not None:
                named += 1
            else:
                await mine.delete(rec["token"])
    return named
