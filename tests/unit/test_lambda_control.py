"""The Lambda control-plane calls: GetFunction, waiting for a settled function, the guarded update."""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.aws.lambda_control import (
    get_function,
    publish_ready_version,
    refuse_capacity_provider,
    update_configuration,
    wait_until_settled,
    wait_until_version_active,
)
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    InvalidConfigurationError,
    PermissionDeniedError,
    UpdateInProgressError,
)

ORDERS = "arn:aws:lambda:eu-west-1:123456789012:function:orders"


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_get_function_reads_configuration_revision_and_tags(fake_lambda) -> None:
    # Given a tagged function
    fake_lambda.add("orders", memory=256, revision="rev-7", tags={"team": "shop"})
    # When it is read
    state = get_function(fake_lambda, ORDERS)
    # Then its configuration, RevisionId, tags and ARN are what Lambda reported
    assert state.arn == ORDERS
    assert state.configuration.memory_size == 256
    assert state.configuration.revision_id == "rev-7"
    assert state.configuration.architectures == ["arm64"]
    assert state.configuration.ephemeral_storage == 512
    assert state.tags == {"team": "shop"}
    assert state.settled


def test_get_function_on_a_missing_qualifier_names_the_qualified_arn(fake_lambda) -> None:
    # Given a function without the alias "live"
    fake_lambda.add("orders")
    # When the alias is read
    with pytest.raises(FunctionNotFoundError) as caught:
        get_function(fake_lambda, ORDERS, "live")
    # Then the error names the alias ARN and the action
    assert str(caught.value).startswith(f"lambda:GetFunction on {ORDERS}:live: ResourceNotFoundException: ")


def test_wait_polls_until_the_update_is_done_and_returns_the_fresh_state(fake_lambda) -> None:
    # Given an update still in progress for two more polls
    fake_lambda.add("orders", last_update="InProgress", update_polls_in_progress=2, revision="rev-9")
    time = FakeTime()
    # When waiting for it to settle
    state = wait_until_settled(
        fake_lambda, ORDERS, poll_interval_s=0.5, max_wait_s=10, sleep=time.sleep, clock=time.clock
    )
    # Then it slept between polls, and returns the settled configuration
    assert time.sleeps == [0.5, 0.5]
    assert len(fake_lambda.calls_to("GetFunction")) == 3
    assert state.configuration.last_update_status == "Successful"
    assert state.configuration.revision_id == "rev-9"


def test_still_in_progress_at_the_deadline_is_transient_and_says_what_it_saw(fake_lambda) -> None:
    # Given an update that never finishes
    fake_lambda.add("orders", last_update="InProgress", update_polls_in_progress=10**6)
    time = FakeTime()
    # When waiting at most 3 s, polling every second
    with pytest.raises(UpdateInProgressError) as caught:
        wait_until_settled(fake_lambda, ORDERS, poll_interval_s=1, max_wait_s=3, sleep=time.sleep, clock=time.clock)
    # Then it gives up at the deadline (no longer), naming the function, its status and the wait
    assert sum(time.sleeps) == 3
    assert str(caught.value) == f"{ORDERS} is still State=Active LastUpdateStatus=InProgress after 3 s"


@pytest.mark.parametrize(
    ("answers", "polls"),
    [
        ([{"State": "Pending", "LastUpdateStatus": "Successful"}] * 2, 3),
        ([{"State": "Active", "LastUpdateStatus": None}], 1),
        ([{"State": "Inactive", "LastUpdateStatus": "Successful"}], 1),
    ],
    ids=["pending-waits-whatever-the-update-says", "no-update-status-is-settled", "inactive-is-settled"],
)
def test_settled_means_neither_pending_nor_in_progress(fake_lambda, answers, polls) -> None:
    # Given a function answering these states first, then Active and Successful
    fake_lambda.add("orders", script=list(answers))
    time = FakeTime()
    # When waiting for it to settle
    wait_until_settled(fake_lambda, ORDERS, poll_interval_s=1, max_wait_s=10, sleep=time.sleep, clock=time.clock)
    # Then it polled until it was neither Pending nor InProgress
    assert len(fake_lambda.calls_to("GetFunction")) == polls


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"LastUpdateStatus": "Failed"}, "the last update of " + ORDERS + " failed (LastUpdateStatus Failed)"),
        ({"State": "Failed", "LastUpdateStatus": None}, ORDERS + " is in State Failed and cannot be tuned"),
    ],
    ids=["update-failed", "state-failed"],
)
def test_a_failed_function_is_a_permanent_configuration_error(fake_lambda, override, expected) -> None:
    # Given a function whose update (or creation) failed
    fake_lambda.add("orders", script=[override])
    time = FakeTime()
    # When waiting for it
    with pytest.raises(InvalidConfigurationError) as caught:
        wait_until_settled(fake_lambda, ORDERS, poll_interval_s=1, max_wait_s=3, sleep=time.sleep, clock=time.clock)
    # Then it is not retried: the message says what failed, without waiting
    assert str(caught.value) == expected
    assert time.sleeps == []


@pytest.mark.parametrize(("revision", "sent"), [("rev-1", "rev-1"), (None, None)])
def test_a_memory_update_sends_the_revision_guard_when_it_has_one(fake_lambda, revision, sent) -> None:
    # Given a function at 512 MB
    fake_lambda.add("orders", revision="rev-1")
    # When its memory is updated
    update_configuration(fake_lambda, ORDERS, {"MemorySize": 1024}, revision)
    # Then exactly one update was sent, with the RevisionId given
    assert fake_lambda.calls_to("UpdateFunctionConfiguration") == [
        {"FunctionName": ORDERS, "MemorySize": 1024, "RevisionId": sent}
    ]
    assert fake_lambda.functions["orders"].memory == 1024


