"""The run budget: the pre-run estimate, and the limits that refuse a run before anything is created."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from autotuner_core.cost import budget
from autotuner_core.documents.request import TargetRef, TuningRequest, parse_request
from autotuner_core.documents.target import FunctionConfiguration
from autotuner_core.measuring.shadow import role_patterns
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.settings import Settings

REGION = "us-east-1"
PREFIX = f"arn:aws:lambda:{REGION}:123456789012:function:"
EVENTS = Path(__file__).resolve().parents[2] / "events"


def ref(name: str) -> TargetRef:
    return TargetRef(given=name, name=name, arn=PREFIX + name)


def estimate(
    request: dict[str, Any],
    *,
    memory: int = 1024,
    timeout: int = 30,
    duration_ms: float | None = None,
    targets: int = 1,
    shadows: bool = False,
    settings: Settings | None = None,
):
    parsed = parse_request({"targets": ["orders"], **request})
    configuration = FunctionConfiguration(memory_size=memory, timeout=timeout, architectures=["arm64"])
    per_target = budget.estimate_target(
        parsed, ref("orders"), configuration, duration_ms, settings or Settings(), shadows=shadows
    )
    return parsed, budget.estimate_run(parsed, [per_target], targets), [per_target]


def test_cold_starts_at_a_thousand_invocations_are_refused_naming_versions_limit_and_fields() -> None:
    # Given a function and 1,000 cold-start invocations over the standard range (7 sizes)
    request, run, read = estimate({"invocations": 1000, "onlyColdStarts": True, "refine": False})
    # When the deployment's default limits are enforced
    with pytest.raises(InvalidInputError) as caught:
        budget.enforce(run, read, request, Settings())
    # Then the run is refused: 3,000 versions of one function (one per invocation it may make: a size
    # publishes only the versions it invokes), over MaxVersionsPerTarget 200
    message = str(caught.value)
    assert "3000 versions of " + PREFIX + "orders" in message
    assert "over MaxVersionsPerTarget 200" in message
    assert "onlyColdStarts" in message and "lower invocations" in message
    # And its 3,000 invocations stay within MaxInvocationsPerRun's 10,000: only the versions are named
    assert run.target_invocations == 3000
    assert "MaxInvocationsPerRun" not in message


def test_the_same_request_without_cold_starts_publishes_one_version_per_size_and_passes() -> None:
    # Given the same 1,000 invocations, measured warm
    request, run, read = estimate({"invocations": 1000, "refine": False}, timeout=3)
    # When the limits are enforced, nothing is raised: one version per size (7 ladder sizes and the
    # engine's one size between ladder steps)
    budget.enforce(run, read, request, Settings())
    assert run.versions_created == 8


def test_each_limit_names_its_estimate_its_limit_and_the_field_to_change() -> None:
    # Given a deployment with small limits
    settings = Settings.model_validate(
        {"MAX_INVOCATIONS_PER_RUN": "20", "MAX_RUN_COST_USD": "0.01", "MAX_VERSIONS_PER_TARGET": "5"}
    )
    # When a default run of one 30 s function is checked
    request, run, read = estimate({}, settings=settings)
    problems = budget.limit_problems(run, read, request, settings)
    # Then all three limits are named with the estimate, the limit and the input field
    assert problems[0].startswith("invocations: the run may invoke its targets 30 times")
    assert "over MaxInvocationsPerRun 20" in problems[0]
    assert problems[1].startswith("onlyColdStarts/invocations/memorySizes: the run may publish 8 versions")
    assert "over MaxVersionsPerTarget 5" in problems[1]
    assert problems[2].startswith("invocations/memorySizes: the run may cost up to $")
    assert "bounded by timeout" in problems[2] and "over MaxRunCostUsd $0.01" in problems[2]


def test_a_recent_duration_bounds_the_gb_seconds_far_below_the_timeout() -> None:
    # Given a 1,024 MB function with a 300 s timeout whose longest recent request took 200 ms
    _, by_timeout, _ = estimate({}, timeout=300)
    _, by_duration, _ = estimate({}, timeout=300, duration_ms=200.0)
    # Then the duration's bound is used, and is much smaller
    (item,) = by_duration.targets
    assert item.basis == "duration" and item.max_duration_ms == 200.0
    assert by_timeout.targets[0].basis == "timeout"
    assert by_duration.target_gb_seconds < by_timeout.target_gb_seconds / 10
    # And it is every invocation at the largest size (3,008 MB) for twice that duration, plus a
    # 10 s INIT allowance for each possible cold start (one per version published: 7 ladder sizes
    # and the engine's one size between ladder steps)
    expected = 3008 / 1024 * (30 * 0.4 + 8 * budget.INIT_LIMIT_S)
    assert item.target_gb_seconds == pytest.approx(expected)


def test_a_duration_longer_than_the_timeout_is_capped_at_the_timeout() -> None:
    # Given a recent Duration of 50 s on a function whose timeout is 30 s (it was raised since)
    _, capped, _ = estimate({}, timeout=30, duration_ms=50_000.0)
    _, by_timeout, _ = estimate({}, timeout=30)
    # Then no invocation is counted longer than the timeout
    assert capped.target_gb_seconds == pytest.approx(by_timeout.target_gb_seconds)


def test_a_function_larger_than_every_candidate_is_counted_at_its_own_size() -> None:
    # Given a 4,096 MB function measured over the standard range (up to 3,008 MB): it is measured too
    _, run, _ = estimate({}, memory=4096, timeout=10)
    # Then its GB-seconds are bounded at 4,096 MB, and its size adds a version (to the 7 ladder sizes
    # and the engine's one size between ladder steps)
    assert run.target_gb_seconds == pytest.approx(4096 / 1024 * (30 * 10 + 9 * budget.INIT_LIMIT_S))
    assert run.versions_created == 9


def test_a_deployment_that_allows_shadows_counts_one_shadow_per_target() -> None:
    # Given the same run with and without shadow copies allowed
    _, without, _ = estimate({})
    _, with_shadows, _ = estimate({}, shadows=True)
    # Then one shadow is counted, with the calls that create and delete it
    assert (without.shadows_created, with_shadows.shadows_created) == (0, 1)
    assert with_shadows.control_plane_calls > without.control_plane_calls


def test_shadows_are_allowed_exactly_when_shadow_roles_are_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    # (the budget counts shadows from the same setting the shadow part reads: shadow.role_patterns)
    monkeypatch.delenv("SHADOW_ROLE_ARNS", raising=False)
    assert bool(role_patterns(Settings.from_env())) is False
    monkeypatch.setenv("SHADOW_ROLE_ARNS", " ")
    assert bool(role_patterns(Settings.from_env())) is False
    monkeypatch.setenv("SHADOW_ROLE_ARNS", "arn:aws:iam::123456789012:role/orders")
    assert bool(role_patterns(Settings.from_env())) is True


def test_a_large_sweep_counts_its_unread_targets_as_the_largest_read_one() -> None:
    # Given a sweep of 120 functions, 50 of them read (pre-flight's sample)
    request = parse_request({"select": {"tags": {"team": "shop"}}})
    settings = Settings()
    read = [
        budget.estimate_target(
            request,
            ref(f"fn-{index}"),
            FunctionConfiguration(memory_size=512, timeout=10 + index),
            None,
            settings,
            shadows=False,
        )
        for index in range(50)
    ]
    # When the run is estimated
    run = budget.estimate_run(request, read, 120)
    # Then it counts 120 targets' invocations, the 70 unread ones as the largest (longest timeout) one
    assert run.target_invocations == 120 * 30
    largest = max(read, key=lambda item: item.target_gb_seconds)
    assert run.target_gb_seconds == pytest.approx(
        sum(i.target_gb_seconds for i in read) + 70 * largest.target_gb_seconds
    )
    # And no per-target list travels through state for a run this large: its totals only
    assert run.targets is None
    # (a run of up to ten targets lists each one)
    assert len(budget.estimate_run(request, read[:10], 10).targets) == 10


def test_a_missing_function_costs_nothing_and_is_left_to_discovery() -> None:
    # Given a target that does not exist (discovery fails it, with its record, before measuring)
    request = parse_request({"targets": ["gone"]})
    item = budget.estimate_target(request, ref("gone"), None, None, Settings(), shadows=False)
    # Then it is counted without invocations or versions
    assert (item.basis, item.target_invocations, item.versions_created) == ("not-found", 0, 0)


def test_a_fixed_memory_size_measures_nothing() -> None:
    _, run, _ = estimate({"memorySize": 1024, "apply": True})
    assert (run.target_invocations, run.target_gb_seconds, run.versions_created) == (0, 0.0, 0)


@pytest.mark.parametrize("path", sorted((EVENTS / "inputs").glob("*.json")), ids=lambda path: path.stem)
def test_the_shipped_inputs_pass_the_default_limits_on_long_running_functions(path: Path) -> None:
    # Given a shipped input, its targets (or, for a sweep, as many as the demo fleet has: 7) all
    # 3,008 MB functions with a 15-minute timeout and no recent Duration
    raw = json.loads(path.read_text())
    request = TuningRequest.model_validate(raw)
    names = request.targets or [f"fn-{index}" for index in range(7)]
    configuration = FunctionConfiguration(memory_size=3008, timeout=900)
    read = [budget.estimate_target(request, ref(name), configuration, None, Settings(), shadows=True) for name in names]
    # When the default limits are enforced, the run is not refused
    budget.enforce(budget.estimate_run(request, read, len(names)), read, request, Settings())


@mock_aws
def test_recent_durations_are_read_in_one_call_for_every_target() -> None:
    # Given CloudWatch with Durations for two of three functions over the last days
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.now(UTC)
    for name, values in (("orders", [120.0, 340.5]), ("billing", [80.0])):
        cloudwatch.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    "Value": value,
                    "Unit": "Milliseconds",
                    "Timestamp": now - timedelta(days=day + 1),
                }
                for day, value in enumerate(values)
            ],
        )
    calls: list[str] = []
    cloudwatch.meta.events.register("before-call.cloudwatch", lambda model, **_: calls.append(model.name))
    # When the budget reads them
    found = budget.read_max_durations(cloudwatch, [ref("orders"), ref("billing"), ref("idle")], now=now)
    # Then each function's largest Duration is returned, none for the idle one, in one request
    assert found == {PREFIX + "orders": 340.5, PREFIX + "billing": 80.0}
    assert calls == ["GetMetricData"]
