"""Per-credential call limits on the simulator clock: calls per second, per day and in total.

A credential's limits are its vendor's defaults (fixture section ``quotas: {<vendor>: {...}}``)
overridden key by key by its own ``attrs.quota`` (``{"qps": N, "daily": N, "total": N}``); a limit
absent from both is unlimited, and ``null`` in ``attrs.quota`` lifts a vendor default. The store counts
(``Store.consume``: a call is counted only if no limit breaks, atomically; ``refund`` un-counts one
that failed after all); vendors decide which calls count and render the broken limit with their own
code. Days are calendar days in UTC+8 (the vendors' time zone).
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


def day_of(now: float) -> int:
    """The UTC+8 calendar day (the vendors' time zone) of simulator time ``now``."""
    return int((now + DAY_OFFSET_S) // 86400)


class Quotas:
    """The limits of each credential: its vendor's defaults, overridden key by key by its own
    ``attrs.quota``. Counting is the store's (``Store.consume``: atomic across instances)."""

    def __init__(self, defaults: dict[str, dict[str, Any]] | None = None) -> None:
        self.defaults = defaults or {}

    def limits(self, vendor: str, attrs: dict[str, Any]) -> dict[str, Any]:
        own = attrs.get("quota")
        defaults = self.defaults.get(vendor)
        if not defaults and not own:  # the usual case: unlimited
            return {}
        merged = {**self.defaults.get(vendor, {}), **(own if isinstance(own, dict) else {})}
        return {k: v for k, v in merged.items() if v is not None}
