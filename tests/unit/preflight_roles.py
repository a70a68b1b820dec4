"""The account, roles and functions the pre-flight tests name, and the checks a run of them needs."""

from __future__ import annotations

from autotuner_core.documents.request import parse_request
from autotuner_core.documents.target import PermissionCheck
from autotuner_core.policy.preflight import required_permissions, resolve_targets
from autotuner_core.settings import Settings

ACCOUNT = "123456789012"
REGION = "eu-west-1"
TUNER_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:autotuner-ValidatePermissions"
ORDERS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
BILLING = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing"
DISCOVER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-DiscoverResourcesRole"
UPDATE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-UpdateConfigurationRole"
RECORD_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-RecordResultRole"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/autotuner-RunHistory"
STATE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/autotuner-State"
GUARD_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-CheckCircuitRole"
SUMMARIZE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-SummarizeRunRole"
CLEANUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-CleanupMeasurementRole"
UPDATE = "lambda:UpdateFunctionConfiguration"


def checks_for(settings: Settings, *targets: str, apply: bool) -> list[PermissionCheck]:
    request = parse_request({"targets": list(targets), "memorySize": 1024, "apply": apply})
    return required_permissions(request, resolve_targets(request, function_arn=TUNER_FN), settings)


def triples(checks: list[PermissionCheck]) -> set[tuple[str, str, str]]:
    return {(c.role_arn, action, resource) for c in checks for action in c.actions for resource in c.resources}


VALIDATE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-ValidatePermissionsRole"
STATE_MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/autotuner-TunerStateMachineRole"
DISCOVER_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:autotuner-DiscoverResources"
RECORD_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:autotuner-RecordResult"
