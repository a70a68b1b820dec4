"""AWS time: the embedded AWS's clock, and an estimate of how long a run would take in AWS.

Seconds measured here are in-process seconds: a Lambda invocation is a function call, a state
transition is a dictionary lookup, an API request never leaves the process. In AWS each of them
takes time. This module holds the latencies the estimate adds, each with where it comes from
(``Latency.source``; ``estimate=True`` where no AWS document gives the number), and the one
clock that scales the embedded AWS's waits.

The clock (``EmbeddedClock``): with ``retry_time_scale`` s, a wait of w seconds of AWS time
(a state-machine Retry interval, SDK backoff, the workers' pacing) sleeps s·w seconds of wall
time and is counted at its full length w. The rate limits (limits.py) and the workers' pacing
read ``EmbeddedClock.now`` = wall seconds / s, so a limit binds against the waits exactly as in
AWS. In-process compute is not scaled: at s < 1 the limits see it stretched by 1/s (they are
kinder to fast callers than AWS would be), so a test that asserts a throttling bound runs at
s = 1, where the limits' clock is the wall clock.

The estimate (``estimate_run``) of one execution, in AWS seconds::

    each tuner invocation's compute: its duration - its in-process INIT - its time inside AWS
      requests (the emulator serving them; replaced by API_REQUEST below)
    + waits at full length                            (state-machine retry, SDK backoff, pacing)
    + state transitions x STATE_TRANSITION           (replaces moto's interpreter)
    + tuner invocations x WARM_INVOKE
    + cold starts x RUNTIME_INIT + each cold start's function init (FUNCTION_INIT_MS, its imports;
      in-process, imports are shared by every environment, so they are never paid twice)
    + AWS requests made by the tuner's functions and the state machine x API_REQUEST
      (the state machine's Invoke of a tuner function is WARM_INVOKE, not a request here)

So the estimate does not depend on how fast moto is, only on the handlers' own compute (measured
here, on this machine) and the model. Everything is summed along the run: exact for a run whose
states follow each other (one target, the fail-fast scenarios), an upper bound where Map
iterations overlap (a sweep's children are summed, not overlapped). A simulated target's own
duration is inside the measuring function's compute at its simulated (scaled) length.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Latency:
    """One latency of the model, in seconds, and where the figure comes from."""

    seconds: float
    source: str
    estimate: bool = False  # True: no AWS document states the number; see ``source``


# The Init phase: Lambda provisions the environment, bootstraps the runtime, then runs the
# function's static code (docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
# "Init phase"). The static code is FUNCTION_INIT below; this is everything before it.
RUNTIME_INIT = Latency(
    0.150,
    "environment provisioning + python3.13 runtime bootstrap before the function's static code: AWS "
    "documents the phases (docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, Init "
    "phase, 10 s limit) but no figure; community measurements put a minimal Python 3.13 zip cold start "
    "at ~150 ms p50 / ~400 ms p99 (lambda_local_runner docs, lambda-04-cold-starts.md)",
    estimate=True,
)
# A warm invocation: the Invoke request, routing to a free environment, the Runtime API's
# next/response round trip. Not documented by AWS as a number.
WARM_INVOKE = Latency(
    0.010,
    "Invoke of a warm environment (Step Functions lambda:invoke → Lambda → Runtime API and back): "
    "commonly reported as under 10 ms of overhead beyond the handler's duration (e.g. dev.to/jamesli, "
    "'Cold start in AWS Lambda'); not documented by AWS",
    estimate=True,
)
# Step Functions Standard records each transition durably before the next state starts.
STATE_TRANSITION = Latency(
    0.030,
    "one Step Functions Standard state transition (history event persisted, next state scheduled): "
    "AWS gives no latency figure (only the price, $0.025 per 1,000 transitions); tens of ms per "
    "transition is the commonly observed order",
    estimate=True,
)
# One request from a function to an AWS API in the same region over HTTPS with a kept-alive
# connection: DynamoDB documents single-digit-millisecond service latency; the Lambda control
# plane, S3 and IAM/STS are slower.
API_REQUEST = Latency(
    0.020,
    "one in-region AWS API request from Lambda (DynamoDB: 'single-digit millisecond performance at "
    "any scale', AWS's product description; the Lambda control plane, S3 and IAM simulation: tens of "
    "ms, no AWS figure): a round 20 ms blend",
    estimate=True,
)

# Each handler's static code: ``import app`` then ``import boto3`` (every tuner function calls
# AWS, so its first request pays boto3's import), medians of 7 fresh interpreters measured by
# ``python -m benchmarks coldstart`` ("then boto3" column, docs/reliability.md). Measured on this
# project's x86_64 build machine; Lambda's arm64 at the template's memory may be slower.
# plan_measurements and choose_configuration come from a separate run whose bare boto3 took
# 320.9 ms, and are scaled to this table's 247.6 ms.
FUNCTION_INIT_MS: dict[str, float] = {
    "check_circuit": 446.7,
    "choose_configuration": 421.4,
    "cleanup_measurement": 368.0,
    "discover_resources": 443.2,
    "measure_configuration": 397.8,
    "plan_measurements": 488.9,
    "prepare_measurement": 383.3,
    "record_result": 469.4,
    "summarize_run": 441.4,
    "update_configuration": 370.8,
    "validate_permissions": 393.0,
}
FUNCTION_INIT_SOURCE = "python -m benchmarks coldstart: median 'then boto3' ms per handler (docs/reliability.md)"
# The same run's bare ``import boto3`` median: the cold-start benchmark compares its own figures
# to the model relative to it, so a machine that is slower overall does not count as a deviation.
FUNCTION_INIT_BASELINE_MS = 247.6

LATENCIES: dict[str, Latency] = {
    "runtimeInit": RUNTIME_INIT,
    "warmInvoke": WARM_INVOKE,
    "stateTransition": STATE_TRANSITION,
    "apiRequest": API_REQUEST,
}


def function_init_seconds(code_dir_name: str) -> float:
    """The measured static-code time of the handler in ``functions/<code_dir_name>``; KeyError if unmeasured."""
    if code_dir_name not in FUNCTION_INIT_MS:
        raise KeyError(
            f"no measured cold start for functions/{code_dir_name}: run `python -m benchmarks coldstart` "
            "and add its 'then boto3' median to aws_time.FUNCTION_INIT_MS"
        )
    return FUNCTION_INIT_MS[code_dir_name] / 1000


def aws_seconds_now(scale: float) -> float:
    """The embedded AWS's clock in AWS seconds: wall seconds / ``scale`` (one clock for limits, pacing, waits)."""
    return time.monotonic() / scale


