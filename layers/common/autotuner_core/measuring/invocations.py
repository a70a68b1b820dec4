"""Invoking a prepared candidate and reading what each invocation reports.

The payload each invocation gets (a weighted list spread by weight), the ClientContext that marks
it as a measurement, the pre- and post-processors around it, and the observation and the wait the
measuring function is billed for. The candidates themselves are made by measurement.py.
"""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from autotuner_core.aws.arns import parse_arn
from autotuner_core.aws.lambda_control import invoke_with_output
from autotuner_core.documents.request import TuningRequest, WeightedPayload
from autotuner_core.documents.target import Candidate, InvocationSample, SizeObservation
from autotuner_core.policy.errors import InvalidConfigurationError, ProcessorFailedError

_MAX_PARALLEL_INVOCATIONS = 16


def payload_sequence(payload: Any, invocations: int) -> list[bytes]:
    """The payload of each invocation; a weighted list is spread by weight (largest remainder).

    A string payload is JSON text and is sent as written, and so are bytes (an S3 object);
    anything else is serialised.
    """
    if not isinstance(payload, list):
        return [_encode(payload)] * invocations
    items: list[WeightedPayload] = payload
    total = sum(item.weight for item in items)
    exact = [item.weight / total * invocations for item in items]
    counts = [max(1, int(value)) for value in exact]
    while sum(counts) > invocations:
        counts[counts.index(max(counts))] -= 1
    order = sorted(range(len(items)), key=lambda index: exact[index] - int(exact[index]), reverse=True)
    for index in order[: invocations - sum(counts)]:
        counts[index] += 1
    return [_encode(item.payload) for item, count in zip(items, counts, strict=True) for _ in range(count)]


def _encode(payload: Any) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return payload.encode("utf-8") if isinstance(payload, str) else json.dumps(payload).encode("utf-8")


# Lambda's limit for ClientContext: 3,583 bytes of base64-encoded JSON (Invoke API reference).
MAX_CLIENT_CONTEXT_BYTES = 3583


def measurement_client_context(execution_arn: str) -> str:
    """The ClientContext every measurement invocation carries, so a function can tell it is synthetic.

    A function reads it as ``context.client_context.custom`` (Python) or ``context.clientContext.Custom``
    (Node.js): ``{"autotuner": "measurement", "execution": <the tuner's execution ARN>}``. Both values
    are strings: the Java runtime reads ``custom`` as a map of strings and fails on anything else.
    """
    document = {"custom": {"autotuner": "measurement", "execution": execution_arn}}
    encoded = base64.b64encode(json.dumps(document, separators=(",", ":")).encode("utf-8")).decode("ascii")
    if len(encoded) > MAX_CLIENT_CONTEXT_BYTES:  # an execution ARN is at most ~330 characters: never in practice
        document["custom"]["execution"] = parse_arn(execution_arn).name[:80]
        encoded = base64.b64encode(json.dumps(document, separators=(",", ":")).encode("utf-8")).decode("ascii")
    return encoded


