"""In-memory fakes of the boto3 clients the shared package calls, answering the way AWS does.

Each fake has only the methods the package calls, records every call, and raises
``botocore.exceptions.ClientError`` with the error code, message and HTTP status AWS sends.
They are exposed as fixtures (importing from a conftest module is fragile).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fake_paging import Paginated

from autotuner_core.settings import Settings

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def make_client_error(code: str, message: str = "", status: int = 400, operation: str = "GetFunction") -> ClientError:
    """A ClientError shaped like botocore's parse of an AWS error response."""
    return ClientError(
        {
            "Error": {"Code": code, "Message": message or f"{code} raised by the fake"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "00000000-0000-0000-0000-000000000000"},
        },
        operation,
    )


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


# --------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------


@dataclass
class FakeFunction:
    name: str
    memory: int = 512
    timeout: int = 30
    revision: str = "rev-1"
    tags: dict[str, str] = field(default_factory=dict)
    state: str = "Active"
    last_update: str = "Successful"
    qualifiers: set[str] = field(default_factory=set)
    # Configuration overrides answered by the next GetFunction calls, one per call (None drops a key).
    script: list[dict[str, str | None]] = field(default_factory=list)
    # GetFunction answers InProgress this many times after an accepted update.
    update_polls_in_progress: int = 1
    # Accept updates without changing the memory (Lambda reporting something other than asked).
    ignore_memory_updates: bool = False
    # The caller lacks lambda:ListTags: GetFunction omits Tags and reports TagsError.
    tags_denied: bool = False


