"""Discovery: each target's configuration and RevisionId, or the reason it must not be tuned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from autotuner_core.documents.request import parse_request, parse_target
from autotuner_core.documents.target import DiscoveredTarget
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    InvalidConfigurationError,
    InvalidInputError,
    PermissionDeniedError,
    UpdateInProgressError,
)
from autotuner_core.settings import TUNER_STACK_TAG, Settings
from autotuner_core.targets.discovery import discover

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ORDERS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
BILLING = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing"
TAGGED = {"autotune": "true"}


def run_discovery(client: Any, settings: Settings, *targets: str, apply: bool = False) -> list[DiscoveredTarget]:
    request = parse_request({"targets": list(targets), "memorySize": 1024, "apply": apply})
    refs = [parse_target(text, partition="aws", region=REGION, account=ACCOUNT) for text in targets]
    return discover(client, request, refs, settings)


@pytest.fixture
def tag_scoped(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(TARGET_TAG_KEY="autotune", TARGET_TAG_VALUE="true")


def test_each_target_travels_with_its_configuration_and_revision(
    fake_lambda: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given two functions
    fake_lambda.add("orders", memory=512, revision="rev-o", tags={"team": "shop"})
    fake_lambda.add("billing", memory=2048, revision="rev-b")
    # When they are discovered
    found = run_discovery(fake_lambda, make_settings(), "orders", BILLING)
    # Then each carries its reference, its current configuration with RevisionId, and its tags
    assert [(t.ref.arn, t.configuration.memory_size, t.configuration.revision_id) for t in found] == [
        (ORDERS, 512, "rev-o"),
        (BILLING, 2048, "rev-b"),
    ]
    assert found[0].tags == {"team": "shop"}
    assert found[0].dump()["configuration"]["RevisionId"] == "rev-o"


def test_alias_must_exist_but_the_function_configuration_is_read(
    fake_lambda: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given a function with alias "live"
    fake_lambda.add("orders", qualifiers={"live"}, revision="rev-o")
    # When the alias is discovered
    found = run_discovery(fake_lambda, make_settings(), "orders:live")
    # Then the alias was checked, and the configuration is the function's own ($LATEST)
    assert fake_lambda.calls_to("GetFunction") == [
        {"FunctionName": ORDERS, "Qualifier": "live"},
        {"FunctionName": ORDERS, "Qualifier": None},
    ]
    assert found[0].ref.qualifier == "live"
    assert found[0].configuration.revision_id == "rev-o"


def test_latest_qualifier_reads_the_function_once(fake_lambda: Any, make_settings: Callable[..., Settings]) -> None:
    # Given a target written as orders:$LATEST
    fake_lambda.add("orders")
    # When it is discovered
    run_discovery(fake_lambda, make_settings(), "orders:$LATEST")
    # Then the unqualified function is read, once
    assert fake_lambda.calls_to("GetFunction") == [{"FunctionName": ORDERS, "Qualifier": None}]


@pytest.mark.parametrize(
    ("target", "shown"), [("ghost", ORDERS.replace("orders", "ghost")), ("orders:canary", ORDERS + ":canary")]
)
def test_missing_function_or_alias_ends_discovery_naming_it(
    fake_lambda: Any, make_settings: Callable[..., Settings], target: str, shown: str
) -> None:
    # Given orders exists without alias "canary", and ghost does not exist
    fake_lambda.add("orders")
    fake_lambda.add("billing")
    # When the missing one is discovered before billing
    with pytest.raises(FunctionNotFoundError) as caught:
        run_discovery(fake_lambda, make_settings(), target, "billing")
    # Then the error names the action and what is missing, and billing is never read
    assert str(caught.value).startswith(f"lambda:GetFunction on {shown}: ResourceNotFoundException: ")
    assert all("billing" not in call["FunctionName"] for call in fake_lambda.calls_to("GetFunction"))


@pytest.mark.parametrize("apply", [False, True])
def test_the_tuners_own_functions_are_refused(
    fake_lambda: Any, make_settings: Callable[..., Settings], apply: bool
) -> None:
    # Given a function of the tuner stack itself
    fake_lambda.add("autotuner-Update", tags={TUNER_STACK_TAG: "lambda-autotuner", **TAGGED})
    # When it is discovered, in a dry run or not
    with pytest.raises(InvalidInputError) as caught:
        run_discovery(fake_lambda, make_settings(), "autotuner-Update", apply=apply)
    # Then it is bad input naming the target and the stack
    assert "'autotuner-Update' is a function of the Lambda Autotuner stack 'lambda-autotuner'" in str(caught.value)


@pytest.mark.parametrize("tags", [{}, {"autotune": "false"}], ids=["untagged", "wrong-value"])
def test_apply_on_a_target_without_the_tag_is_denied_naming_the_tag(
    fake_lambda: Any, tag_scoped: Settings, tags: dict[str, str]
) -> None:
    # Given a tag-scoped tuner and a target without autotune=true
    fake_lambda.add("orders", tags=tags)
    # When an apply run discovers it
    with pytest.raises(PermissionDeniedError) as caught:
        run_discovery(fake_lambda, tag_scoped, "orders", apply=True)
    # Then the error names the target and the tag it lacks, before any change
    assert f"target {ORDERS} is not tagged autotune=true" in str(caught.value)
    assert fake_lambda.calls_to("UpdateFunctionConfiguration") == []


def test_dry_run_on_an_untagged_target_is_allowed(fake_lambda: Any, tag_scoped: Settings) -> None:
    # Given a tag-scoped tuner and an untagged target
    fake_lambda.add("orders")
    # When a dry run discovers it
    found = run_discovery(fake_lambda, tag_scoped, "orders", apply=False)
    # Then it is discovered (a dry run changes nothing, so the tag does not matter)
    assert [t.ref.arn for t in found] == [ORDERS]


def test_apply_on_a_tagged_target_is_allowed(fake_lambda: Any, tag_scoped: Settings) -> None:
    # Given a tag-scoped tuner and a tagged target
    fake_lambda.add("orders", tags=TAGGED)
    # When an apply run discovers it
    found = run_discovery(fake_lambda, tag_scoped, "orders", apply=True)
    # Then it is discovered with its tags
    assert found[0].tags == TAGGED


def test_pending_function_is_waited_for_and_the_settled_configuration_returned(
    fake_lambda: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given a function still being created for two reads
    pending = {"State": "Pending", "LastUpdateStatus": None, "RevisionId": "rev-creating"}
    fake_lambda.add("orders", revision="rev-1", script=[pending, pending])
    # When it is discovered
    found = run_discovery(fake_lambda, make_settings(STATUS_POLL_INTERVAL_MS=10), "orders")
    # Then discovery polled until Active and returns the configuration (and RevisionId) read then
    assert len(fake_lambda.calls_to("GetFunction")) == 3
    assert found[0].configuration.state == "Active"
    assert found[0].configuration.revision_id == "rev-1"


def test_update_in_progress_past_the_deadline_is_transient(
    fake_lambda: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given a function whose update never finishes
    fake_lambda.add("orders", last_update="InProgress", update_polls_in_progress=10**6)
    settings = make_settings(STATUS_POLL_INTERVAL_MS=10, MAX_STATUS_WAIT_SECONDS=0.05)
    # When it is discovered
    with pytest.raises(UpdateInProgressError) as caught:
        run_discovery(fake_lambda, settings, "orders")
    # Then discovery gives up (the state machine retries later), saying what it saw and for how long
    assert str(caught.value) == f"{ORDERS} is still State=Active LastUpdateStatus=InProgress after 0.05 s"
    assert len(fake_lambda.calls_to("GetFunction")) >= 2


def test_update_that_fails_while_waited_for_is_a_configuration_error(
    fake_lambda: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given an update in progress that then fails
    fake_lambda.add("orders", script=[{"LastUpdateStatus": "InProgress"}, {"LastUpdateStatus": "Failed"}])
    # When the function is discovered
    with pytest.raises(InvalidConfigurationError) as caught:
        run_discovery(fake_lambda, make_settings(), "orders")
    # Then it is permanent, naming the function and the status
    assert str(caught.value) == f"the last update of {ORDERS} failed (LastUpdateStatus Failed)"


@pytest.mark.parametrize(
    "failed",
    [{"LastUpdateStatus": "Failed"}, {"State": "Failed", "LastUpdateStatus": None}],
    ids=["last-update-failed", "state-failed"],
)
def test_function_already_failed_at_the_first_read_is_refused(
    fake_lambda: Any, make_settings: Callable[..., Settings], failed: dict[str, Any]
) -> None:
    # Given a function whose last update (or creation) failed before this run
    fake_lambda.add("orders", script=[failed, failed])
    # When it is discovered
    # Then it is refused as a configuration error naming it, as when the failure is seen while waiting
    try:
        run_discovery(fake_lambda, make_settings(), "orders")
    except InvalidConfigurationError as error:
        assert ORDERS in str(error)
        assert "Failed" in str(error)
    else:
        raise AssertionError("discovered a Failed function as tunable")


def test_tags_hidden_by_a_missing_list_tags_permission_are_not_read_as_no_tags(
    fake_lambda: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given a function of the tuner stack, and a discover role without lambda:ListTags
    fake_lambda.add("autotuner-Update", tags={TUNER_STACK_TAG: "lambda-autotuner"}, tags_denied=True)
    # When it is discovered
    # Then discovery does not treat it as an untagged, tunable function: it names the missing permission
    try:
        run_discovery(fake_lambda, make_settings(), "autotuner-Update")
    except PermissionDeniedError as error:
        assert "lambda:ListTags" in str(error)
    else:
        raise AssertionError("a function whose tags could not be read was discovered as tunable")
