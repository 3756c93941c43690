"""The one seeded random source. Ids, tokens and default scenarios all draw from here.

Two kinds of randomness: a *sequence* source (ids, tokens: same seed and same request order give the
same values) and *content-derived* sources (``for_content``: same content and seed give the same
draws whatever the request order).

Several instances sharing one store each draw their own sequence (``stream``: the instance's name), so
ids and tokens issued by different instances never collide; content-derived draws ignore the stream,
so every instance gives the same verdict for the same content and seed.
"""

from __future__ import annotations

import hashlib
import random as _random

_B62 = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: a word's top byte -> its character (top byte >> 2 indexes the 62 characters)
_B62_OF_TOP_BYTE = bytes(_B62[b >> 2] if b >> 2 < 62 else 0 for b in range(256))
#: top bytes whose 6 bits are 62 or 63: randint(0, 61) rejects them and draws again
_B62_REJECTED = bytes(range(62 << 2, 256))


class Rng:
    def __init__(self, seed: int = 0, stream: str = "") -> None:
        self.seed = seed
        self.stream = stream
        self._seq = _random.Random(self._sequence_seed())

    def _sequence_seed(self) -> int | str:
        return f"{self.seed}/{self.stream}" if self.stream else self.seed

    def reset(self) -> None:
        self._seq = _random.Random(self._sequence_seed())

    def hex(self, n: int) -> str:
        return f"{self._seq.getrandbits(4 * n):0{n}x}"

    def randint(self, lo: int, hi: int) -> int:
        """``random.Random.randint(lo, hi)``, the same draws for the same state (rejection sampling
        on ``getrandbits``, as CPython does), without randrange's argument checks (~3x faster)."""
        n = hi - lo + 1
        k = n.bit_length()
        r = self._seq.getrandbits(k)
        while r >= n:
            r = self._seq.getrandbits(k)
        return lo + r

    def random(self) -> float:
        return self._seq.random()

    def b62(self, n: int) -> str:
        """``"".join(B62[self.randint(0, 61)] for _ in range(n))`` (digits, then a-z, then A-Z), the
        same characters from the same state, about 20x faster.

        ``getrandbits(6)`` is the top 6 bits of one 32-bit Mersenne Twister word, and
        ``getrandbits(32 * k)`` is the next k words, least significant first: so one draw of k words
        gives k candidate characters (each word's top byte >> 2), rejections (62 and 63) are
        dropped, and the characters still missing are drawn the same way. Never more words than
        the loop of ``randint`` would have drawn, so the state afterwards is the same too."""
        out = ""
        while len(out) < n:
            k = n - len(out)
            top = self._seq.getrandbits(32 * k).to_bytes(4 * k, "little")[3::4]
            out += top.translate(_B62_OF_TOP_BYTE, _B62_REJECTED).decode("ascii")
        return out

    def for_content(self, *parts: str | bytes) -> _random.Random:
        h = hashlib.sha256(str(self.seed).encode())
        for p in parts:
            h.update(b"\x00")
            h.update(p.encode() if isinstance(p, str) else p)
        return _random.Random(int.from_bytes(h.digest()[:8], "big"))
