"""Pre-flight's simulation: each permission the run needs is asked of IAM before anything runs, each denial named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from preflight_roles import (
    ACCOUNT,
    BILLING,
    CLEANUP_ROLE,
    DISCOVER_FN,
    DISCOVER_ROLE,
    ORDERS,
    RECORD_FN,
    RECORD_ROLE,
    REGION,
    STATE_ARN,
    STATE_MACHINE_ROLE,
    SUMMARIZE_ROLE,
    TABLE_ARN,
    TUNER_FN,
    UPDATE,
    UPDATE_ROLE,
    VALIDATE_ROLE,
    checks_for,
    triples,
)

from autotuner_core.documents.request import parse_request
from autotuner_core.documents.target import PermissionCheck
from autotuner_core.policy.errors import PermissionDeniedError
from autotuner_core.policy.preflight import required_permissions, resolve_targets, simulate
from autotuner_core.settings import Settings

# --------------------------------------------------------------------------------------------
# simulate
# --------------------------------------------------------------------------------------------


def test_all_allowed_passes_and_simulates_exactly_the_listed_checks(
    fake_iam: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given an apply run in a tag-scoped deployment, and IAM allowing everything
    settings = make_settings(TARGET_TAG_KEY="autotune", TARGET_TAG_VALUE="true")
    checks = checks_for(settings, "orders", apply=True)
    # When the checks are simulated
    calls = simulate(fake_iam, checks)
    # Then one call per check was made, for the template's roles and the run's resources
    # (three of them the orphan sweep's, which runs whatever ShadowRoleArns says)
    assert calls == len(checks) == len(fake_iam.calls) == 16
    asked = {(c["PolicySourceArn"], tuple(c["ActionNames"]), tuple(c["ResourceArns"])) for c in fake_iam.calls}
    assert (UPDATE_ROLE, (UPDATE,), (ORDERS,)) in asked
    # (an apply first reads the target's last APPLIED record and its deploy-revert hold: targets/drift.py)
    assert (UPDATE_ROLE, ("dynamodb:Query",), (TABLE_ARN,)) in asked
    assert (UPDATE_ROLE, ("dynamodb:GetItem",), (STATE_ARN,)) in asked
    assert (RECORD_ROLE, ("dynamodb:PutItem",), (TABLE_ARN,)) in asked
    # And the tag the policies require for a change is passed as a context entry on the updates only
    # (the updater's, and the clean-up's that can undo it)
    with_context = [c for c in fake_iam.calls if "ContextEntries" in c]
    assert sorted(c["PolicySourceArn"] for c in with_context) == [CLEANUP_ROLE, UPDATE_ROLE]
    assert all(c["ActionNames"] == [UPDATE] for c in with_context)
    assert with_context[0]["ContextEntries"] == [
        {"ContextKeyName": "aws:ResourceTag/autotune", "ContextKeyValues": ["true"], "ContextKeyType": "string"}
    ]


@pytest.mark.parametrize("decision", ["implicitDeny", "explicitDeny"])
def test_denied_action_names_action_role_resource_and_decision(
    fake_iam: Any, make_settings: Callable[..., Settings], decision: str
) -> None:
    # Given the update role may not update orders
    fake_iam.deny(UPDATE_ROLE, UPDATE, ORDERS, decision)
    # When an apply run's permissions are simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, checks_for(make_settings(), "orders", apply=True))
    # Then the error says which role may not do what on which resource, and IAM's decision
    assert str(caught.value) == (
        f"pre-flight denied 1 permission: role {UPDATE_ROLE} may not {UPDATE} on {ORDERS} ({decision})"
    )


def test_every_denial_is_listed_not_only_the_first(fake_iam: Any, make_settings: Callable[..., Settings]) -> None:
    # Given three denials across two roles and two resources
    fake_iam.deny(DISCOVER_ROLE, "lambda:GetFunction", BILLING)
    fake_iam.deny(UPDATE_ROLE, UPDATE, ORDERS)
    fake_iam.deny(UPDATE_ROLE, UPDATE, BILLING, "explicitDeny")
    # When the run's permissions are simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, checks_for(make_settings(), "orders", "billing", apply=True))
    # Then all three are in one error, and every check was still simulated
    message = str(caught.value)
    assert message.startswith("pre-flight denied 3 permissions: ")
    assert f"role {DISCOVER_ROLE} may not lambda:GetFunction on {BILLING} (implicitDeny)" in message
    assert f"role {UPDATE_ROLE} may not {UPDATE} on {ORDERS} (implicitDeny)" in message
    assert f"role {UPDATE_ROLE} may not {UPDATE} on {BILLING} (explicitDeny)" in message
    assert len(fake_iam.calls) == 16


def one_check(role: str = UPDATE_ROLE, resources: tuple[str, ...] = (ORDERS, BILLING)) -> list[PermissionCheck]:
    return [PermissionCheck(role_arn=role, actions=[UPDATE], resources=list(resources))]


def test_resource_specific_results_name_only_the_denied_resource(fake_iam: Any) -> None:
    # Given IAM answering per resource: orders allowed, billing denied
    fake_iam.pages.append(
        {
            "EvaluationResults": [
                {
                    "EvalActionName": UPDATE,
                    "EvalResourceName": "*",
                    "EvalDecision": "implicitDeny",
                    "ResourceSpecificResults": [
                        {"EvalResourceName": ORDERS, "EvalResourceDecision": "allowed"},
                        {"EvalResourceName": BILLING, "EvalResourceDecision": "implicitDeny"},
                    ],
                }
            ],
            "IsTruncated": False,
        }
    )
    # When the check is simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, one_check())
    # Then only billing is reported
    message = str(caught.value)
    assert f"may not {UPDATE} on {BILLING} (implicitDeny)" in message
    assert ORDERS not in message
    assert message.startswith("pre-flight denied 1 permission: ")


@pytest.mark.parametrize(
    ("detail", "explanation"),
    [
        ({"OrganizationsDecisionDetail": {"AllowedByOrganizations": False}}, "denied by an organizations policy"),
        (
            {"PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": False}},
            "denied by the permissions boundary",
        ),
    ],
    ids=["organizations", "permissions-boundary"],
)
def test_denial_by_an_scp_or_boundary_says_so(fake_iam: Any, detail: dict[str, Any], explanation: str) -> None:
    # Given the role's own policy allows the update but an SCP or the permissions boundary does not
    for decision in ("implicitDeny", "allowed"):
        fake_iam.pages.append(
            {
                "EvaluationResults": [
                    {"EvalActionName": UPDATE, "EvalResourceName": ORDERS, "EvalDecision": decision, **detail}
                ],
                "IsTruncated": False,
            }
        )
    # When the check is simulated (whether or not IAM folded the detail into EvalDecision)
    for decision in ("implicitDeny", "allowed"):
        with pytest.raises(PermissionDeniedError) as caught:
            simulate(fake_iam, one_check(resources=(ORDERS,)))
        # Then the denial names the action, role and resource, and where it came from
        assert f"role {UPDATE_ROLE} may not {UPDATE} on {ORDERS} ({decision}, {explanation})" in str(caught.value)


def test_missing_context_is_named_as_a_hint(fake_iam: Any) -> None:
    # Given a tag-conditioned policy simulated without the tag
    fake_iam.pages.append(
        {
            "EvaluationResults": [
                {
                    "EvalActionName": UPDATE,
                    "EvalResourceName": ORDERS,
                    "EvalDecision": "implicitDeny",
                    "MissingContextValues": ["aws:ResourceTag/autotune"],
                }
            ],
            "IsTruncated": False,
        }
    )
    # When the check is simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, one_check(resources=(ORDERS,)))
    # Then the operator is told which context key the policy wanted
    assert "(implicitDeny; missing context aws:ResourceTag/autotune)" in str(caught.value)


def test_truncated_results_are_paged_and_a_denial_on_a_later_page_counts(fake_iam: Any) -> None:
    # Given IAM answers in two pages; the denial is on the second
    fake_iam.pages.extend(
        [
            {
                "EvaluationResults": [
                    {"EvalActionName": UPDATE, "EvalResourceName": ORDERS, "EvalDecision": "allowed"}
                ],
                "IsTruncated": True,
                "Marker": "page-2",
            },
            {
                "EvaluationResults": [
                    {"EvalActionName": UPDATE, "EvalResourceName": BILLING, "EvalDecision": "implicitDeny"}
                ],
                "IsTruncated": False,
            },
        ]
    )
    # When the check is simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, one_check())
    # Then the second page was asked for with IAM's marker, and its denial is reported
    assert [call.get("Marker") for call in fake_iam.calls] == [None, "page-2"]
    assert f"may not {UPDATE} on {BILLING} (implicitDeny)" in str(caught.value)


def test_many_resources_are_split_into_small_simulations(fake_iam: Any) -> None:
    # Given one check over 60 functions
    resources = tuple(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn-{i:02d}" for i in range(60))
    # When it is simulated
    calls = simulate(fake_iam, one_check(resources=resources))
    # Then it took several calls, each small, covering every resource exactly once
    assert calls == len(fake_iam.calls) == 3
    assert all(len(call["ResourceArns"]) <= 25 for call in fake_iam.calls)
    assert [arn for call in fake_iam.calls for arn in call["ResourceArns"]] == list(resources)


def test_missing_role_arn_is_denied_before_asking_iam(fake_iam: Any, make_settings: Callable[..., Settings]) -> None:
    # Given a deployment that did not pass the update role's ARN
    checks = checks_for(make_settings(UPDATE_ROLE_ARN=""), "orders", apply=True)
    # When the checks are simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, checks)
    # Then the error names the action that has no role, and IAM was never asked about an empty ARN
    assert "UPDATE_ROLE_ARN is empty" in str(caught.value)
    assert all(call["PolicySourceArn"] for call in fake_iam.calls)


def test_missing_role_arn_names_the_setting_to_fix(fake_iam: Any, make_settings: Callable[..., Settings]) -> None:
    # Given a deployment that did not pass the update role's ARN
    checks = checks_for(make_settings(UPDATE_ROLE_ARN=""), "orders", apply=False)
    # When the checks are simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, checks)
    # Then the operator is told which environment variable is empty
    assert "UPDATE_ROLE_ARN" in str(caught.value)


def test_iam_refusing_the_simulation_itself_is_a_permission_error_naming_the_role(
    fake_iam: Any, client_error: Callable[..., ClientError]
) -> None:
    # Given the validator's own role may not call iam:SimulatePrincipalPolicy
    fake_iam.error = client_error(
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/validator/x is not authorized to perform: "
        "iam:SimulatePrincipalPolicy",
        403,
        "SimulatePrincipalPolicy",
    )
    # When a check is simulated
    with pytest.raises(PermissionDeniedError) as caught:
        simulate(fake_iam, one_check())
    # Then the error names the IAM action and the role being simulated
    assert str(caught.value).startswith(f"iam:SimulatePrincipalPolicy on {UPDATE_ROLE}: AccessDenied: ")
    assert isinstance(caught.value.__cause__, ClientError)


def test_a_large_sweep_simulates_fifty_targets_spread_over_the_list() -> None:
    # Given a sweep of 1,000 targets in name order
    from autotuner_core.documents.request import parse_target
    from autotuner_core.policy.preflight import FULLY_CHECKED_TARGETS, preflight_sample

    targets = [
        parse_target(f"fn-{index:04d}", partition="aws", region=REGION, account=ACCOUNT) for index in range(1000)
    ]
    # When pre-flight picks the targets it simulates
    sample = preflight_sample(targets)
    # Then it checks 50, from the first to the last, none twice; a small run is checked whole
    assert len(sample) == FULLY_CHECKED_TARGETS == len({target.arn for target in sample})
    assert (sample[0], sample[-1]) == (targets[0], targets[-1])
    assert preflight_sample(targets[:FULLY_CHECKED_TARGETS]) == targets[:FULLY_CHECKED_TARGETS]


def test_the_summary_role_is_checked_for_the_stored_target_list(make_settings: Callable[..., Settings]) -> None:
    # Given a deployment with a sweep bucket
    settings = make_settings(SWEEP_BUCKET="autotuner-sweep")
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autotuner:run-7"
    # When a run's permissions are listed
    request = parse_request({"targets": ["orders"]})
    targets = resolve_targets(request, function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:validate")
    checks = required_permissions(request, targets, settings, execution_arn=execution)
    # Then the summary's role must be able to read this run's target list and the run records
    assert (SUMMARIZE_ROLE, "s3:GetObject", "arn:aws:s3:::autotuner-sweep/runs/run-7/targets.json") in triples(checks)
    assert (SUMMARIZE_ROLE, "dynamodb:BatchGetItem", TABLE_ARN) in triples(checks)


def test_pre_flights_own_role_and_the_state_machines_role_are_checked(make_settings: Callable[..., Settings]) -> None:
    # Given a deployment that passes pre-flight its own role, the state machine's and the Task functions
    settings = make_settings(
        SWEEP_BUCKET="autotuner-sweep",
        VALIDATE_ROLE_ARN=VALIDATE_ROLE,
        STATE_MACHINE_ROLE_ARN=STATE_MACHINE_ROLE,
        STATE_MACHINE_TASK_ARNS=f"{DISCOVER_FN}, {RECORD_FN}",
    )
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autotuner:run-7"
    request = parse_request({"targets": ["orders"], "memorySize": 1024, "apply": True})
    targets = resolve_targets(request, function_arn=TUNER_FN)
    # When the run's permissions are listed
    found = triples(required_permissions(request, targets, settings, execution_arn=execution))
    # Then pre-flight's own next write, the Distributed Map's reads and writes and every Task's invocation
    # are checked, for the roles that will make them
    target_list = "arn:aws:s3:::autotuner-sweep/runs/run-7/targets.json"
    assert {
        (VALIDATE_ROLE, "s3:PutObject", target_list),
        (STATE_MACHINE_ROLE, "s3:GetObject", target_list),
        (STATE_MACHINE_ROLE, "s3:PutObject", "arn:aws:s3:::autotuner-sweep/map-results/run-7/manifest.json"),
        (STATE_MACHINE_ROLE, "lambda:InvokeFunction", DISCOVER_FN),
        (STATE_MACHINE_ROLE, "lambda:InvokeFunction", RECORD_FN),
    } <= found


def test_a_missing_state_machine_role_setting_is_denied_naming_it(
    fake_iam: Any, make_settings: Callable[..., Settings]
) -> None:
    # Given a deployment that forgot to pass the state machine's role
    settings = make_settings(SWEEP_BUCKET="autotuner-sweep", VALIDATE_ROLE_ARN=VALIDATE_ROLE)
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autotuner:run-7"
    request = parse_request({"targets": ["orders"], "memorySize": 1024})
    checks = required_permissions(
        request, resolve_targets(request, function_arn=TUNER_FN), settings, execution_arn=execution
    )
    # When the checks are simulated
    with pytest.raises(PermissionDeniedError, match="STATE_MACHINE_ROLE_ARN is empty"):
        simulate(fake_iam, checks)
