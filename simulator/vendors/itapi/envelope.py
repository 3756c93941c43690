"""The one place itapi bodies are built and serialised.

Envelope keys, in the vendor's order: ``code, msg, data, debug, exec_time, user_ip, log_id``.
The seed's verdict example (sync answer and result query) has no ``debug`` and no ``user_ip``; the
async submit answer has both. Error bodies carry all seven keys with ``data: null`` (inferred).

- ``log_id``: a string, ``YYYYMMDDHHMM`` on the simulator clock in UTC+8 plus 6 digits from the
  seeded random source (the seed's ``202307061058717624`` reads as 2023-07-06 10:58 + 717624).
- ``exec_time``: float seconds, drawn from the seeded random source within a range per answer kind
  (so bodies are reproducible), rounded to 6 decimals as PHP's ``microtime`` arithmetic shows.
- ``user_ip``: the TCP peer address.
- JSON as the vendor prints it: compact, UTF-8 (no ``\\u`` escapes), slashes unescaped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator import jsonout
from simulator.vendors.itapi.errors import ItapiError

if TYPE_CHECKING:
    from simulator.sim import Sim

UTC8 = timedelta(hours=8)
#: exec_time ranges (seconds) per kind of answer
EXEC_TIME = {
    "submit": (0.15, 0.35),
    "verdict": (0.04, 0.6),
    "result": (0.02, 0.08),
    "error": (0.001, 0.02),
}
ASYNC_DEBUG = "请使用违规图片检测结果接口查询数据,接口文档https://api.itapi.cn/doc/81"
_OMIT: Any = object()

#: the peer address of the request being served. Error bodies are rendered by the core error
#: middleware, which hands ``render_error`` no request: the vendor records the address from the first
#: hook that sees the request (``peek_credential``, run before fault rules; then the handler).


def log_id(sim: Sim) -> str:
    stamp = (sim.clock.now_dt() + UTC8).strftime("%Y%m%d%H%M")
    return f"{stamp}{sim.rng.randint(0, 999999):06d}"


def exec_time(sim: Sim, kind: str) -> float:
    lo, hi = EXEC_TIME[kind]
    return round(lo + sim.rng.random() * (hi - lo), 6)


def body(
    sim: Sim,
    code: int,
    msg: str,
    data: Any,
    *,
    kind: str,
    debug: str | None = _OMIT,
    user_ip: str | None = _OMIT,
) -> dict[str, Any]:
    """The envelope in wire key order; ``debug``/``user_ip`` left out when not given."""
    out: dict[str, Any] = {"code": code, "msg": msg, "data": data}
    if debug is not _OMIT:
        out["debug"] = debug
    out["exec_time"] = exec_time(sim, kind)
    if user_ip is not _OMIT and user_ip is not None:
        out["user_ip"] = user_ip
    out["log_id"] = log_id(sim)
    return out


def dumps(obj: Any) -> str:
    return jsonout.dumps(obj).decode("utf-8", "surrogatepass")


def response(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=dumps(payload), status=status, content_type="application/json", charset="utf-8")


def error_body(sim: Sim, err: ItapiError, msg: str, user_ip: str | None) -> dict[str, Any]:
    return body(sim, int(err.code), msg, None, kind="error", debug=err.debug, user_ip=user_ip)
