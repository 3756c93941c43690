"""touxiangshenhe: the AI绿洲 gateway's account checks and billing around Baidu's face_audit. No aiohttp.

Order of checks (first failure answers; see docs/aioasis.md): path (10003, by route) -> appkey
missing or empty (10004) -> appkey unknown (10001) -> ``disabled`` (10050) -> ``provider_denied``
(10060) -> ``enterprise_only`` (10070) -> body over the size cap (10090, handler) -> daily limit
(10040) -> no calls left (10010) -> the upstream call.

Billing (our reading of the seed's "API 免费3次" and the Wanxiang captures):
- a credential has ``free`` trial calls and ``paid`` calls; free ones are used first;
- a successful call uses one; ``remain`` is what is left after it (free + paid);
- a call the upstream (Baidu) refuses is passed through with ``code`` "10000", ``charge`` false,
  msg 查询成功 and Baidu's error object as ``result``, and uses nothing (not billed, not counted
  against the daily limit);
- gateway errors use nothing either and report the unchanged balance.
Counters live in the store, shared by every instance: the free and paid calls used are the pools
``free`` and ``paid`` of space ``aioasis``, key the appkey (``Store.take_from`` at billing time, so
exactly ``free`` free answers are given however many calls race for them), and the daily count is
``Store.consume`` (checked and counted before the upstream call, given back when the call is not
billed after all; on the simulator clock, UTC+8 days). ``POST /__modsim/reset`` restores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.state import Credential
from simulator.store import StoreUnavailable
from simulator.vendors.aioasis.errors import SUCCESS, AioasisError
from simulator.vendors.baidu import models as baidu
from simulator.vendors.baidu.envelope import error_body as baidu_error_body
from simulator.vendors.baidu.errors import BaiduError

if TYPE_CHECKING:
    from simulator.sim import Sim

VENDOR = "aioasis"
OPERATION = "touxiangshenhe"
#: the body cap the gateway states: "请上传小于1M的文件"
DEFAULT_MAX_BODY = 1024 * 1024

#: The appkey the current request names (set from the query as soon as the request is routed).
#: ``Vendor.render_error`` gets no request, yet every error envelope carries the caller's ``remain``;
#: aiohttp runs each request in its own task, so this is per request.


@dataclass(frozen=True)
class AioasisSettings:
    """Fixture section ``vendors.aioasis`` (schema ``aioasis/config.schema``)."""

    #: bodies over this many bytes are refused with 10090 before they are read
    max_body_bytes: int = DEFAULT_MAX_BODY
    #: the Baidu configId the reseller's account audits with; the client's own configId is ignored
    config_id: str = "1"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AioasisSettings:
        return cls(
            max_body_bytes=int(d.get("max_body_bytes", DEFAULT_MAX_BODY)),
            config_id=str(d.get("config_id", "1")),
        )


def settings_of(sim: Sim) -> AioasisSettings:
    found = sim.state.vendor_state(VENDOR).get("settings")
    if isinstance(found, AioasisSettings):
        return found
    return AioasisSettings.from_dict(sim.fixtures.vendors.get(VENDOR, {}))


def _count(value: Any) -> int:
    """A non-negative call count from credential attrs; anything else (admin typos) counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


@dataclass(frozen=True)
class Account:
    """What a credential's ``attrs`` say (see docs/aioasis.md); absent counts are 0, flags false."""

    free: int = 0
    paid: int = 0
    daily: int | None = None
    disabled: bool = False
    provider_denied: bool = False
    enterprise_only: bool = False

    @classmethod
    def of(cls, cred: Credential) -> Account:
        a = cred.attrs
        quota = a.get("quota")
        daily = quota.get("daily") if isinstance(quota, dict) else None
        return cls(
            free=_count(a.get("free")),
            paid=_count(a.get("paid")),
            daily=None if daily is None else _count(daily),
            disabled=a.get("disabled") is True,
            provider_denied=a.get("provider_denied") is True,
            enterprise_only=a.get("enterprise_only") is True,
        )


@dataclass(frozen=True)
class Outcome:
    """A ``code`` "10000" answer: ``result`` is Baidu's body (or its error object), ``charge`` whether
    this call was billed, ``remain`` the calls left after it."""

    result: dict[str, Any]
    charge: bool
    remain: int


def _pools(acct: Account) -> list[tuple[str, int]]:
    """The pools a call is taken from, in order: free trial calls first."""
    return [("free", acct.free), ("paid", acct.paid)]


def _left(acct: Account, used: dict[str, int]) -> tuple[int, int]:
    return max(0, acct.free - used.get("free", 0)), max(0, acct.paid - used.get("paid", 0))


def full_balance(cred: Credential) -> int:
    """The free and paid calls the account holds (none used yet)."""
    acct = Account.of(cred)
    return acct.free + acct.paid


async def left(sim: Sim, cred: Credential) -> tuple[int, int]:
    """(free, paid) calls left."""
    return _left(Account.of(cred), await sim.store.pool_usage(VENDOR, cred.id))


async def remain_of(sim: Sim, cred: Credential) -> int:
    free, paid = await left(sim, cred)
    return free + paid


