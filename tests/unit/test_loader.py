"""Fixture directories: merge order, validation errors with the file path, the built-in fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator import schemas
from simulator.resources import builtin_dir
from simulator.scenarios.loader import FixtureError, deep_merge, load_dirs
from simulator.scenarios.model import Scenario
from simulator.settings import Settings
from simulator.sim import Sim

FAULT = {"action": {"type": "error", "code": 18}}


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(doc, str):
        path.write_text(doc, encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def two_dirs(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    write(
        first / "base.yaml",
        {
            "credentials": [
                {"vendor": "baidu", "id": "k1", "secret": "old"},
                {"vendor": "baidu", "id": "k2", "secret": "kept"},
            ],
            "scenarios": [{"name": "s1", "description": "first"}, {"name": "s2", "description": "kept"}],
            "rules": [{"name": "r1", "match": {"vendor": "baidu"}, "scenario": "s1"}],
            "faults": [{"id": "a", **FAULT}],
            "vendors": {
                "baidu": {
                    "default_config": "1",
                    "limits": {"max_side": 100, "min_side": 10, "formats": ["png"]},
                    "configs": {"1": {"services": ["face"]}},
                }
            },
        },
    )
    write(
        second / "override.yaml",
        {
            "credentials": [{"vendor": "baidu", "id": "k1", "secret": "new"}],
            "scenarios": [{"name": "s1", "description": "second"}],
            "rules": [{"name": "r2", "match": {"operation": "face_audit"}, "scenario": "s2"}],
            "faults": [{"id": "b", **FAULT}],
            "vendors": {
                "baidu": {
                    "limits": {"max_side": 200, "formats": ["jpeg"]},
                    "configs": {"9": {"services": ["ocr"]}},
                }
            },
        },
    )
    return first, second


def test_later_directories_win_by_name_and_append_rules_and_faults(two_dirs: tuple[Path, Path]) -> None:
    fs = load_dirs(list(two_dirs))
    assert fs.credentials[("baidu", "k1")]["secret"] == "new"
    assert fs.credentials[("baidu", "k2")]["secret"] == "kept"
    assert fs.scenarios["s1"].description == "second"
    assert fs.scenarios["s2"].description == "kept"
    assert [r.name for r in fs.rules] == ["r1", "r2"]
    assert [f["id"] for f in fs.faults] == ["a", "b"]
    assert fs.files == [two_dirs[0] / "base.yaml", two_dirs[1] / "override.yaml"]

    # the other order: the first directory's values win instead, lists keep load order
    rev = load_dirs(list(reversed(two_dirs)))
    assert rev.credentials[("baidu", "k1")]["secret"] == "old"
    assert rev.scenarios["s1"].description == "first"
    assert [r.name for r in rev.rules] == ["r2", "r1"]


def test_vendor_sections_deep_merge(two_dirs: tuple[Path, Path]) -> None:
    fs = load_dirs(list(two_dirs))
    assert fs.vendors["baidu"] == {
        "default_config": "1",
        # dicts merge key by key; lists (formats) are replaced, not concatenated
        "limits": {"max_side": 200, "min_side": 10, "formats": ["jpeg"]},
        "configs": {"1": {"services": ["face"]}, "9": {"services": ["ocr"]}},
    }


def test_deep_merge_does_not_mutate_its_inputs() -> None:
    base = {"a": {"b": 1, "c": {"d": 2}}, "x": [1]}
    extra = {"a": {"c": {"e": 3}}, "x": [2]}
    merged = deep_merge(base, extra)
    assert merged == {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "x": [2]}
    assert base == {"a": {"b": 1, "c": {"d": 2}}, "x": [1]}


def test_files_in_a_directory_load_in_sorted_path_order_including_subdirectories(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", {"scenarios": [{"name": "s", "description": "b"}]})
    write(tmp_path / "a.yml", {"scenarios": [{"name": "s", "description": "a"}]})
    write(tmp_path / "c" / "nested.json", {"scenarios": [{"name": "s", "description": "c/nested"}]})
    write(tmp_path / "notes.txt", "scenarios: [oops")  # not a fixture file: ignored
    write(tmp_path / "empty.yaml", "")  # an empty document: nothing to load
    fs = load_dirs([tmp_path])
    assert fs.scenarios["s"].description == "c/nested"
    assert [p.name for p in fs.files] == ["a.yml", "b.yaml", "nested.json"]


def test_lexicon_files_merge_label_by_label(tmp_path: Path) -> None:
    write(
        tmp_path / "a.yaml",
        {"lexicon": {"thresholds": {"reject": 0.9}, "labels": {"4": {"name": "ad", "words": ["x"]}}}},
    )
    write(
        tmp_path / "b.yaml", {"lexicon": {"thresholds": {"review": 0.4}, "labels": {"4": {"words": ["y"]}}}}
    )
    fs = load_dirs([tmp_path])
    assert fs.lexicon["thresholds"] == {"reject": 0.9, "review": 0.4}
    assert fs.lexicon["labels"]["4"] == {"name": "ad", "words": ["x", "y"], "patterns": []}


# --- errors name the file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("bad.yaml", "scenarios: [unclosed", "not valid YAML"),
        ("bad.yml", "a: b: c", "not valid YML"),
        ("bad.json", '{"scenarios": [', "not valid JSON"),
        ("schema.yaml", "surprise: 1", "Additional properties are not allowed"),
        ("list.yaml", "- 1\n- 2\n", "is not of type 'object'"),
        ("scenario.yaml", "scenarios: [{name: 'has space'}]", "does not match"),
        ("porn.yaml", "scenarios: [{name: x, porn: {porn: 2}}]", "greater than the maximum"),
        ("rule.yaml", "rules: [{match: {}, scenario: x}]", "should be non-empty"),
        ("cred.yaml", "credentials: [{vendor: baidu}]", "'id' is a required property"),
        ("fault.yaml", "faults: [{action: {type: nope}}]", "faults/0/action"),
    ],
)
def test_invalid_files_raise_fixture_error_with_the_path(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    write(tmp_path / "ok.yaml", {"scenarios": [{"name": "x"}]})
    path = write(tmp_path / "sub" / name, text)
    with pytest.raises(FixtureError) as info:
        load_dirs([tmp_path])
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert says in message, message


def test_a_file_that_is_not_utf8_is_a_fixture_error_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("scenarios: [{name: x, description: caf\u00e9}]".encode("latin-1"))
    with pytest.raises(FixtureError) as info:
        load_dirs([tmp_path])
    assert str(path) in str(info.value)


def test_a_directory_named_like_a_fixture_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").mkdir()
    write(tmp_path / "old.yaml" / "inner.yaml", {"scenarios": [{"name": "x"}]})
    assert list(load_dirs([tmp_path]).scenarios) == ["x"]


def test_rule_naming_an_unknown_scenario_fails(tmp_path: Path) -> None:
    write(
        tmp_path / "rules.yaml", {"rules": [{"name": "r", "match": {"vendor": "baidu"}, "scenario": "ghost"}]}
    )
    with pytest.raises(FixtureError, match=r"rules.yaml:2: rule r names an unknown scenario 'ghost'"):
        load_dirs([tmp_path])


def test_a_rule_may_name_a_scenario_defined_in_a_later_directory(tmp_path: Path) -> None:
    write(tmp_path / "a" / "rules.yaml", {"rules": [{"match": {"vendor": "baidu"}, "scenario": "later"}]})
    write(tmp_path / "b" / "scenarios.yaml", {"scenarios": [{"name": "later"}]})
    fs = load_dirs([tmp_path / "a", tmp_path / "b"])
    assert fs.rules[0].scenario == "later"


def test_rule_files_resolve_relative_to_their_fixture_file(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG")
    write(tmp_path / "rules.yaml", {"rules": [{"match": {"url": "https://x/*"}, "file": "img/a.png"}]})
    [rule] = load_dirs([tmp_path]).rules
    assert rule.file == (tmp_path / "img" / "a.png").resolve()

    write(
        tmp_path / "rules.yaml",
        {"rules": [{"name": "gone", "match": {"url": "*"}, "file": "img/missing.png"}]},
    )
    with pytest.raises(FixtureError, match="rule gone names missing file"):
        load_dirs([tmp_path])


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="fixtures directory not found"):
        load_dirs([tmp_path / "nope"])


def test_sim_loads_extra_directories_after_the_builtin_ones(tmp_path: Path) -> None:
    write(
        tmp_path / "mine.yaml",
        {
            "scenarios": [{"name": "clean_avatar", "description": "mine"}],
            "credentials": [{"vendor": "baidu", "id": "my-key", "secret": "my-secret"}],
        },
    )
    sim = Sim(Settings(fixtures=(tmp_path,)))
    assert sim.state.scenarios["clean_avatar"].description == "mine"
    assert sim.state.credentials.get("baidu", "my-key") is not None
    assert sim.state.credentials.get("baidu", "demo-baidu-api-key") is not None


# --- the built-in fixtures --------------------------------------------------------------------------


def test_builtin_fixtures_load() -> None:
    fs = load_dirs([builtin_dir("fixtures")])
    assert ("baidu", "demo-baidu-api-key") in fs.credentials
    assert fs.credentials[("baidu", "demo-baidu-api-key")]["secret"] == "demo-baidu-secret-key"
    assert {"clean_avatar", "porn", "explicit_with_phone", "gif_mixed"} <= set(fs.scenarios)
    assert schemas.errors("baidu/config.schema", fs.vendors["baidu"]) == []
    assert Sim(Settings()).state.scenarios.keys() == fs.scenarios.keys()


LIBRARY = yaml.safe_load((builtin_dir("fixtures") / "scenarios" / "library.yaml").read_text(encoding="utf-8"))


def test_library_scenario_names_are_unique() -> None:
    names = [s["name"] for s in LIBRARY["scenarios"]]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("doc", LIBRARY["scenarios"], ids=lambda d: d["name"])
def test_every_library_scenario_is_valid(doc: dict[str, Any]) -> None:
    assert schemas.errors("scenario.schema", doc) == []
    scenario = Scenario.from_dict(doc)
    assert scenario.name == doc["name"]
    assert scenario.description, "library scenarios say what they are"
    assert len(scenario.faces) == len(doc.get("faces", ()))
    assert load_dirs([builtin_dir("fixtures")]).scenarios[doc["name"]] == scenario
