"""What a request asks IAM for: the action and the real resource ARN each service authorises an API call as.

The action names and resource forms follow the AWS service authorization reference; an
operation not listed for its service is authorised as ``<prefix>:<Operation>`` on ``"*"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Arns", "AuthorizationRequest", "requests_for"]


@dataclass(frozen=True)
class AuthorizationRequest:
    """One action on one resource, as the service authorises it."""

    action: str  # e.g. "lambda:InvokeFunction"
    resource: str  # the real ARN, or "*" for actions without a resource type
    context: tuple[tuple[str, str], ...] = ()  # request-specific keys, e.g. iam:PassedToService for PassRole


class Arns(Protocol):
    """Where the requests are made: ARNs in this partition, region and account (``IamEnforcement``)."""

    partition: str

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str: ...

    def lambda_arn(self, name: str, qualifier: str | None = None) -> str: ...


# S3 operations whose IAM action has another name (AWS service authorization reference, S3).
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListParts": "ListMultipartUploadParts",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "DeleteObjects": "DeleteObject",
}
# Calls AWS serves to any authenticated principal: no IAM permission exists for them.
_UNAUTHORISED_CALLS = {"sts:GetCallerIdentity"}
_PREFIX = {
    "sfn": "states",
    "cloudwatch-logs": "logs",
    "eventbridge": "events",
    "resource-groups-tagging-api": "tag",
    "cloudwatch": "cloudwatch",
}


def requests_for(
    enforcement: Arns, service: str, operation: str, params: Mapping[str, Any]
) -> list[AuthorizationRequest]:
    """The (action, resource) pairs the service authorises for this operation and its parameters."""
    prefix = _PREFIX.get(service, service)
    call = f"{prefix}:{operation}"
    if call in _UNAUTHORISED_CALLS:
        return []
    resolver = _RESOLVERS.get(service)
    if resolver is None:
        return [AuthorizationRequest(call, "*")]
    return resolver(enforcement, operation, params)


# -- per-service resolvers ------------------------------------------------------------------------

_LAMBDA_RESOURCE_STAR = {"ListFunctions", "ListLayers", "GetAccountSettings", "ListEventSourceMappings"}
# Operations whose Qualifier (or a qualified FunctionName) names a version or alias resource.
_LAMBDA_QUALIFIED = {
    "Invoke",
    "GetFunction",
    "GetFunctionConfiguration",
    "DeleteFunction",
    "GetPolicy",
    "GetFunctionUrlConfig",
    "GetProvisionedConcurrencyConfig",
}
_LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction", "ListTags": "ListTags"}


def _lambda(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    action = f"lambda:{_LAMBDA_ACTIONS.get(operation, operation)}"
    if operation in _LAMBDA_RESOURCE_STAR:
        return [AuthorizationRequest(action, "*")]
    if operation in ("ListTags", "TagResource", "UntagResource"):
        return [AuthorizationRequest(action, str(params.get("Resource", "*")))]
    name = params.get("FunctionName")
    if not name:
        return [AuthorizationRequest(action, "*")]
    if operation == "CreateFunction":
        return _create_function(enforcement, params)
    arn = enforcement.lambda_arn(str(name), params.get("Qualifier") if operation in _LAMBDA_QUALIFIED else None)
    if operation not in _LAMBDA_QUALIFIED:
        arn = ":".join(arn.split(":")[:7])  # the function itself: aliases and versions are parameters here
    return [AuthorizationRequest(action, arn)]


def _create_function(enforcement: Arns, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    """CreateFunction is authorised for everything it hands Lambda (Lambda developer guide, permissions).

    The caller passes the execution role (iam:PassRole to lambda.amazonaws.com), tags the function
    (lambda:TagResource), and its own credentials read an S3 package, the layers and the VPC's
    subnets and security groups.
    """
    arn = ":".join(enforcement.lambda_arn(str(params["FunctionName"])).split(":")[:7])
    wanted = [AuthorizationRequest("lambda:CreateFunction", arn)]
    if params.get("Role"):
        passed = (("iam:PassedToService", "lambda.amazonaws.com"),)
        wanted.append(AuthorizationRequest("iam:PassRole", str(params["Role"]), passed))
    if params.get("Tags"):
        wanted.append(AuthorizationRequest("lambda:TagResource", arn))
    code = params.get("Code") or {}
    if code.get("S3Bucket") and code.get("S3Key"):
        package = f"arn:{enforcement.partition}:s3:::{code['S3Bucket']}/{code['S3Key']}"
        wanted.append(AuthorizationRequest("s3:GetObject", package))
    wanted += [AuthorizationRequest("lambda:GetLayerVersion", str(layer)) for layer in params.get("Layers") or []]
    if (params.get("VpcConfig") or {}).get("SubnetIds"):
        for describe in ("DescribeSecurityGroups", "DescribeSubnets", "DescribeVpcs"):
            wanted.append(AuthorizationRequest(f"ec2:{describe}", "*"))
    return wanted


def _dynamodb(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else enforcement.arn("dynamodb", f"table/{name}")
        return f"{arn}/index/{index}" if index else arn

    action = f"dynamodb:{operation}"
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [AuthorizationRequest(action, table(name)) for name in sorted(params.get("RequestItems") or {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        found = []
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                found.append(AuthorizationRequest(f"dynamodb:{kinds.get(kind, kind)}", table(body["TableName"])))
        return found
    if "TableName" in params:
        return [AuthorizationRequest(action, table(str(params["TableName"]), params.get("IndexName")))]
    return [AuthorizationRequest(action, "*")]


def _s3(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    action = f"s3:{_S3_ACTIONS.get(operation, operation)}"
    bucket = params.get("Bucket")
    if not bucket:
        return [AuthorizationRequest(action, "*")]
    base = f"arn:{enforcement.partition}:s3:::{bucket}"
    if operation == "DeleteObjects":
        keys = [item["Key"] for item in (params.get("Delete") or {}).get("Objects", [])]
        return [AuthorizationRequest(action, f"{base}/{key}") for key in keys]
    key = params.get("Key")
    return [AuthorizationRequest(action, f"{base}/{key}" if key is not None else base)]


def _iam(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    action = f"iam:{operation}"
    if operation in ("SimulatePrincipalPolicy", "GetContextKeysForPrincipalPolicy"):
        return [AuthorizationRequest(action, str(params.get("PolicySourceArn", "*")))]
    if "RoleName" in params:
        return [AuthorizationRequest(action, enforcement.arn("iam", f"role/{params['RoleName']}", region=False))]
    return [AuthorizationRequest(action, "*")]


def _events(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    action = f"events:{operation}"
    if operation != "PutEvents":
        return [AuthorizationRequest(action, "*")]
    buses = {str(entry.get("EventBusName") or "default") for entry in params.get("Entries") or []}
    return [
        AuthorizationRequest(action, bus if bus.startswith("arn:") else enforcement.arn("events", f"event-bus/{bus}"))
        for bus in sorted(buses)
    ]


def _sfn(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    action = f"states:{operation}"
    for key in ("stateMachineArn", "executionArn", "mapRunArn", "activityArn"):
        if params.get(key):
            return [AuthorizationRequest(action, str(params[key]))]
    return [AuthorizationRequest(action, "*")]


def _logs(enforcement: Arns, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
    action = f"logs:{operation}"
    names = [params["logGroupName"]] if params.get("logGroupName") else list(params.get("logGroupNames") or [])
    if not names:
        return [AuthorizationRequest(action, "*")]
    return [AuthorizationRequest(action, enforcement.arn("logs", f"log-group:{name}:*")) for name in names]


_RESOLVERS: dict[str, Callable[[Arns, str, Mapping[str, Any]], list[AuthorizationRequest]]] = {
    "lambda": _lambda,
    "dynamodb": _dynamodb,
    "s3": _s3,
    "iam": _iam,
    "eventbridge": _events,
    "sfn": _sfn,
    "cloudwatch-logs": _logs,
}
