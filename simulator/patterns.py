"""Regular expressions that come from users (scenario rules' ``match.text``, lexicon ``patterns``)
run on RE2: linear in the text whatever the pattern, so no pattern can stall the server (Python's
``re`` spent 405 ms on ``(a+)+$`` against 22 letters). RE2 has no backreferences and no lookaround;
a pattern that uses them is refused when it is added (admin 400, fixture error at start), with
RE2's reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print each refused pattern to stderr


class PatternError(ValueError):
    pass


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (memoised); ``PatternError`` when RE2 cannot take it."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(f"{pattern[:80]!r} is not an RE2 regular expression: {why}") from None


def search(pattern: str, text: str) -> bool:
    return compiled(pattern).search(text) is not None
