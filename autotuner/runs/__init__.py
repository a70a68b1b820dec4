"""Start a tuning execution, follow it to its end, and report on it: `autotuner start` / `autotuner report`.

The same calls serve a deployed stack and the embedded AWS: the state machine and the run-history
table are found through the stack's outputs (``history.resolve_stack``) with any boto3 Session;
only the session's credentials and the endpoint differ. Nothing here knows about the embedded AWS.

    tuner = resolve_tuner(session, "lambda-autotuner")
    arn = start_execution(session, tuner.state_machine_arn, {"targets": ["orders-api"]})
    described = wait_for_execution(session, arn, on_progress=print_lines)
    result = execution_result(session, tuner.table, described)
    print(render_summary(result))

One module per concern: ``start`` (the input file, the stack, StartExecution), ``follow`` (the
states an execution enters, and waiting for its end), ``progress`` (what a person sees meanwhile)
and ``result`` (the ended execution and its text). The histories themselves are read by
``run_history``, which the embedded AWS shares. AWS errors become ``HistoryError`` there.
"""

from autotuner.runs.follow import (
    DEFAULT_POLL_SECONDS,
    TERMINAL_STATUSES,
    ExecutionFollower,
    FollowUpdate,
    MapRunProgress,
    RunFollower,
    StateEntered,
    wait_for_execution,
)
from autotuner.runs.progress import FollowDisplay, ProgressLog
from autotuner.runs.result import (
    cause_message,
    error_lines,
    execution_result,
    exit_code,
    record_error_lines,
    render_summary,
    report_lines,
    run_budget_text,
    run_cost_text,
    savings_lines,
)
from autotuner.runs.start import (
    STATE_MACHINE_OUTPUT,
    InputFileError,
    Tuner,
    default_execution_name,
    describe_execution,
    load_input,
    resolve_tuner,
    start_execution,
)

__all__ = [
    "DEFAULT_POLL_SECONDS",
    "STATE_MACHINE_OUTPUT",
    "TERMINAL_STATUSES",
    "ExecutionFollower",
    "FollowDisplay",
    "FollowUpdate",
    "InputFileError",
    "MapRunProgress",
    "ProgressLog",
    "RunFollower",
    "StateEntered",
    "Tuner",
    "cause_message",
    "default_execution_name",
    "describe_execution",
    "error_lines",
    "execution_result",
    "exit_code",
    "load_input",
    "record_error_lines",
    "render_summary",
    "report_lines",
    "resolve_tuner",
    "run_budget_text",
    "run_cost_text",
    "savings_lines",
    "start_execution",
    "wait_for_execution",
]
