"""What a reviewer checks in template.yaml before deploying the tuner.

The template is checked the way AWS will see it: sam validate --lint and cfn-lint run as a user
runs them, and the IAM / logging / table / state-machine assertions walk the CloudFormation that
the SAM transform produces (samtranslator, offline), so roles and policies SAM adds are included.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from autotuner_core.policy.permissions import PRINCIPALS, Resource, principal

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"

# The only permissions each function's role may hold, besides the baseline below: the manifest's.
FUNCTION_ACTIONS: dict[str, set[str]] = {
    entry.logical_id: entry.actions for entry in PRINCIPALS if entry.logical_id != "TunerStateMachine"
}
STATE_MACHINE_ACTIONS = principal("TunerStateMachine").actions

# AWS managed policies SAM attaches to every function role, with the actions AWS publishes for them:
# writing its own logs (AWSLambdaBasicExecutionRole) and X-Ray segments for Tracing: Active.
LAMBDA_BASIC_LOGS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
XRAY_WRITE = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
}
# SAM attaches AWSLambdaVPCAccessExecutionRole to every function role because Globals sets a VpcConfig
# (an Fn::If); its network-interface actions are denied outside a VPC (NoNetworkInterfacesOutsideVpc),
# its read-only ec2:DescribeSubnets is not (PrepareMeasurement needs it for shadows of targets in a VPC).
VPC_NETWORK_INTERFACES = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
VPC_DESCRIBE_SUBNETS = {"ec2:DescribeSubnets"}
KNOWN_MANAGED_POLICIES: dict[str, set[str]] = {
    "AWSLambdaBasicExecutionRole": LAMBDA_BASIC_LOGS,
    "AWSXrayWriteOnlyAccess": XRAY_WRITE,
    "AWSLambdaVPCAccessExecutionRole": LAMBDA_BASIC_LOGS | VPC_NETWORK_INTERFACES | VPC_DESCRIBE_SUBNETS,
}
BROAD_POLICY_MARKERS = ("FullAccess", "AdministratorAccess", "PowerUser")

# How other workloads start the tuner (docs/integration.md): the events it matches and sends.
TUNE_REQUEST_PATTERN = {"source": ["lambda-autotuner.requests"], "detail-type": ["Tune Requested"]}
TUNING_COMPLETED_SOURCE = "lambda-autotuner"
DEFAULT_BUS_ARN = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
TUNER_EXECUTIONS_ARN = (
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${TunerStateMachine.Name}:*"
)
INTEGRATION_DOC = ROOT / "docs" / "integration.md"

# Used to translate when statemachine/autotuner.asl.json is absent; the checks here do not read it.
STUB_DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


# ----------------------------------------------------------------------------------------------
# helpers


def _tool(name: str) -> str:
    """The CLI installed next to the interpreter running the tests (the project's .venv), else PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = REGION
    env["SAM_CLI_TELEMETRY"] = "0"
    return env


class _ManagedPolicyLoader:
    """Offline stand-in for samtranslator's IAM lookup of managed policy names."""

    def load(self) -> dict[str, str]:
        return {
            "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        }


def _branches(node: Any) -> Iterator[Any]:
    """Every value a node can take: both sides of Fn::If, AWS::NoValue dropped."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        _condition, when_true, when_false = node["Fn::If"]
        yield from _branches(when_true)
        yield from _branches(when_false)
    elif isinstance(node, dict) and node == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield node


def _statements(document: Any) -> Iterator[dict[str, Any]]:
    for doc in _branches(document):
        statements = doc.get("Statement", [])
        for statement_list in _branches(statements):
            if isinstance(statement_list, dict):
                statement_list = [statement_list]
            for item in statement_list:
                yield from (s for s in _branches(item) if isinstance(s, dict))


def _actions(statement: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for action in _branches(statement.get("Action", [])):
        found.extend(action if isinstance(action, list) else [action])
    return found


def _managed_policy_name(arn: Any) -> str:
    text = arn if isinstance(arn, str) else json.dumps(arn)
    return text.rstrip('"}]').rsplit("/", 1)[-1]


def _resources_of_type(cfn: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in cfn["Resources"].items() if res["Type"] == type_}


def _role_id(cfn: dict[str, Any], logical_id: str) -> str:
    role = cfn["Resources"][logical_id]["Properties"]["Role"]
    assert isinstance(role, dict) and "Fn::GetAtt" in role, f"{logical_id} must use a role of this stack"
    return role["Fn::GetAtt"][0]


def _inline_statements(cfn: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    role = cfn["Resources"][role_id]["Properties"]
    found = [s for policy in role.get("Policies", []) for s in _statements(policy["PolicyDocument"])]
    # Separate AWS::IAM::Policy resources attached to the role count as the role's too.
    for policy in _resources_of_type(cfn, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            found.extend(_statements(policy["Properties"]["PolicyDocument"]))
    return found


def _effective_actions(cfn: dict[str, Any], role_id: str) -> set[str]:
    actions = {a for s in _inline_statements(cfn, role_id) if s.get("Effect") == "Allow" for a in _actions(s)}
    for arn in cfn["Resources"][role_id]["Properties"].get("ManagedPolicyArns", []):
        name = _managed_policy_name(arn)
        assert name in KNOWN_MANAGED_POLICIES, f"{role_id}: unreviewed managed policy {arn}"
        actions |= KNOWN_MANAGED_POLICIES[name]
    return actions


def _denied_unless_in_vpc(cfn: dict[str, Any], role_id: str) -> set[str]:
    """Actions the role's policies deny when the functions are not in a VPC (condition NotInVpc)."""
    denied: set[str] = set()
    for policy in _resources_of_type(cfn, "AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"].get("Roles", []):
            continue
        for statement in _statements(policy["Properties"]["PolicyDocument"]):
            if statement.get("Effect") == "Deny":
                assert policy.get("Condition") == "NotInVpc", f"{role_id}: a deny that applies in a VPC too"
                assert statement["Resource"] == "*"
                denied.update(_actions(statement))
    return denied


def _value_with(cfn: dict[str, Any], node: Any, parameters: dict[str, str]) -> Any:
    """What a `Fn::If` on an `Equals [Ref Parameter, literal]` condition gives for these parameter values.

    Parameters not given take their template default, as in a deployment that does not set them.
    """
    if not (isinstance(node, dict) and set(node) == {"Fn::If"}):
        return node
    condition, when_true, when_false = node["Fn::If"]
    left, right = cfn["Conditions"][condition]["Fn::Equals"]
    name = left["Ref"]
    value = parameters.get(name, str(cfn["Parameters"][name]["Default"]))
    return _value_with(cfn, when_true if value == right else when_false, parameters)


def _assumed_by(cfn: dict[str, Any], role_id: str) -> set[str]:
    """The service principals a role's trust policy lets assume it."""
    services: set[str] = set()
    for statement in cfn["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", role_id
        assert set(statement["Principal"]) == {"Service"}, f"{role_id}: only a service may assume it"
        found = statement["Principal"]["Service"]
        services.update(found if isinstance(found, list) else [found])
    return services


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs the Allow statements give, resources as JSON text."""
    pairs = set()
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        resources = statement["Resource"]
        for action in _actions(statement):
            for resource in resources if isinstance(resources, list) else [resources]:
                pairs.add((action, json.dumps(resource, sort_keys=True)))
    return pairs


def _ref(logical_id: str) -> str:
    return json.dumps({"Ref": logical_id})


def _sub(text: str) -> str:
    return json.dumps({"Fn::Sub": text})


# ----------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def cfn(sam_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml as CloudFormation, translated offline the way `sam deploy` would submit it."""
    template = copy.deepcopy(sam_template)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):  # local paths become S3 locations at package time
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://packaged-artifacts/{props[key]}"
        definition_uri = props.get("DefinitionUri")
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(definition_uri, str):
            del props["DefinitionUri"]  # SAM inlines a local definition file at package time
            definition_file = ROOT / definition_uri
            props["Definition"] = (
                json.loads(definition_file.read_text()) if definition_file.exists() else STUB_DEFINITION
            )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        return transform(template, {}, _ManagedPolicyLoader())


# ----------------------------------------------------------------------------------------------
# (a), (b) the linters a user runs


def test_sam_validate_with_lint_passes() -> None:
    # Given the template and a region (sam validate runs offline)
    # When the user runs `sam validate --lint`
    result = subprocess.run(
        [_tool("sam"), "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=ROOT,
        env=_cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Then it exits 0 and calls the template valid
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is a valid SAM Template" in output, output


def test_cfn_lint_reports_no_findings() -> None:
    # Given the template
    # When the user runs cfn-lint on it
    result = subprocess.run(
        [_tool("cfn-lint"), "--format", "parseable", "--", str(TEMPLATE)],
        cwd=ROOT,
        env=_cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Then there is not a single error or warning
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


# ----------------------------------------------------------------------------------------------
# (c) IAM: least privilege


def test_no_iam_action_contains_a_wildcard(cfn: dict[str, Any]) -> None:
    # Given every IAM policy document in the deployed template (role inline policies and policy resources)
    documents: list[tuple[str, Any]] = []
    for lid, role in _resources_of_type(cfn, "AWS::IAM::Role").items():
        documents += [(lid, p["PolicyDocument"]) for p in role["Properties"].get("Policies", [])]
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for lid, policy in _resources_of_type(cfn, type_).items():
            documents.append((lid, policy["Properties"]["PolicyDocument"]))
    assert documents, "expected IAM policies in the template"
    # When their actions are listed
    offending = []
    for lid, document in documents:
        for statement in _statements(document):
            if "NotAction" in statement:
                offending.append((lid, statement.get("Sid"), "NotAction"))
            for action in _actions(statement):
                if not isinstance(action, str) or "*" in action:
                    offending.append((lid, statement.get("Sid"), action))
    # Then each one names a single action (no "*", no NotAction)
    assert offending == []


def test_no_broad_managed_policies_are_attached(cfn: dict[str, Any]) -> None:
    # Given every role of the deployed template
    roles = _resources_of_type(cfn, "AWS::IAM::Role")
    # When their managed policies are listed
    attached = {
        lid: [_managed_policy_name(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])]
        for lid, role in roles.items()
    }
    # Then none is a *FullAccess / AdministratorAccess / PowerUser policy
    broad = {
        lid: names
        for lid, names in attached.items()
        if any(marker in name for name in names for marker in BROAD_POLICY_MARKERS)
    }
    assert broad == {}


def test_the_template_has_exactly_the_functions_the_permission_table_covers(cfn: dict[str, Any]) -> None:
    # Given the Lambda functions of the deployed template
    functions = set(_resources_of_type(cfn, "AWS::Lambda::Function"))
    # Then each has an entry in the permission table (a new function needs its permissions reviewed)
    assert functions == set(FUNCTION_ACTIONS)


@pytest.mark.parametrize("function_id", sorted(FUNCTION_ACTIONS))
def test_each_function_role_holds_only_its_own_actions(cfn: dict[str, Any], function_id: str) -> None:
    # Given the role the function runs with
    role_id = _role_id(cfn, function_id)
    # When its inline and managed permissions are added up, with what is denied outside a VPC
    actions = _effective_actions(cfn, role_id)
    denied_outside_vpc = _denied_unless_in_vpc(cfn, role_id)
    baseline = LAMBDA_BASIC_LOGS | XRAY_WRITE | VPC_DESCRIBE_SUBNETS
    # Then outside a VPC (the default) it holds the actions the function needs, plus only log writing,
    # X-Ray tracing and listing subnets
    assert actions - denied_outside_vpc == FUNCTION_ACTIONS[function_id] | baseline
    # And in a VPC (SubnetIds set) the network interfaces Lambda needs as well, nothing else
    assert denied_outside_vpc == VPC_NETWORK_INTERFACES
    assert actions == FUNCTION_ACTIONS[function_id] | baseline | VPC_NETWORK_INTERFACES
    managed = {_managed_policy_name(a) for a in cfn["Resources"][role_id]["Properties"]["ManagedPolicyArns"]}
    assert "AWSXrayWriteOnlyAccess" in managed


def test_function_roles_are_not_shared(cfn: dict[str, Any]) -> None:
    # Given the tuner's functions
    # When their roles are looked up
    roles = [_role_id(cfn, function_id) for function_id in FUNCTION_ACTIONS]
    # Then each function has a role of its own (permissions cannot leak between them)
    assert len(set(roles)) == len(roles)


def test_state_machine_may_invoke_only_the_tuner_functions(cfn: dict[str, Any]) -> None:
    # Given the state machine's role
    (machine,) = _resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    # When its permissions are listed
    actions = _effective_actions(cfn, role_id)
    invoked = set()
    named = {  # functions invoked by their fixed name (ValidatePermissions: the role's ARN is its input)
        json.dumps(res["Properties"]["FunctionName"], sort_keys=True): lid
        for lid, res in _resources_of_type(cfn, "AWS::Lambda::Function").items()
        if "FunctionName" in res["Properties"]
    }
    for statement in _inline_statements(cfn, role_id):
        if "lambda:InvokeFunction" in _actions(statement):
            for resource in _branches(statement["Resource"]):
                name = resource["Fn::Sub"][1]["functionName"]
                invoked.add(name["Ref"] if "Ref" in name else named[json.dumps(name, sort_keys=True)])
    # Then it can invoke the tuner's functions, run its Distributed Map (target list and results in
    # the sweep bucket, child executions of itself), deliver its logs and write traces; nothing else
    assert actions == STATE_MACHINE_ACTIONS | XRAY_WRITE
    assert {"lambda:InvokeFunction", "states:StartExecution", "s3:GetObject", "s3:PutObject"} <= actions
    assert invoked == set(FUNCTION_ACTIONS)


# ----------------------------------------------------------------------------------------------
# (d) runtime, architecture, tracing and logs of every function


def test_every_function_runs_python313_on_arm64_with_active_tracing(cfn: dict[str, Any]) -> None:
    # Given every Lambda function of the deployed template
    functions = _resources_of_type(cfn, "AWS::Lambda::Function")
    # Then each one runs python3.13 on arm64 with X-Ray tracing active and the shared layer
    (layer_id, layer) = next(iter(_resources_of_type(cfn, "AWS::Lambda::LayerVersion").items()))
    for lid, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", lid
        assert props["Architectures"] == ["arm64"], lid
        assert props["TracingConfig"] == {"Mode": "Active"}, lid
        assert {"Ref": layer_id} in props["Layers"], lid
    assert "python3.13" in layer["Properties"]["CompatibleRuntimes"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_every_function_logs_json_to_its_own_retained_log_group(cfn: dict[str, Any]) -> None:
    # Given every Lambda function of the deployed template
    functions = _resources_of_type(cfn, "AWS::Lambda::Function")
    log_groups = _resources_of_type(cfn, "AWS::Logs::LogGroup")
    used: list[str] = []
    for lid, function in functions.items():
        # When its logging configuration is read
        logging_config = function["Properties"].get("LoggingConfig", {})
        # Then it logs JSON into a log group of this stack whose retention is the LogRetentionDays parameter
        assert logging_config.get("LogFormat") == "JSON", lid
        group_ref = logging_config.get("LogGroup")
        assert isinstance(group_ref, dict) and group_ref.get("Ref") in log_groups, f"{lid}: {group_ref}"
        retention = log_groups[group_ref["Ref"]]["Properties"].get("RetentionInDays")
        assert retention == {"Ref": "LogRetentionDays"}, lid
        used.append(group_ref["Ref"])
    # And no two functions share a log group
    assert len(set(used)) == len(used) == len(FUNCTION_ACTIONS)


# ----------------------------------------------------------------------------------------------
# (e) the run-history table


def test_run_history_table_has_pitr_encryption_ttl_and_survives_stack_deletion(cfn: dict[str, Any]) -> None:
    # Given the DynamoDB table that keeps the run records
    table = _resources_of_type(cfn, "AWS::DynamoDB::Table")["RunHistoryTable"]
    props = table["Properties"]
    # Then it can be restored to a point in time, is encrypted at rest and expires old records
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    assert props["TimeToLiveSpecification"]["AttributeName"]
    # And deleting or replacing the stack keeps the history
    assert table.get("DeletionPolicy") == "Retain"
    assert table.get("UpdateReplacePolicy") == "Retain"


# ----------------------------------------------------------------------------------------------
# (f) the state machine


def test_state_machine_is_standard_traced_and_logged(cfn: dict[str, Any]) -> None:
    # Given the tuner's state machine
    (machine,) = _resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    # Then it is a STANDARD workflow (exactly-once, long-running, full execution history)
    assert props["StateMachineType"] == "STANDARD"
    # And it sends traces to X-Ray
    assert props["TracingConfiguration"] == {"Enabled": True}
    # And it logs to its own log group, retained for LogRetentionDays
    logging_config = props["LoggingConfiguration"]
    assert logging_config["Level"] in {"ALL", "ERROR", "FATAL"}
    (destination,) = logging_config["Destinations"]
    group_arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
    group_id = group_arn["Fn::GetAtt"][0]
    group = cfn["Resources"][group_id]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_state_table_has_pitr_encryption_and_ttl(cfn: dict[str, Any]) -> None:
    # Given the table of circuit breakers, leases and idempotency records
    props = _resources_of_type(cfn, "AWS::DynamoDB::Table")["StateTable"]["Properties"]
    # Then it is recoverable, encrypted, and its items expire through the attribute the code writes
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_alarms_and_dashboard_watch_failed_runs_and_opened_circuits(cfn: dict[str, Any]) -> None:
    alarms = _resources_of_type(cfn, "AWS::CloudWatch::Alarm")
    metrics = {(alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"]) for alarm in alarms.values()}
    assert metrics == {
        ("AWS/States", "ExecutionsFailed"),
        ("LambdaAutotuner", "CircuitOpened"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),  # a trigger that could not start a run
    }
    (dashboard,) = _resources_of_type(cfn, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("RunOutcome", "ErrorsByCategory", "TimeToFailure", "CircuitOpened"):
        assert metric in body
    # Savings per million invocations are listed per function from RecordResult's log, never summed as a metric
    assert "ProjectedSavings" not in body
    assert "SOURCE '${RecordResultLogGroup}' | filter message = 'applied change'" in body


# ----------------------------------------------------------------------------------------------
# (g) how the tuner is started: schedule, event rule, callers' policy, completion events


def test_schedule_is_disabled_by_default_and_runs_the_configured_sweep(cfn: dict[str, Any]) -> None:
    # Given the tuner's EventBridge Scheduler schedule
    (schedule,) = _resources_of_type(cfn, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    # When the stack is deployed with the default parameters
    # Then the schedule exists but is DISABLED: nothing runs until the deployer turns it on
    assert cfn["Parameters"]["ScheduleEnabled"]["Default"] == "false"
    assert _value_with(cfn, props["State"], {}) == "DISABLED"
    assert _value_with(cfn, props["State"], {"ScheduleEnabled": "true"}) == "ENABLED"
    assert set(cfn["Parameters"]["ScheduleEnabled"]["AllowedValues"]) == {"true", "false"}
    # And when it runs, it starts the tuner with the expression, time zone and input the parameters give
    assert props["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert props["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
    assert props["Target"]["Arn"] == {"Ref": "TunerStateMachine"}
    assert props["Target"]["Input"] == {"Ref": "ScheduleInput"}
    assert cfn["Parameters"]["ScheduleExpression"]["Default"] == "cron(0 3 ? * SUN *)"
    assert cfn["Parameters"]["ScheduleTimezone"]["Default"] == "UTC"
    # And the default input is a tag sweep (JSON the execution receives as is), not a fixed function list
    assert json.loads(cfn["Parameters"]["ScheduleInput"]["Default"]) == {"select": {"tags": {"autotune": "enabled"}}}


def test_schedule_role_can_only_start_this_state_machine(cfn: dict[str, Any]) -> None:
    # Given the role the schedule starts executions with
    (schedule,) = _resources_of_type(cfn, "AWS::Scheduler::Schedule").values()
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    # When its trust and permissions are read
    trust = cfn["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # Then only EventBridge Scheduler, for this account's default schedule group, may assume it
    assert _assumed_by(cfn, role_id) == {"scheduler.amazonaws.com"}
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for s in trust)
    assert schedule["Properties"]["GroupName"] == "default"
    # And it may start executions of the tuner's state machine, and hand a start it could not make
    # to the dead-letter queue; nothing else
    assert _grants(_inline_statements(cfn, role_id)) == {
        ("states:StartExecution", _ref("TunerStateMachine")),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["TriggerDeadLetterQueue", "Arn"]})),
    }
    assert not cfn["Resources"][role_id]["Properties"].get("ManagedPolicyArns")


def test_schedule_and_rule_send_what_they_could_not_start_to_the_dead_letter_queue(cfn: dict[str, Any]) -> None:
    # Given the schedule, the tune-request rule and the dead-letter queue
    (schedule,) = _resources_of_type(cfn, "AWS::Scheduler::Schedule").values()
    (rule,) = _resources_of_type(cfn, "AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    queue = {"Fn::GetAtt": ["TriggerDeadLetterQueue", "Arn"]}
    # Then both name the queue as their dead-letter target after bounded retries
    assert schedule["Properties"]["Target"]["DeadLetterConfig"] == {"Arn": queue}
    assert target["DeadLetterConfig"] == {"Arn": queue}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 3600
    # And only EventBridge, for this rule, may send to the queue
    (policy,) = _resources_of_type(cfn, "AWS::SQS::QueuePolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": [_first_id(cfn, "AWS::Events::Rule"), "Arn"]
    }


def _first_id(cfn: dict[str, Any], resource_type: str) -> str:
    (logical_id,) = _resources_of_type(cfn, resource_type)
    return logical_id


def test_tune_requested_events_start_an_execution_with_their_detail_as_input(cfn: dict[str, Any]) -> None:
    # Given the EventBridge rule for tune requests
    (rule,) = _resources_of_type(cfn, "AWS::Events::Rule").values()
    props = rule["Properties"]
    # Then it listens on the default bus for "Tune Requested" from the documented source
    assert "EventBusName" not in props or props["EventBusName"] == "default"
    assert props["EventPattern"] == TUNE_REQUEST_PATTERN
    # And it never matches the tuner's own "Tuning Completed" events (a completion cannot start a run)
    assert TUNING_COMPLETED_SOURCE not in props["EventPattern"]["source"]
    # And it is on by default, and can be turned off by the TuneRequestsEnabled parameter
    assert _value_with(cfn, props["State"], {}) == "ENABLED"
    assert _value_with(cfn, props["State"], {"TuneRequestsEnabled": "false"}) == "DISABLED"
    # And its only target is the tuner, which receives the event's detail as the execution input
    (target,) = props["Targets"]
    assert target["Arn"] == {"Ref": "TunerStateMachine"}
    assert target["InputPath"] == "$.detail"
    assert "Input" not in target and "InputTransformer" not in target


def test_tune_request_role_can_only_start_this_state_machine(cfn: dict[str, Any]) -> None:
    # Given the role the rule's target is invoked with
    (rule,) = _resources_of_type(cfn, "AWS::Events::Rule").values()
    role_id = rule["Properties"]["Targets"][0]["RoleArn"]["Fn::GetAtt"][0]
    trust = cfn["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # Then only EventBridge, for rules of this account, may assume it
    assert _assumed_by(cfn, role_id) == {"events.amazonaws.com"}
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for s in trust)
    # And it may start executions of the tuner's state machine and do nothing else (the dead-letter
    # queue admits the rule through the queue's own policy)
    assert _grants(_inline_statements(cfn, role_id)) == {("states:StartExecution", _ref("TunerStateMachine"))}
    assert not cfn["Resources"][role_id]["Properties"].get("ManagedPolicyArns")


def test_only_record_result_may_put_events_and_only_on_the_default_bus(cfn: dict[str, Any]) -> None:
    # Given every role of the deployed template
    roles = _resources_of_type(cfn, "AWS::IAM::Role")
    # When the statements that allow events:PutEvents are collected
    putters = {
        role_id: {
            resource for action, resource in _grants(_inline_statements(cfn, role_id)) if action == "events:PutEvents"
        }
        for role_id in roles
    }
    putters = {role_id: resources for role_id, resources in putters.items() if resources}
    # Then RecordResult's role is the only one, and only on this account's default event bus
    assert putters == {_role_id(cfn, "RecordResultFunction"): {_sub(DEFAULT_BUS_ARN)}}
    # And RecordResult is told that bus and the source its "Tuning Completed" events carry
    variables = cfn["Resources"]["RecordResultFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["EVENT_BUS_NAME"] == "default"
    assert variables["EVENT_SOURCE"] == TUNING_COMPLETED_SOURCE


def test_start_tuning_policy_lets_callers_start_and_follow_only_this_state_machine(cfn: dict[str, Any]) -> None:
    # Given the managed policy for workloads that start the tuner
    policies = _resources_of_type(cfn, "AWS::IAM::ManagedPolicy")
    assert set(policies) == {"StartTuningPolicy"}
    document = policies["StartTuningPolicy"]["Properties"]["PolicyDocument"]
    # When its grants are listed
    grants = _grants(list(_statements(document)))
    # Then it starts executions of this state machine, and describes, stops and reads only its executions
    assert grants == {
        ("states:StartExecution", _ref("TunerStateMachine")),
        ("states:DescribeExecution", _sub(TUNER_EXECUTIONS_ARN)),
        ("states:StopExecution", _sub(TUNER_EXECUTIONS_ARN)),
        ("states:GetExecutionHistory", _sub(TUNER_EXECUTIONS_ARN)),
    }
    assert all(s["Effect"] == "Allow" for s in _statements(document))
    # And the stack attaches it to no one: callers attach it to their own roles
    props = policies["StartTuningPolicy"]["Properties"]
    assert not (props.get("Roles") or props.get("Users") or props.get("Groups"))


def test_outputs_name_the_policy_rule_and_schedule(cfn: dict[str, Any]) -> None:
    # Given the deployed template's outputs
    outputs = cfn["Outputs"]
    # Then a caller can find the state machine, the policy to attach, the rule and the schedule
    assert outputs["StateMachineArn"]["Value"] == {"Ref": "TunerStateMachine"}
    assert outputs["StartTuningPolicyArn"]["Value"] == {"Ref": "StartTuningPolicy"}
    (rule_id,) = _resources_of_type(cfn, "AWS::Events::Rule")
    (schedule_id,) = _resources_of_type(cfn, "AWS::Scheduler::Schedule")
    assert outputs["TuneRequestRuleName"]["Value"] == {"Ref": rule_id}
    assert outputs["TuningScheduleName"]["Value"] == {"Ref": schedule_id}


def test_integration_guide_documents_what_the_template_deploys(sam_template: dict[str, Any]) -> None:
    # Given the guide other workloads read
    guide = INTEGRATION_DOC.read_text()
    # Then it names the event source and detail types, the parameters that start runs, and the outputs
    for text in (
        *TUNE_REQUEST_PATTERN["source"],
        *TUNE_REQUEST_PATTERN["detail-type"],
        "Tuning Completed",
        "ScheduleEnabled",
        "ScheduleExpression",
        "ScheduleTimezone",
        "ScheduleInput",
        "TuneRequestsEnabled",
        "StartTuningPolicyArn",
        "TuneRequestRuleName",
        "TuningScheduleName",
        "startExecution.sync:2",
        "StepFunctionsGetEventsForStepFunctionsExecutionRule",
    ):
        assert text in guide, text
    # And its defaults are the template's
    for name in ("ScheduleEnabled", "ScheduleExpression", "ScheduleTimezone", "TuneRequestsEnabled"):
        assert f"`{sam_template['Parameters'][name]['Default']}`" in guide, name


# ----------------------------------------------------------------------------------------------
# (c') the permissions manifest is the template's source of truth

_TARGETS = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${TargetNamePrefix}*"
_MACHINE_NAME = "${NamePrefix}${AWS::StackName}-tuner"
_MACHINE = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{_MACHINE_NAME}"
_EXECUTIONS = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{_MACHINE_NAME}/*"
_RUNS = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{_MACHINE_NAME}:*"
_SHADOWS = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:autotuner-shadow-*"


def _get_att(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def _manifest_resources(cfn: dict[str, Any], kind: Resource) -> set[str]:
    """The template's ARN expressions for a manifest resource kind, as JSON text."""
    functions = [entry.logical_id for entry in PRINCIPALS if entry.logical_id != "TunerStateMachine"]
    if kind is Resource.TUNER_ROLES:
        # The roles pre-flight simulates: every one with a grant (a role with none has nothing to check).
        checked = [entry.logical_id for entry in PRINCIPALS if entry.role_setting and entry.grants]
        return {_get_att(_role_id(cfn, lid)) for lid in checked if lid != "TunerStateMachine"} | {
            _get_att("TunerStateMachineRole")
        }
    if kind is Resource.TUNER_FUNCTIONS:
        found = set()
        for lid in functions:
            properties = cfn["Resources"][lid]["Properties"]
            name = properties.get("FunctionName", {"Ref": lid})
            if isinstance(name, dict) and "Fn::If" in name:  # named only with a NamePrefix
                name = {"Ref": lid}
            pattern = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*"
            found.add(json.dumps({"Fn::Sub": [pattern, {"functionName": name}]}, sort_keys=True))
        return found
    return {
        Resource.TARGET_FUNCTIONS: {_sub(_TARGETS)},
        Resource.TARGET_VERSIONS: {_sub(_TARGETS + ":*")},
        Resource.MEASUREMENT_ALIASES: {_sub(_TARGETS + ":autotuner-*")},
        Resource.RUN_HISTORY_TABLE: {_get_att("RunHistoryTable")},
        Resource.STATE_TABLE: {_get_att("StateTable")},
        Resource.TARGET_LISTS: {_sub("${SweepBucket.Arn}/runs/*")},
        Resource.PAYLOAD_OBJECTS: {json.dumps(_PAYLOAD_OBJECTS, sort_keys=True)},
        Resource.PAYLOAD_PROCESSORS: {json.dumps({"Fn::Split": [",", {"Ref": "PayloadProcessorArns"}]})},
        Resource.MAP_RESULTS: {_sub("${SweepBucket.Arn}/map-results/*")},
        Resource.RUN_REPORTS: {_sub("${SweepBucket.Arn}/reports/*")},
        Resource.DEFAULT_EVENT_BUS: {_sub(DEFAULT_BUS_ARN)},
        Resource.STATE_MACHINE: {_sub(_MACHINE)},
        Resource.STATE_MACHINE_EXECUTIONS: {_sub(_EXECUTIONS)},
        Resource.SHADOW_FUNCTIONS: {_sub(_SHADOWS)},
        Resource.SHADOW_ALIASES: {_sub(_SHADOWS + ":autotuner-*")},
        Resource.SHADOW_CODE: {_sub("${SweepBucket.Arn}/shadow-code/*")},
        Resource.SHADOW_ROLES: {json.dumps({"Fn::Split": [",", {"Ref": "ShadowRoleArns"}]}, sort_keys=True)},
        Resource.STATE_MACHINE_RUNS: {_sub(_RUNS)},
        Resource.LAYER_VERSIONS: {_sub("arn:${AWS::Partition}:lambda:*:*:layer:*:*")},
        Resource.ANY: {json.dumps("*")},
    }[kind]


# Every object of the PayloadBuckets parameter's buckets (template: CheckPayloadObjects, ReadPayloadObjects).
_PAYLOAD_OBJECTS = {
    "Fn::Split": [
        ",",
        {
            "Fn::Sub": [
                "arn:*:s3:::${Buckets}/*",
                {"Buckets": {"Fn::Join": ["/*,arn:*:s3:::", {"Fn::Split": [",", {"Ref": "PayloadBuckets"}]}]}},
            ]
        },
    ]
}


def _role_of(cfn: dict[str, Any], logical_id: str) -> str:
    if logical_id == "TunerStateMachine":
        (machine,) = _resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
        return machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return _role_id(cfn, logical_id)


@pytest.mark.parametrize("entry", PRINCIPALS, ids=lambda entry: entry.logical_id)
def test_each_role_grants_exactly_what_the_manifest_declares(cfn: dict[str, Any], entry: Any) -> None:
    # Given the manifest's grants for one role: actions, resources, tag scope
    expected = {
        (action, resource, grant.tag_scoped, grant.passed_to)
        for grant in entry.grants
        for action in grant.actions
        for resource in _manifest_resources(cfn, grant.resource)
    }
    # When the role's inline statements (and policies attached to it) are listed the same way
    found = set()
    for statement in _inline_statements(cfn, _role_of(cfn, entry.logical_id)):
        if statement.get("Effect") != "Allow":
            continue
        for action in _actions(statement):
            for resource in _branches(statement["Resource"]):
                for one in resource if isinstance(resource, list) else [resource]:
                    condition = json.dumps(statement.get("Condition"))
                    passed_to = (statement.get("Condition") or {}).get("StringEquals", {}).get("iam:PassedToService")
                    tagged = "aws:ResourceTag/autotune" in condition
                    found.add((action, json.dumps(one, sort_keys=True), tagged, passed_to))
    # Then they are the same: a grant the manifest lacks (or the template lacks) fails here
    assert found == expected