class EmbeddedClock:
    """The embedded AWS's clock: scaled waits, counted at full length, and AWS seconds for the limits."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._lock = threading.Lock()
        self.waits: Counter = Counter()  # kind -> full seconds waited ("retry", "pacing")

    def now(self) -> float:
        """Seconds of AWS time (wall seconds / scale): what the rate limits and the pacing read."""
        return aws_seconds_now(self.scale)

    def sleep(self, seconds: float, kind: str = "retry") -> None:
        """Wait ``seconds`` of AWS time: sleeps ``seconds x scale`` and counts ``seconds``."""
        with self._lock:
            self.waits[kind] += seconds
        time.sleep(seconds * self.scale)

    def reset(self) -> None:
        with self._lock:
            self.waits.clear()


@dataclass(frozen=True)
class AwsTimeEstimate:
    """One run's estimated AWS seconds and what they are made of."""

    seconds: float
    parts: dict[str, float]

    def as_json(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 3), "parts": {key: round(value, 3) for key, value in self.parts.items()}}


def estimate_run(
    *,
    waits: dict[str, float],
    history: list[dict[str, Any]],
    invocations: list[Any],
    api_requests: int,
    code_dirs: dict[str, str],
) -> AwsTimeEstimate:
    """AWS seconds of one execution (module docstring): the handlers' compute plus the modelled latencies.

    ``invocations`` are the runtime's InvocationLogs of the run (function logical id, cold,
    duration_ms, init_ms, request_ms); ``code_dirs`` maps a function's logical id to its
    ``functions/`` folder name; ``api_requests`` counts the run's AWS requests (Invokes of tuner
    functions excluded).
    """
    transitions = sum(1 for event in history if event["type"].endswith("StateEntered"))
    cold = [log for log in invocations if log.cold]
    compute = sum(max(0.0, log.duration_ms - log.init_ms - log.request_ms) for log in invocations) / 1000
    parts = {
        "compute": compute,
        "waits": sum(waits.values()),
        "stateTransitions": transitions * STATE_TRANSITION.seconds,
        "invokes": len(invocations) * WARM_INVOKE.seconds,
        "coldStarts": sum(RUNTIME_INIT.seconds + function_init_seconds(code_dirs[log.function]) for log in cold),
        "apiRequests": api_requests * API_REQUEST.seconds,
    }
    return AwsTimeEstimate(seconds=sum(parts.values()), parts=parts)


class RequestTimer:
    """Time a tuner invocation spends inside AWS requests (the emulator's serving), per thread.

    Installed first among the interceptor's gates (the request starts) and observers (it was
    served); only requests made on a thread inside ``measuring`` are counted, so the state
    machine's own Invoke of a function is not.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._installed: Any = None

    def install(self, interceptor: Any) -> None:
        if self._installed is not interceptor:
            interceptor.gates.insert(0, self._started)
            interceptor.observers.insert(0, self._served)
            self._installed = interceptor

    @contextmanager
    def measuring(self) -> Iterator[list[float]]:
        """Count this thread's request time into the yielded one-item list (seconds), until the block ends."""
        previous = getattr(self._local, "spent", None)
        spent = [0.0]
        self._local.spent, self._local.started = spent, None
        try:
            yield spent
        finally:
            self._local.spent, self._local.started = previous, None

    def _started(self, service: str, operation: str, caller: str) -> None:
        if getattr(self._local, "spent", None) is not None:
            self._local.started = time.monotonic()

    def _served(self, call: str, caller: str) -> None:
        spent, started = getattr(self._local, "spent", None), getattr(self._local, "started", None)
        if spent is not None and started is not None:
            spent[0] += time.monotonic() - started
            self._local.started = None


def estimate_embedded_run(aws: Any, history: list[dict[str, Any]], invocations: list[Any]) -> AwsTimeEstimate:
    """``estimate_run`` for an execution just run on ``aws`` (an EmbeddedAws), from what it recorded."""
    functions = aws.stack.functions
    tuner = set(functions)
    # Every request the run made, except the Invokes of tuner functions (each is in WARM_INVOKE):
    # the functions' own requests and the state machine's (the Distributed Map's S3 reads and writes).
    with aws.interceptor.log.lock:
        api_requests = sum(
            1 for record in aws.interceptor.log.calls if record.caller in tuner or record.call != "lambda:Invoke"
        )
    return estimate_run(
        waits=dict(aws.clock.waits),
        history=history,
        invocations=invocations,
        api_requests=api_requests,
        code_dirs={name: function.code_dir.name for name, function in functions.items()},
    )
