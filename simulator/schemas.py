"""JSON Schema validation against the files in schemas/ (one registry, cached validators)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from simulator.names import closest
from simulator.resources import builtin_dir

BASE = "https://modsim.invalid/schemas/"


@cache
def _registry() -> Registry:
    root = builtin_dir("schemas")
    resources = []
    for path in sorted(root.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        uri = BASE + path.relative_to(root).as_posix()
        doc.setdefault("$id", uri)
        resources.append((uri, Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """``name``: path below schemas/ with or without ``.json``, e.g. ``baidu/face_audit.success``."""
    uri = BASE + (name if name.endswith(".json") else name + ".json")
    contents = _registry().contents(uri)
    return Draft202012Validator(contents, registry=_registry())


def errors(name: str, instance: Any) -> list[str]:
    """Human-readable validation errors, empty when valid; a misspelt key names the closest allowed ones."""
    out = []
    for e in sorted(validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append(f"{where}: {e.message}{_closest_keys(e)}")
    return out


def _closest_keys(e: ValidationError) -> str:
    if e.validator != "additionalProperties" or not isinstance(e.instance, dict):
        return ""
    allowed = list(e.schema.get("properties", {}) if isinstance(e.schema, dict) else {})
    extra = [k for k in e.instance if k not in allowed]
    hints = [f"{k!r} -> {', '.join(near)}" for k in extra if (near := closest(str(k), allowed, 2))]
    return f" (closest: {'; '.join(hints)})" if hints else ""


def validate(name: str, instance: Any) -> None:
    problems = errors(name, instance)
    if problems:
        raise ValidationError("; ".join(problems[:5]))
