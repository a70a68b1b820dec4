"""What each ``autotuner`` command does; autotuner/cli.py holds what each accepts (the parser).

Each ``*_command`` takes the parsed arguments and returns the exit code: 0, 1 when the run or
the lookup failed (the reason on stderr), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from autotuner.local import ACCOUNTS, load_json, local_run, power_tuning_text, render_run

# --- on the embedded AWS -------------------------------------------------------------------


def local_run_command(args: argparse.Namespace) -> int:
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
    from emulator.account import load_account  # the local commands alone need the embedded AWS

    try:
        account = load_account(args.account)
    except ValueError as error:
        raise SystemExit(f"autotuner: {error}") from None
    from botocore.exceptions import ClientError

    try:
        result = local_run(account, load_json(args.input), state_dir=args.state_dir)
    except ClientError as error:  # the embedded AWS refused StartExecution, as AWS would: no execution
        details = error.response.get("Error", {})
        refusal = f"{details.get('Code')}: {details.get('Message')}"
        raise SystemExit(f"autotuner: StartExecution refused the input: {refusal}") from None
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        if translated := power_tuning_text(load_json(args.input), result.get("output")):
            print(translated)
        print(render_run(result))
    # On stderr, so stdout stays the result (one JSON object with --json).
    print(
        f"autotuner: the embedded account is kept in {args.state_dir}: autotuner local history|runs|report read it "
        f"(e.g. autotuner local report {result['executionArn']})",
        file=sys.stderr,
    )
    return 0 if result["status"] == "SUCCEEDED" else 1


def hold_command(args: argparse.Namespace) -> int:
    from autotuner import holds

    return holds.hold_command(args)


def demo_command(args: argparse.Namespace) -> int:
    from autotuner import demo

    return demo.run(Path(args.results))


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


def history_command(args: argparse.Namespace) -> int:
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


def runs_command(args: argparse.Namespace) -> int:
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


def local_follow_up_command(args: argparse.Namespace) -> int:
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


# --- start an execution and report on it (a deployed stack or the embedded AWS, as above) ---------


def start_command(args: argparse.Namespace) -> int:
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


def report_command(args: argparse.Namespace) -> int:
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


# --- the execution input's JSON Schema ---------------------------------------------------


def schema_command(args: argparse.Namespace) -> int:
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
