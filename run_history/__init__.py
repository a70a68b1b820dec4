"""A run as AWS keeps it, read as an operator reads it: Step Functions' histories and the run records.

Both the CLI (``autotuner``) and the embedded AWS (``emulator``) read runs this way, and the
emulator stands apart from the CLI, so the readers live here, in a package of their own. They are
not in the layer package ``autotuner_core`` because the deployed functions never read an
execution's history. This package imports boto3, botocore and ``autotuner_core`` only
(tests/embedded/test_import_direction.py checks that it imports neither the CLI nor the emulator).

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
