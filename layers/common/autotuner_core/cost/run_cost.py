"""What a tuning run itself costs: state transitions, the target's invocations and the tuner's own Lambda time.

Reported twice: an upper-bound estimate when the input is validated, before anything is created
(budget.py, with these constants), and a count from the run's own documents at the end. The
execution histories stay the authority for transitions: the parent's and, as the Distributed Map
runs each target as a child execution billed for its own transitions, every child's
(``RunReport.state_transitions`` adds them up, and the tests pin this count to it). These
numbers follow the state machine's shape (statemachine/autotuner.asl.json).

The tuner's functions wait synchronously for every target invocation, so the measuring step is
billed at least the Durations it waited for; every per-target step from DiscoverResources to
UpdateConfiguration adds what it was busy for to the target's ``spend``, with the Lambda
control-plane calls it made.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

from autotuner_core.cost import transitions
from autotuner_core.cost.prices import (
    DEFAULT_REGION,
    Prices,
    gb_seconds,
    lambda_prices,
    lambda_usd,
    step_functions_usd,
)
from autotuner_core.documents.cost import RunCost, TuningSpend
from autotuner_core.documents.outcome import TargetOutcome
from autotuner_core.documents.target import ConfigurationStats

# Counted from the ASL's paths (transitions.py names the states of each).
RUN_TRANSITIONS = transitions.RUN_TRANSITIONS
FIXED_TARGET_TRANSITIONS = transitions.FIXED_TARGET_TRANSITIONS
MEASURED_TARGET_TRANSITIONS = transitions.MEASURED_TARGET_TRANSITIONS  # no measuring round yet
ROUND_TRANSITIONS = transitions.ROUND_TRANSITIONS  # each measuring round
# Tuner Lambda invocations whose busy time is not in ``spend``: ValidatePermissions and
# SummarizeRun per run; CheckCircuit and RecordTargetResult per target (the record is written
# before that step ends). They are counted (request price) but their GB-seconds are not.
RUN_TUNER_INVOCATIONS = 2
TARGET_TUNER_INVOCATIONS = 2
# The tuner's functions (template Globals): arm64, 512 MB where Lambda does not say otherwise.
TUNER_ARCHITECTURE = "arm64"
_DEFAULT_TUNER_MEMORY_MB = 512

_calls = threading.local()
_UNCOUNTED = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})


def count_control_plane_calls(client: Any) -> None:
    """Count this thread's Lambda control-plane requests (every attempt; Invoke is data plane)."""
    client.meta.events.register("request-created.lambda", _count, unique_id="autotuner-run-cost-calls")
    _calls.count = 0


def count_requests(client: Any, service: str) -> None:
    """Add a client's requests to this thread's count, not starting it again: Lambda's control-plane
    requests, or CloudWatch's (the live-traffic checks' reads)."""
    client.meta.events.register(f"request-created.{service}", _count, unique_id=f"autotuner-run-cost-{service}")


def reset_calls() -> None:
    """Start this thread's count again (each tuner invocation counts its own)."""
    _calls.count = 0


def control_plane_calls() -> int:
    """Requests counted on this thread since :func:`count_control_plane_calls`."""
    return getattr(_calls, "count", 0)


def _count(operation_name: str | None = None, **_: Any) -> None:
    if operation_name not in _UNCOUNTED:
        _calls.count = getattr(_calls, "count", 0) + 1


def tuner_memory_mb() -> int:
    """The memory of the tuner function this code runs in."""
    # Lambda sets the function's memory in its environment (the embedded runtime does too).
    return int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or _DEFAULT_TUNER_MEMORY_MB)


def processor_prices(target_arn: str) -> Prices:
    """The rates a target's processors are billed at: its region's, x86_64 (the dearer; their
    architecture is not read)."""
    parts = target_arn.split(":")
    return lambda_prices(parts[3] if len(parts) > 3 and parts[3] else DEFAULT_REGION, "x86_64")


def tuner_prices() -> Prices:
    """The rates the tuner's own functions are billed at."""
    return lambda_prices(DEFAULT_REGION, TUNER_ARCHITECTURE)


def charge(spend: TuningSpend, *, busy_s: float, waited_ms: float = 0.0, calls: int = 0) -> TuningSpend:
    """Add one tuner invocation: billed for its busy time or the target time it waited for, if longer."""
    memory_mb = tuner_memory_mb()
    billed_ms = math.ceil(max(busy_s * 1000, waited_ms, 1.0))
    return spend.plus(tuner_invocations=1, tuner_gb_seconds=gb_seconds(memory_mb, billed_ms), calls=calls)


