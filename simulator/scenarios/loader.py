"""Fixture directories: every ``*.yaml``/``*.yml``/``*.json`` below them, validated and merged.

Later directories win: a credential with the same vendor and id, or a scenario with the same name,
replaces the earlier one; rules and faults are appended in load order; vendor sections merge
key by key (dicts recursively, anything else replaced).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator import jsonin, patterns
from simulator.errors import ModsimError
from simulator.names import unknown_text
from simulator.scenarios.model import Scenario
from simulator.schemas import errors as schema_errors
from simulator.schemas import validator

#: libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FixtureError(ModsimError):
    pass


#: where something was defined: the fixture file and the JSON pointer of the item in it
Origin = tuple[Path, tuple[str | int, ...]]


def locate(origin: Origin) -> str:
    """``file:line`` of an item (``file`` alone when the line cannot be found)."""
    path, pointer = origin
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, ValueError, yaml.YAMLError):
        node = None
    line = node.start_mark.line + 1 if node is not None else None
    for step in pointer:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return f"{path}:{line}" if line is not None else str(path)


@dataclass
class ScenarioRule:
    match: dict[str, Any]
    scenario: str | None = None
    file: Path | None = None
    download: str | None = None
    name: str = ""
    origin: Origin | None = None


@dataclass
class FixtureSet:
    credentials: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    rules: list[ScenarioRule] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    vendors: dict[str, dict[str, Any]] = field(default_factory=dict)
    lexicon: dict[str, Any] = field(default_factory=dict)
    quotas: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    #: where each credential, fault, vendor section and quota section was defined (``locate``)
    origins: dict[tuple[str, ...], Origin] = field(default_factory=dict)
    fault_origins: list[Origin] = field(default_factory=list)


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def merge_lexicon(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Thresholds replace; per-label ``words`` and ``patterns`` lists append; ``name`` replaces."""
    out = {"thresholds": {**base.get("thresholds", {}), **extra.get("thresholds", {})}, "labels": {}}
    labels = dict(base.get("labels", {}))
    for label, spec in extra.get("labels", {}).items():
        old = labels.get(label, {})
        labels[label] = {
            "name": spec.get("name", old.get("name", "")),
            "words": [*old.get("words", []), *spec.get("words", [])],
            "patterns": [*old.get("patterns", []), *spec.get("patterns", [])],
        }
    out["labels"] = labels
    return out


def read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")  # UnicodeDecodeError is a ValueError
        if path.suffix == ".json":
            return jsonin.loads(text)
        doc = yaml.load(text, Loader=_YAML_LOADER)
        jsonin.check_finite(doc)  # YAML's .nan and .inf
        return doc
    except (ValueError, yaml.YAMLError) as exc:
        why = " ".join(str(exc).split())  # one line: YAML's messages span several
        raise FixtureError(f"{path}: not valid {path.suffix[1:].upper()}: {why}") from exc


def load_file(path: Path, into: FixtureSet) -> None:
    doc = read_document(path)
    if doc is None:
        return
    errors = list(validator("fixtures.schema").iter_errors(doc))
    if errors:
        first = min(errors, key=lambda e: list(map(str, e.absolute_path)))
        where = locate((path, tuple(first.absolute_path)))
        problems = schema_errors("fixtures.schema", doc)
        raise FixtureError(f"{where}: " + "; ".join(problems[:5]))
    for i, c in enumerate(doc.get("credentials", ())):
        into.credentials[(c["vendor"], c["id"])] = c
        into.origins[("credential", c["vendor"], c["id"])] = (path, ("credentials", i))
    for s in doc.get("scenarios", ()):
        into.scenarios[s["name"]] = Scenario.from_dict(s)
    for i, r in enumerate(doc.get("rules", ())):
        file = (path.parent / r["file"]).resolve() if "file" in r else None
        into.rules.append(
            ScenarioRule(
                match=r["match"],
                scenario=r.get("scenario"),
                file=file,
                download=r.get("download"),
                name=r.get("name", ""),
                origin=(path, ("rules", i)),
            )
        )
    for i, f in enumerate(doc.get("faults", ())):
        into.faults.append(f)
        into.fault_origins.append((path, ("faults", i)))
    if "lexicon" in doc:
        into.lexicon = merge_lexicon(into.lexicon, doc["lexicon"])
    for vendor, limits in doc.get("quotas", {}).items():
        into.quotas[vendor] = {**into.quotas.get(vendor, {}), **limits}
        into.origins.setdefault(("quotas", vendor), (path, ("quotas", vendor)))
    for vendor, section in doc.get("vendors", {}).items():
        into.vendors[vendor] = deep_merge(into.vendors.get(vendor, {}), section)
        into.origins.setdefault(("vendors", vendor), (path, ("vendors", vendor)))
    into.files.append(path)


def load_dirs(dirs: list[Path]) -> FixtureSet:
    out = FixtureSet()
    for d in dirs:
        if not d.is_dir():
            raise FixtureError(f"fixtures directory not found: {d}")
        for path in sorted(p for p in d.rglob("*") if p.suffix in {".yaml", ".yml", ".json"} and p.is_file()):
            load_file(path, out)
    for rule in out.rules:
        where = locate(rule.origin) if rule.origin else "fixtures"
        if rule.scenario and rule.scenario not in out.scenarios:
            raise FixtureError(
                f"{where}: rule {rule.name or rule.match} names an "
                + unknown_text("scenario", rule.scenario, out.scenarios)
            )
        if "text" in rule.match:
            try:
                patterns.compiled(rule.match["text"])
            except patterns.PatternError as exc:
                raise FixtureError(f"{where}: rule {rule.name or rule.match}: match.text: {exc}") from exc
        if rule.file and not rule.file.is_file():
            raise FixtureError(f"{where}: rule {rule.name or rule.match} names missing file {rule.file}")
    return out
