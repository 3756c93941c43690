from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.content import inspect_image


def test_image_command_writes_a_marked_image(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "a.jpg"
    assert main(["image", "--scenario", "porn", "--format", "jpeg", "--size", "320x200", "-o", str(out)]) == 0
    info = inspect_image(out.read_bytes())
    assert (info.format, info.width, info.height, info.marker) == ("jpeg", 320, 200, "porn")
    assert "scenario porn" in capsys.readouterr().out


def test_image_command_gif_frames(tmp_path: Path) -> None:
    out = tmp_path / "a.gif"
    assert main(["image", "--scenario", "gif_mixed", "--format", "gif", "--frames", "4", "-o", str(out)]) == 0
    info = inspect_image(out.read_bytes())
    assert (info.format, info.frames, info.marker) == ("gif", 4, "gif_mixed")


def test_scenarios_command_lists_the_library(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scenarios", "--json"]) == 0
    names = {s["name"] for s in json.loads(capsys.readouterr().out)}
    assert {"clean_avatar", "no_face", "two_faces", "star_face", "politician_face", "phone_number", "qq_number",
            "competitor_name", "porn", "sexy", "bloody", "qrcode_ad", "low_aesthetic", "blurry"} <= names  # fmt: skip


def test_serve_prints_base_url_vendors_and_demo_credentials_and_answers(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        _check_serving(proc)


def _check_serving(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("modsim ") and "serving on http://127.0.0.1:" in first
        base = first.split("serving on ")[1].split()[0]
        rest = ""
        while "demo credential" not in rest:  # Baidu's routes, then its first demo credential
            line = proc.stdout.readline()
            assert line, f"no demo credential in the banner:\n{rest}"
            rest += line
        assert "/rest/2.0/solution/v1/face_audit" in rest
        assert "demo-baidu-api-key" in rest and "demo-baidu-secret-key" in rest and "10000001" in rest
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(base + "/__modsim/health", timeout=2) as resp:
                    assert json.loads(resp.read())["status"] == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_refuses_broken_fixtures(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.yaml").write_text("scenarios:\n  - {name: 'bad name!'}\n", encoding="utf-8")
    assert main(["serve", "--fixtures", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err


def test_serve_can_generate_its_admin_token() -> None:
    """``MODSIM_ADMIN_TOKEN=generate`` (the container's default): a random token, printed at start."""
    env = {**os.environ, "MODSIM_ADMIN_TOKEN": "generate", "MODSIM_ADMIN_ALLOW_REMOTE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        url = first.split("serving on ")[1].split()[0]
        assert second.startswith("  admin token (X-Modsim-Token): ")
        token = second.split(": ", 1)[1].strip()
        assert len(token) >= 20 and token != "generate"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/__modsim/faults", timeout=10)
        assert refused.value.code == 401
        refused.value.close()
        req = urllib.request.Request(f"{url}/__modsim/faults", headers={"X-Modsim-Token": token})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read()) == {"rules": []}
        with urllib.request.urlopen(f"{url}/__modsim/health", timeout=10) as resp:  # no token needed
            assert json.loads(resp.read()) == {"status": "ok"}
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
