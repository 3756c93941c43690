"""Names that must exist: scenarios, vendors, operations. A typo is an error that names the closest
existing names, never a silent miss (a fault that never fires, a queue entry never taken)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from simulator.errors import ModsimError


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    pool = sorted(set(choices))
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if not found:  # a prefix or a part of the name (``text`` -> text_ads ...)
        low = name.lower()
        found = [c for c in pool if low and (c.lower().startswith(low) or low in c.lower())][:n]
    return found


def unknown_text(kind: str, name: object, choices: Iterable[str]) -> str:
    pool = sorted(set(choices))
    near = closest(str(name), pool)
    if near:
        return f"unknown {kind} {name!r}; closest: {', '.join(near)}"
    shown = ", ".join(pool[:30]) + (" ..." if len(pool) > 30 else "")
    return f"unknown {kind} {name!r}; known: {shown}"


class InvalidName(ModsimError, ValueError):
    """A name in a request to the simulator that cannot be used (the admin API answers 400)."""


class Unrenderable(InvalidName):
    """A scenario named for operations none of which can render it (an image-only scenario queued for a
    text operation)."""


class UnknownName(InvalidName):
    """``kind`` (scenario, vendor, operation ...) ``name`` does not exist; ``str()`` names the closest."""

    def __init__(self, kind: str, name: object, choices: Iterable[str]) -> None:
        pool = sorted(set(choices))
        super().__init__(unknown_text(kind, name, pool))
        self.kind = kind
        self.name = name
        self.closest = closest(str(name), pool)
