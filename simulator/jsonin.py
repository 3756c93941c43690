"""JSON in, strictly: what the simulator parses from clients (admin bodies, vendor JSON bodies) and
from fixture files.

Non-finite numbers are not JSON (RFC 8259): ``NaN``, ``Infinity``, ``-Infinity`` and literals that
overflow a double (``1e999``) are refused, as is nesting deep enough to exhaust the parser. Python's
``json`` accepts all of them; one NaN in a fault's ``ms`` used to hang a request forever and poison
asyncio's timer heap.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (non-finite numbers are refused)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of the range of a double (non-finite numbers are refused)")
    return value


def loads(raw: bytes | str) -> Any:
    """``json.loads`` refusing non-finite numbers and nesting too deep; every failure is a ValueError."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def check_finite(doc: Any, where: str = "") -> None:
    """Raise ValueError naming the first non-finite float in a parsed document (YAML has ``.nan`` and
    ``.inf``). Iterative: a deep document cannot exhaust the stack."""
    stack: list[tuple[Any, str]] = [(doc, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ValueError(f"{path or '(root)'}: {node} is not a finite number")
        if isinstance(node, dict):
            stack.extend((v, f"{path}/{k}" if path else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(node))
