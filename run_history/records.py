"""The run records one execution wrote, read from the run-history table through its byExecution index."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from autotuner_core.run.records import plain
from run_history.errors import aws_step

__all__ = ["BY_EXECUTION_INDEX", "execution_records", "query_items"]

BY_EXECUTION_INDEX = "byExecution"

_DESERIALIZER = TypeDeserializer()


def _item(raw: dict[str, Any]) -> dict[str, Any]:
    return plain({key: _DESERIALIZER.deserialize(value) for key, value in raw.items()})


def query_items(dynamodb: Any, what: str, limit: int | None = None, **request: Any) -> list[dict[str, Any]]:
    """Every item of a Query as plain JSON values (following LastEvaluatedKey), or the first ``limit``."""
    missing = f"table {request['TableName']!r} does not exist in {dynamodb.meta.region_name}"
    if "IndexName" in request:
        missing += f" (or has no index {request['IndexName']!r})"
    items: list[dict[str, Any]] = []
    while limit is None or len(items) < limit:
        page_request = dict(request, Limit=limit - len(items)) if limit is not None else request
        with aws_step("dynamodb:Query", what, missing=missing):
            page = dynamodb.query(**page_request)
        items.extend(_item(raw) for raw in page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            break
        request = dict(request, ExclusiveStartKey=page["LastEvaluatedKey"])
    return items


def execution_records(dynamodb: Any, table: str, execution_arn: str) -> list[dict[str, Any]]:
    """Every run record of one execution (one per target), by target."""
    return query_items(
        dynamodb,
        f"table {table!r} index {BY_EXECUTION_INDEX} (records of {execution_arn})",
        TableName=table,
        IndexName=BY_EXECUTION_INDEX,
        KeyConditionExpression="executionArn = :execution",
        ExpressionAttributeValues={":execution": {"S": execution_arn}},
    )
