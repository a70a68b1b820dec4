"""CloudWatch Logs log groups, CloudWatch alarms and dashboards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.stack.api_parameters import json_text, tag_dict

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _create_log_group(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("LogGroupName"), 512)
    deployer.call(
        "logs",
        "create_log_group",
        logGroupName=name,
        kmsKeyId=props.get("KmsKeyId"),
        tags=tag_dict(props.get("Tags")) or None,
        logGroupClass=props.get("LogGroupClass"),
    )
    if "RetentionInDays" in props:
        deployer.call("logs", "put_retention_policy", logGroupName=name, retentionInDays=props["RetentionInDays"])
    return name, {"Arn": deployer.arn("logs", f"log-group:{name}:*")}


def _create_alarm(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("AlarmName"), 255)
    # CloudFormation's Alarm properties are the PutMetricAlarm parameters.
    deployer.call(
        "cloudwatch",
        "put_metric_alarm",
        AlarmName=name,
        **{k: v for k, v in props.items() if k != "AlarmName"},
    )
    return name, {"Arn": deployer.arn("cloudwatch", f"alarm:{name}")}


def _create_dashboard(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("DashboardName"), 255)
    deployer.call(
        "cloudwatch",
        "put_dashboard",
        DashboardName=name,
        DashboardBody=json_text(props["DashboardBody"]),
    )
    return name, {}


CREATORS: dict[str, Creator] = {
    "AWS::Logs::LogGroup": _create_log_group,
    "AWS::CloudWatch::Alarm": _create_alarm,
    "AWS::CloudWatch::Dashboard": _create_dashboard,
}
