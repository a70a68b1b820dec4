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
autotuner hold FUNCTION [--clear] [--stack NAME | --state-table NAME] [--region R] [--profile P] [--endpoint-url URL]

The parser: what each command accepts. autotuner/commands.py holds what each one does.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from autotuner import commands
from autotuner.local import DEFAULT_STATE_DIR, PROJECT_ROOT


def _add_local_follow_ups(local_commands: Any, parsers: dict[str, argparse.ArgumentParser]) -> None:
    """``local history|runs|report``: the same arguments as against a stack, plus --state-dir."""
    for name, command in parsers.items():
        follow_up = command.get_default("func")
        local = local_commands.add_parser(
            name,
            parents=[command],
            add_help=False,  # the parent's -h prints this parser's help
            help=f"autotuner {name} on the embedded AWS a local run left in --state-dir",
            description=f"autotuner {name}, on the embedded account a local run kept in --state-dir.",
        )
        _add_state_dir(local)
        local.set_defaults(func=commands.local_follow_up_command, follow_up=follow_up)


def _add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        metavar="DIR",
        help=f"where the embedded account is kept between local commands (default: {DEFAULT_STATE_DIR})",
    )


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
    subcommands = parser.add_subparsers(dest="command", required=True)
    local = subcommands.add_parser("local", help="run on the embedded AWS (no AWS account needed)")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    run = local_commands.add_parser("run", help="deploy to the embedded AWS and run one execution")
    run.add_argument(
        "--account", help="simulated-account JSON (docs/simulated-account.md), e.g. events/accounts/demo-account.json"
    )
    run.add_argument("--input", required=True, help="execution input JSON")
    run.add_argument("--json", action="store_true", help="print the machine-readable result")
    _add_state_dir(run)
    run.set_defaults(func=commands.local_run_command)
    demo = subcommands.add_parser(
        "demo", help="the README's demo: a change, two fast permanent failures, three functions tuned"
    )
    demo.add_argument("--results", default="results/demo", help="folder for the charts and the HTML report")
    demo.set_defaults(func=commands.demo_command)
    history = subcommands.add_parser(
        "history", help="a function's latest runs, newest first, from the run-history table"
    )
    history.add_argument("function", help="function name, partial ARN or ARN")
    history.add_argument("--limit", type=_positive_int, default=10, help="how many runs (default 10)")
    _add_history_source(history)
    history.set_defaults(func=commands.history_command)
    runs = subcommands.add_parser("runs", help="every target's run record of one execution, with its measurements")
    runs.add_argument("execution_arn", metavar="EXECUTION_ARN", help="the Step Functions execution's ARN")
    _add_history_source(runs)
    runs.set_defaults(func=commands.runs_command)
    start = subcommands.add_parser("start", help="start an execution of the stack's state machine; --wait follows it")
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
    start.set_defaults(func=commands.start_command)
    report = subcommands.add_parser(
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
    report.set_defaults(func=commands.report_command)
    schema = subcommands.add_parser("schema", help="the execution input's JSON Schema, generated from the input model")
    schema.add_argument("--output", metavar="FILE", help="write the schema to FILE instead of printing it")
    schema.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if FILE (default: docs/execution-input.schema.json) differs from the model's",
    )
    schema.set_defaults(func=commands.schema_command)
    hold = subcommands.add_parser(
        "hold", help="a function's deploy-revert hold (docs/drift.md): show it, or lift it with --clear"
    )
    hold.add_argument("function", help="function name, partial ARN or ARN")
    hold.add_argument("--clear", action="store_true", help="lift the hold: the next run applies again")
    hold_source = hold.add_mutually_exclusive_group()
    hold_source.add_argument(
        "--stack", default="lambda-autotuner", help="the deployed stack; its StateTableName output is read"
    )
    hold_source.add_argument("--state-table", help="the state table's name (instead of --stack)")
    hold.add_argument("--region", help="AWS region (default: the ARN's, then AWS_DEFAULT_REGION, then the profile's)")
    hold.add_argument("--profile", help="AWS named profile (default: the standard credential chain)")
    hold.add_argument("--endpoint-url", help="send every AWS request to this endpoint instead of AWS's")
    hold.set_defaults(func=commands.hold_command)
    _add_local_follow_ups(local_commands, {"history": history, "runs": runs, "report": report})
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
