"""The deployed report's page (autotuner_core: report_html, report_svg, report_store), without AWS.

The page SummarizeRun stores must render in a browser with nothing else: inline SVG charts whose
axis labels do not overlap, the decision and the table, and no script or outside reference.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from autotuner_core.documents.outcome import TargetOutcome
from autotuner_core.documents.target import ExecutionRef
from autotuner_core.report.plain import spaced_ticks
from autotuner_core.report.store import render_report
from autotuner_core.report.svg import svg_chart

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the reports tests' sample outcomes
from report_outcomes import configuration, failed_outcome, measured_outcome

SVG = "{http://www.w3.org/2000/svg}"
# The sizes the README's chart shows: five between 1,536 and 2,048 MB, whose labels overlap unless spread.
CROWDED = [128, 256, 512, 1024, 1536, 1664, 1769, 1920, 2048, 3008]
EXECUTION = ExecutionRef(
    arn="arn:aws:states:us-east-1:123456789012:execution:lambda-autotuner-tuner:run-1",
    start_time="2026-12-07T23:00:00+00:00",
)


def crowded_outcome() -> dict[str, Any]:
    outcome = measured_outcome("report-builder")
    outcome["recommendation"] = {**outcome["recommendation"], "memorySize": 1769, "currentMemorySize": 2048}
    outcome["configurations"] = [
        configuration(size, 2_000_000 / size + 600, 18 + size / 200, current=size == 2048) for size in CROWDED
    ]
    return outcome


def test_spaced_ticks_label_the_chosen_size_and_the_ends_and_never_crowd():
    # Given the crowded sizes on an axis 970 px wide, labels needing 46 px between centres
    low, high = 128 / 1.18, 3008 * 1.18
    labelled = spaced_ticks(CROWDED, [1769, 2048], low=low, high=high, width=970, min_gap=46)
    # Then the chosen size and both ends are labelled
    assert {128, 1769, 3008} <= set(labelled)
    # And no two labels are closer than the gap
    per_octave = 970 / math.log2(high / low)
    assert all(math.log2(b / a) * per_octave >= 46 for a, b in itertools.pairwise(labelled)), labelled
    # And sizes that fit are all labelled: nothing is thinned on a sparse axis
    assert spaced_ticks([128, 512, 2048], [512], low=100, high=2500, width=970, min_gap=46) == [128, 512, 2048]


def test_the_svg_chart_is_well_formed_and_its_memory_labels_do_not_overlap():
    # Given a target measured at the crowded sizes
    svg = svg_chart(crowded_outcome())
    # When the chart is parsed as XML
    root = ET.fromstring(svg)
    labels = [(float(text.get("x")), text.text) for text in root.iter(f"{SVG}text") if text.get("class") == "x-tick"]
    # Then its x labels are at least 46 px apart, and the chosen size is among them
    positions = sorted(x for x, _ in labels)
    assert all(b - a >= 46 for a, b in itertools.pairwise(positions)), labels
    assert "1769" in {label for _, label in labels}
    # And the chosen and current sizes are named with their duration and cost
    marks = ["".join(text.itertext()) for text in root.iter(f"{SVG}text") if text.get("class") == "mark"]
    assert any(mark.startswith("chosen 1769 MB") and "/1M" in mark for mark in marks)
    assert any(mark.startswith("current 2048 MB") for mark in marks)
    assert root.find(f"{SVG}title").text.endswith("for report-builder")


def test_the_svg_chart_marks_excluded_sizes_and_refuses_a_target_without_measurements():
    # Given the sample target whose 128 MB ran out of memory
    root = ET.fromstring(svg_chart(measured_outcome()))
    # Then a cross marks it in both panels, and the legend names the reason
    assert len([path for path in root.iter(f"{SVG}path") if path.get("class") == "excluded-mark"]) == 2 + 1
    assert "excluded: out of memory" in "".join(root.itertext())
    # And a target that measured nothing has no chart
    with pytest.raises(ValueError, match="no configurations"):
        svg_chart(failed_outcome())


def test_the_stored_page_is_self_contained_with_a_chart_per_measured_target():
    # Given a run with a measured target and a failed one
    outcomes = [TargetOutcome.model_validate(measured_outcome()), TargetOutcome.model_validate(failed_outcome())]
    # When SummarizeRun's page is rendered
    page = render_report(EXECUTION, "FAILED", outcomes)
    # Then it has one inline chart, the decision, the table and the failure
    assert page.count("<svg") == 1
    assert "chosen 1769 MB" in page and "1769 MB is 71% faster" in page
    assert "FunctionNotFoundError" in page and "gone-fn" in page
    assert "execution run-1" in page and "FAILED" in page
    # And nothing comes from elsewhere: no script, no outside URL, no image file
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<img" not in page


def test_the_layers_report_needs_no_plotting_package():
    # When the deployed report's modules are imported on their own
    code = "import sys, autotuner_core.report.store; print('matplotlib' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then matplotlib is not among what they load (the layer has none)
    assert imported.stdout.strip() == "False"


def test_the_png_charts_memory_labels_do_not_overlap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from autotuner import reports

    # Given the CLI's chart of the crowded sizes, its figure kept when it is saved
    saved: list[Any] = []
    original = Figure.savefig

    def keep(figure: Any, *args: Any, **kwargs: Any) -> Any:
        saved.append(figure)
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    reports.write_chart_png(crowded_outcome(), tmp_path / "chart.png")
    (figure,) = saved
    renderer = figure.canvas.get_renderer()
    cost_axes = figure.axes[1]
    # When its x tick labels are measured where they were drawn
    boxes = [label.get_window_extent(renderer) for label in cost_axes.get_xticklabels() if label.get_text()]
    # Then no two overlap, and the chosen size is labelled
    assert all(not a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert "1769" in {label.get_text() for label in cost_axes.get_xticklabels()}