def _invoke_all(
    client: Any,
    arn: str,
    candidate: Candidate,
    request: TuningRequest,
    invocations: int | None,
    payload: Any,
    client_context: str | None,
    processors: dict[str, str],
) -> tuple[list[InvocationSample], float, float]:
    """The samples, the milliseconds spent around them (processors, sleepBetweenRunsMs), unmeasured,
    and the processors' billed GB-seconds (the run's cost counts them).

    As in AWS Lambda Power Tuning: the pre-processor receives the payload and, if it returns
    anything other than nothing or ``null``, its output is sent instead; after the invocation the
    tuner sleeps ``sleepBetweenRunsMs`` (sequential runs only), then the post-processor receives the
    function's output. A processor's failure is ProcessorFailedError: the target's measurement stops.
    """
    from autotuner_core.measuring.report_line import parse_report

    if payload is None:
        payload = request.payload if request.payload is not None else {}
    payloads = payload_sequence(payload, invocations or request.invocations)
    pre, post = processors.get("preProcessor"), processors.get("postProcessor")

    def one(index: int) -> tuple[InvocationSample, float, float]:
        alias = candidate.aliases[index % len(candidate.aliases)]
        body, around_ms, processor_gb_s = payloads[index], 0.0, 0.0
        if pre:
            output, spent, billed = _invoke_processor(client, "preProcessor", pre, body, client_context)
            around_ms += spent
            processor_gb_s += billed
            if output.strip() not in (b"", b"null"):
                body = output
        error_type, _, result, tail = invoke_with_output(client, arn, alias, body, client_context=client_context)
        sample = parse_report(tail)
        if sample is None:
            raise InvalidConfigurationError(
                f"{arn}:{alias} returned no REPORT line in its log tail; the tuner reads Duration from it"
            )
        if request.sleep_between_runs_ms:
            time.sleep(request.sleep_between_runs_ms / 1000)
            around_ms += request.sleep_between_runs_ms
        if post:
            _, spent, billed = _invoke_processor(client, "postProcessor", post, result, client_context)
            around_ms += spent
            processor_gb_s += billed
        return sample.failed(error_type), around_ms, processor_gb_s

    if request.parallel_invocation:
        with ThreadPoolExecutor(max_workers=min(_MAX_PARALLEL_INVOCATIONS, len(payloads))) as pool:
            results = list(pool.map(one, range(len(payloads))))
        lanes = min(_MAX_PARALLEL_INVOCATIONS, len(results))
        around = sum(item[1] for item in results) / max(1, lanes)
    else:
        results = [one(index) for index in range(len(payloads))]
        around = sum(item[1] for item in results)
    return [item[0] for item in results], around, sum(item[2] for item in results)


def _invoke_processor(
    client: Any, field: str, arn: str, payload: bytes, client_context: str | None
) -> tuple[bytes, float, float]:
    """Invoke a pre- or post-processor; returns its output, the milliseconds it ran and its billed
    GB-seconds (its REPORT line)."""
    from autotuner_core.measuring.report_line import parse_report

    error_type, error, output, tail = invoke_with_output(client, arn, None, payload, client_context=client_context)
    if error_type is not None:
        message = str((error or {}).get("errorMessage", ""))[:300]
        raise ProcessorFailedError(f"{field} {arn} failed with {error_type}: {message}")
    sample = parse_report(tail)
    spent = sample.duration_ms + (sample.init_duration_ms or 0.0) if sample else 0.0
    billed = sample.memory_size_mb / 1024 * sample.billed_duration_ms / 1000 if sample else 0.0
    return output, spent, billed


class Measured(NamedTuple):
    """One candidate measured: its observation, the milliseconds the caller waited, and the
    processors' billed GB-seconds."""

    observation: SizeObservation
    waited_ms: float
    processor_gb_seconds: float


def measure_candidate(
    client: Any,
    arn: str,
    candidate: Candidate,
    request: TuningRequest,
    invocations: int | None = None,
    *,
    payload: Any = None,
    client_context: str | None = None,
    processors: dict[str, str] | None = None,
) -> Measured:
    """Measure one candidate: its observation, and the milliseconds the caller waited.

    An excluded candidate is reported with its reason and not invoked. The wait is what the
    target's Durations (and Init Durations) add up to, divided among the parallel invocations,
    plus the processors' runs and the sleeps between runs: the measuring function is billed at
    least that long. None of that time is in the observation.

    ``payload`` is the target's own (payloads.payload_for); None: the request's run-wide one, or ``{}``.
    ``client_context`` (measurement_client_context) marks each invocation as synthetic. ``processors``
    (payloads.processor_arns) are invoked around each invocation, as ``_invoke_all`` says.
    """
    from autotuner_core.decision.analysis import observe

    if candidate.excluded:
        return Measured(SizeObservation(memory_size=candidate.memory_size, excluded=candidate.excluded), 0.0, 0.0)
    samples, around_ms, processor_gb_s = _invoke_all(
        client, arn, candidate, request, invocations, payload, client_context, processors or {}
    )
    each = [sample.duration_ms + (sample.init_duration_ms or 0.0) for sample in samples]
    lanes = min(_MAX_PARALLEL_INVOCATIONS, len(each)) if request.parallel_invocation and each else 1
    waited = max(sum(each) / lanes, max(each, default=0.0)) + around_ms
    observation = observe(candidate.memory_size, samples, allowed_exceptions=request.allowed_exceptions)
    return Measured(observation, waited, processor_gb_s)
