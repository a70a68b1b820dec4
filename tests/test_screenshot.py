"""`python -m autotuner.screenshot` (make screenshot): the docs' chart drawn from a fresh demo run."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from autotuner import screenshot
from autotuner.reports import CHART_HEIGHT_PX, CHART_WIDTH_PX

pytest.importorskip("matplotlib")
ROOT = Path(__file__).resolve().parents[1]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_the_command_runs_the_demo_and_writes_the_chart_it_decided(tmp_path: Path):
    # When the command runs as the docs say, into a scratch file
    out = tmp_path / "report-builder.png"
    done = subprocess.run(
        [sys.executable, "-m", "autotuner.screenshot", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Then it succeeds and writes a chart of the documented size
    assert done.returncode == 0, done.stderr[-2000:]
    assert png_size(out) == (CHART_WIDTH_PX, CHART_HEIGHT_PX)
    # And it says where, for which function, and the decision the chart shows
    assert done.stdout.startswith(f"{out}: report-builder, balanced (weight 0.5): ")


def test_a_function_the_demo_does_not_tune_is_refused_before_anything_runs():
    with pytest.raises(SystemExit, match="--function: the demo tunes image-resizer, orders-api, report-builder"):
        screenshot.main(["--function", "billing-api"])


def test_by_default_it_redraws_the_image_the_docs_show():
    assert screenshot.DEFAULT_OUT == ROOT / "docs" / "images" / "report-builder.png"
    assert "make screenshot" in (ROOT / "docs" / "simulated-account.md").read_text()
