"""mypy refuses a step declared wrongly (wrong_steps.py), and accepts every real step and handler."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRONG = Path(__file__).with_name("wrong_steps.py")
# mypy's own line format: path:line: error: message  [code]
_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def _marked(path: Path) -> set[tuple[int, str]]:
    """The (line, error code) pairs ``path`` marks with ``# error: <code>``."""
    lines = path.read_text().splitlines()
    return {
        (number, line.rsplit("# error: ", 1)[1].strip())
        for number, line in enumerate(lines, start=1)
        if "# error: " in line and not line.startswith('"""')
    }


def test_mypy_refuses_each_wrong_step_and_passes_the_real_ones() -> None:
    # Given the wrongly declared steps, and the real steps and handlers, checked together under the project's config
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", str(WRONG), "layers/common/autotuner_core/steps", "functions"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    errors = [match for match in map(_ERROR.match, checked.stdout.splitlines()) if match]
    # Then every marked line has its error, and no line without a mark has one
    wrong = {(int(e["line"]), e["code"]) for e in errors if Path(e["path"]).name == WRONG.name}
    assert len(_marked(WRONG)) == 9
    assert wrong == _marked(WRONG), checked.stdout
    # And the real steps and handlers have none
    assert [e.string for e in errors if Path(e["path"]).name != WRONG.name] == []
    assert checked.returncode == 1 and f"Found {len(errors)} errors in 1 file" in checked.stdout, checked.stdout
