"""``autotuner demo``: the README's tour on the embedded AWS, one simulated account per scenario.

A memory change and two fast permanent failures, a circuit breaker opening, three functions
tuned with their charts and report, and a tag sweep over a small fleet with one broken function.
Each scenario's account and input are in events/ (accounts/, inputs/); docs/simulated-account.md
describes them.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from autotuner import tables
from autotuner.local import EVENTS, load_json, local_run, record_line
from emulator.account import load_account

DEMO_SCENARIOS = (
    ("memory change applied", "demo-account.json", "apply-memory.json"),
    ("updater lacks lambda:UpdateFunctionConfiguration", "demo-account-update-denied.json", "apply-memory.json"),
    ("target does not exist", "demo-account.json", "missing-function.json"),
)
DEMO_TUNING = ("demo-tuning-account.json", "tune-three.json")
DEMO_SWEEP = ("demo-sweep-account.json", "sweep-fleet.json")
DEMO_BREAKER = ("demo-breaker-account.json", "apply-with-breaker.json")


def run(results: Path) -> int:
    """Print every scenario and write the tuned functions' charts and report into ``results``.

    0 when each scenario ended as it should (one change, two fast failures, the breaker open on the
    fourth run, three functions tuned, the sweep's one broken function failed), 1 otherwise.
    """
    from autotuner.reports import function_name
    from autotuner_core.cost import savings

    rows = []
    for title, account_file, input_file in DEMO_SCENARIOS:
        account = load_account(EVENTS / "accounts" / account_file)
        result = local_run(account, load_json(str(EVENTS / "inputs" / input_file)))
        rows.append((title, result))
    print(render_demo(rows))
    expected = ["SUCCEEDED", "FAILED", "FAILED"]
    fail_fast_ok = [result["status"] for _, result in rows] == expected
    breaker_ok = _demo_breaker()
    tuned_ok, tuned = _demo_tuning(results)
    sweep_ok, swept = _demo_sweep()

    # The demo's decisions in dollars: the tuned functions and the sweep's, largest saving first.
    print()
    print(f"Money: {savings.money_summary(savings.priced(tuned + swept, function_name))}")
    print(f"  (a month is {savings.HOURS_PER_MONTH} hours; traffic is each function's invocations in the last 24 h)")
    return 0 if fail_fast_ok and breaker_ok and tuned_ok and sweep_ok else 1


def _demo_sweep() -> tuple[bool, list[dict[str, Any]]]:
    """A tag sweep over a small fleet in which one function fails every invocation; its records."""
    from autotuner.runs import savings_lines
    from autotuner_core.cost.savings import savings_of, savings_text

    account_file, input_file = DEMO_SWEEP
    account = load_account(EVENTS / "accounts" / account_file)
    execution_input = load_json(str(EVENTS / "inputs" / input_file))
    result = local_run(account, execution_input)
    tagged = sorted(f.name for f in account.functions if f.tags.get("autotune") == "enabled")
    print()
    print(
        f"Tag sweep {json.dumps(execution_input['select'])} over {len(account.functions)} simulated functions "
        f"({len(tagged)} tagged; broken-webhook fails every invocation):"
    )
    print(f"  {result['status']} {result['error'] or ''} in {result['seconds']:.1f} s")
    recorded = {}
    rows = []
    for record in result["records"]:
        name = record["target"].rsplit(":", 1)[-1]
        recorded[name] = record["outcome"]
        before, after = (record.get("before") or {}).get("MemorySize"), (record.get("after") or {}).get("MemorySize")
        change = f"{before} → {after}" if after else str(before or "-")
        if record.get("errorType"):
            detail = f"{record['errorType']}: {record.get('errorMessage') or ''}".rstrip(": ")
        else:
            detail = savings_text(savings_of(record), record["outcome"])
        rows.append((name, record["outcome"], change, detail))
    print(
        tables.render(
            ("function", "outcome", "memory MB", "saving, or why it failed"), rows, width=tables.terminal_width()
        )
    )
    for line in savings_lines(result["records"], indent=10, each=False):
        print(f"  {line}")
    ok = (
        result["status"] == "FAILED"
        and result["error"] == "PartialFailureError"
        and sorted(recorded) == tagged
        and [name for name, outcome in recorded.items() if outcome == "FAILED"] == ["broken-webhook"]
    )
    return ok, result["records"]


def _demo_breaker() -> bool:
    """Four runs on a target whose discovery is denied three times: the circuit opens, the fourth skips."""
    from emulator.cloud import EmbeddedAws

    account_file, input_file = DEMO_BREAKER
    execution_input = load_json(str(EVENTS / "inputs" / input_file))
    print()
    print("Circuit breaker: orders-api's discovery is denied three times (threshold 3):")
    outcomes = []
    rows = []
    with EmbeddedAws(load_account(EVENTS / "accounts" / account_file)) as aws:
        for attempt in range(1, 5):
            result = aws.run(execution_input).as_json()
            (record,) = result["records"]
            lambda_calls = sum(
                n for call, n in result["awsCalls"].items() if call.startswith("lambda:") and call != "lambda:Invoke"
            )
            detail = f"next try after {record['nextTryAt']}" if "nextTryAt" in record else record.get("errorType", "")
            rows.append(
                (
                    str(attempt),
                    result["status"],
                    record["outcome"],
                    detail,
                    str(lambda_calls),
                    f"{result['seconds']:.3f}",
                )
            )
            outcomes.append(record["outcome"])
    headers = ("run", "execution", "orders-api", "why", "Lambda control-plane calls", "seconds")
    right = ("run", "Lambda control-plane calls", "seconds")
    print(tables.render(headers, rows, right=right, width=tables.terminal_width()))
    return outcomes == ["FAILED", "FAILED", "FAILED", "SKIPPED"]


def _demo_tuning(results: Path) -> tuple[bool, list[dict[str, Any]]]:
    """Tune three simulated functions (CPU-bound, I/O-bound, memory-hungry), write their reports; the records."""
    from autotuner.reports import render_table, write_reports
    from autotuner.runs import run_budget_text, run_cost_text, savings_lines

    account_file, input_file = DEMO_TUNING
    execution_input = load_json(str(EVENTS / "inputs" / input_file))
    result = local_run(load_account(EVENTS / "accounts" / account_file), execution_input)
    print()
    print(
        f"Tuning {', '.join(execution_input['targets'])} (simulated functions, strategy {execution_input['strategy']}):"
    )
    print(f"  {result['status']} in {result['seconds']:.1f} s, {result['stateTransitions']} state transitions")
    print()
    for outcome in (result["output"] or {}).get("outcomes", []):
        print(render_table({**outcome, "simulated": True}))
        print()
    # Each table above says its function's saving; here the run's.
    for line in savings_lines(result["records"], indent=9, each=False):
        print(line.replace("savings  ", "Savings: ", 1))
    cost = (result["output"] or {}).get("runCost")
    if cost:
        # The tuning's full cost: transitions, target and tuner Lambda time, control-plane calls, dollars.
        print(f"Run cost: {run_cost_text(cost)}")
        if budget_text := run_budget_text(cost):
            print(f"Estimate: {budget_text}")  # the run budget's upper bound, checked before it ran
    paths = write_reports(result, results, simulated=True)
    print("Reports: " + ", ".join(str(path) for path in paths))
    return result["status"] == "SUCCEEDED", result["records"]


def render_demo(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """The fail-fast scenarios: a table of each run's status, failing state and error, then their records."""
    header = ("scenario", "status", "failing state", "error", "seconds", "attempts", "updates")
    table = []
    for title, result in rows:
        failing = result["failedState"]
        table.append(
            (
                title,
                result["status"],
                failing or "-",
                result["error"] or "-",
                f"{result['seconds']:.3f}",
                str(result["taskAttempts"].get(failing, "-")) if failing else "-",
                str(result["awsCalls"].get("lambda:UpdateFunctionConfiguration", 0)),
            )
        )
    out = ["Lambda Autotuner demo — embedded AWS (simulated account, nothing leaves this machine)", ""]
    out.append(tables.render(header, table))
    out.append("")
    out.append("Recorded run items (DynamoDB, one per target per execution):")
    for title, result in rows:
        for record in result["records"]:
            out.append(f"  [{title}] {record_line(record)}")
            if "errorMessage" in record:
                out.extend(
                    textwrap.wrap(
                        record["errorMessage"],
                        width=110,
                        break_on_hyphens=False,
                        initial_indent=" " * 6,
                        subsequent_indent=" " * 8,
                    )
                )
    return "\n".join(out)
