"""CloudWatch Logs log groups, CloudWatch alarms and dashboards."""

from __future__ import annotations

from autotuner.embedded.stack.api_parameters import _json_text, _tag_dict


def _create_log_group(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = self.name_for(logical_id, props.get("LogGroupName"), 512)
    self.call(
        "logs",
        "create_log_group",
        logGroupName=name,
        kmsKeyId=props.get("KmsKeyId"),
        tags=_tag_dict(props.get("Tags")) or None,
        logGroupClass=props.get("LogGroupClass"),
    )
    if "RetentionInDays" in props:
        self.call("logs", "put_retention_policy", logGroupName=name, retentionInDays=props["RetentionInDays"])
    return name, {"Arn": self.arn("logs", f"log-group:{name}:*")}


def _create_alarm(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = self.name_for(logical_id, props.get("AlarmName"), 255)
    # CloudFormation's Alarm properties are the PutMetricAlarm parameters.
    self.call(
        "cloudwatch",
        "put_metric_alarm",
        AlarmName=name,
        **{k: v for k, v in props.items() if k != "AlarmName"},
    )
    return name, {"Arn": self.arn("cloudwatch", f"alarm:{name}")}


def _create_dashboard(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = self.name_for(logical_id, props.get("DashboardName"), 255)
    self.call(
        "cloudwatch",
        "put_dashboard",
        DashboardName=name,
        DashboardBody=_json_text(props["DashboardBody"]),
    )
    return name, {}
