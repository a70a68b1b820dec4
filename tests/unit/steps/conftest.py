"""What a step's handler runs against in these tests: moto's AWS in-process, a Lambda context, and a run's documents.

Each handler is the one its function deploys (``handler(<step>.run)``), given these clients and
settings instead of the environment's.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from autotuner_core.observability import metrics
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import Step, handler

ACCOUNT = "123456789012"
REGION = "eu-west-1"
EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autotuner:run-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/target-role"
BUCKET = "autotuner-sweep"


@dataclass
class Context:
    """The attributes of the Lambda runtime's context object the middleware and steps read."""

    function_name: str = "autotuner-Step"
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:autotuner-ValidatePermissions"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"
    log_group_name: str = "/aws/lambda/autotuner-Step"
    log_stream_name: str = "2026/01/01/[$LATEST]0"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> Context:
    return Context()


@pytest.fixture(autouse=True)
def metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    # The template sets POWERTOOLS_METRICS_NAMESPACE; Powertools refuses to flush metrics without one.
    monkeypatch.setattr(metrics, "namespace", "LambdaAutotuner")


_made: dict[str, Any] = {}


def _client(service: str) -> Any:
    # One client per service for the whole session (a client takes longer to make than a test to run):
    # moto intercepts every client made after it is imported, while a mock is active.
    if service not in _made:
        _made[service] = boto3.client(
            service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
    return _made[service]


@pytest.fixture
def aws() -> Iterator[Callable[[str], Any]]:
    """moto's AWS for one test: a client maker for ``Clients``, with the tuner's tables and bucket made."""
    with mock_aws():
        make = _client
        dynamodb = make("dynamodb")
        dynamodb.create_table(
            TableName="autotuner-State",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        dynamodb.create_table(
            TableName="autotuner-RunHistory",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("target", "runKey", "executionArn")
            ],
            KeySchema=[{"AttributeName": "target", "KeyType": "HASH"}, {"AttributeName": "runKey", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "byExecution",
                    "KeySchema": [
                        {"AttributeName": "executionArn", "KeyType": "HASH"},
                        {"AttributeName": "target", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        make("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(SWEEP_BUCKET=BUCKET)


@pytest.fixture
def target(aws: Callable[[str], Any]) -> str:
    """A function to tune, at 1024 MB; its ARN."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return event\n")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    aws("iam").create_role(RoleName="target-role", AssumeRolePolicyDocument=json.dumps(trust))
    created = aws("lambda").create_function(
        FunctionName="orders",
        Runtime="python3.13",
        Role=ROLE_ARN,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
        MemorySize=1024,
        Timeout=30,
    )
    return str(created["FunctionArn"])


@pytest.fixture
def run_step(aws: Callable[[str], Any], settings: Settings, lambda_context: Context) -> Callable[..., dict[str, Any]]:
    """Invoke a step's handler with an event, as Lambda would; ``services`` replace moto's clients by name."""

    def invoke(declared: Step[Any, Any], event: dict[str, Any], **services: Any) -> dict[str, Any]:
        def clients() -> Clients:
            return Clients(lambda service: services.get(service) or aws(service))

        # Through JSON both ways, as the state machine passes documents.
        result = handler(declared, settings=settings, clients=clients)(json.loads(json.dumps(event)), lambda_context)
        return json.loads(json.dumps(result))

    return invoke


def execution(**extra: Any) -> dict[str, Any]:
    return {"arn": EXECUTION_ARN, "startTime": "2026-01-01T00:00:00Z", **extra}


def entry(function_arn: str, **request: Any) -> dict[str, Any]:
    """A Map iteration's input for one target (what ValidatePermissions' target list holds)."""
    return {
        "execution": execution(),
        "request": {"targets": [function_arn], **request},
        "ref": {"given": function_arn, "arn": function_arn, "name": function_arn.rsplit(":", 1)[-1]},
        "timings": {},
    }


# A measured run's request: two sizes, five invocations each, nothing applied.
MEASURED = {"memorySizes": [512, 1024], "invocations": 5, "refine": False}


def admitted(function_arn: str, **request: Any) -> dict[str, Any]:
    """A Map iteration's input as CheckCircuit passes it on: with the breaker's admission."""
    return {**entry(function_arn, **request), "admission": "NORMAL"}


def task(function_arn: str, **request: Any) -> dict[str, Any]:
    """A target's task after discovery, as DiscoverResources writes it for a 1024 MB function."""
    event = admitted(function_arn, **request)
    ref = event.pop("ref")
    return {**event, "target": {"ref": ref, "configuration": {"MemorySize": 1024, "Timeout": 30}}, "spend": {}}
