"""A run as AWS keeps it, read as an operator reads it: Step Functions' histories and the run records.

Both the CLI (``autotuner``) and the embedded AWS (``emulator``) read runs this way, and neither
may depend on the other, so the readers live here, a package of their own. It is not part of the
layer package ``autotuner_core``: the deployed functions never read an execution's history.
It imports boto3 and ``autotuner_core`` only (tests/embedded/test_import_direction.py checks it).

    sfn = session.client("stepfunctions")
    histories = run_histories(sfn, execution_arn)
    records = execution_records(session.client("dynamodb"), table, execution_arn)

A failed AWS call becomes ``HistoryError`` (``errors.aws_step``): a message for a person naming
the action, the resource and AWS's answer.
"""

from run_history.errors import HistoryError, aws_step
from run_history.executions import (
    RunHistories,
    describe_map_run,
    execution_history,
    map_run_executions,
    map_runs,
    run_histories,
)
from run_history.records import BY_EXECUTION_INDEX, execution_records, query_items

__all__ = [
    "BY_EXECUTION_INDEX",
    "HistoryError",
    "RunHistories",
    "aws_step",
    "describe_map_run",
    "execution_history",
    "execution_records",
    "map_run_executions",
    "map_runs",
    "query_items",
    "run_histories",
]
