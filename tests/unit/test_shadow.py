"""Shadow copies: where a target is measured, how shadows are named, and what the orphan sweep may delete."""

from __future__ import annotations

from typing import Any

import pytest
from fake_paging import Paginated

from autotuner_core.documents.target import LiveTrafficEvidence
from autotuner_core.measuring import shadow, shadow_cleanup
from autotuner_core.settings import Settings

STACK = "lambda-autotuner"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:lambda-autotuner-tuner"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:lambda-autotuner-tuner:run-1"
TARGET = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
ROLE = "arn:aws:iam::123456789012:role/orders-api-role"
LIVE = LiveTrafficEvidence(live=True, sources=["function URL"])
IDLE = LiveTrafficEvidence(live=False)


def settings(**env: str) -> Settings:
    return Settings.model_validate({"TUNER_STACK_NAME": STACK, "SWEEP_BUCKET": "sweep", **env})


def test_shadow_names_are_in_the_tuners_namespace_short_and_per_target():
    # Given two targets of one run
    first = shadow.shadow_name("abcd1234", TARGET)
    second = shadow.shadow_name("abcd1234", TARGET.replace("orders-api", "billing-api"))
    # Then each has its own name, in the autotuner-shadow- namespace, within Lambda's 64 characters
    assert first.startswith("autotuner-shadow-abcd1234-") and first != second
    assert len(first) <= 64
    assert shadow.shadow_arn(TARGET, first) == f"arn:aws:lambda:eu-west-1:123456789012:function:{first}"


@pytest.mark.parametrize(
    ("evidence", "patterns", "opted_in", "expected"),
    [
        (IDLE, "", False, "versions"),
        (LIVE, ROLE, False, "shadow"),
        (LIVE, "arn:aws:iam::123456789012:role/orders-*", True, "shadow"),  # a shadow is preferred
        (LIVE, "", True, "in-place"),
        (LIVE, "arn:aws:iam::123456789012:role/payments-*", True, "in-place"),
        (LIVE, "", False, ""),
        (LIVE, "arn:aws:iam::123456789012:role/payments-*", False, ""),
    ],
)
def test_where_a_target_is_measured(evidence: Any, patterns: str, opted_in: bool, expected: str):
    # Given what discovery found, the deployment's ShadowRoleArns and the input's measureOnLive
    decided = shadow.decide(evidence, ROLE, settings(SHADOW_ROLE_ARNS=patterns), measure_on_live=opted_in)
    # Then the target is measured on versions, on a shadow, in place, or refused ("")
    assert decided == expected


def test_the_refusal_says_how_to_allow_a_shadow():
    # Given no shadows allowed, or not for this role
    empty = shadow.shadow_refusal(ROLE, settings())
    other = shadow.shadow_refusal(ROLE, settings(SHADOW_ROLE_ARNS="arn:aws:iam::123456789012:role/payments-*"))
    # Then the message names the parameter, the role when it is the problem, and measureOnLive
    assert "ShadowRoleArns" in empty and "measureOnLive" in empty
    assert ROLE in other and "ShadowRoleArns" in other


# -- the orphan sweep -------------------------------------------------------------------------------


class FakeTagging(Paginated):
    SERVICE = "resourcegroupstaggingapi"

    def __init__(self, resources: list[tuple[str, dict[str, str]]]) -> None:
        self.resources = resources

    def get_resources(self, **kwargs: Any) -> dict[str, Any]:
        keys = {item["Key"] for item in kwargs["TagFilters"]}
        found = [
            {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            for arn, tags in self.resources
            if keys <= set(tags)
        ]
        return {"ResourceTagMappingList": found}


class FakeStepFunctions:
    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {"status": self.statuses[executionArn]}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def delete_function(self, **kwargs: Any) -> None:
        self.calls.append(("DeleteFunction", kwargs))

    def delete_object(self, **kwargs: Any) -> None:
        self.calls.append(("DeleteObject", kwargs))

    def delete_log_group(self, **kwargs: Any) -> None:
        self.calls.append(("DeleteLogGroup", kwargs))


def tags(execution: str = EXECUTION, stack: str = STACK) -> dict[str, str]:
    return {shadow.SHADOW_OF_TAG: TARGET, shadow.EXECUTION_TAG: execution, "lambda-autotuner:stack": stack}


def arn(name: str) -> str:
    return f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"


def test_the_sweep_deletes_only_the_tuners_shadows_of_finished_runs():
    # Given shadows of a finished run, of a running one, a user's function named like a shadow but
    # untagged by the tuner, a tagged function outside the namespace, and another stack's shadow
    running = EXECUTION.replace("run-1", "run-2")
    other_stack = "arn:aws:states:eu-west-1:123456789012:execution:other-tuner:run-9"
    tagging = FakeTagging(
        [
            (arn("autotuner-shadow-aaaa1111-0000000001"), tags()),
            (arn("autotuner-shadow-bbbb2222-0000000002"), tags(running)),
            (arn("autotuner-shadow-users-own"), {shadow.SHADOW_OF_TAG: TARGET, shadow.EXECUTION_TAG: EXECUTION}),
            (arn("orders-api-copy"), tags()),
            (arn("autotuner-shadow-cccc3333-0000000003"), tags(other_stack, "other")),
        ]
    )
    sfn = FakeStepFunctions({EXECUTION: "FAILED", running: "RUNNING"})
    lam, logs, s3 = Recorder(), Recorder(), Recorder()
    # When the sweep runs
    report = shadow_cleanup.sweep_orphans(tagging, lam, logs, sfn, s3, settings(), state_machine_arn=MACHINE)
    # Then only the finished run's shadow is deleted, with its code copy
    assert lam.calls == [("DeleteFunction", {"FunctionName": arn("autotuner-shadow-aaaa1111-0000000001")})]
    assert s3.calls == [
        ("DeleteObject", {"Bucket": "sweep", "Key": "shadow-code/autotuner-shadow-aaaa1111-0000000001.zip"})
    ]
    assert logs.calls == [("DeleteLogGroup", {"logGroupName": "/aws/lambda/autotuner-shadow-aaaa1111-0000000001"})]
    assert (report.found, report.deleted, report.kept_running) == (2, 1, 1)
