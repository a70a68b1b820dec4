"""The Lambda control-plane calls: GetFunction, waiting for a settled function, the guarded update."""

from __future__ import annotations

import pytest

from autotuner_core.errors import FunctionNotFoundError, InvalidConfigurationError, UpdateInProgressError
from autotuner_core.lambda_control import get_function, update_configuration, wait_until_settled

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
