"""fastjson-style serialisation shared by the envelope and the callback content."""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> str:
    """Compact, keys sorted, non-ASCII kept (what Green's fastjson writes)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
