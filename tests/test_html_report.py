"""The self-contained HTML page and the files a whole run's report writes (the text table and the chart:
test_reports.py)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from autotuner import reports

pytest.importorskip("matplotlib")

from report_outcomes import (
    OOM_REASON,
    PNG_MAGIC,
    SUMMARY,
    data_uri_pngs,
    failed_outcome,
    fixed_size_outcome,
    measured_outcome,
    run_output,
)

# --- HTML ----------------------------------------------------------------------------------


def test_html_report_is_self_contained_with_embedded_charts(tmp_path: Path):
    # Given two measured targets and one fixed-size target
    outcomes = [measured_outcome("cpu-fn"), measured_outcome("io-fn"), fixed_size_outcome()]
    # When the HTML report is written
    path = reports.write_html_report(outcomes, tmp_path / "report.html", title="Tuning run", subtitle="demo")
    page = path.read_text(encoding="utf-8")
    # Then nothing is loaded from elsewhere and each measured target's chart is an embedded PNG
    assert 'src="http' not in page and "src='http" not in page
    assert "<link" not in page.lower()
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page
    charts = data_uri_pngs(page)
    assert len(charts) == 2
    assert all(chart.startswith(PNG_MAGIC) for chart in charts)
    # And the summary, the table and the fixed-size outcome are there
    assert html.escape(SUMMARY) in page
    assert page.count("<table>") == 3  # the overview and two configuration tables
    assert ">chosen<" in page and ">current<" in page and html.escape(f"excluded: {OOM_REASON}") in page
    assert "orders-api" in page and "a fixed memory size, nothing measured" in page


def test_html_report_escapes_what_the_run_says(tmp_path: Path):
    # Given a target whose name and error carry markup
    malicious = "<script>alert(1)</script>"
    outcome = measured_outcome(malicious)
    failed = {**failed_outcome(), "errorMessage": '<img src="http://evil.example/x.png">'}
    # When the HTML report is written with a title that carries markup too
    path = reports.write_html_report([outcome, failed], tmp_path / "report.html", title="<b>run</b>")
    page = path.read_text(encoding="utf-8")
    # Then all of it is shown as text, never as markup
    assert malicious not in page
    assert html.escape(malicious) in page
    assert "<b>run</b>" not in page and "&lt;b&gt;run&lt;/b&gt;" in page
    assert 'src="http' not in page


# --- a whole run ---------------------------------------------------------------------------


def test_write_reports_writes_a_png_per_measured_function_and_one_html(tmp_path: Path):
    # Given a run with two measured targets, a fixed-size one and a failed one
    output = run_output(measured_outcome("cpu-fn"), measured_outcome("io-fn"), fixed_size_outcome(), failed_outcome())
    # When its reports are written for a simulated account
    paths = reports.write_reports(output, tmp_path / "out", simulated=True)
    # Then there is a PNG per measured function and one HTML page listing every target
    assert [path.name for path in paths] == ["cpu-fn.png", "io-fn.png", "report.html"]
    assert all(path.exists() for path in paths)
    page = paths[-1].read_text(encoding="utf-8")
    assert len(data_uri_pngs(page)) == 2
    for name in ("cpu-fn", "io-fn", "orders-api", "gone-fn"):
        assert f"<h2>{name}</h2>" in page
    assert "FunctionNotFoundError: lambda:GetFunction" in page
    assert "run-0123456789ab" in page and "2026-11-26 18:34:00 UTC" in page
    assert "simulated account" in page


def test_write_reports_of_a_failed_run_lists_its_records(tmp_path: Path):
    # Given a failed run: no summary output, one stored record with the error
    output = {"executionArn": "arn:aws:states:...:run-x", "status": "FAILED", "output": None}
    output["records"] = [{**failed_outcome(), "requested": {"memorySize": 1024, "strategy": "cost"}}]
    # When its reports are written
    paths = reports.write_reports(output, tmp_path)
    # Then only the HTML page is written and it carries the error, without a strategy for a fixed size
    assert paths == [tmp_path / "report.html"]
    page = paths[0].read_text(encoding="utf-8")
    assert "FunctionNotFoundError" in page and "FAILED" in page
    assert "strategy" not in page.split("<main>")[1]


def test_write_reports_names_files_safely_and_uniquely(tmp_path: Path):
    # Given two targets with the same name (different qualifiers) and one with markup in its name
    live, canary = measured_outcome("api"), measured_outcome("api")
    live["target"] += ":live"
    canary["target"] += ":canary"
    # When reports are written
    paths = reports.write_reports(run_output(live, canary, measured_outcome("<b>x</b>")), tmp_path)
    # Then every file stays in the output directory under its own name
    assert [path.name for path in paths] == ["api_live.png", "api_canary.png", "b_x_b.png", "report.html"]
    assert all(path.parent == tmp_path for path in paths)


def test_the_html_report_shows_each_targets_spend_beside_the_run_budgets_bound(tmp_path: Path):
    # Given a measured target whose document says what it spent, and the run budget's estimate for it
    outcome = measured_outcome("cpu-fn")
    for config in outcome["configurations"]:
        config["billedTotalMs"] = 1000.0  # one second at each size, in all
    outcome["spend"] = {"rounds": 3, "tunerInvocations": 14, "tunerGbSeconds": 4.5, "controlPlaneCalls": 71}
    output = run_output(outcome, fixed_size_outcome())
    estimate = {
        "target": outcome["target"],
        "targetInvocations": 90,
        "targetGbSeconds": 1234.5,
        "basis": "timeout",
        "versionsCreated": 8,
        "controlPlaneCalls": 900,
        "stateTransitions": 150,
        "tunerGbSeconds": 600.0,
        "totalUsd": 0.05,
    }
    output["output"]["runCost"] = {"estimated": {"targets": [estimate]}, "counted": {}}
    # When the reports are written
    page = reports.write_reports(output, tmp_path)[-1].read_text(encoding="utf-8")
    # Then the measured target's section says what tuning it spent, each figure beside its bound
    section = page.split('id="target-1"')[1].split("</section>")[0]
    (line,) = re.findall(r'<p class="meta spend">([^<]*)</p>', section)
    sizes_gb = sum(config["memorySize"] for config in outcome["configurations"]) / 1024
    assert line == (
        f"tuning spent 60 target invocations (up to 90), {sizes_gb:.2f} target GB-s (up to 1234.50, bounded by "
        "timeout), 4.50 tuner GB-s (up to 600.0), 71 control-plane calls (up to 900), up to 8 versions"
    )
    # And the fixed-size target, measured by nothing and not in the estimate, has no such line
    assert 'class="meta spend"' not in page.split('id="target-2"')[1]
    # And the caller's document is left as it was
    assert "estimate" not in output["output"]["outcomes"][0]


# --- money and the page's one sentence per function ------------------------------------------


def test_table_says_what_the_decision_saves_a_month_at_the_functions_traffic():
    # Given a measured change saving $0.12 per million, on a function invoked 2,000,000 times a day
    outcome = {**measured_outcome(), "dailyInvocations": 2_000_000}
    # When its table is rendered
    table = reports.render_table(outcome)
    # Then its last line is the saving: 0.12 x 2 x 730 / 24 = $7.30 a month
    assert table.splitlines()[-1] == "saving: saves $7.30 a month at 2,000,000 invocations a day ($0.12 per million)"
    # And without traffic, the saving stays per million and says why
    assert reports.render_table(measured_outcome()).splitlines()[-1] == (
        "saving: saves $0.12 per million invocations (traffic unknown: not priced per month)"
    )


def test_html_report_says_each_recommendation_once_and_leads_with_the_money(tmp_path: Path):
    # Given two measured targets with known traffic
    outcomes = [
        {**measured_outcome("cpu-fn"), "dailyInvocations": 2_000_000},
        {**measured_outcome("io-fn"), "dailyInvocations": 1_000_000},
    ]
    # When their reports are written
    paths = reports.write_reports(run_output(*outcomes), tmp_path / "out")
    page = paths[-1].read_text(encoding="utf-8")
    # Then each recommendation's sentence is on the page once per function: in its card, not in the
    # overview and not in the chart (whose PNG in the page has no subtitle)
    assert page.count(html.escape(SUMMARY)) == 2
    # And the page opens with the month's total and the biggest saving
    assert "Saves $10.95 a month across 2 functions; biggest: cpu-fn $7.30, io-fn $3.65." in page
    # And the overview and each card say each function's saving
    assert page.count("saves $7.30 a month at 2,000,000 invocations a day ($0.12 per million)") == 2
    # And the chart written beside the page keeps its subtitle (it is looked at alone): it differs from the page's
    assert paths[0].read_bytes() not in data_uri_pngs(page)


def test_chart_subtitle_fits_inside_the_image(tmp_path: Path):
    # Given a recommendation whose sentence is longer than a chart line
    outcome = measured_outcome()
    outcome["recommendation"] = {**outcome["recommendation"], "summary": SUMMARY + "; " + SUMMARY}
    # When its chart is drawn
    from io import BytesIO

    from matplotlib.image import imread

    pixels = imread(BytesIO(reports.write_chart_png(outcome, tmp_path / "chart.png").read_bytes()))
    # Then nothing is drawn in the image's last columns at the subtitle's height: no text runs off the right
    top, right_edge = pixels[: reports.CHART_HEIGHT_PX // 8, -6:, :3], 1.0
    assert (top >= right_edge - 1e-6).all(), "the subtitle reaches the image's right edge"
