"""How template.yaml lets the tuner be started: the schedule, the event rule, callers' policy and completion events."""

from __future__ import annotations

import json
from typing import Any

from .reading import (
    DEFAULT_BUS_ARN,
    INTEGRATION_DOC,
    TUNE_REQUEST_PATTERN,
    TUNER_EXECUTIONS_ARN,
    TUNING_COMPLETED_SOURCE,
    _assumed_by,
    _grants,
    _inline_statements,
    _ref,
    _resources_of_type,
    _role_id,
    _statements,
    _sub,
    _value_with,
)

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
