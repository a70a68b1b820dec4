"""The embedded AWS from the command line: one local run, and the text ``autotuner local run`` prints.

``autotuner local run`` and ``autotuner demo`` both run here: start the embedded AWS (emulator/),
deploy the stack, run one execution on a simulated account, and read back the runner's JSON result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.account import SimulatedAccount

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EVENTS = PROJECT_ROOT / "events"
ACCOUNTS = EVENTS / "accounts"
# Where the local commands keep the embedded account between them (--state-dir).
DEFAULT_STATE_DIR = ".autotuner-local"


def load_json(path: str) -> Any:
    """A JSON file's value; a file that cannot be read or parsed ends the command with its name and why."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"autotuner: cannot read {path}: {error}") from None


def local_run(account: SimulatedAccount, execution_input: Any, *, state_dir: str | None = None) -> dict[str, Any]:
    """Start the embedded AWS, deploy, run one execution; the runner's JSON contract.

    With ``state_dir``, the account as the run left it is kept there for ``autotuner local
    history|runs|report`` (emulator/local_state.py).
    """
    from emulator.cloud import EmbeddedAws

    with EmbeddedAws(account) as aws:
        result = aws.run(execution_input).as_json()
        if state_dir is not None:
            from emulator.local_state import capture

            capture(aws).save(state_dir)
        return result


def power_tuning_text(execution_input: Any, output: dict[str, Any] | None) -> str | None:
    """A Power Tuning input's translation, and the run's result under Power Tuning's names."""
    from autotuner_core.power_tuning import results_text, translation_text

    translated = translation_text(execution_input)
    if translated is None:
        return None
    return "\n".join(text for text in (translated, results_text((output or {}).get("results"))) if text)


def render_run(result: dict[str, Any]) -> str:
    """``autotuner local run``'s text: status, the error with its cause, each record, its decision and saving."""
    from autotuner.runs import (
        error_lines,
        record_error_lines,
        report_lines,
        run_budget_text,
        run_cost_text,
        savings_lines,
    )

    lines = [
        f"status       {result['status']}",
        f"failed state {result['failedState'] or '-'}",
        *(error_lines(result["error"], result.get("cause"), indent=13) or ["error        -"]),
        f"seconds      {result['seconds']:.3f}",
        f"attempts     {', '.join(f'{state} x{count}' for state, count in result['taskAttempts'].items())}",
        f"mutating     {result['mutatingCalls']} calls",
    ]
    # A run of one failed target fails with that target's error: the cause above says it already.
    single = len(result["records"]) == 1 and result["error"] == result["records"][0].get("errorType")
    for record in result["records"]:
        lines.append(f"record       {record_line(record)}")
        if record.get("errorType") and not single:
            lines += record_error_lines([record], indent=15)
        if record.get("recommendation"):
            # The decision with its confidence interval, or why the current size was kept.
            lines.append(f"decision     {record['recommendation']['summary']}")
        if record.get("iac"):  # where the size is declared: the next deploy puts that one back
            lines.append(f"source       set `{record['iac']['line']}` {record['iac']['where']}")
        if record.get("deployRevert"):
            lines.append(f"deploy       {record['deployRevert']['message']}")
    lines += savings_lines(result["records"], indent=13)
    cost = (result.get("output") or {}).get("runCost")
    if cost:
        lines.append(f"run cost     {run_cost_text(cost)}")
        if budget_text := run_budget_text(cost):
            lines.append(f"estimate     {budget_text}")  # the upper bound checked before the run
    lines += report_lines(result.get("output") or {}, indent=13)
    return "\n".join(lines)


def record_line(record: dict[str, Any]) -> str:
    """One run record on one line: the function, its outcome, the memory change, the error and where."""
    before = (record.get("before") or {}).get("MemorySize")
    after = (record.get("after") or {}).get("MemorySize")
    change = f" {before} → {after} MB" if before and after else ""
    error = (
        f" {record['errorType']} ({record['errorCategory']}) in {record['failedStage']}"
        if "errorType" in record
        else ""
    )
    return f"{record['target'].rsplit(':', 1)[-1]} {record['outcome']}{change}{error}"
