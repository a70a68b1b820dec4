"""Live traffic only CloudWatch shows: callers authorised by IAM alone, weekly or starting mid-run, and
evidence that cannot be read. Each case ran production at a candidate size before these checks."""

from __future__ import annotations

import pytest

from emulator.account import Fault, FunctionProfile, ScheduledCallerSpec, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

TAGS = {"autotune": "enabled"}
FAST = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"}
SHADOWS = {**FAST, "ShadowRoleArns": "arn:aws:iam::123456789012:role/simulated-target-role"}
DRY_RUN = {"targets": ["orders-api"], "invocations": 5, "memorySizes": [256, 1024]}


def called_by(*callers: ScheduledCallerSpec) -> SimulatedFunction:
    """A function at 1,024 MB with no trigger and no resource policy: only its scheduled callers reach it."""
    return SimulatedFunction(
        name="orders-api",
        memory_size=1024,
        timeout=30,
        architecture="arm64",
        tags=TAGS,
        profile=FunctionProfile(preset="io-bound", seed=3),
        scheduled_callers=list(callers),
    )


# Weekly, last called 100 hours ago: a day of metrics shows nothing, 14 days show two calls. Its next
# call falls during the run, right after $LATEST is first set to a candidate size.
WEEKLY = ScheduledCallerSpec(every_hours=168, last_call_hours_ago=100, calls_during_run=True)
# Never called before; its first call comes during the run, right after $LATEST is first moved.
MID_RUN = ScheduledCallerSpec(every_hours=168, calls_during_run=True)


def test_a_weekly_caller_authorised_by_iam_alone_is_live_and_refused_before_any_change():
    # Given a function whose only caller is a weekly schedule (a Step Functions task, say): no trigger
    with EmbeddedAws(SimulatedAccount(parameters=FAST, functions=[called_by(WEEKLY)])) as aws:
        # When a dry run would measure it on versions
        report = aws.run(DRY_RUN)
    # Then discovery sees the two calls of the last 14 days and refuses it before any change
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    assert report.failed_state == "DiscoverResources"
    assert "2 invocations of the unqualified function in the last 336 h" in report.cause
    assert report.mutating_calls == []
    # And the caller's next call never ran at a candidate size
    assert report.live_invocations_at_candidate_sizes == 0


def test_a_weekly_caller_is_measured_around_on_a_shadow_when_the_deployment_allows_one():
    # Given the same weekly caller, and a deployment that allows shadows of the function's role
    with EmbeddedAws(SimulatedAccount(parameters=SHADOWS, functions=[called_by(WEEKLY)])) as aws:
        # When a dry run measures it
        report = aws.run(DRY_RUN)
        latest = aws.function_configuration("orders-api")
    # Then it is measured on a shadow, its record names the calls, and $LATEST was never moved
    assert report.status == "SUCCEEDED", report.cause
    (record,) = report.records
    assert record["liveTraffic"]["measuredOn"] == "shadow"
    assert record["liveTraffic"]["recentInvocations"] == 2
    assert latest["MemorySize"] == 1024
    assert report.live_invocations_at_candidate_sizes == 0


def test_a_caller_that_starts_mid_run_stops_the_measuring_and_latest_is_put_back():
    # Given a function idle at discovery, whose new caller first calls right after $LATEST is moved
    account = SimulatedAccount(parameters=FAST, functions=[called_by(MID_RUN)])
    with EmbeddedAws(account) as aws:
        # When a dry run measures three sizes on versions (1,024 MB first, then 256 MB, then 512 MB)
        report = aws.run({"targets": ["orders-api"], "invocations": 5, "memorySizes": [256, 512, 1024]})
        latest = aws.function_configuration("orders-api")
    # Then the re-check before the next change of $LATEST sees the call, and the target fails
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    (record,) = report.records
    assert record["errorType"] == "LiveTrafficError"
    assert record["failedStage"] == "MeasureConfigurations"
    # And the record names the evidence and where measuring stopped
    assert "1 invocations of the unqualified function" in record["errorMessage"]
    assert "before setting $LATEST to 512 MB" in record["errorMessage"]
    # And $LATEST is back at its size, with its description
    assert latest["MemorySize"] == 1024
    assert not latest.get("Description", "").startswith("lambda-autotuner")
    # And production ran at a candidate size only for the one call that arrived before the check
    assert report.live_invocations["orders-api"] == {256: 1}
    assert report.live_invocations_at_candidate_sizes == 1


@pytest.mark.parametrize("code", ["AccessDenied", "Throttling"])
def test_invocations_that_cannot_be_read_count_as_live_traffic(code: str):
    # Given an idle function, and CloudWatch refusing discovery's GetMetricData (the SDK's retries too)
    fault = Fault(service="cloudwatch", action="GetMetricData", code=code, times=3, caller="DiscoverResourcesFunction")
    account = SimulatedAccount(parameters=FAST, functions=[called_by()], faults=[fault])
    with EmbeddedAws(account) as aws:
        # When a dry run would measure it on versions
        report = aws.run(DRY_RUN)
    # Then the unread evidence counts as live: the target is refused before any change, saying why
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    assert "CloudWatch Invocations (cloudwatch:GetMetricData) could not be read" in report.cause
    assert code in report.cause
    assert report.mutating_calls == []


def test_a_scheduled_callers_last_call_must_fall_within_its_schedule():
    # Given a weekly caller said to have last called 200 hours ago, or one that never calls at all
    # Then the simulated account is refused, naming the field
    with pytest.raises(ValueError, match="last_call_hours_ago"):
        ScheduledCallerSpec(every_hours=168, last_call_hours_ago=200)
    with pytest.raises(ValueError, match="calls_during_run"):
        ScheduledCallerSpec(every_hours=168)
