"""The simulator clock: it ages server-side state (token expiry, async task ageing and retention,
quota windows, nonce memory) and nothing else reads another time.

Real time by default. The admin API can offset it (``advance``), freeze it at the current simulated
instant, or set it to an absolute instant. A frozen clock still moves when advanced.

Clients' own timestamps (Alibaba Cloud ``Date``/``x-acs-date``, showapi ``showapi_timestamp``) are a
separate matter (``client_time``): a timestamp is accepted when it is within the vendor's window of
*either* the wall clock (a real-time client, whatever the simulator clock says) or the simulator
clock (a client whose own time is faked to match a set or frozen simulator clock). Rehearsing a
client with a wrong clock has its own control, ``skew_s``: the simulator sees every client
timestamp as that many seconds off. A client that really sends a stale timestamp is refused as the
vendor would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

WALL = "wall clock"
SIMULATOR = "simulator clock"


@dataclass(frozen=True)
class ClientTime:
    """A client timestamp compared with the clocks: ``reading`` is the one it was compared with (the
    nearer one), ``delta_s`` the client's time (skew applied) minus that reading."""

    ok: bool
    reading: str
    delta_s: float
    skew_s: float

    def describe(self, window_s: float) -> str:
        skew = f" after a skew of {self.skew_s:+g} s" if self.skew_s else ""
        verdict = "within" if self.ok else "outside"
        return f"{self.delta_s:+.0f} s from the {self.reading}{skew}, {verdict} ±{window_s:g} s"


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None
        #: seconds added to every client timestamp before it is compared (``POST /clock {"skew_s"}``)
        self.skew_s = 0.0

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

    def client_time(self, stamp: float, window_s: float) -> ClientTime:
        """Is a client's timestamp within ``window_s`` of the wall clock or the simulator clock?"""
        seen = stamp + self.skew_s
        by_wall, by_sim = seen - time.time(), seen - self.now()
        if abs(by_wall) <= abs(by_sim):  # the wall clock on a tie
            return ClientTime(abs(by_wall) <= window_s, WALL, by_wall, self.skew_s)
        return ClientTime(abs(by_sim) <= window_s, SIMULATOR, by_sim, self.skew_s)

    def reset(self) -> None:
        self._offset = 0.0
        self._frozen_at = None
        self.skew_s = 0.0

    def state(self) -> dict[str, float | None]:
        """What a shared store keeps in step across instances (the offset is from wall time)."""
        return {"offset": self._offset, "frozen_at": self._frozen_at, "skew_s": self.skew_s}

    def load_state(self, data: dict[str, float | None] | None) -> None:
        self.reset()
        if data:
            self._offset = float(data.get("offset") or 0.0)
            frozen = data.get("frozen_at")
            self._frozen_at = float(frozen) if frozen is not None else None
            self.skew_s = float(data.get("skew_s") or 0.0)

    def snapshot(self) -> dict[str, object]:
        now = self.now()
        return {
            "now": now,
            "iso": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            "offset_s": round(self.offset, 3),
            "frozen": self.frozen,
            "wall": time.time(),
            "skew_s": self.skew_s,
        }
