"""The ``autotuner`` command.

autotuner local run --account ACCOUNT.json --input INPUT.json [--json] [--state-dir DIR]
autotuner local history|runs|report ...  the commands below, on the embedded AWS the last local run kept
autotuner demo
autotuner history FUNCTION [--limit N] [--json] [SOURCE]
autotuner runs EXECUTION_ARN [--json] [SOURCE]
    SOURCE: [--stack NAME | --table NAME] [--region R] [--profile P] [--endpoint-url URL]
autotuner start --input FILE [--name NAME] [--wait] [--json] [STACK]
autotuner report EXECUTION_ARN [--results DIR] [--json] [STACK]
    STACK: [--stack NAME] [--region R] [--profile P] [--endpoint-url URL]
autotuner schema [--output FILE] [--check]
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from emulator.account import SimulatedAccount, load_account

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EVENTS = PROJECT_ROOT / "events"


def _load_json(path: str) -> Any:
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


ACCOUNTS = EVENTS / "accounts"


def _cmd_local_run(args: argparse.Namespace) -> int:
    if not args.account:
        # An empty account has no functions: every target would fail FunctionNotFound, which says
        # nothing about the input. The account is what the run measures, so it is asked for.
        shipped = ", ".join(sorted(path.name for path in ACCOUNTS.glob("*.json")))
        return _fail(
            "local run needs --account FILE: the simulated account whose functions the input names "
            f"(docs/simulated-account.md); the repository has {shipped} in events/accounts/, e.g. "
            "--account events/accounts/demo-account.json",
            code=2,
        )
    try:
        account = load_account(args.account)
    except ValueError as error:
        raise SystemExit(f"autotuner: {error}") from None
    from botocore.exceptions import ClientError

    try:
        result = local_run(account, _load_json(args.input), state_dir=args.state_dir)
    except ClientError as error:  # the embedded AWS refused StartExecution, as AWS would: no execution
        details = error.response.get("Error", {})
        refusal = f"{details.get('Code')}: {details.get('Message')}"
        raise SystemExit(f"autotuner: StartExecution refused the input: {refusal}") from None
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        if translated := power_tuning_text(_load_json(args.input), result.get("output")):
            print(translated)
        print(render_run(result))
    # On stderr, so stdout stays the result (one JSON object with --json).
    print(
        f"autotuner: the embedded account is kept in {args.state_dir}: autotuner local history|runs|report read it "
        f"(e.g. autotuner local report {result['executionArn']})",
        file=sys.stderr,
    )
    return 0 if result["status"] == "SUCCEEDED" else 1


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
        lines.append(f"record       {_record_line(record)}")
        if record.get("errorType") and not single:
            lines += record_error_lines([record], indent=15)
        if record.get("recommendation"):
            # The decision with its confidence interval, or why the current size was kept.
            lines.append(f"decision     {record['recommendation']['summary']}")
    lines += savings_lines(result["records"], indent=13)
    cost = (result.get("output") or {}).get("runCost")
    if cost:
        lines.append(f"run cost     {run_cost_text(cost)}")
        if budget_text := run_budget_text(cost):
            lines.append(f"estimate     {budget_text}")  # the upper bound checked before the run
    lines += report_lines(result.get("output") or {}, indent=13)
    return "\n".join(lines)


def _record_line(record: dict[str, Any]) -> str:
    before = (record.get("before") or {}).get("MemorySize")
    after = (record.get("after") or {}).get("MemorySize")
    change = f" {before} → {after} MB" if before and after else ""
    error = (
        f" {record['errorType']} ({record['errorCategory']}) in {record['failedStage']}"
        if "errorType" in record
        else ""
    )
    return f"{record['target'].rsplit(':', 1)[-1]} {record['outcome']}{change}{error}"


DEMO_SCENARIOS = (
    ("memory change applied", "demo-account.json", "apply-memory.json"),
    ("updater lacks lambda:UpdateFunctionConfiguration", "demo-account-update-denied.json", "apply-memory.json"),
    ("target does not exist", "demo-account.json", "missing-function.json"),
)


DEMO_TUNING = ("demo-tuning-account.json", "tune-three.json")


def _cmd_demo(args: argparse.Namespace) -> int:
    from autotuner_core.cost import savings

    rows = []
    for title, account_file, input_file in DEMO_SCENARIOS:
        account = load_account(EVENTS / "accounts" / account_file)
        result = local_run(account, _load_json(str(EVENTS / "inputs" / input_file)))
        rows.append((title, result))
    print(render_demo(rows))
    expected = ["SUCCEEDED", "FAILED", "FAILED"]
    fail_fast_ok = [result["status"] for _, result in rows] == expected
    breaker_ok = _demo_breaker()
    tuned_ok, tuned = _demo_tuning(Path(args.results))
    sweep_ok, swept = _demo_sweep()
    from autotuner.reports import function_name

    # The demo's decisions in dollars: the tuned functions and the sweep's, largest saving first.
    print()
    print(f"Money: {savings.money_summary(savings.priced(tuned + swept, function_name))}")
    print(f"  (a month is {savings.HOURS_PER_MONTH} hours; traffic is each function's invocations in the last 24 h)")
    return 0 if fail_fast_ok and breaker_ok and tuned_ok and sweep_ok else 1


DEMO_SWEEP = ("demo-sweep-account.json", "sweep-fleet.json")


def _print_table(table: Any) -> None:
    """Print a rich table on stdout, at least 120 columns wide (as the demo's other tables), no trailing blanks."""
    import shutil

    from rich.console import Console

    width = max(120, shutil.get_terminal_size((120, 24)).columns)
    console = Console(width=width, markup=False, highlight=False, emoji=False)
    with console.capture() as captured:
        console.print(table)
    print("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _rich_table(headers: tuple[str, ...], rows: list[tuple[str, ...]], *, right: tuple[str, ...] = ()) -> Any:
    """A table with a header rule; only the last column wraps (a reason, a saving), the others stay whole."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for index, header in enumerate(headers):
        last = index == len(headers) - 1
        table.add_column(header, justify="right" if header in right else "left", no_wrap=not last, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _demo_sweep() -> tuple[bool, list[dict[str, Any]]]:
    """A tag sweep over a small fleet in which one function fails every invocation; its records."""
    from autotuner.runs import savings_lines
    from autotuner_core.cost.savings import savings_of, savings_text

    account_file, input_file = DEMO_SWEEP
    account = load_account(EVENTS / "accounts" / account_file)
    execution_input = _load_json(str(EVENTS / "inputs" / input_file))
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
    _print_table(_rich_table(("function", "outcome", "memory MB", "saving, or why it failed"), rows))
    for line in savings_lines(result["records"], indent=10, each=False):
        print(f"  {line}")
    ok = (
        result["status"] == "FAILED"
        and result["error"] == "PartialFailureError"
        and sorted(recorded) == tagged
        and [name for name, outcome in recorded.items() if outcome == "FAILED"] == ["broken-webhook"]
    )
    return ok, result["records"]


DEMO_BREAKER = ("demo-breaker-account.json", "apply-with-breaker.json")


def _demo_breaker() -> bool:
    """Four runs on a target whose discovery is denied three times: the circuit opens, the fourth skips."""
    from emulator.cloud import EmbeddedAws

    account_file, input_file = DEMO_BREAKER
    execution_input = _load_json(str(EVENTS / "inputs" / input_file))
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
    _print_table(_rich_table(headers, rows, right=("run", "Lambda control-plane calls", "seconds")))
    return outcomes == ["FAILED", "FAILED", "FAILED", "SKIPPED"]


def _demo_tuning(results: Path) -> tuple[bool, list[dict[str, Any]]]:
    """Tune three simulated functions (CPU-bound, I/O-bound, memory-hungry), write their reports; the records."""
    from autotuner.reports import render_table, write_reports
    from autotuner.runs import run_budget_text, run_cost_text, savings_lines

    account_file, input_file = DEMO_TUNING
    execution_input = _load_json(str(EVENTS / "inputs" / input_file))
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
    header = ("scenario", "status", "failing state", "error", "seconds", "attempts", "updates")
    table = [header]
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
    widths = [max(len(row[index]) for row in table) for index in range(len(header))]
    out = ["Lambda Autotuner demo — embedded AWS (simulated account, nothing leaves this machine)", ""]
    for position, row in enumerate(table):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if position == 0:
            out.append("  ".join("-" * width for width in widths))
    out.append("")
    out.append("Recorded run items (DynamoDB, one per target per execution):")
    for title, result in rows:
        for record in result["records"]:
            out.append(f"  [{title}] {_record_line(record)}")
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


# --- run history (a deployed stack or the embedded AWS: same calls, other endpoint) ---------


def _history_table(args: argparse.Namespace, session: Any) -> str:
    from autotuner.history import TABLE_OUTPUT, resolve_stack

    if args.table:
        return args.table
    return resolve_stack(session, args.stack, endpoint_url=args.endpoint_url)[TABLE_OUTPUT]


def _print_json(records: list[dict[str, Any]]) -> None:
    print(json.dumps(records, indent=2, ensure_ascii=False, default=str))


def _fail(message: str, *, code: int = 1) -> int:
    print(f"autotuner: {message}", file=sys.stderr)
    return code


def _cmd_history(args: argparse.Namespace) -> int:
    from autotuner.history import HistoryError, function_arn, open_session, region_of, render_runs, target_runs

    try:
        # A full ARN names its region; the table is the stack's, in that same region.
        session = open_session(profile=args.profile, region=args.region or region_of(args.function))
        table = _history_table(args, session)
        arn = function_arn(session, args.function, endpoint_url=args.endpoint_url)
        records = target_runs(session, table, arn, limit=args.limit, endpoint_url=args.endpoint_url)
    except HistoryError as error:
        return _fail(str(error))
    if not records:
        return _fail(f"no runs recorded for {arn} in table {table}")
    if args.json:
        _print_json(records)
    else:
        print(render_runs(records, title=f"Runs of {arn}, newest first (table {table}):"))
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from autotuner.history import HistoryError, execution_runs, open_session, region_of, render_runs
    from autotuner.reports import render_table

    try:
        session = open_session(profile=args.profile, region=args.region or region_of(args.execution_arn))
        table = _history_table(args, session)
        records = execution_runs(session, table, args.execution_arn, endpoint_url=args.endpoint_url)
    except HistoryError as error:
        return _fail(str(error))
    if not records:
        return _fail(
            f"no run records for {args.execution_arn} in table {table} "
            "(each target's record is written when the target is done: is the execution still running?)"
        )
    if args.json:
        _print_json(records)
        return 0
    print(render_runs(records, title=f"Run records of execution {args.execution_arn} (table {table}):"))
    for record in records:
        if record.get("configurations"):
            print()
            print(render_table(record))
    return 0


# --- the same commands on the embedded AWS a local run left (autotuner local history|runs|report) ----


def _cmd_local_follow_up(args: argparse.Namespace) -> int:
    """Run ``args.follow_up`` (history, runs, report) against the embedded account kept in --state-dir."""
    from emulator.cloud import EmbeddedAws
    from emulator.local_state import LocalState, LocalStateError, restored

    try:
        state = LocalState.load(args.state_dir)
    except LocalStateError as error:
        return _fail(str(error))
    if state is None:
        return _fail(
            f"no embedded account kept in {args.state_dir}: run autotuner local run --account … --input … first "
            "(or pass the --state-dir it used)"
        )
    try:
        with EmbeddedAws(state.account) as aws, restored(aws, state):
            aws.interceptor.set_faults([])  # the account's faults are the run's; reading its results is not faulted
            return args.follow_up(args)
    except LocalStateError as error:
        return _fail(f"{LocalState.path(args.state_dir)}: {error}")


def _add_local_follow_ups(local_commands: Any, commands: dict[str, argparse.ArgumentParser]) -> None:
    """``local history|runs|report``: the same arguments as against a stack, plus --state-dir."""
    for name, command in commands.items():
        follow_up = command.get_default("func")
        local = local_commands.add_parser(
            name,
            parents=[command],
            add_help=False,  # the parent's -h prints this parser's help
            help=f"autotuner {name} on the embedded AWS a local run left in --state-dir",
            description=f"autotuner {name}, on the embedded account a local run kept in --state-dir.",
        )
        _add_state_dir(local)
        local.set_defaults(func=_cmd_local_follow_up, follow_up=follow_up)


def _add_state_dir(parser: argparse.ArgumentParser) -> None:
    from emulator.local_state import DEFAULT_STATE_DIR

    parser.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        metavar="DIR",
        help=f"where the embedded account is kept between local commands (default: {DEFAULT_STATE_DIR})",
    )


# --- start an execution and report on it (a deployed stack or the embedded AWS, as above) ---------


def _cmd_start(args: argparse.Namespace) -> int:
    from autotuner import runs
    from autotuner.history import HistoryError, open_session, render_runs

    try:
        execution_input = runs.load_input(args.input)  # before any AWS call: a bad file starts nothing
    except runs.InputFileError as error:
        print(f"autotuner: {error}", file=sys.stderr)
        return 2
    try:
        session = open_session(profile=args.profile, region=args.region)
        tuner = runs.resolve_tuner(session, args.stack, endpoint_url=args.endpoint_url)
        arn = runs.start_execution(
            session, tuner.state_machine_arn, execution_input, name=args.name, endpoint_url=args.endpoint_url
        )
    except HistoryError as error:
        return _fail(str(error))
    if not args.wait:
        print(json.dumps({"executionArn": arn}) if args.json else arn)
        return 0
    # With --json, stdout holds the one JSON object; progress goes to stderr.
    stream = sys.stderr if args.json else sys.stdout
    print(arn, file=stream, flush=True)
    display = runs.FollowDisplay(stream)  # a line per state; a sweep as a progress bar
    try:
        try:
            described = runs.wait_for_execution(
                session, arn, poll_seconds=args.poll_interval, on_progress=display.show, endpoint_url=args.endpoint_url
            )
        finally:
            display.close()
        result = runs.execution_result(session, tuner.table, described, endpoint_url=args.endpoint_url)
    except HistoryError as error:
        return _fail(f"{error} (execution {arn} goes on; autotuner report {arn} when it has ended)")
    except KeyboardInterrupt:
        return _fail(f"stopped waiting; execution {arn} goes on (autotuner report {arn} when it has ended)")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        print()
        if translated := power_tuning_text(execution_input, result.get("output")):
            print(translated)
        print(runs.render_summary(result))
        print()
        print(render_runs(result["records"], title=f"Run records (table {tuner.table}):"))
    return runs.exit_code(result["status"])


def _cmd_report(args: argparse.Namespace) -> int:
    from autotuner import runs
    from autotuner.history import HistoryError, open_session, region_of
    from autotuner.reports import render_table, write_reports

    arn = args.execution_arn.strip()
    try:
        session = open_session(profile=args.profile, region=args.region or region_of(arn))
        tuner = runs.resolve_tuner(session, args.stack, endpoint_url=args.endpoint_url)
        described = runs.describe_execution(session, arn, endpoint_url=args.endpoint_url)
        if described.get("stateMachineArn") not in (None, tuner.state_machine_arn):
            return _fail(
                f"execution {arn} is of state machine {described['stateMachineArn']}, not of stack "
                f"{args.stack!r}'s ({tuner.state_machine_arn}): pass --stack with the stack that ran it"
            )
        if described["status"] not in runs.TERMINAL_STATUSES:
            return _fail(
                f"execution {arn} is still {described['status']}: report on it when it has ended "
                "(autotuner start --wait follows one to its end)"
            )
        result = runs.execution_result(session, tuner.table, described, endpoint_url=args.endpoint_url)
    except HistoryError as error:
        return _fail(str(error))
    results = Path(args.results) if args.results else Path("results") / result["name"]
    # The records, not the summary's outcomes: a failed run has records and no output.
    paths = write_reports({"executionArn": arn, "status": result["status"], "records": result["records"]}, results)
    if args.json:
        print(json.dumps({**result, "reports": [str(path) for path in paths]}, indent=2, ensure_ascii=False))
        return 0
    print(runs.render_summary(result))
    for record in result["records"]:
        print()
        print(render_table(record))
    print()
    print(f"Reports in {results}:")
    for path in paths:
        print(f"  {path}")
    return 0


def _add_stack_source(parser: argparse.ArgumentParser, *, region_help: str) -> None:
    parser.add_argument(
        "--stack",
        default="lambda-autotuner",
        help="the deployed stack; its StateMachineArn and RunHistoryTableName outputs are read (default: %(default)s)",
    )
    parser.add_argument("--region", help=region_help)
    parser.add_argument("--profile", help="AWS named profile (default: the standard credential chain)")
    parser.add_argument("--endpoint-url", help="send every AWS request to this endpoint instead of AWS's")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


# --- the execution input's JSON Schema ---------------------------------------------------


def _cmd_schema(args: argparse.Namespace) -> int:
    from autotuner.schema import SCHEMA_FILE, render_schema

    generated = render_schema()
    if args.check:
        path = Path(args.output) if args.output else SCHEMA_FILE
        try:
            committed = path.read_text(encoding="utf-8")
        except OSError as error:
            return _fail(f"cannot read {path}: {error}; write it with: autotuner schema --output {path}")
        if committed != generated:
            diff = difflib.unified_diff(
                committed.splitlines(), generated.splitlines(), str(path), "generated", lineterm="", n=1
            )
            shown = list(itertools.islice(diff, 40))
            return _fail(
                f"{path} differs from the schema the input model generates; regenerate it with: "
                f"autotuner schema --output {path}\n" + "\n".join(shown)
            )
        print(f"{path} matches the input model")
        return 0
    if args.output:
        Path(args.output).write_text(generated, encoding="utf-8")
    else:
        sys.stdout.write(generated)
    return 0


def _add_history_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        default="lambda-autotuner",
        help="the deployed stack; its RunHistoryTableName output is read (default: %(default)s)",
    )
    source.add_argument("--table", help="the run-history table's name (instead of --stack)")
    parser.add_argument("--region", help="AWS region (default: the ARN's, then AWS_DEFAULT_REGION, then the profile's)")
    parser.add_argument("--profile", help="AWS named profile (default: the standard credential chain)")
    parser.add_argument("--endpoint-url", help="send every AWS request to this endpoint instead of AWS's")
    parser.add_argument("--json", action="store_true", help="print the run records as JSON")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _version() -> str:
    """The installed distribution's version (pyproject.toml's), or the checkout's when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lambda-autotuner")
    except PackageNotFoundError:
        import tomllib

        return str(tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autotuner", description="Lambda Autotuner")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run on the embedded AWS (no AWS account needed)")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    run = local_commands.add_parser("run", help="deploy to the embedded AWS and run one execution")
    run.add_argument(
        "--account", help="simulated-account JSON (docs/simulated-account.md), e.g. events/accounts/demo-account.json"
    )
    run.add_argument("--input", required=True, help="execution input JSON")
    run.add_argument("--json", action="store_true", help="print the machine-readable result")
    _add_state_dir(run)
    run.set_defaults(func=_cmd_local_run)
    demo = commands.add_parser(
        "demo", help="the README's demo: a change, two fast permanent failures, three functions tuned"
    )
    demo.add_argument("--results", default="results/demo", help="folder for the charts and the HTML report")
    demo.set_defaults(func=_cmd_demo)
    history = commands.add_parser("history", help="a function's latest runs, newest first, from the run-history table")
    history.add_argument("function", help="function name, partial ARN or ARN")
    history.add_argument("--limit", type=_positive_int, default=10, help="how many runs (default 10)")
    _add_history_source(history)
    history.set_defaults(func=_cmd_history)
    runs = commands.add_parser("runs", help="every target's run record of one execution, with its measurements")
    runs.add_argument("execution_arn", metavar="EXECUTION_ARN", help="the Step Functions execution's ARN")
    _add_history_source(runs)
    runs.set_defaults(func=_cmd_runs)
    start = commands.add_parser("start", help="start an execution of the stack's state machine; --wait follows it")
    start.add_argument("--input", required=True, metavar="FILE", help="execution input JSON (events/inputs/)")
    start.add_argument("--name", help="the execution's name (default: autotuner-<UTC time>-<random>)")
    start.add_argument(
        "--wait", action="store_true", help="print progress until the execution ends, then its summary and records"
    )
    start.add_argument(
        "--poll-interval",
        type=_positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="with --wait: seconds between polls (default 1)",
    )
    _add_stack_source(start, region_help="AWS region (default: AWS_DEFAULT_REGION, then the profile's)")
    start.add_argument("--json", action="store_true", help="print one JSON object (with --wait: the result)")
    start.set_defaults(func=_cmd_start)
    report = commands.add_parser(
        "report", help="an ended execution's summary and tables; writes its charts and HTML report"
    )
    report.add_argument("execution_arn", metavar="EXECUTION_ARN", help="the Step Functions execution's ARN")
    report.add_argument(
        "--results", metavar="DIR", help="folder for the charts and report.html (default: results/<execution name>)"
    )
    _add_stack_source(
        report, region_help="AWS region (default: the execution ARN's, then AWS_DEFAULT_REGION, then the profile's)"
    )
    report.add_argument("--json", action="store_true", help="print the result and the files written as JSON")
    report.set_defaults(func=_cmd_report)
    schema = commands.add_parser("schema", help="the execution input's JSON Schema, generated from the input model")
    schema.add_argument("--output", metavar="FILE", help="write the schema to FILE instead of printing it")
    schema.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if FILE (default: docs/execution-input.schema.json) differs from the model's",
    )
    schema.set_defaults(func=_cmd_schema)
    _add_local_follow_ups(local_commands, {"history": history, "runs": runs, "report": report})
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
