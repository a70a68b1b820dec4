"""Runs the outside checkers' Node scripts (tests/tools/*.js) for the tests in this folder.

`make test` installs the tools from package-lock.json (npm ci) before pytest runs; a missing node
or node_modules is a failed test with the command that fixes it, never a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(__file__).resolve().parent

NodeRunner = Callable[..., Any]


@pytest.fixture(scope="session")
def run_node() -> NodeRunner:
    """Run ``tests/tools/<script>`` with node; return its stdout parsed as JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the outside checkers need Node.js 20 or later (then `npm ci`)")
    if not (ROOT / "node_modules" / ".package-lock.json").is_file():
        pytest.fail("node_modules is missing: run `npm ci` in the project root (`make test` does)")

    def run(script: str, *args: str, stdin: str | None = None) -> Any:
        result = subprocess.run(
            [node, str(TOOLS / script), *args],
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{script} exited {result.returncode}:\n{result.stderr}")
        return json.loads(result.stdout)

    return run
