"""The same account, input and seed give the same decisions and tables, run after run.

Two ``autotuner demo`` runs, one after the other, must print the same text and write the same
charts and HTML report. Only what measures this machine's speed is masked: wall-clock seconds and
timestamps, the tuner functions' own GB-seconds (their real running time) and the dollars that
include them, the control-plane calls of the run's status polls (how many GetFunction polls fit in
an update's InProgress window depends on how fast the machine answers them, as in AWS), and a
day's invocations with the dollars a month weighed by them: the simulated live traffic arrives in
real time, and the count read at discovery includes the requests that came before it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MASKS = (
    # Timestamps: ISO 8601 (the breaker's next try) and the report's "started … UTC".
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(\+00:00|Z| UTC)?"), "<time>"),
    # Wall-clock seconds: "in 23.2 s", ", 1.12 s", and the scenario table's seconds (three decimals).
    (re.compile(r"\b\d+(\.\d+)? s\b"), "<seconds> s"),
    (re.compile(r"(?<![\d.$])\d+\.\d{3}(?![\d%])"), "<seconds>"),
    # The tuner's own Lambda time (measured in real time) and what depends on it.
    (re.compile(r"\(\d+(\.\d+)? GB-s\)(?=, \d+ control-plane calls)"), "(<tuner> GB-s)"),
    (re.compile(r"\d+(\.\d+)? tuner GB-s"), "<tuner> tuner GB-s"),
    (re.compile(r"\d+ control-plane calls(?=,? )"), "<polls> control-plane calls"),
    (re.compile(r"\$\d+\.\d+ in all$", re.MULTILINE), "$<spent> in all"),
    # A day's invocations (live traffic in real time) and the monthly dollars weighed by them.
    (re.compile(r"\d[\d,]* invocations a day"), "<daily> invocations a day"),
)
_MONTHLY = re.compile(r"\$[\d,]+\.\d{2}(?! per million)")


def _mask_monthly(line: str) -> str:
    """Dollars on a line that prices a month (the per-million figures beside them are not masked)."""
    if "a month" in line or "/month" in line or "biggest:" in line:
        return _MONTHLY.sub("$<monthly>", line)
    return line


def _masked(text: str, results: Path) -> str:
    text = text.replace(str(results), "<results>")
    lines = []
    for line in text.splitlines():
        if not line.startswith("Estimate:"):  # the run budget's upper bounds: no timing in them
            for pattern, replacement in _MASKS:
                line = pattern.sub(replacement, line)
            line = _mask_monthly(line)
        # A masked cell can change its column's width: compare the cells, not the padding.
        lines.append(re.sub(r" {2,}", "  ", line.rstrip()))
    return "\n".join(lines)


def test_two_demos_give_byte_identical_decisions_tables_charts_and_reports(tmp_path: Path) -> None:
    # When a user runs the demo twice, one run after the other
    folders = [tmp_path / "first", tmp_path / "second"]
    outputs = []
    for folder in folders:
        process = subprocess.run(
            [sys.executable, "-m", "autotuner.cli", "demo", "--results", str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert process.returncode == 0, process.stdout + process.stderr
        outputs.append((process.stdout, process.stderr))
    first, second = (_masked(stdout, folder) for (stdout, _), folder in zip(outputs, folders, strict=True))

    # Then both print the same decisions and tables, timings aside
    assert "orders-api — " in first and "Tag sweep " in first  # the tuning and the sweep were shown
    assert first.splitlines() == second.splitlines()

    # And the charts are the same bytes, and the HTML report the same page, timings aside
    charts = sorted(path.name for path in folders[0].glob("*.png"))
    assert charts == ["image-resizer.png", "orders-api.png", "report-builder.png"]
    for name in charts:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
    pages = [_masked((folder / "report.html").read_text(encoding="utf-8"), folder) for folder in folders]
    assert pages[0].splitlines() == pages[1].splitlines()
