"""What a step's handler runs against in these tests: moto's AWS in-process, a Lambda context, and a run's documents.

Each handler is the one its function deploys (``handler(<step>.run)``): ``run_step`` gives it these
clients and settings, ``deployed`` imports the function's own ``app.py`` with the settings in its
environment. moto is made as strict as Lambda where the steps touch it by the embedded AWS's own
pieces, in-process: its Lambda emulation (ListAliases by ARN, RevisionId, invocations answered by
the simulated function with a REPORT line) and its SimulatePrincipalPolicy. Documents are built
as JSON, as the state machine passes them, mostly by running the states before the one tested.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from autotuner_core.aws import clients as aws_clients
from autotuner_core.observability import metrics
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import Step, handler
from emulator import iam_simulation
from emulator.account import FunctionProfile
from emulator.lambda_service import LambdaEmulation
from emulator.simulated_function import LambdaSimulator

ACCOUNT = "123456789012"
REGION = "eu-west-1"
EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autotuner:run-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/target-role"
BUCKET = "autotuner-sweep"
FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"


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


@dataclass
class LambdaService:
    """The Lambda emulation of one test, and the simulator that runs every function invoked."""

    emulation: LambdaEmulation
    simulator: LambdaSimulator

    def behaves(self, name: str, profile: FunctionProfile) -> None:
        """Invocations of the function ``name`` (any version or alias) follow ``profile``."""
        self.emulation.set_invoker(ACCOUNT, REGION, name, self.simulator.invoker(profile))


@pytest.fixture
def lambda_service() -> Iterator[LambdaService]:
    # A light function by default (50 ms of CPU at one vCPU, 20 ms of I/O): faster with more memory.
    # No real time passes: an update is done when Lambda answers it, an invocation takes no wall time.
    emulation = LambdaEmulation(memory_quota_mb=10_240, update_seconds=0.0)
    simulator = LambdaSimulator(time_scale=0.0)
    emulation.set_default_invoker(simulator.invoker(FunctionProfile()))
    emulation.install()
    try:
        yield LambdaService(emulation, simulator)
    finally:
        emulation.uninstall()


@pytest.fixture
def aws(lambda_service: LambdaService) -> Iterator[Callable[[str], Any]]:
    """moto's AWS for one test: a client maker for ``Clients``, with the tuner's tables and bucket made."""
    iam_simulation.install()  # process-wide and idempotent: it only answers an action moto lacks
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
    return tuner_settings(make_settings)


def tuner_settings(make_settings: Callable[..., Settings], **env: Any) -> Settings:
    """The tuner's settings, with the roles pre-flight also checks: its own and the state machine's."""
    return make_settings(
        SWEEP_BUCKET=BUCKET,
        VALIDATE_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/autotuner-ValidatePermissionsRole",
        STATE_MACHINE_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/autotuner-StateMachineRole",
        **env,
    )


@pytest.fixture
def roles(aws: Callable[[str], Any], settings: Settings) -> list[str]:
    """Every role the settings name, each allowed everything (as far as IAM's simulation is asked); their names."""
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    names = []
    for field in Settings.model_fields:
        arn = getattr(settings, field)
        if field.endswith("_role_arn") and arn:
            name = arn.rsplit("/", 1)[-1]
            aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
            aws("iam").put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps(everything))
            names.append(name)
    return names


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


