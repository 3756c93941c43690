"""The seeded source: the fast randint draws what random.Random.randint draws, state for state."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from simulator.rng import Rng


@given(st.integers(0, 2**32), st.integers(-(2**70), 2**70), st.integers(0, 2**130))
def test_randint_is_random_randint(seed: int, lo: int, width: int) -> None:
    ours, stdlib = Rng(seed), random.Random(seed)
    for _ in range(5):
        got = ours.randint(lo, lo + width)
        assert got == stdlib.randint(lo, lo + width)
        assert lo <= got <= lo + width


def test_same_seed_same_sequence() -> None:
    a, b = Rng(7), Rng(7)
    assert [a.hex(32), a.randint(10**18, 2**63 - 1)] == [b.hex(32), b.randint(10**18, 2**63 - 1)]
    a.reset()
    c = Rng(7)
    assert a.hex(8) == c.hex(8)


B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(st.integers(0, 2**32), st.text("abc", max_size=3), st.lists(st.integers(0, 120), max_size=6))
def test_b62_draws_what_a_randint_per_character_draws(seed: int, stream: str, sizes: list[int]) -> None:
    """Same characters and the same state afterwards (Alibaba Cloud task ids keep their values)."""
    fast, slow = Rng(seed, stream), Rng(seed, stream)
    for n in sizes:
        got = fast.b62(n)
        assert got == "".join(B62[slow.randint(0, 61)] for _ in range(n))
        assert len(got) == n
    assert fast.hex(16) == slow.hex(16)
