"""The simulator clock: advance, freeze/unfreeze keeping the instant, set, reset, snapshot; client
timestamps checked against the wall clock or the simulator clock, with a skew of their own."""

from __future__ import annotations

import types
from datetime import UTC, datetime

import pytest

from simulator import clock as clock_module
from simulator import schemas
from simulator.clock import Clock

T0 = 1_700_000_000.0


class FakeTime:
    def __init__(self) -> None:
        self.t = T0

    def time(self) -> float:
        return self.t


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The real time the clock reads, under the test's control (only inside simulator.clock)."""
    fake = FakeTime()
    monkeypatch.setattr(clock_module, "time", types.SimpleNamespace(time=fake.time))
    return fake


def test_real_time_by_default(wall: FakeTime) -> None:
    c = Clock()
    assert c.now() == T0 and not c.frozen and c.offset == 0
    wall.t += 5
    assert c.now() == T0 + 5


def test_advance_offsets_a_running_clock(wall: FakeTime) -> None:
    c = Clock()
    c.advance(3600)
    assert c.now() == T0 + 3600
    c.advance(-600)
    assert c.now() == T0 + 3000
    wall.t += 10  # still running
    assert c.now() == T0 + 3010
    assert c.offset == 3000


def test_freeze_stops_the_clock_at_the_current_simulated_instant(wall: FakeTime) -> None:
    c = Clock()
    c.advance(100)
    c.freeze()
    wall.t += 50
    assert c.now() == T0 + 100 and c.frozen
    # the offset is what separates it from real time now
    assert c.offset == 50
    c.freeze(True)  # freezing again changes nothing
    assert c.now() == T0 + 100


def test_a_frozen_clock_still_moves_when_advanced(wall: FakeTime) -> None:
    c = Clock()
    c.freeze()
    c.advance(86400)
    wall.t += 1000
    assert c.now() == T0 + 86400


def test_unfreeze_resumes_from_the_frozen_instant(wall: FakeTime) -> None:
    c = Clock()
    c.freeze()
    wall.t += 500
    c.freeze(False)
    assert c.now() == T0 and not c.frozen  # no jump to real time
    wall.t += 7
    assert c.now() == T0 + 7
    c.freeze(False)  # unfreezing a running clock changes nothing
    assert c.now() == T0 + 7


@pytest.mark.parametrize("frozen", [False, True])
def test_set_goes_to_an_absolute_instant(wall: FakeTime, frozen: bool) -> None:
    c = Clock()
    if frozen:
        c.freeze()
    c.set(2_000_000_000)
    assert c.now() == 2_000_000_000
    wall.t += 30
    assert c.now() == 2_000_000_000 + (0 if frozen else 30)
    assert c.frozen is frozen


def test_reset_back_to_real_running_time(wall: FakeTime) -> None:
    c = Clock()
    c.advance(999)
    c.freeze()
    c.reset()
    assert c.now() == T0 and not c.frozen and c.offset == 0


def test_snapshot(wall: FakeTime) -> None:
    c = Clock()
    c.set(1_234_567_890.5)
    snap = c.snapshot()
    assert schemas.errors("admin/clock", snap) == []
    assert snap == {
        "now": 1_234_567_890.5,
        "iso": "2009-02-13T23:31:30.500000Z",
        "offset_s": round(1_234_567_890.5 - T0, 3),
        "frozen": False,
        "wall": T0,
        "skew_s": 0.0,
    }
    c.freeze()
    assert c.snapshot()["frozen"] is True
    assert c.now_dt() == datetime(2009, 2, 13, 23, 31, 30, 500000, tzinfo=UTC)


def test_real_clock_tracks_wall_time() -> None:
    import time

    c = Clock()
    before = time.time()
    now = c.now()
    assert before - 1 <= now <= time.time() + 1


# --- client timestamps ----------------------------------------------------------------------------


def test_a_real_time_client_stays_valid_whatever_the_simulator_clock_does(wall: FakeTime) -> None:
    c = Clock()
    c.advance(3600)
    seen = c.client_time(T0 + 3, 900)
    assert (seen.ok, seen.reading, seen.delta_s) == (True, "wall clock", 3.0)
    c.freeze()
    wall.t += 7200
    assert c.client_time(wall.t, 900).reading == "wall clock"
    assert c.client_time(wall.t, 900).ok


def test_a_client_faked_to_the_simulator_clock_is_accepted(wall: FakeTime) -> None:
    c = Clock()
    c.set(T0 - 86400 * 30)
    seen = c.client_time(T0 - 86400 * 30 + 10, 600)
    assert (seen.ok, seen.reading, seen.delta_s) == (True, "simulator clock", 10.0)


def test_a_stale_timestamp_is_refused_and_says_how_far_off_it_is(wall: FakeTime) -> None:
    c = Clock()
    seen = c.client_time(T0 - 1000, 900)
    assert (seen.ok, seen.reading, seen.delta_s) == (False, "wall clock", -1000.0)
    assert seen.describe(900) == "-1000 s from the wall clock, outside ±900 s"


def test_skew_makes_every_client_timestamp_look_off(wall: FakeTime) -> None:
    c = Clock()
    c.skew_s = 1000
    seen = c.client_time(T0, 900)
    assert (seen.ok, seen.delta_s) == (False, 1000.0)
    assert seen.describe(900) == "+1000 s from the wall clock after a skew of +1000 s, outside ±900 s"
    assert c.client_time(T0 - 1000, 900).ok  # a client 1000 s behind now looks right
    c.reset()
    assert c.skew_s == 0 and c.client_time(T0, 900).ok