def add(spend: TuningSpend, *more: TuningSpend) -> TuningSpend:
    """The tuner's invocations, GB-seconds and calls of several steps together, and their processors'
    (rounds stay ``spend``'s)."""
    return spend.plus(
        tuner_invocations=sum(item.tuner_invocations for item in more),
        tuner_gb_seconds=sum(item.tuner_gb_seconds for item in more),
        calls=sum(item.control_plane_calls for item in more),
    ).with_processors(sum(item.processor_invocations for item in more), sum(item.processor_gb_seconds for item in more))


def measured_target_transitions(rounds: int) -> int:
    """The state transitions of one measured target's child execution after ``rounds`` measuring rounds."""
    return MEASURED_TARGET_TRANSITIONS + ROUND_TRANSITIONS * rounds


def counted(outcomes: list[TargetOutcome]) -> RunCost:
    """After the run, from what each target's document says was measured and spent: the run's own
    states and tuner invocations, and every target's :func:`of_target`."""
    parts = [of_target(outcome) for outcome in outcomes]
    transitions = RUN_TRANSITIONS + sum(part.state_transitions for part in parts)
    tuner_invocations = RUN_TUNER_INVOCATIONS + sum(part.tuner_invocations for part in parts)
    tuner_gb_seconds = sum(part.tuner_gb_seconds for part in parts)
    invocations_usd = sum(part.target_invocations_usd for part in parts)
    return _priced(
        transitions=transitions,
        target_invocations=sum(part.target_invocations for part in parts),
        invocations_usd=invocations_usd,
        target_gb_seconds=sum(part.target_gb_seconds for part in parts),
        tuner_invocations=tuner_invocations,
        tuner_gb_seconds=tuner_gb_seconds,
        calls=sum(part.control_plane_calls for part in parts),
        processor_invocations=sum(part.processor_invocations for part in parts),
        processor_gb_seconds=sum(part.processor_gb_seconds for part in parts),
        processor_usd=sum(part.processor_usd for part in parts),
    )


def of_target(outcome: TargetOutcome) -> RunCost:
    """One target's share of the run's cost: its own states (in its child execution), its measured
    invocations, its tuner invocations and their time, its control-plane calls. The run's own
    states and invocations (Prepare to Summarize) are not in it."""
    configurations = outcome.configurations or []
    spend = outcome.spend or TuningSpend()
    transitions = measured_target_transitions(spend.rounds) if configurations else FIXED_TARGET_TRANSITIONS
    return _priced(
        transitions=transitions,
        target_invocations=sum(row.invocations for row in configurations),
        invocations_usd=sum(_measured_usd(row) for row in configurations),
        target_gb_seconds=sum(gb_seconds(row.memory_size, row.billed_total_ms or 0.0) for row in configurations),
        tuner_invocations=TARGET_TUNER_INVOCATIONS + spend.tuner_invocations,
        tuner_gb_seconds=spend.tuner_gb_seconds,
        calls=spend.control_plane_calls,
        processor_invocations=spend.processor_invocations,
        processor_gb_seconds=spend.processor_gb_seconds,
        processor_usd=lambda_usd(
            spend.processor_gb_seconds, spend.processor_invocations, processor_prices(outcome.target)
        ),
    )


def _measured_usd(row: ConfigurationStats) -> float:
    # A record written before measured_usd existed: its trimmed-mean cost per invocation.
    if row.measured_usd is not None:
        return row.measured_usd
    return row.invocations * (row.cost_per_invocation_usd or 0.0)


def _priced(
    *,
    transitions: int,
    target_invocations: int,
    invocations_usd: float,
    target_gb_seconds: float,
    tuner_invocations: int,
    tuner_gb_seconds: float,
    calls: int,
    processor_invocations: int = 0,
    processor_gb_seconds: float = 0.0,
    processor_usd: float = 0.0,
) -> RunCost:
    step_functions = step_functions_usd(transitions)
    tuner_usd = lambda_usd(tuner_gb_seconds, tuner_invocations, tuner_prices())
    return RunCost(
        state_transitions=transitions,
        target_invocations=target_invocations,
        step_functions_usd=step_functions,
        target_invocations_usd=invocations_usd,
        total_usd=step_functions + invocations_usd + tuner_usd + processor_usd,
        processor_invocations=processor_invocations,
        processor_gb_seconds=round(processor_gb_seconds, 6),
        processor_usd=processor_usd,
        target_gb_seconds=round(target_gb_seconds, 6),
        tuner_invocations=tuner_invocations,
        tuner_gb_seconds=round(tuner_gb_seconds, 6),
        tuner_lambda_usd=tuner_usd,
        control_plane_calls=calls,
    )
