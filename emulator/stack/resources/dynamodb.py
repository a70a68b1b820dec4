"""DynamoDB tables, with the properties whose names differ between CloudFormation and the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.stack.api_parameters import pick

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _create_table(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("TableName"), 255)
    # Property names differ between CloudFormation and the DynamoDB API in these few places.
    indexes = [
        pick(index, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
        for index in props.get("GlobalSecondaryIndexes", [])
    ]
    stream = props.get("StreamSpecification")
    sse = props.get("SSESpecification")
    table = deployer.call(
        "dynamodb",
        "create_table",
        TableName=name,
        GlobalSecondaryIndexes=indexes or None,
        StreamSpecification={"StreamEnabled": True, **stream} if stream else None,
        SSESpecification=(
            {"Enabled": sse.get("SSEEnabled", False), **pick(sse, "SSEType", "KMSMasterKeyId")} if sse else None
        ),
        Tags=props.get("Tags") or None,
        **pick(
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
        deployer.call(
            "dynamodb",
            "update_continuous_backups",
            TableName=name,
            PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"],
        )
    if "TimeToLiveSpecification" in props:
        deployer.call(
            "dynamodb",
            "update_time_to_live",
            TableName=name,
            TimeToLiveSpecification=props["TimeToLiveSpecification"],
        )
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return name, attributes


CREATORS: dict[str, Creator] = {
    "AWS::DynamoDB::Table": _create_table,
}
