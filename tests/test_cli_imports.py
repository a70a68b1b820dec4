"""The CLI's AWS commands run without the embedded AWS: a user of a deployed stack needs no emulator or moto."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# In a fresh interpreter: the parser's help, then every AWS command's help and the modules they run on.
_PROBE = """
import json, sys
from autotuner import cli
for argv in (["--help"], ["start", "--help"], ["history", "--help"], ["runs", "--help"], ["report", "--help"]):
    try:
        cli.main(argv)
    except SystemExit:
        pass
import autotuner.history, autotuner.reports, autotuner.runs
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("emulator", "moto"))))
"""


def test_the_aws_commands_load_no_emulator_and_no_moto():
    # When the CLI is imported and its AWS commands' help is printed, in a new process
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Then the help was printed and no module of the embedded AWS or of moto was loaded
    assert "autotuner start" in result.stdout or "usage:" in result.stdout
    assert json.loads(result.stdout.splitlines()[-1]) == []
