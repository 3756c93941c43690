"""Per-credential call limits on the simulator clock: calls per second, per day and in total.

A credential's limits are its vendor's defaults (fixture section ``quotas: {<vendor>: {...}}``)
overridden key by key by its own ``attrs.quota`` (``{"qps": N, "daily": N, "total": N}``); a limit
absent from both is unlimited, and ``null`` in ``attrs.quota`` lifts a vendor default. ``check`` says which limit a new call would break, without counting it;
``consume`` counts a call. Vendors decide which calls count (e.g. only successful, billed ones) and
render the broken limit with their own code. Days are calendar days in UTC+8 (the vendors' time zone).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

DAY_OFFSET_S = 8 * 3600


@dataclass
class Usage:
    total: int = 0
    day: int = -1
    daily: int = 0
    recent: deque[float] = field(default_factory=deque)


class Quotas:
    def __init__(self, defaults: dict[str, dict[str, Any]] | None = None) -> None:
        self._usage: dict[tuple[str, str], Usage] = {}
        self.defaults = defaults or {}

    def limits(self, vendor: str, attrs: dict[str, Any]) -> dict[str, Any]:
        own = attrs.get("quota")
        defaults = self.defaults.get(vendor)
        if not defaults and not own:  # the usual case: unlimited
            return {}
        merged = {**self.defaults.get(vendor, {}), **(own if isinstance(own, dict) else {})}
        return {k: v for k, v in merged.items() if v is not None}

    def usage(self, vendor: str, cred_id: str) -> Usage:
        u = self._usage.get((vendor, cred_id))
        if u is None:
            u = self._usage[(vendor, cred_id)] = Usage()
        return u

    @staticmethod
    def _day(now: float) -> int:
        return int((now + DAY_OFFSET_S) // 86400)

    def check(self, vendor: str, cred_id: str, limits: dict[str, Any], now: float) -> str | None:
        """``"qps"``, ``"daily"`` or ``"total"`` when a call now would exceed that limit, else None."""
        u = self.usage(vendor, cred_id)
        while u.recent and u.recent[0] <= now - 1.0:
            u.recent.popleft()
        if limits.get("qps") is not None and len(u.recent) >= int(limits["qps"]):
            return "qps"
        daily = u.daily if u.day == self._day(now) else 0
        if limits.get("daily") is not None and daily >= int(limits["daily"]):
            return "daily"
        if limits.get("total") is not None and u.total >= int(limits["total"]):
            return "total"
        return None

    def consume(self, vendor: str, cred_id: str, now: float) -> Usage:
        u = self.usage(vendor, cred_id)
        day = self._day(now)
        if u.day != day:
            u.day, u.daily = day, 0
        u.daily += 1
        u.total += 1
        u.recent.append(now)
        return u

    def remaining(self, vendor: str, cred_id: str, limits: dict[str, Any]) -> int | None:
        if limits.get("total") is None:
            return None
        return max(0, int(limits["total"]) - self.usage(vendor, cred_id).total)

    def clear(self) -> None:
        self._usage.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {"vendor": v, "credential": c, "total": u.total, "today": u.daily, "last_second": len(u.recent)}
            for (v, c), u in self._usage.items()
        ]
