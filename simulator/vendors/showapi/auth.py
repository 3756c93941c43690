"""showapi system parameters: app id, signature, timestamp, subscription and call limits.

Checks run in this order (the real gateway's order is not documented; this is the order in which a
client can fix them), the first failure answers:

1. ``showapi_appid`` missing or empty -> -1002
2. ``showapi_appid`` not ASCII digits -> -1 ``验证有误!showapi_appid不是数字!`` (captured text)
3. no app with that id -> -1010 (ids are compared as strings; leading zeros are tried stripped too,
   as a gateway that parses the id as a number would)
4. ``showapi_sign`` missing or empty -> -1003
5. sign is neither the app secret nor the MD5 signature -> -1004
6. ``showapi_timestamp`` present, non-empty and not ``yyyyMMddHHmmss`` or more than 600 s away from
   both the wall clock and the simulator clock (``Clock.client_time``), read in UTC+8 (the gateway's
   zone: inferred) -> -1005
7. the app's ``attrs.apis`` (absent: every API) lacks this API -> -1007
8. ``attrs.quota.qps`` reached -> -1009; ``attrs.quota.daily`` or ``attrs.quota.total`` reached -> -2
9. the call is counted against that quota (``Store.consume``, atomically with 8), whatever the
   upstream answers next.

No aiohttp here: parameters arrive as a plain dict of text values (files already excluded).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from simulator.context import RequestCtx
from simulator.state import Credential
from simulator.vendors.showapi.errors import APPID_NOT_A_NUMBER, ShowapiError

if TYPE_CHECKING:
    from simulator.sim import Sim

VENDOR = "showapi"
SIGN_KEY = "showapi_sign"
#: ``showapi_timestamp`` is China time: yyyyMMddHHmmss in UTC+8
TIMESTAMP_TZ = timezone(timedelta(hours=8))
TIMESTAMP_WINDOW_S = 600
_DIGITS = re.compile(r"[0-9]+")
_TIMESTAMP = re.compile(r"[0-9]{14}")
_PREVIEW = 64


def _java_order(key: str) -> bytes:
    """Java ``TreeSet<String>`` order: UTF-16 code units (equals ASCII order for ASCII keys)."""
    return key.encode("utf-16-be", "surrogatepass")


def signed_items(params: dict[str, str]) -> list[tuple[str, str]]:
    """The text parameters that enter the signature, in signing order: every one except
    ``showapi_sign`` and except those whose key or value is empty."""
    items = [(k, v) for k, v in params.items() if k and v and k != SIGN_KEY]
    return sorted(items, key=lambda kv: _java_order(kv[0]))


def sign_string(params: dict[str, str], secret: str) -> str:
    """``key1value1key2value2...`` (sorted, no separators, raw values) followed by the secret."""
    return "".join(k + v for k, v in signed_items(params)) + secret


def md5_sign(params: dict[str, str], secret: str) -> str:
    """The official SDKs' ``showapi_sign`` (lower-case hex; the Java SDK sends it upper-case)."""
    return hashlib.md5(sign_string(params, secret).encode("utf-8", "surrogatepass")).hexdigest()


def _preview(value: str) -> str:
    return value if len(value) <= _PREVIEW else f"{value[:32]}…<{len(value)} chars>"


def masked_sign_string(params: dict[str, str]) -> str:
    """The signed string as the journal shows it: long values shortened, the secret as ``<secret>``."""
    return "".join(k + _preview(v) for k, v in signed_items(params)) + "<secret>"


