"""DiscoverResources in telemetry mode, against moto: the finding is made there, and bad input stops it first."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autotuner_core.documents.request import parse_request
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.steps import discover_resources
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import handler

from .conftest import admitted


def test_a_function_that_never_logged_gets_insufficient_data_not_an_error(run_step, target) -> None:
    # Given a function with no log group and no metrics
    # When DiscoverResources runs for it in telemetry mode
    task = run_step(discover_resources.run, admitted(target, mode="telemetry"))
    # Then it is recommended on what telemetry says: too little, and why
    assert task["outcome"] == "RECOMMENDED"
    assert task["source"] == "telemetry"
    assert task["finding"]["finding"] == "INSUFFICIENT_DATA"
    assert task["telemetry"]["logs"]["windowDays"] == 0
    assert task["telemetry"]["logs"]["logGroup"] == "/aws/lambda/orders"
    assert any("does not exist" in reason for reason in task["finding"]["reasons"])
    # And nothing beyond reading the configuration and the metrics was counted: the spend's count also
    # tallies CloudWatch reads (GetMetricData); the Lambda-only count, at most 2, is the embedded AWS's
    # (tests/statemachine/test_telemetry_mode.py)
    assert task["spend"]["controlPlaneCalls"] <= 3


def test_a_scan_cap_of_zero_is_refused_before_any_aws_call(make_settings, lambda_context, target) -> None:
    # Given a deployment whose TelemetryMaxScanBytes reached the function as 0
    settings = make_settings(TELEMETRY_MAX_SCAN_BYTES="0")
    made: list[str] = []

    def clients() -> Clients:
        return Clients(lambda service: made.append(service))  # type: ignore[func-returns-value]

    step = handler(discover_resources.run, settings=settings, clients=clients)
    # When a telemetry run reaches discovery, then it is bad input naming the parameter, and no client was made
    with pytest.raises(InvalidInputError, match="TelemetryMaxScanBytes"):
        step(json.loads(json.dumps(admitted(target, mode="telemetry"))), lambda_context)
    assert made == []


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"mode": "telemetry", "lookbackDays": 0}, "lookbackDays: Input should be greater than or equal to 1"),
        ({"mode": "telemetry", "lookbackDays": 91}, "lookbackDays: Input should be less than or equal to 90"),
        ({"mode": "sample"}, "mode: Input should be 'measure', 'telemetry' or 'auto'"),
        ({"mode": "auto"}, "mode: 'auto' is not available yet"),
        ({"mode": "telemetry", "invocations": 20}, "takes no measurement or change fields (invocations)"),
        ({"mode": "telemetry", "memorySizes": [128, 256], "apply": True}, "(memorySizes, apply)"),
        ({"mode": "telemetry", "memorySize": 512}, "(memorySize)"),
        ({"lookbackDays": 30}, "lookbackDays: only mode 'telemetry' reads production telemetry"),
    ],
)
def test_bad_telemetry_input_is_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_request({"targets": ["orders"], **fields})
    assert named in str(refused.value)


def test_telemetry_mode_survives_every_state_s_reading_of_the_request() -> None:
    # Each state re-reads the request with its defaults written out: that is not "giving" measurement fields.
    request = parse_request({"targets": ["orders"], "mode": "telemetry"})
    again = parse_request(json.loads(json.dumps(request.dump())))
    assert again.from_telemetry and again.lookback_days == 14