async def current_remain(sim: Sim, operation: str, appkey: str | None) -> int:
    """``remain`` for an error envelope: the balance of the appkey the request names, 0 when it names
    none, an unknown one, or a path that is no API (10003: no data package there)."""
    if operation != OPERATION or not appkey:
        return 0
    cred = sim.state.credentials.get(VENDOR, appkey)
    if cred is None:
        return 0
    try:
        return await remain_of(sim, cred)
    except StoreUnavailable:  # the error being rendered may be that one: no balance to tell
        return 0


def authenticate(sim: Sim, ctx: RequestCtx, appkey: str) -> Credential:
    """10004 / 10001 / 10050 / 10060 / 10070, in that order; the credential otherwise."""
    if not appkey:
        ctx.auth("rejected", "no appkey in the query")
        raise AioasisError("10004")
    cred = sim.state.credentials.get(VENDOR, appkey)
    if cred is None:
        ctx.auth("rejected", f"appkey {appkey[:64]!r} is not an aioasis credential")
        raise AioasisError("10001")
    acct = Account.of(cred)
    for flag, code in (("disabled", "10050"), ("provider_denied", "10060"), ("enterprise_only", "10070")):
        if getattr(acct, flag):
            ctx.auth("rejected", f"credential flag {flag}", credential=cred.id)
            raise AioasisError(code)
    ctx.auth("ok", "appkey known", credential=cred.id)
    return cred


def _no_calls_left(ctx: RequestCtx, acct: Account) -> AioasisError:
    ctx.note(f"no calls left: free {acct.free} and paid {acct.paid} all used")
    return AioasisError("10010")


async def _take_day(sim: Sim, ctx: RequestCtx, cred: Credential, acct: Account) -> bool:
    """10040 when the daily limit is reached (on the simulator clock); else this call is counted
    against the day (True; counted too without a daily limit: the dashboard shows every key's calls)."""
    limits = {"daily": acct.daily} if acct.daily is not None else {}
    if await sim.store.consume(VENDOR, cred.id, limits, sim.clock.now()) is not None:
        ctx.note(f"daily limit {acct.daily} reached (attrs.quota.daily)")
        raise AioasisError("10040")
    return True


async def _check_balance(sim: Sim, ctx: RequestCtx, acct: Account, appkey: str) -> None:
    """10010 when no free or paid call is left (before the upstream call; billing takes one)."""
    if sum(_left(acct, await sim.store.pool_usage(VENDOR, appkey))) == 0:
        raise _no_calls_left(ctx, acct)


async def _bill(sim: Sim, ctx: RequestCtx, acct: Account, appkey: str) -> tuple[bool, int]:
    """Use one call (free first, atomically: never below zero, whatever the instances): whether it
    was a paid one, and the calls left right after it (concurrent calls each see their own count).
    10010 when none is left by now (concurrent calls took the last ones)."""
    pool, used = await sim.store.take_from(VENDOR, appkey, _pools(acct))
    if pool is None:
        raise _no_calls_left(ctx, acct)
    return pool == "paid", sum(_left(acct, used))


def upstream_params(params: dict[str, str], settings: AioasisSettings) -> dict[str, str]:
    """What the gateway forwards to Baidu: ``images`` (and ``imgUrls``) from the client, the
    reseller's own ``configId``."""
    out: dict[str, str] = {k: params[k] for k in ("images", "imgUrls") if k in params}
    out["configId"] = settings.config_id
    return out


async def touxiangshenhe(
    sim: Sim,
    ctx: RequestCtx,
    cred: Credential,
    params: dict[str, str],
    *,
    undecodable: str | None = None,
) -> Outcome:
    """Daily limit, balance, then Baidu's face_audit (scenario rules see vendor "aioasis", operation
    "touxiangshenhe" and the appkey). ``undecodable``: why the parameters were not UTF-8; the
    upstream then answers 282002 (input encoding error), passed through like any upstream error."""
    acct = Account.of(cred)
    day_taken = await _take_day(sim, ctx, cred, acct)
    billed = False
    try:
        await _check_balance(sim, ctx, acct, cred.id)
        try:
            if undecodable is not None:
                ctx.note(f"parameters are not UTF-8 ({undecodable}); forwarded, Baidu answers 282002")
                raise BaiduError(282002)
            body = await baidu.face_audit(
                sim,
                ctx,
                cred.id,
                upstream_params(params, settings_of(sim)),
                vendor=VENDOR,
                operation=OPERATION,
            )
        except BaiduError as err:
            ctx.vendor_code = SUCCESS
            ctx.note(f"upstream face_audit answered {err.code} {err.message!r}: passed through, not billed")
            return Outcome(passthrough(sim, err), charge=False, remain=await remain_of(sim, cred))
        charge, remain = await _bill(sim, ctx, acct, cred.id)
        billed = True
    finally:
        if day_taken and not billed:  # not billed after all: not counted against the day either
            await sim.store.refund(VENDOR, cred.id, sim.clock.now())
    ctx.vendor_code = SUCCESS
    return Outcome(body, charge=charge, remain=remain)


def passthrough(sim: Sim, err: BaiduError) -> dict[str, Any]:
    """Baidu's error object as the gateway relays it in ``result`` (``log_id`` on business codes)."""
    return baidu_error_body(err, baidu.log_id(sim))
