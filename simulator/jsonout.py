"""Compact UTF-8 JSON for vendor bodies and the journal: one serializer, orjson-fast.

Output is ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` except floats, which print
the shortest round trip without a padded exponent (``1.5e-7``, as Baidu's answers do, not Python's
``1.5e-07``). Objects orjson refuses (strings holding undecodable bytes, integers beyond 64 bits)
fall back to the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(obj: Any, *, sort_keys: bool = False, default: Any = None) -> bytes:
    try:
        # orjson's bytes keep their whole growth buffer: copy to an exact-size object
        return memoryview(
            orjson.dumps(obj, default=default, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
        ).tobytes()
    except TypeError:
        text = json.dumps(
            obj, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, default=default
        )
        return text.encode("utf-8", "surrogatepass")
