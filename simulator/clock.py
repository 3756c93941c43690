"""The simulator clock: every expiry, timestamp window, quota and job age reads it and nothing else.

Real time by default. The admin API can offset it (``advance``), freeze it at the current simulated
instant, or set it to an absolute instant. A frozen clock still moves when advanced.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Simulated Unix time in seconds."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        return self.now() - time.time()

    def advance(self, seconds: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def set(self, epoch_s: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at = epoch_s
        else:
            self._offset = epoch_s - time.time()

    def freeze(self, on: bool = True) -> None:
        if on and self._frozen_at is None:
            self._frozen_at = self.now()
        elif not on and self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    def reset(self) -> None:
        self._offset = 0.0
        self._frozen_at = None

    def snapshot(self) -> dict[str, object]:
        now = self.now()
        return {
            "now": now,
            "iso": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            "offset_s": round(self.offset, 3),
            "frozen": self.frozen,
        }