class FakeLambda:
    """GetFunction and UpdateFunctionConfiguration, with RevisionId and update-in-progress checks."""

    def __init__(self) -> None:
        self.functions: dict[str, FakeFunction] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.update_errors: list[ClientError] = []  # raised by the next updates, before any check
        self._revisions = itertools.count(2)

    def add(self, name: str, **attributes: Any) -> FakeFunction:
        function = FakeFunction(name=name, **attributes)
        self.functions[name] = function
        return function

    def changed_by_someone_else(self, name: str, *, memory: int | None = None) -> str:
        """Another writer changes the function (tags, env, or memory): its RevisionId moves on."""
        function = self.functions[name]
        if memory is not None:
            function.memory = memory
        function.revision = f"rev-{next(self._revisions)}"
        return function.revision

    def configuration(self, name: str) -> dict[str, Any]:
        """GetFunction's Configuration as it stands now (no call recorded, no script consumed)."""
        function = self.functions[name]
        return {
            "FunctionName": function.name,
            "FunctionArn": function_arn(function.name),
            "Runtime": "python3.13",
            "MemorySize": function.memory,
            "Timeout": function.timeout,
            "Architectures": ["arm64"],
            "EphemeralStorage": {"Size": 512},
            "RevisionId": function.revision,
            "State": function.state,
            "LastUpdateStatus": function.last_update,
        }

    def calls_to(self, operation: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == operation]

    def _lookup(self, function_name: str, qualifier: str | None, operation: str) -> FakeFunction:
        name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
        function = self.functions.get(name)
        if function is None or (qualifier not in (None, "$LATEST") and qualifier not in function.qualifiers):
            shown = function_arn(name) + (f":{qualifier}" if qualifier else "")
            raise make_client_error("ResourceNotFoundException", f"Function not found: {shown}", 404, operation)
        return function

    def get_function(self, *, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        self.calls.append(("GetFunction", {"FunctionName": FunctionName, "Qualifier": Qualifier}))
        function = self._lookup(FunctionName, Qualifier, "GetFunction")
        configuration = self.configuration(function.name)
        if function.script:
            for key, value in function.script.pop(0).items():
                if value is None:
                    configuration.pop(key, None)
                else:
                    configuration[key] = value
        elif function.last_update == "InProgress":
            if function.update_polls_in_progress > 0:
                function.update_polls_in_progress -= 1
            else:
                function.last_update = configuration["LastUpdateStatus"] = "Successful"
        response: dict[str, Any] = {
            "Configuration": configuration,
            "Code": {"RepositoryType": "S3", "Location": "https://example.invalid/code.zip"},
        }
        if function.tags_denied:
            response["TagsError"] = {
                "ErrorCode": "AccessDeniedException",
                "Message": "User is not authorized to perform: lambda:ListTags on resource: "
                + function_arn(function.name),
            }
        elif function.tags:
            response["Tags"] = dict(function.tags)
        return copy.deepcopy(response)

    def list_tags(self, *, Resource: str) -> dict[str, Any]:
        """ListTags: the function's tags (none is an empty map); denied with tags_denied, as GetFunction's."""
        self.calls.append(("ListTags", {"Resource": Resource}))
        function = self._lookup(Resource, None, "ListTags")
        if function.tags_denied:
            raise make_client_error(
                "AccessDeniedException",
                f"User is not authorized to perform: lambda:ListTags on resource: {function_arn(function.name)}",
                403,
                "ListTags",
            )
        return {"Tags": dict(function.tags)}

    def update_function_configuration(
        self, *, FunctionName: str, MemorySize: int | None = None, RevisionId: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(
            (
                "UpdateFunctionConfiguration",
                {"FunctionName": FunctionName, "MemorySize": MemorySize, "RevisionId": RevisionId},
            )
        )
        operation = "UpdateFunctionConfiguration"
        if self.update_errors:
            raise self.update_errors.pop(0)
        function = self._lookup(FunctionName, None, operation)
        if function.last_update == "InProgress" or function.state == "Pending":
            raise make_client_error(
                "ResourceConflictException",
                f"The operation cannot be performed at this time. An update is in progress for resource: "
                f"{function_arn(function.name)}",
                409,
                operation,
            )
        if RevisionId is not None and RevisionId != function.revision:
            raise make_client_error(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
                412,
                operation,
            )
        if MemorySize is not None and not function.ignore_memory_updates:
            function.memory = MemorySize
        function.revision = f"rev-{next(self._revisions)}"
        function.last_update = "InProgress"
        configuration = self.configuration(function.name)
        return configuration


# --------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------


class FakeIam(Paginated):
    """SimulatePrincipalPolicy: one EvaluationResult per action x resource, allowed unless denied.

    ``pages`` overrides the answer with raw responses (for ResourceSpecificResults, decision
    details and paging), returned in order.
    """

    SERVICE = "iam"

    def __init__(self) -> None:
        self.denied: dict[tuple[str, str, str], str] = {}
        self.pages: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.error: ClientError | None = None

    def deny(self, role_arn: str, action: str, resource: str, decision: str = "implicitDeny") -> None:
        self.denied[(role_arn, action, resource)] = decision

    def simulate_principal_policy(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(copy.deepcopy(kwargs))
        if self.error is not None:
            raise self.error
        if self.pages:
            return self.pages.pop(0)
        role = kwargs["PolicySourceArn"]
        results = []
        for action in kwargs["ActionNames"]:
            for resource in kwargs["ResourceArns"]:
                decision = self.denied.get((role, action, resource), "allowed")
                results.append(
                    {
                        "EvalActionName": action,
                        "EvalResourceName": resource,
                        "EvalDecision": decision,
                        "MatchedStatements": [],
                        "MissingContextValues": [],
                    }
                )
        return {"EvaluationResults": results, "IsTruncated": False}


# --------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------


class FakeDynamoDB:
    """PutItem on a (target, runKey) table, evaluating ``attribute_not_exists(#name)`` conditions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.errors: list[ClientError] = []

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.errors:
            raise self.errors.pop(0)
        item = kwargs["Item"]
        key = (item["target"]["S"], item["runKey"]["S"])
        condition = kwargs.get("ConditionExpression")
        if condition is not None:
            prefix = "attribute_not_exists("
            if not (condition.startswith(prefix) and condition.endswith(")")):
                raise NotImplementedError(f"the fake evaluates attribute_not_exists only, not {condition!r}")
            placeholder = condition[len(prefix) : -1]
            attribute = (kwargs.get("ExpressionAttributeNames") or {}).get(placeholder, placeholder)
            existing = self.items.get(key)
            if existing is not None and attribute in existing:
                raise make_client_error(
                    "ConditionalCheckFailedException", "The conditional request failed", 400, "PutItem"
                )
        self.items[key] = item
        return {}


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture
def client_error() -> Callable[..., ClientError]:
    return make_client_error


@pytest.fixture
def fake_lambda() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def fake_iam() -> FakeIam:
    return FakeIam()


@pytest.fixture
def fake_dynamodb() -> FakeDynamoDB:
    return FakeDynamoDB()


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Settings as the template's environment sets them; fast polling so waits stay in milliseconds."""

    def build(**env: Any) -> Settings:
        values: dict[str, Any] = {
            "DISCOVER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-DiscoverResourcesRole",
            "UPDATE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-UpdateConfigurationRole",
            "RECORD_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-RecordResultRole",
            "PREPARE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-PrepareMeasurementRole",
            "MEASURE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-MeasureConfigurationRole",
            "CLEANUP_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-CleanupMeasurementRole",
            "GUARD_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-CheckCircuitRole",
            "SUMMARIZE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autotuner-SummarizeRunRole",
            "STATE_TABLE": "autotuner-State",
            "STATE_TABLE_ARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/autotuner-State",
            "RUN_HISTORY_TABLE": "autotuner-RunHistory",
            "RUN_HISTORY_TABLE_ARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/autotuner-RunHistory",
            "STATUS_POLL_INTERVAL_MS": 10,
            "MAX_STATUS_WAIT_SECONDS": 2,
        }
        values.update(env)
        return Settings.model_validate(values)

    return build
