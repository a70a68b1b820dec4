"""Regenerate the documentation's chart from a demo run, so the picture is what the demo shows.

    python -m autotuner.screenshot            # or: make screenshot

Runs the demo's tuning scenario (the three simulated functions ``autotuner demo`` tunes, on the
embedded AWS) and draws one function's chart with the same code as ``autotuner demo``'s report
(autotuner/reports.py), into docs/images/report-builder.png by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from autotuner.demo import DEMO_TUNING
from autotuner.local import EVENTS, PROJECT_ROOT, local_run
from autotuner.reports import function_name, write_chart_png
from emulator.account import load_account

DEFAULT_FUNCTION = "report-builder"
DEFAULT_OUT = PROJECT_ROOT / "docs" / "images" / f"{DEFAULT_FUNCTION}.png"


def demo_outcome(function: str) -> dict[str, Any]:
    """Run the demo's tuning scenario and return ``function``'s outcome, marked simulated."""
    account_file, input_file = DEMO_TUNING
    execution_input = json.loads((EVENTS / "inputs" / input_file).read_text())
    if function not in execution_input["targets"]:
        raise SystemExit(f"autotuner.screenshot: --function: the demo tunes {', '.join(execution_input['targets'])}")
    result = local_run(load_account(EVENTS / "accounts" / account_file), execution_input)
    outcomes = (result.get("output") or {}).get("outcomes") or result.get("records") or []
    for outcome in outcomes:
        if function_name(outcome) == function and outcome.get("configurations"):
            return {**outcome, "simulated": True}
    raise SystemExit(f"autotuner.screenshot: the demo run ({result['status']}) measured nothing for {function}")


def main(argv: list[str] | None = None) -> int:
    """Write the chart; print where, and the decision it shows."""
    parser = argparse.ArgumentParser(prog="python -m autotuner.screenshot", description=__doc__.split("\n")[0])
    parser.add_argument("--function", default=DEFAULT_FUNCTION, help="the demo function to chart")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PNG to write (default: %(default)s)")
    args = parser.parse_args(argv)
    outcome = demo_outcome(args.function)
    path = write_chart_png(outcome, args.out)
    summary = (outcome.get("recommendation") or {}).get("summary") or outcome.get("outcome")
    print(f"{path}: {args.function}, {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
