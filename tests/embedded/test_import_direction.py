"""Imports run one way: the CLI may use the embedded AWS, the embedded AWS never uses the CLI.

``emulator`` and the CLI (``autotuner``) both read runs through ``run_history``, which uses
neither. Every import statement counts, those inside functions too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: Path) -> dict[str, set[str]]:
    """Each module file under ``package`` (its path) -> the absolute module names it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(package.parent))] = names
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("emulator", ("autotuner",)), ("run_history", ("autotuner", "emulator"))],
)
def test_a_package_imports_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    modules = imported_modules(ROOT / package)
    assert modules, f"no modules found under {package}/"
    wrong = {
        path: sorted(name for name in names if within(name, forbidden))
        for path, names in modules.items()
        if any(within(name, forbidden) for name in names)
    }
    assert wrong == {}


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    # A lazy import is still an import: the direction check reads function bodies too.
    package = tmp_path / "emulator"
    package.mkdir()
    (package / "cloud.py").write_text(
        "import json\n\ndef records():\n    from autotuner.history import execution_runs\n    return execution_runs\n",
        encoding="utf-8",
    )
    assert imported_modules(package) == {"emulator/cloud.py": {"json", "autotuner.history"}}


def test_loading_the_embedded_aws_loads_no_cli_module() -> None:
    # Transitively too: what the emulator imports (run_history, autotuner_core) must not pull the CLI in.
    program = (
        "import sys, emulator.cloud, emulator.run_report, emulator.local_state\n"
        "print(sorted(m for m in sys.modules if m == 'autotuner' or m.startswith('autotuner.')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    assert loaded.stdout.strip() == "[]"
