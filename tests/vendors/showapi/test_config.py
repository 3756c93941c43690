"""Fixture validation: showapi apps' attrs are checked at start; there is no vendors.showapi section."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.settings import Settings
from simulator.sim import Sim


def _sim_with(tmp_path: Path, text: str) -> Sim:
    (tmp_path / "extra.yaml").write_text(text, encoding="utf-8")
    return Sim(Settings(fixtures=(tmp_path,)))


def test_extra_app_is_loaded(tmp_path: Path) -> None:
    sim = _sim_with(
        tmp_path,
        'credentials:\n  - {vendor: showapi, id: "123", secret: s, attrs: {apis: ["2054-3"], quota: {qps: 2}}}\n',
    )
    cred = sim.state.credentials.get("showapi", "123")
    assert cred is not None and cred.attrs["apis"] == ["2054-3"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('credentials:\n  - {vendor: showapi, id: "abc", secret: s}\n', "showapi app 'abc'"),
        ('credentials:\n  - {vendor: showapi, id: "1", attrs: {api: ["2054-1"]}}\n', "showapi app '1'"),
        ('credentials:\n  - {vendor: showapi, id: "1", attrs: {quota: {qps: "x"}}}\n', "showapi app '1'"),
        ("vendors:\n  showapi: {timestamp_window_s: 60}\n", "vendors.showapi"),
    ],
    ids=["appid-not-digits", "misspelt-apis", "quota-not-integer", "vendor-section"],
)
def test_bad_fixture_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        _sim_with(tmp_path, text)