@pytest.fixture
def deployed(
    aws: Callable[[str], Any], settings: Settings, lambda_context: Context, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """Invoke a function's own ``app.lambda_handler`` (``functions/<directory>/app.py``) with an event.

    Its settings come from the environment, as the template sets them (and Lambda its memory); its clients are
    ``aws_client``'s, made here by the session's maker: a client of ``aws_client`` also paces
    its Lambda calls to the account's real rate (pacing.py, tested on its own), which would make
    a test that prepares two sizes wait a second.
    """
    for name, field in Settings.model_fields.items():
        monkeypatch.setenv(str(field.alias), str(getattr(settings, name)))
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(lambda_context.memory_limit_in_mb))  # as Lambda sets it
    monkeypatch.setattr(aws_clients, "_client", lambda service, region: aws(service))
    handlers: dict[str, Any] = {}

    def invoke(directory: str, event: dict[str, Any]) -> dict[str, Any]:
        if directory not in handlers:
            # Every function's module is named app: load each under a name of its own.
            spec = importlib.util.spec_from_file_location(f"app_{directory}", FUNCTIONS / directory / "app.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            handlers[directory] = module.lambda_handler
        result = handlers[directory](json.loads(json.dumps(event)), lambda_context)
        return json.loads(json.dumps(result))  # type: ignore[no-any-return]

    return invoke


def execution(**extra: Any) -> dict[str, Any]:
    return {"arn": EXECUTION_ARN, "startTime": "2026-01-01T00:00:00Z", **extra}


def entry(function_arn: str, **request: Any) -> dict[str, Any]:
    """A Map iteration's input for one target: a reference from ValidatePermissions' target list, and its timings."""
    return {
        "execution": execution(),
        "request": {"targets": [function_arn], **request},
        "ref": {"given": function_arn, "arn": function_arn, "name": function_arn.rsplit(":", 1)[-1]},
        "timings": {"validatePermissionsMs": 120.0},
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


# The states of one target's Map iteration, in the order the state machine runs them: a test of
# one state gets its input by running those before it, as JSON, on the same moto.
RunStep = Callable[..., dict[str, Any]]


def discovered(run_step: RunStep, event: dict[str, Any]) -> dict[str, Any]:
    """A Map iteration's entry through CheckCircuit and DiscoverResources."""
    from autotuner_core.steps import check_circuit, discover_resources

    return run_step(discover_resources.run, run_step(check_circuit.run, event))


def planned(run_step: RunStep, event: dict[str, Any]) -> dict[str, Any]:
    """... and through PlanMeasurements: the first round's plan."""
    from autotuner_core.steps import plan_measurements

    return run_step(plan_measurements.run, discovered(run_step, event))


def measured(run_step: RunStep, event: dict[str, Any]) -> dict[str, Any]:
    """... and through every round (PrepareMeasurement, MeasureConfigurations) until the plan is empty."""
    from autotuner_core.steps import measure_configuration, prepare_measurement

    task = planned(run_step, event)
    while task.get("plan"):  # the MeasureMore choice: "$.plan[0]" is present
        task = run_step(measure_configuration.run, run_step(prepare_measurement.run, task))
    return task


def cleaned(run_step: RunStep, event: dict[str, Any]) -> dict[str, Any]:
    """... and through CleanupMeasurement, whose report the state machine puts at ``$.cleanup.report``."""
    from autotuner_core.steps import cleanup_measurement

    task = measured(run_step, event)
    return {**task, "cleanup": {"report": run_step(cleanup_measurement.run, task)}}


def chosen(run_step: RunStep, event: dict[str, Any]) -> dict[str, Any]:
    """... and through ChooseConfiguration: the recommendation."""
    from autotuner_core.steps import choose_configuration

    return run_step(choose_configuration.run, cleaned(run_step, event))


def failed(document: dict[str, Any], error: str, message: str) -> dict[str, Any]:
    """A state's input with the error its Catch put at ``$.error``: a Lambda error's Cause is its JSON."""
    cause = {"errorMessage": message, "errorType": error, "requestId": "1", "stackTrace": []}
    return {**document, "error": {"Error": error, "Cause": json.dumps(cause)}}


def map_entries(aws: Callable[[str], Any], validated: dict[str, Any]) -> list[dict[str, Any]]:
    """The TuneTargets Map's items for ValidatePermissions' output: its ItemSelector over the stored target list."""
    where = validated["targetList"]
    refs = json.loads(aws("s3").get_object(Bucket=where["bucket"], Key=where["key"])["Body"].read())
    shared = {key: validated[key] for key in ("execution", "request", "timings")}
    return [{**shared, "ref": ref} for ref in refs]


def summarize_input(validated: dict[str, Any]) -> dict[str, Any]:
    """The Summarize Task's Payload, from the run's state after the Map (ValidatePermissions' output)."""
    return {key: validated[key] for key in ("execution", "targetList", "estimatedCost")}
