"""``autotuner hold FUNCTION [--clear]``: a function's deploy-revert hold, read or lifted in the state table.

A deploy that keeps putting a tuned size back holds re-applying it (docs/drift.md); the hold is an
item of the stack's state table (output StateTableName). Clearing it forgets the reverts, so the
next run applies again; the applies already reverted are not counted again.
"""

from __future__ import annotations

import argparse
from typing import Any

from autotuner.history import HistoryError, client_for, function_arn, open_session, resolve_stack
from autotuner_core.policy.errors import AutotunerError
from autotuner_core.targets.drift import Hold, HoldStore

STATE_TABLE_OUTPUT = "StateTableName"


def describe(arn: str, hold: Hold) -> str:
    if not hold.version:
        return f"{arn}: no deploy has put a tuned size back"
    state = "held: re-applying is stopped" if hold.held else "not held"
    text = f"{arn}: {state}; {hold.reverts} deploy revert(s) counted"
    if hold.tuned_memory and hold.deployed_memory:
        text += f" (tuned {hold.tuned_memory} MB, deploys put {hold.deployed_memory} MB back"
        text += f", stack {hold.stack})" if hold.stack else ")"
    return text


def hold_command(args: argparse.Namespace) -> int:
    import sys

    try:
        session = open_session(profile=args.profile, region=args.region)
        table = args.state_table or resolve_stack(session, args.stack, endpoint_url=args.endpoint_url).get(
            STATE_TABLE_OUTPUT
        )
        if not table:
            raise HistoryError(f"stack {args.stack!r} has no output {STATE_TABLE_OUTPUT}: pass --state-table")
        arn = function_arn(session, args.function, region=args.region, endpoint_url=args.endpoint_url)
        dynamodb: Any = client_for(session, "dynamodb", args.region, args.endpoint_url)
        store = HoldStore(dynamodb, table)
        before = store.read(arn)
        if args.clear:
            was_held = store.clear(arn)
            print(f"{arn}: hold cleared; the next run applies again" if was_held else describe(arn, before))
            return 0
        print(describe(arn, before))
        return 0
    except (HistoryError, AutotunerError) as error:  # AutotunerError: a DynamoDB call refused (aws_call)
        print(f"autotuner: {error}", file=sys.stderr)
        return 1
