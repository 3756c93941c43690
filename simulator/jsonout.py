"""Compact UTF-8 JSON for vendor bodies and the journal: one serializer, orjson-fast.

Output is ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` except floats, which print
the shortest round trip without a padded exponent (``1.5e-7``, as Baidu's answers do, not Python's
``1.5e-07``). Objects orjson refuses (strings holding undecodable bytes, integers beyond 64 bits)
fall back to the standard library.

``fragment(obj)`` serialises a memoised value once; every later ``dumps`` embeds those bytes as they
are. orjson cannot give a fragment's bytes back, and the standard-library fallback needs them: the
last ``FRAGMENTS_MAX`` fragments' bytes are kept here, so only memos well under that bound make them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

#: id(fragment) -> (fragment, its JSON), first in first out
_FRAGMENTS: dict[int, tuple[orjson.Fragment, bytes]] = {}
FRAGMENTS_MAX = 1024


def dumps(obj: Any, *, sort_keys: bool = False, default: Any = None) -> bytes:
    try:
        # orjson's bytes keep their whole growth buffer: copy to an exact-size object
        return memoryview(
            orjson.dumps(obj, default=default, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
        ).tobytes()
    except TypeError:
        text = json.dumps(
            obj, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, default=_unfragment(default)
        )
        return text.encode("utf-8", "surrogatepass")


def fragment(obj: Any) -> orjson.Fragment:
    raw = dumps(obj)
    frag = orjson.Fragment(raw)
    if len(_FRAGMENTS) >= FRAGMENTS_MAX:
        del _FRAGMENTS[next(iter(_FRAGMENTS))]
    _FRAGMENTS[id(frag)] = (frag, raw)
    return frag


def _unfragment(default: Any) -> Any:
    def read_back(o: Any) -> Any:
        if isinstance(o, orjson.Fragment):
            kept = _FRAGMENTS.get(id(o))
            if kept is not None and kept[0] is o:
                return json.loads(kept[1])
            raise TypeError("a JSON fragment no longer kept by simulator.jsonout")
        if default is not None:
            return default(o)
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    return read_back
