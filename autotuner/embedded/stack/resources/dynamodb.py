"""DynamoDB tables, with the properties whose names differ between CloudFormation and the API."""

from __future__ import annotations

from autotuner.embedded.stack.api_parameters import _pick


def _create_table(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = self.name_for(logical_id, props.get("TableName"), 255)
    # Property names differ between CloudFormation and the DynamoDB API in these few places.
    indexes = [
        _pick(index, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
        for index in props.get("GlobalSecondaryIndexes", [])
    ]
    stream = props.get("StreamSpecification")
    sse = props.get("SSESpecification")
    table = self.call(
        "dynamodb",
        "create_table",
        TableName=name,
        GlobalSecondaryIndexes=indexes or None,
        StreamSpecification={"StreamEnabled": True, **stream} if stream else None,
        SSESpecification=(
            {"Enabled": sse.get("SSEEnabled", False), **_pick(sse, "SSEType", "KMSMasterKeyId")} if sse else None
        ),
        Tags=props.get("Tags") or None,
        **_pick(
            props,
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "ProvisionedThroughput",
            "LocalSecondaryIndexes",
            "TableClass",
            "DeletionProtectionEnabled",
            "OnDemandThroughput",
        ),
    )["TableDescription"]
    if "PointInTimeRecoverySpecification" in props:
        self.call(
            "dynamodb",
            "update_continuous_backups",
            TableName=name,
            PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"],
        )
    if "TimeToLiveSpecification" in props:
        self.call(
            "dynamodb",
            "update_time_to_live",
            TableName=name,
            TimeToLiveSpecification=props["TimeToLiveSpecification"],
        )
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return name, attributes