def parse_timestamp(raw: str) -> float | None:
    """Unix seconds of a ``yyyyMMddHHmmss`` China-time timestamp; None when it is not one."""
    if not _TIMESTAMP.fullmatch(raw):
        return None
    try:
        dt = datetime.strptime(raw, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return dt.replace(tzinfo=TIMESTAMP_TZ).timestamp()


def format_timestamp(epoch_s: float) -> str:
    """``epoch_s`` as a ``showapi_timestamp`` (what a client sends)."""
    return datetime.fromtimestamp(epoch_s, TIMESTAMP_TZ).strftime("%Y%m%d%H%M%S")


def _find_app(sim: Sim, appid: str) -> Credential | None:
    cred = sim.state.credentials.get(VENDOR, appid)
    if cred is None and len(appid) <= 18:
        cred = sim.state.credentials.get(VENDOR, str(int(appid)))
    return cred


def _check_sign(ctx: RequestCtx, cred: Credential, params: dict[str, str], sign: str) -> str:
    """How the sign matched (for the journal); raises -1004 when it does not."""
    if cred.secret_equals(sign):
        return "showapi_sign is the app secret"
    expected = md5_sign(params, cred.secret or "")
    if hmac.compare_digest(expected.encode(), sign.lower().encode("utf-8", "surrogatepass")):
        case = "lower" if sign == expected else "upper" if sign == expected.upper() else "mixed"
        return f"md5 sign matches ({case}-case hex)"
    ctx.auth(
        "rejected",
        f"showapi_sign mismatch for app {cred.id!r}: signed string {masked_sign_string(params)!r}, "
        f"expected md5 {expected} (any case) or the app secret itself, received {_preview(sign)!r}",
        cred.id,
    )
    raise ShowapiError(-1004)


def _check_timestamp(sim: Sim, ctx: RequestCtx, cred: Credential, raw: str) -> str:
    if not raw:
        return "no showapi_timestamp (not checked)"
    ts = parse_timestamp(raw)
    if ts is None:
        ctx.auth("rejected", f"showapi_timestamp {_preview(raw)!r} is not yyyyMMddHHmmss", cred.id)
        raise ShowapiError(-1005)
    seen = sim.clock.client_time(ts, TIMESTAMP_WINDOW_S)
    said = f"showapi_timestamp {raw} (UTC+8) is {seen.describe(TIMESTAMP_WINDOW_S)}"
    if not seen.ok:
        ctx.auth("rejected", said, cred.id)
        raise ShowapiError(-1005)
    return said


async def authenticate(sim: Sim, ctx: RequestCtx, params: dict[str, str], api: str) -> Credential:
    """The app calling ``api`` (e.g. ``"2054-1"``), after every system check; the call is counted
    against the app's quota, if it has one."""
    appid = params.get("showapi_appid", "")
    if not appid:
        ctx.auth("rejected", "no showapi_appid")
        raise ShowapiError(-1002)
    if not _DIGITS.fullmatch(appid):
        ctx.auth("rejected", f"showapi_appid {_preview(appid)!r} is not a number")
        raise ShowapiError(-1, APPID_NOT_A_NUMBER)
    cred = _find_app(sim, appid)
    if cred is None:
        ctx.auth("rejected", f"no showapi app {appid!r}")
        raise ShowapiError(-1010)
    sign = params.get(SIGN_KEY, "")
    if not sign:
        ctx.auth("rejected", f"no showapi_sign (app {cred.id!r})", cred.id)
        raise ShowapiError(-1003)
    how = _check_sign(ctx, cred, params, sign)
    when = _check_timestamp(sim, ctx, cred, params.get("showapi_timestamp", ""))
    apis = cred.attrs.get("apis")
    if apis is not None and (not isinstance(apis, list) or api not in apis):
        ctx.auth("rejected", f"app {cred.id!r} is not subscribed to {api} (attrs.apis: {apis!r})", cred.id)
        raise ShowapiError(-1007)
    limits = sim.state.quotas.limits(VENDOR, cred.attrs)
    broken = await sim.store.consume(VENDOR, cred.id, limits, sim.clock.now())
    if broken is not None:
        ctx.auth("rejected", f"app {cred.id!r}: quota {broken}={limits[broken]} reached", cred.id)
        raise ShowapiError(-1009 if broken == "qps" else -2)
    counted = "call counted against its quota" if limits else "call counted (no quota)"
    ctx.auth("ok", f"app {cred.id!r}: {how}; {when}; {counted}", cred.id)
    return cred
