"""Pre-flight: resolve targets and list every permission the run needs, exactly what the manifest grants.

Simulating those permissions before anything runs: test_preflight_simulate.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from preflight_roles import (
    ACCOUNT,
    BILLING,
    CLEANUP_ROLE,
    DISCOVER_FN,
    DISCOVER_ROLE,
    GUARD_ROLE,
    ORDERS,
    RECORD_ROLE,
    REGION,
    STATE_ARN,
    SUMMARIZE_ROLE,
    TABLE_ARN,
    TUNER_FN,
    UPDATE,
    UPDATE_ROLE,
    checks_for,
    triples,
)

from autotuner_core.documents.request import parse_request
from autotuner_core.documents.target import PermissionCheck
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.policy.preflight import required_permissions, resolve_targets
from autotuner_core.settings import Settings

# --------------------------------------------------------------------------------------------
# resolve_targets
# --------------------------------------------------------------------------------------------


def test_targets_resolve_into_the_tuners_own_region_and_account() -> None:
    # Given names and ARNs, and the tuner running in eu-west-1 of 123456789012
    request = parse_request({"targets": ["orders", f"{ACCOUNT}:function:billing:live"], "memorySize": 1024})
    # When they are resolved
    targets = resolve_targets(request, function_arn=TUNER_FN + ":live")
    # Then each is an ARN there, in the order given, qualifiers kept apart
    assert [(t.arn, t.qualifier) for t in targets] == [(ORDERS, None), (BILLING, "live")]


def test_the_same_function_spelled_twice_is_rejected_naming_both_spellings() -> None:
    # Given one function named once by name and once by ARN
    request = parse_request({"targets": ["orders", "billing", ORDERS + ":$LATEST"], "memorySize": 1024})
    # When the targets are resolved
    with pytest.raises(InvalidInputError) as caught:
        resolve_targets(request, function_arn=TUNER_FN)
    # Then the error points at the second spelling and names the first
    assert caught.value.problems == [f"targets[2]: '{ORDERS}:$LATEST' names the same function as 'orders'"]
    assert "invalid execution input (1 problem)" in str(caught.value)


def test_every_resolution_problem_is_reported_at_once() -> None:
    # Given a cross-region target, a cross-account target and a duplicate
    request = parse_request(
        {
            "targets": [
                f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders",
                "orders",
                "210987654321:function:billing",
                f"{ACCOUNT}:function:orders",
            ],
            "memorySize": 1024,
        }
    )
    # When the targets are resolved
    with pytest.raises(InvalidInputError) as caught:
        resolve_targets(request, function_arn=TUNER_FN)
    # Then one error lists the three problems with their positions, naming region and account
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("targets[0]: ") and "region 'us-east-1'" in problems[0]
    assert problems[1].startswith("targets[2]: ") and "account '210987654321'" in problems[1]
    assert problems[2] == f"targets[3]: '{ACCOUNT}:function:orders' names the same function as 'orders'"


# --------------------------------------------------------------------------------------------
# required_permissions
# --------------------------------------------------------------------------------------------


def test_dry_run_asks_to_read_and_record_but_never_to_update(make_settings: Callable[..., Settings]) -> None:
    # Given a dry run on a name and an alias
    # When its permissions are listed
    checks = checks_for(make_settings(), "orders", "billing:live", apply=False)
    # Then the discover role reads both the function and the alias, the updater reads, the recorder writes
    assert triples(checks) == {
        (DISCOVER_ROLE, "lambda:GetFunction", ORDERS),
        (DISCOVER_ROLE, "lambda:GetFunction", BILLING),
        (DISCOVER_ROLE, "lambda:GetFunction", BILLING + ":live"),
        (DISCOVER_ROLE, "lambda:ListTags", ORDERS),
        (DISCOVER_ROLE, "lambda:ListTags", BILLING),
        (UPDATE_ROLE, "lambda:GetFunction", ORDERS),
        (UPDATE_ROLE, "lambda:GetFunction", BILLING),
        (RECORD_ROLE, "dynamodb:PutItem", TABLE_ARN),
        # the breaker and the lease
        (GUARD_ROLE, "dynamodb:GetItem", STATE_ARN),
        (GUARD_ROLE, "dynamodb:PutItem", STATE_ARN),
        (RECORD_ROLE, "dynamodb:GetItem", STATE_ARN),
        (RECORD_ROLE, "dynamodb:PutItem", STATE_ARN),
        (RECORD_ROLE, "dynamodb:DeleteItem", STATE_ARN),
        # the summary reads every target's record
        (SUMMARIZE_ROLE, "dynamodb:BatchGetItem", TABLE_ARN),
        # and sweeps orphaned shadows whatever ShadowRoleArns says now: by tag, their function and log group
        (SUMMARIZE_ROLE, "tag:GetResources", "*"),
        (SUMMARIZE_ROLE, "lambda:DeleteFunction", ORDERS.replace("orders", "autotuner-shadow-e3b0c442-7af5b95334")),
        (
            SUMMARIZE_ROLE,
            "logs:DeleteLogGroup",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/autotuner-shadow-e3b0c442-7af5b95334:*",
        ),
    }
    # And nothing asks for UpdateFunctionConfiguration
    assert all(UPDATE not in check.actions for check in checks)


def test_apply_asks_the_update_role_to_update_each_function_with_the_tag_context(
    make_settings: Callable[..., Settings],
) -> None:
    # Given a tag-scoped deployment (autotune=true) and an apply run on an alias
    settings = make_settings(TARGET_TAG_KEY="autotune", TARGET_TAG_VALUE="true")
    # When its permissions are listed
    checks = checks_for(settings, "orders:live", "billing", apply=True)
    # Then the update role is asked to update the unqualified functions, as a tagged target, and so is
    # the clean-up role, which undoes an update a failed apply left behind
    updates = [check for check in checks if UPDATE in check.actions]
    assert sorted(check.role_arn for check in updates) == [CLEANUP_ROLE, UPDATE_ROLE]
    assert all(check.resources == [BILLING, ORDERS] for check in updates)
    assert all(check.context == {"aws:ResourceTag/autotune": "true"} for check in updates)


def test_apply_without_tag_scope_simulates_without_context(make_settings: Callable[..., Settings]) -> None:
    # Given a deployment that is not tag-scoped
    # When an apply run's permissions are listed
    checks = checks_for(make_settings(), "orders", apply=True)
    # Then the update is asked for with no context keys at all
    updates = [check for check in checks if UPDATE in check.actions]
    assert sorted((u.role_arn, u.resources, tuple(u.context)) for u in updates) == [
        (CLEANUP_ROLE, [ORDERS], ()),
        (UPDATE_ROLE, [ORDERS], ()),
    ]


def test_discovery_role_is_checked_for_list_tags_because_discovery_decides_on_tags(
    make_settings: Callable[..., Settings],
) -> None:
    # Given any run (discovery refuses the tuner's own functions by tag, and untagged ones when tag-scoped)
    # When its permissions are listed
    checks = checks_for(make_settings(TARGET_TAG_KEY="autotune", TARGET_TAG_VALUE="true"), "orders", apply=True)
    # Then the discover role must be allowed to see tags: GetFunction omits them without lambda:ListTags
    assert (DISCOVER_ROLE, "lambda:ListTags", ORDERS) in triples(checks)


def test_latest_qualifier_asks_only_for_the_function_discovery_reads(make_settings: Callable[..., Settings]) -> None:
    # Given a target written with the $LATEST qualifier
    # When the run's permissions are listed
    checks = checks_for(make_settings(), ORDERS + ":$LATEST", apply=False)
    # Then only the ARN discovery actually reads is checked (a policy on exactly that ARN must pass)
    discover = [check for check in checks if check.role_arn == DISCOVER_ROLE]
    assert [check.resources for check in discover] == [[ORDERS], [ORDERS]]  # GetFunction, ListTags


# --------------------------------------------------------------------------------------------
# the permissions manifest
# --------------------------------------------------------------------------------------------

# Run shapes that together reach every permission pre-flight can check.
SHAPES = [
    {"memorySize": 1024},
    {"memorySize": 1024, "apply": True},
    {"memorySize": 1024, "apply": True, "alias": "live"},
    {"memorySizes": [512, 1024], "apply": True},
    {"memorySizes": [512, 1024], "refine": True},
    {"memorySizes": [512, 1024], "payloadS3": "s3://payload-bucket/orders.json", "preProcessor": "seed-order"},
]


def _every_shape_checks(make_settings: Callable[..., Settings]) -> list[PermissionCheck]:
    from autotuner_core.policy.permissions import PRINCIPALS

    roles = {
        entry.role_setting: f"arn:aws:iam::{ACCOUNT}:role/autotuner-{entry.logical_id}"
        for entry in PRINCIPALS
        if entry.role_setting is not None
    }
    settings = make_settings(
        **roles,
        SWEEP_BUCKET="autotuner-sweep",
        EVENT_BUS_NAME="default",
        TARGET_TAG_KEY="autotune",
        TARGET_TAG_VALUE="enabled",
        STATE_MACHINE_TASK_ARNS=DISCOVER_FN,
        SHADOW_ROLE_ARNS=f"arn:aws:iam::{ACCOUNT}:role/app-*",
    )
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autotuner:run-7"
    checks = []
    for shape in SHAPES:
        request = parse_request({"targets": ["orders"], **shape})
        targets = resolve_targets(request, function_arn=TUNER_FN)
        checks += required_permissions(request, targets, settings, execution_arn=execution)
    return checks


def test_pre_flight_checks_only_what_the_manifest_grants_and_every_grant_it_can(
    make_settings: Callable[..., Settings],
) -> None:
    from autotuner_core.policy.permissions import by_role_setting

    manifest = by_role_setting()
    # Given the checks pre-flight lists for every run shape
    checks = _every_shape_checks(make_settings)
    checked = {(check.role_setting, action) for check in checks for action in check.actions}
    # Then each (role, action) is one the manifest grants that role, to be checked before the run
    declared = {
        (setting, action): grant
        for setting, entry in manifest.items()
        for grant in entry.grants
        for action in grant.actions
    }
    assert checked - set(declared) == set(), "pre-flight checks an action the manifest does not grant"
    assert all(declared[pair].preflight is True for pair in checked)
    # And every grant the manifest says pre-flight covers is checked by some run shape
    assert {pair for pair, grant in declared.items() if grant.preflight is True} - checked == set()
    # And the tag context is passed exactly for the tag-scoped grants, PassRole's service for PassRole
    for check in checks:
        for action in check.actions:
            # (an action can be granted on two resource kinds, tag-scoped on one: a shadow is the tuner's own)
            grants = [
                grant
                for grant in manifest[check.role_setting].grants
                if action in grant.actions and grant.preflight is True
            ]
            tag_context = {key for key in check.context if key.startswith("aws:ResourceTag/")}
            assert any(
                bool(tag_context) == grant.tag_scoped and check.context.get("iam:PassedToService") == grant.passed_to
                for grant in grants
            ), (check, action)
