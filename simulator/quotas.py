"""Per-credential call limits on the simulator clock: calls per second, per day and in total.

A credential's limits are its vendor's defaults (fixture section ``quotas: {<vendor>: {...}}``)
overridden key by key by its own ``attrs.quota`` (``{"qps": N, "daily": N, "total": N}``); a limit
absent from both is unlimited, and ``null`` in ``attrs.quota`` lifts a vendor default. ``check`` says which limit a new call would break, without counting it;
``consume`` counts a call. Vendors decide which calls count (e.g. only successful, billed ones) and
render the broken limit with their own code. Days are calendar days in UTC+8 (the vendors' time zone).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DAY_OFFSET_S = 8 * 3600


class Window:
    """What was counted in the last simulator second, in 1 ms buckets: at most ~1,001 buckets whatever the
    rate (a frozen clock puts every call in one), O(1) amortised to add and to read. A bucket leaves the
    window when its newest stamp is a second old, so a call counts for at least a second (at most 1 ms
    more); a stamp earlier than the newest bucket (the clock was set back) joins that bucket."""

    __slots__ = ("_buckets", "_total")

    def __init__(self) -> None:
        #: [millisecond, newest stamp, count], oldest first, milliseconds increasing
        self._buckets: deque[list[Any]] = deque()
        self._total = 0

    def _trim(self, now: float) -> None:
        b = self._buckets
        while b and b[0][1] <= now - 1.0:
            self._total -= b.popleft()[2]

    def total(self, now: float) -> int:
        self._trim(now)
        return self._total

    def add(self, now: float, n: int = 1) -> None:
        b = self._buckets
        if b and b[0][1] <= now - 1.0:
            self._trim(now)
        ms = math.floor(now * 1000)
        if b and ms <= b[-1][0]:
            last = b[-1]
            if now > last[1]:
                last[1] = now
            last[2] += n
        else:
            b.append([ms, now, n])
        self._total += n

    @property
    def last_total(self) -> int:
        """The total as of the last ``add`` or ``total``."""
        return self._total

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass
class Usage:
    total: int = 0
    day: int = -1
    daily: int = 0
    recent: Window = field(default_factory=Window)


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
        if limits.get("qps") is not None and u.recent.total(now) >= int(limits["qps"]):
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
        u.recent.add(now)
        return u

    def used(self, vendor: str, cred_id: str, now: float) -> dict[str, int]:
        """Calls counted now in each window: ``qps`` (the last second), ``daily`` (today, UTC+8),
        ``total``."""
        u = self.usage(vendor, cred_id)
        return {
            "qps": u.recent.total(now),
            "daily": u.daily if u.day == self._day(now) else 0,
            "total": u.total,
        }

    def remaining(self, vendor: str, cred_id: str, limits: dict[str, Any]) -> int | None:
        if limits.get("total") is None:
            return None
        return max(0, int(limits["total"]) - self.usage(vendor, cred_id).total)

    def clear(self) -> None:
        self._usage.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "vendor": v,
                "credential": c,
                "total": u.total,
                "today": u.daily,
                "last_second": u.recent.last_total,
            }
            for (v, c), u in self._usage.items()
        ]
