"""Where the built-in fixtures and schemas are: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    """``fixtures`` or ``schemas``: the wheel's copy (``simulator/_builtin/NAME``) or the checkout's."""
    for candidate in (_PKG / "_builtin" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"built-in {name!r} directory not found next to {_PKG}")


@cache
def schema(name: str) -> dict[str, Any]:
    """A JSON Schema by its path below schemas/ without extension, e.g. ``baidu/face_audit.success``."""
    path = builtin_dir("schemas") / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
