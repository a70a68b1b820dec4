"""EventBridge rules and EventBridge Scheduler schedules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.stack.api_parameters import json_text, pick

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _create_rule(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("Name"), 64)
    rule_arn = deployer.call(
        "events",
        "put_rule",
        Name=name,
        EventPattern=json_text(props["EventPattern"]) if "EventPattern" in props else None,
        **pick(props, "ScheduleExpression", "State", "Description", "RoleArn", "EventBusName"),
    )["RuleArn"]
    if props.get("Targets"):
        deployer.call(
            "events",
            "put_targets",
            Rule=name,
            EventBusName=props.get("EventBusName"),
            Targets=props["Targets"],
        )
    return name, {"Arn": rule_arn}


def _create_schedule(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("Name"), 64)
    schedule_arn = deployer.call(
        "scheduler",
        "create_schedule",
        Name=name,
        **pick(
            props,
            "GroupName",
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "FlexibleTimeWindow",
            "Target",
            "State",
            "Description",
            "StartDate",
            "EndDate",
            "KmsKeyArn",
            "ActionAfterCompletion",
        ),
    )["ScheduleArn"]
    return name, {"Arn": schedule_arn}


CREATORS: dict[str, Creator] = {
    "AWS::Events::Rule": _create_rule,
    "AWS::Scheduler::Schedule": _create_schedule,
}
