"""fastjson-style serialisation shared by the envelope and the callback content."""

from __future__ import annotations

from typing import Any

from simulator import jsonout


def dumps(obj: Any) -> str:
    """Compact, keys sorted, non-ASCII kept (what Green's fastjson writes)."""
    return jsonout.dumps(obj, sort_keys=True).decode("utf-8", "surrogatepass")
