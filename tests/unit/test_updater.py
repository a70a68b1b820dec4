"""Applying memory safely: RevisionId-guarded, never overwriting a concurrent change, waited for, verified."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from autotuner_core.documents.base import Outcome, parse_event
from autotuner_core.documents.cost import StageTimings, TuningSpend
from autotuner_core.documents.request import parse_request, parse_target
from autotuner_core.documents.target import DiscoveredTarget, ExecutionRef, FunctionConfiguration
from autotuner_core.documents.task import Admission, TargetTask
from autotuner_core.policy.errors import (
    InvalidConfigurationError,
    StaleRevisionError,
    TargetChangedError,
    UpdateInProgressError,
)
from autotuner_core.settings import Settings
from autotuner_core.targets.updater import apply_memory

ORDERS = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
UPDATE = "UpdateFunctionConfiguration"


def discovered_task(fake_lambda: Any, *, desired: int, apply: bool = True) -> TargetTask:
    """The Map item for orders, as discovery would have produced it from the function as it is now."""
    task = TargetTask(
        execution=ExecutionRef(
            arn="arn:aws:states:eu-west-1:123456789012:execution:autotuner:run-1", start_time="2025-11-26T10:00:00Z"
        ),
        request=parse_request({"targets": ["orders"], "memorySize": desired, "apply": apply}),
        target=DiscoveredTarget(
            ref=parse_target("orders", partition="aws", region="eu-west-1", account="123456789012"),
            configuration=FunctionConfiguration.from_lambda(fake_lambda.configuration("orders")),
        ),
        timings=StageTimings(validate_permissions_ms=120.0, discover_resources_ms=80.0),
        admission=Admission.NORMAL,
        spend=TuningSpend(),
    )
    # Through JSON, as the state machine hands it over.
    return parse_event(TargetTask, task.dump())


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(STATUS_POLL_INTERVAL_MS=10, MAX_STATUS_WAIT_SECONDS=2)


def test_equal_memory_is_unchanged_without_any_call(fake_lambda: Any, settings: Settings) -> None:
    # Given a function already at the requested size, and an apply run
    fake_lambda.add("orders", memory=1024)
    task = discovered_task(fake_lambda, desired=1024)
    # When the memory is applied
    outcome, after = apply_memory(fake_lambda, task, settings)
    # Then nothing was called and the configuration is the discovered one
    assert outcome is Outcome.UNCHANGED
    assert after == task.target.configuration
    assert fake_lambda.calls == []


def test_dry_run_recommends_and_never_calls_lambda(fake_lambda: Any, settings: Settings) -> None:
    # Given a function at 512 MB and a dry run asking for 1024 MB
    fake_lambda.add("orders", memory=512, timeout=45)
    task = discovered_task(fake_lambda, desired=1024, apply=False)
    # When the memory is applied
    outcome, after = apply_memory(fake_lambda, task, settings)
    # Then it is a recommendation: the would-be configuration, no RevisionId, and no call at all
    assert outcome is Outcome.RECOMMENDED
    assert after.memory_size == 1024
    assert after.timeout == 45
    assert after.revision_id is None
    assert fake_lambda.calls == []
    assert fake_lambda.functions["orders"].memory == 512


def test_apply_sends_the_discovered_revision_waits_and_verifies(fake_lambda: Any, settings: Settings) -> None:
    # Given a function at 512 MB (rev-1) whose update stays InProgress for two polls
    fake_lambda.add("orders", memory=512, revision="rev-1", update_polls_in_progress=2)
    task = discovered_task(fake_lambda, desired=1024)
    # When the memory is applied
    outcome, after = apply_memory(fake_lambda, task, settings)
    # Then one guarded update was sent with the discovered RevisionId
    assert fake_lambda.calls_to(UPDATE) == [{"FunctionName": ORDERS, "MemorySize": 1024, "RevisionId": "rev-1"}]
    # And it read the function again before the update, then waited through InProgress to
    # Successful before reporting the live configuration
    assert len(fake_lambda.calls_to("GetFunction")) == 4
    assert outcome is Outcome.APPLIED
    assert after.memory_size == 1024
    assert after.last_update_status == "Successful"
    assert after.revision_id == fake_lambda.functions["orders"].revision != "rev-1"


def test_stale_revision_with_memory_unchanged_is_retried_with_the_fresh_revision(
    fake_lambda: Any, settings: Settings
) -> None:
    # Given discovery read rev-1, then someone changed something else (not memory)
    fake_lambda.add("orders", memory=512, revision="rev-1")
    task = discovered_task(fake_lambda, desired=1024)
    fresh = fake_lambda.changed_by_someone_else("orders")
    # (just after the updater's own read before its update)
    fake_lambda.functions["orders"].script = [{"RevisionId": "rev-1"}]
    # When the memory is applied
    outcome, after = apply_memory(fake_lambda, task, settings)
    # Then the update was refused once (412), re-read, and sent again with the RevisionId just read
    revisions = [call["RevisionId"] for call in fake_lambda.calls_to(UPDATE)]
    assert revisions == ["rev-1", fresh]
    assert revisions.count("rev-1") == 1
    assert outcome is Outcome.APPLIED
    assert after.memory_size == 1024


@pytest.mark.parametrize(
    ("earlier_attempt", "outcome_expected"),
    [
        (False, Outcome.UNCHANGED),  # another run (a second sweep) applied it: this run changed nothing
        (True, Outcome.APPLIED),  # this task's earlier attempt, cut off after its update, applied it
    ],
)
def test_the_desired_memory_already_live_is_not_sent_again_and_counts_as_this_runs_only_after_an_earlier_attempt(
    fake_lambda: Any, settings: Settings, earlier_attempt: bool, outcome_expected: Outcome
) -> None:
    # Given discovery read 512 MB, and the function is now at 1024 MB
    fake_lambda.add("orders", memory=512, revision="rev-1")
    task = discovered_task(fake_lambda, desired=1024)
    fake_lambda.changed_by_someone_else("orders", memory=1024)
    # When the memory is applied
    outcome, after = apply_memory(fake_lambda, task, settings, earlier_attempt=earlier_attempt)
    # Then no update is sent, the live configuration is verified, and the outcome says whose change it is
    assert fake_lambda.calls_to(UPDATE) == []
    assert outcome is outcome_expected
    assert after.memory_size == 1024


def test_an_update_applied_whose_answer_was_lost_is_reported_as_applied(fake_lambda: Any, settings: Settings) -> None:
    # Given the update was applied, but its answer lost (a 5xx), so the SDK sent it again and got 412
    fake_lambda.add("orders", memory=512, revision="rev-1")
    task = discovered_task(fake_lambda, desired=1024)
    fake_lambda.changed_by_someone_else("orders", memory=1024)
    fake_lambda.functions["orders"].script = [{"MemorySize": 512, "RevisionId": "rev-1"}]
    # When the memory is applied
    outcome, after = apply_memory(fake_lambda, task, settings)
    # Then the change counts as this run's, and is not sent a second time
    assert len(fake_lambda.calls_to(UPDATE)) == 1
    assert outcome is Outcome.APPLIED
    assert after.memory_size == 1024


def test_memory_changed_by_someone_else_is_never_overwritten(fake_lambda: Any, settings: Settings) -> None:
    # Given discovery read 512 MB, and an operator has since set 2048 MB
    fake_lambda.add("orders", memory=512, revision="rev-1")
    task = discovered_task(fake_lambda, desired=1024)
    fake_lambda.changed_by_someone_else("orders", memory=2048)
    # When the memory is applied
    with pytest.raises(TargetChangedError) as caught:
        apply_memory(fake_lambda, task, settings)
    # Then the run stops, naming the function, both sizes and the one it wanted; the operator's value stays
    assert str(caught.value) == (
        f"{ORDERS} memory changed from 512 MB to 2048 MB since discovery; "
        "not overwriting a concurrent change (wanted 1024 MB)"
    )
    assert fake_lambda.calls_to(UPDATE) == []
    assert fake_lambda.functions["orders"].memory == 2048


def test_revision_that_keeps_going_stale_gives_up_as_transient(
    fake_lambda: Any, settings: Settings, client_error: Callable[..., ClientError]
) -> None:
    # Given a function whose RevisionId is stale on every attempt
    fake_lambda.add("orders", memory=512, revision="rev-1")
    task = discovered_task(fake_lambda, desired=1024)
    stale = "The Revision Id provided does not match the latest Revision Id."
    fake_lambda.update_errors = [client_error("PreconditionFailedException", stale, 412, UPDATE) for _ in range(3)]
    # When the memory is applied
    with pytest.raises(StaleRevisionError) as caught:
        apply_memory(fake_lambda, task, settings)
    # Then it tried a bounded number of times, re-reading before each retry, then left it to the state machine
    assert len(fake_lambda.calls_to(UPDATE)) == 3
    assert str(caught.value) == f"{ORDERS} kept changing under us (3 stale RevisionIds)"
    assert fake_lambda.functions["orders"].memory == 512


def test_update_in_progress_propagates_as_transient(fake_lambda: Any, settings: Settings) -> None:
    # Given discovery saw the function settled, and then someone else started an update
    fake_lambda.add("orders", memory=512, revision="rev-1", update_polls_in_progress=10**6)
    task = discovered_task(fake_lambda, desired=1024)
    fake_lambda.functions["orders"].last_update = "InProgress"
    # When the memory is applied
    with pytest.raises(UpdateInProgressError) as caught:
        apply_memory(fake_lambda, task, settings)
    # Then it is the transient class (retried with backoff), naming the action and the function
    assert str(caught.value).startswith(f"lambda:UpdateFunctionConfiguration on {ORDERS}: ResourceConflictException: ")
    assert len(fake_lambda.calls_to(UPDATE)) == 1


def test_size_above_the_account_quota_is_a_configuration_error(
    fake_lambda: Any, settings: Settings, client_error: Callable[..., ClientError]
) -> None:
    # Given an account whose memory quota is 3008 MB
    fake_lambda.add("orders", memory=512)
    task = discovered_task(fake_lambda, desired=4096)
    quota = "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 3008"
    fake_lambda.update_errors = [client_error("InvalidParameterValueException", quota, 400, UPDATE)]
    # When 4096 MB is applied
    with pytest.raises(InvalidConfigurationError) as caught:
        apply_memory(fake_lambda, task, settings)
    # Then it is permanent, naming the action, the function and Lambda's reason
    message = str(caught.value)
    assert message.startswith(f"lambda:UpdateFunctionConfiguration on {ORDERS}: InvalidParameterValueException: ")
    assert "less than or equal to 3008" in message


def test_accepted_update_that_does_not_show_is_a_configuration_error(fake_lambda: Any, settings: Settings) -> None:
    # Given Lambda accepts the update but keeps reporting 512 MB
    fake_lambda.add("orders", memory=512, ignore_memory_updates=True)
    task = discovered_task(fake_lambda, desired=1024)
    # When 1024 MB is applied
    with pytest.raises(InvalidConfigurationError) as caught:
        apply_memory(fake_lambda, task, settings)
    # Then the mismatch is reported, not APPLIED
    assert str(caught.value) == f"{ORDERS} reports 512 MB after the update to 1024 MB was accepted"


def test_update_that_fails_after_being_accepted_is_a_configuration_error(fake_lambda: Any, settings: Settings) -> None:
    # Given Lambda accepts the update and then reports it Failed
    fake_lambda.add("orders", memory=512)
    task = discovered_task(fake_lambda, desired=1024)
    fake_lambda.functions["orders"].script = [{}, {"LastUpdateStatus": "Failed"}]
    # When 1024 MB is applied
    with pytest.raises(InvalidConfigurationError) as caught:
        apply_memory(fake_lambda, task, settings)
    # Then it is permanent and says the update failed
    assert str(caught.value) == f"the last update of {ORDERS} failed (LastUpdateStatus Failed)"
