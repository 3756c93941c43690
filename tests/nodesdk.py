"""Run the vendors' official Node.js SDKs (``tests/node/``) from the tests.

``scripts/test.sh`` installs them (``npm ci``); a run without that step installs them here on first
use, so ``python -m pytest`` alone still runs every test. Each driver script under ``tests/node/``
reads one JSON request on stdin and prints one JSON line: what the SDK returned or raised.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
_lock = threading.Lock()


def ensure_installed() -> None:
    with _lock:
        if (NODE_DIR / "node_modules" / ".package-lock.json").is_file():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed: the Node.js SDK tests need node and npm")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=600,
        )


def run(script: str, request: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
    """Run ``tests/node/<script>`` with ``request`` on stdin; its JSON answer."""
    ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: the Node.js SDK tests need node and npm")
    proc = subprocess.run(
        [node, str(NODE_DIR / script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=NODE_DIR,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{script} exited {proc.returncode}: {proc.stderr[-2000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"{script} printed nothing; stderr: {proc.stderr[-2000:]}"
    out: dict[str, Any] = json.loads(lines[-1])
    return out
