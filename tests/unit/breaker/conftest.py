"""One moto DynamoDB state table per test module, emptied before each test, and the store over it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from breaker_table import REGION, TABLE, RecordingClient
from moto import mock_aws

from autotuner_core.policy.breaker import BreakerStore


@pytest.fixture(scope="module")
def moto_dynamodb() -> Iterator[Any]:
    """A moto DynamoDB table shaped like the tuner's state table: key ``pk``, TTL on ``expiresAt``.

    Started once per module (starting moto and a client costs ~0.2 s); each test empties the table.
    """
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
        yield client


@pytest.fixture
def dynamodb(moto_dynamodb: Any) -> Any:
    for item in moto_dynamodb.scan(TableName=TABLE, ProjectionExpression="pk")["Items"]:
        moto_dynamodb.delete_item(TableName=TABLE, Key=item)
    return moto_dynamodb


@pytest.fixture
def client(dynamodb: Any) -> RecordingClient:
    return RecordingClient(dynamodb)


@pytest.fixture
def store(client: RecordingClient) -> BreakerStore:
    return BreakerStore(client, TABLE)
