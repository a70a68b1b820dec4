"""EventBridge rules and EventBridge Scheduler schedules."""

from __future__ import annotations

from autotuner.embedded.stack.api_parameters import _json_text, _pick


def _create_rule(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = self.name_for(logical_id, props.get("Name"), 64)
    rule_arn = self.call(
        "events",
        "put_rule",
        Name=name,
        EventPattern=_json_text(props["EventPattern"]) if "EventPattern" in props else None,
        **_pick(props, "ScheduleExpression", "State", "Description", "RoleArn", "EventBusName"),
    )["RuleArn"]
    if props.get("Targets"):
        self.call(
            "events",
            "put_targets",
            Rule=name,
            EventBusName=props.get("EventBusName"),
            Targets=props["Targets"],
        )
    return name, {"Arn": rule_arn}


def _create_schedule(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = self.name_for(logical_id, props.get("Name"), 64)
    schedule_arn = self.call(
        "scheduler",
        "create_schedule",
        Name=name,
        **_pick(
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
