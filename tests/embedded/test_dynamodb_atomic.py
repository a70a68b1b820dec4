"""The embedded AWS's DynamoDB applies a conditional write atomically, as DynamoDB does."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import table as table_module

from emulator import dynamodb_atomic

TABLE = "autotuner-State"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        undo = dynamodb_atomic.install()
        try:
            yield client
        finally:
            undo()


def take_lease(client: Any, owner: str) -> str:
    try:
        client.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "lease#orders"}, "owner": {"S": owner}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "taken"


def test_two_executions_taking_one_lease_at_the_same_moment_one_gets_it(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two writers whose conditional puts have both read the item before either stores it,
    # if they can: each put, between its read and its condition check, waits up to half a second
    # for the other put to get there too
    both_read = threading.Barrier(2, timeout=0.5)
    original = table_module.get_filter_expression

    def condition_check(*args: Any, **kwargs: Any) -> Any:
        # (a broken barrier: the other put could not get there, its write waits for this one)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(table_module, "get_filter_expression", condition_check)
    # When both put with attribute_not_exists(pk) at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(lambda owner: take_lease(dynamodb, owner), ["run-a", "run-b"]))
    # Then exactly one holds the lease and the other's condition failed, as on DynamoDB
    assert results == ["ConditionalCheckFailedException", "taken"]
    monkeypatch.undo()
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "lease#orders"}}, ConsistentRead=True)["Item"]
    assert item["owner"]["S"] in {"run-a", "run-b"}