class SnapStartLambda:
    """PublishVersion answers a Pending version (SnapStart); GetFunction of it answers the scripted states."""

    def __init__(self, states: list[str], published_state: str = "Pending") -> None:
        self.states = list(states)
        self.published_state = published_state
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def publish_version(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("PublishVersion", kwargs))
        return {"Version": "7", "State": self.published_state, "FunctionArn": f"{ORDERS}:7"}

    def get_function(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("GetFunction", kwargs))
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        configuration = {"FunctionArn": f"{ORDERS}:7", "Version": "7", "MemorySize": 512, "Timeout": 30}
        return {"Configuration": {**configuration, "State": state}}


def test_a_pending_published_version_is_waited_for_until_active() -> None:
    # Given a function whose new version is Pending for two polls (SnapStart making its snapshot)
    client = SnapStartLambda(["Pending", "Pending", "Active"])
    # When a version is published to be invoked
    version = publish_ready_version(client, ORDERS, "marker", "rev-1", poll_interval_s=0.001, max_wait_s=10)
    # Then the version is returned only after GetFunction of that version said Active
    assert version == "7"
    polls = [kwargs for name, kwargs in client.calls if name == "GetFunction"]
    assert polls == [{"FunctionName": ORDERS, "Qualifier": "7"}] * 3
    assert client.calls[0] == (
        "PublishVersion",
        {"FunctionName": ORDERS, "Description": "marker", "RevisionId": "rev-1"},
    )


def test_an_active_published_version_is_not_polled() -> None:
    # Given a function without SnapStart: its new version is Active at once
    client = SnapStartLambda(["Active"], published_state="Active")
    # When a version is published
    assert publish_ready_version(client, ORDERS, "marker", None, poll_interval_s=0.5, max_wait_s=10) == "7"
    # Then no GetFunction was needed
    assert [name for name, _ in client.calls] == ["PublishVersion"]


def test_a_version_still_pending_at_the_deadline_is_transient_and_a_failed_one_permanent() -> None:
    # Given a version that stays Pending, and one that fails
    time = FakeTime()
    # When the tuner waits for them, 3 s at most
    with pytest.raises(UpdateInProgressError) as pending:
        wait_until_version_active(
            SnapStartLambda(["Pending"]),
            ORDERS,
            "7",
            poll_interval_s=1,
            max_wait_s=3,
            sleep=time.sleep,
            clock=time.clock,
        )
    with pytest.raises(InvalidConfigurationError) as failed:
        wait_until_version_active(
            SnapStartLambda(["Failed"]),
            ORDERS,
            "7",
            poll_interval_s=1,
            max_wait_s=3,
            sleep=time.sleep,
            clock=time.clock,
        )
    # Then the first is transient after a bounded wait, naming the version and the state; the second permanent
    assert "version 7" in str(pending.value) and "still State=Pending after 3 s" in str(pending.value)
    assert sum(time.sleeps) == 3
    assert "State Failed" in str(failed.value)


def test_a_function_on_a_capacity_provider_is_refused_naming_it(fake_lambda) -> None:
    # Given a function on Lambda Managed Instances
    fake_lambda.add("orders")
    provider = "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:fleet-a"
    fake_lambda.functions["orders"].script.append(
        {"CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": provider}}}
    )
    state = get_function(fake_lambda, ORDERS)
    # When it is checked for memory tuning
    with pytest.raises(InvalidConfigurationError) as refused:
        refuse_capacity_provider(state)
    # Then it is refused permanently, naming the capacity provider and why
    assert provider in str(refused.value) and "not GB-seconds" in str(refused.value)
    # And an on-demand function passes
    fake_lambda.add("billing")
    refuse_capacity_provider(get_function(fake_lambda, ORDERS.replace("orders", "billing")))


def test_tags_left_out_of_get_function_are_read_with_list_tags_when_needed(fake_lambda) -> None:
    # Given an untagged function, and a tagged one whose tags GetFunction leaves out
    fake_lambda.add("orders")
    fake_lambda.add("billing", tags={"team": "pay"})
    fake_lambda.functions["billing"].script.append({})
    # When they are read by a caller that decides on tags
    untagged = get_function(fake_lambda, ORDERS, tags_needed=True)
    # Then an answer without tags is confirmed with ListTags: untagged is really untagged
    assert untagged.tags == {}
    assert fake_lambda.calls_to("ListTags") == [{"Resource": ORDERS}]
    # And without tags_needed (a poll), no ListTags call is made
    get_function(fake_lambda, ORDERS)
    assert len(fake_lambda.calls_to("ListTags")) == 1


def test_list_tags_denied_is_a_missing_permission_not_no_tags(fake_lambda) -> None:
    # Given a function whose tags the caller may not read, and GetFunction answering without TagsError
    fake_lambda.add("orders", tags={"autotune": "true"}, tags_denied=True)
    fake_lambda.functions["orders"].script.append({})

    answer_with_tags_error = fake_lambda.get_function

    def answer_without_tags_error(**kwargs: Any) -> dict[str, Any]:
        answer = answer_with_tags_error(**kwargs)
        answer.pop("TagsError", None)
        return answer

    fake_lambda.get_function = answer_without_tags_error
    # When it is read by a caller that decides on tags
    with pytest.raises(PermissionDeniedError) as denied:
        get_function(fake_lambda, ORDERS, tags_needed=True)
    # Then the error names lambda:ListTags
    assert "lambda:ListTags" in str(denied.value)
