"""ValidatePermissions' handler: the input parsed, every permission simulated on the roles' real policies, the
target list stored; moto's IAM answers SimulatePrincipalPolicy through the embedded AWS's simulation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autotuner_core.policy.errors import InvalidInputError, PermissionDeniedError
from autotuner_core.steps import validate_permissions
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import handler

from .conftest import BUCKET, execution, tuner_settings


def _event(**request: Any) -> dict[str, Any]:
    """ValidatePermissions' input: the Prepare state's execution and the execution input."""
    return {"execution": execution(), "input": {"targets": ["orders"], "memorySizes": [512, 1024], **request}}


def test_a_permitted_run_is_validated_and_its_target_list_stored(deployed, aws, roles, target) -> None:
    # Given a request to measure the function "orders", by name, and roles allowed everything
    # When the deployed ValidatePermissions runs
    result = deployed("validate_permissions", _event(invocations=5))
    # Then the run goes on with its request parsed, its one target, and this many permission checks
    assert result["request"]["memorySizes"] == [512, 1024]
    assert result["request"]["invocations"] == 5
    assert result["targetCount"] == 1
    assert result["permissionChecks"] > 0
    # And the target list the Distributed Map reads is in the sweep bucket, the name resolved to its ARN
    assert result["targetList"] == {"bucket": BUCKET, "key": "runs/run-1/targets.json"}
    stored = json.loads(aws("s3").get_object(Bucket=BUCKET, Key="runs/run-1/targets.json")["Body"].read())
    assert [(item["given"], item["arn"]) for item in stored] == [("orders", target)]
    # And one worker tunes it, the run's cost is estimated before anything is created, and the check is timed
    assert result["execution"] == {**execution(), "workers": 1, "targets": 1}
    assert result["estimatedCost"]["targetInvocations"] >= 5
    assert result["timings"]["validatePermissionsMs"] >= 0


def test_a_role_missing_a_permission_stops_the_run_naming_it(run_step, aws, roles, target) -> None:
    # Given a preparing role denied lambda:PublishVersion
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "lambda:PublishVersion", "Resource": "*"}],
    }
    aws("iam").put_role_policy(
        RoleName="autotuner-PrepareMeasurementRole", PolicyName="deny", PolicyDocument=json.dumps(deny)
    )
    # When ValidatePermissions runs, then the run is refused, naming the role, the action and the function
    with pytest.raises(PermissionDeniedError, match="PrepareMeasurementRole may not lambda:PublishVersion on") as error:
        run_step(validate_permissions.run, _event(invocations=5))
    assert target in str(error.value)
    # And nothing was created: no target list
    assert aws("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_role_without_any_policy_is_denied_everything_it_needs(run_step, aws, roles, target) -> None:
    # Given a measuring role with no policy at all
    aws("iam").delete_role_policy(RoleName="autotuner-MeasureConfigurationRole", PolicyName="all")
    # Then pre-flight refuses the run for its invocations of the temporary aliases (implicitly denied)
    with pytest.raises(
        PermissionDeniedError, match=r"MeasureConfigurationRole may not lambda:InvokeFunction .*implicitDeny"
    ):
        run_step(validate_permissions.run, _event(invocations=5))


def test_bad_input_is_refused_before_any_permission_is_simulated(run_step, roles) -> None:
    # Given an input whose memorySizes is not a list
    # Then it is refused as bad input, naming the field
    with pytest.raises(InvalidInputError, match="memorySizes"):
        run_step(validate_permissions.run, _event(memorySizes="big"))


def test_a_target_in_another_account_is_refused(run_step, roles) -> None:
    # Given a target named by an ARN of another account (the tuner tunes its own account's functions)
    other = "arn:aws:lambda:eu-west-1:210987654321:function:orders"
    # Then the input is refused, naming the target
    with pytest.raises(InvalidInputError, match=r"targets\[0\]"):
        run_step(validate_permissions.run, _event(targets=[other]))


def test_a_run_over_the_invocation_budget_is_refused_before_anything_is_created(
    aws, roles, target, make_settings, lambda_context
) -> None:
    # Given a deployment that allows 10 target invocations per run, and a request for 2 sizes x 50
    tight = tuner_settings(make_settings, MAX_INVOCATIONS_PER_RUN=10)
    validate = handler(validate_permissions.run, settings=tight, clients=lambda: Clients(aws))
    # When ValidatePermissions runs, then the run is refused as over its budget, and no target list is stored
    with pytest.raises(InvalidInputError, match=r"over the run budget.*over MaxInvocationsPerRun 10"):
        validate(_event(invocations=50), lambda_context)
    assert aws("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
