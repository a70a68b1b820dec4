"""The embedded AWS's GetMetricStatistics reads the metric of exactly the dimensions asked for, as CloudWatch does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import cloudwatch_exact

NAME = "orders-api"


def _sum(client: Any, dimensions: list[dict[str, str]]) -> float:
    now = datetime.now(UTC)
    response = client.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=dimensions,
        StartTime=now - timedelta(hours=24),
        EndTime=now,
        Period=86_400,
        Statistics=["Sum"],
    )
    return sum(point["Sum"] for point in response["Datapoints"])


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-east-1")
        # 100 invocations through the alias "live", published as Lambda publishes them: under the
        # function, under the function and the resource invoked, and under that and the version run
        function = {"Name": "FunctionName", "Value": NAME}
        resource = {"Name": "Resource", "Value": f"{NAME}:live"}
        version = {"Name": "ExecutedVersion", "Value": "3"}
        when = datetime.now(UTC) - timedelta(hours=1)
        client.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {"MetricName": "Invocations", "Dimensions": dims, "Value": 100.0, "Unit": "Count", "Timestamp": when}
                for dims in ([function], [function, resource], [function, resource, version])
            ],
        )
        undo = cloudwatch_exact.install()
        try:
            yield client
        finally:
            undo()


def test_the_function_metric_counts_each_invocation_once(cloudwatch: Any) -> None:
    # When the function's Invocations are read under FunctionName alone
    # Then the 100 invocations count once, not once per dimension set they were published under
    assert _sum(cloudwatch, [{"Name": "FunctionName", "Value": NAME}]) == 100


def test_each_dimension_set_is_a_metric_of_its_own(cloudwatch: Any) -> None:
    function = {"Name": "FunctionName", "Value": NAME}
    # The alias's resource metric, in either order of its dimensions
    assert _sum(cloudwatch, [function, {"Name": "Resource", "Value": f"{NAME}:live"}]) == 100
    assert _sum(cloudwatch, [{"Name": "Resource", "Value": f"{NAME}:live"}, function]) == 100
    # and the unqualified function's, which nobody invoked
    assert _sum(cloudwatch, [function, {"Name": "Resource", "Value": NAME}]) == 0


def test_without_the_patch_moto_counts_the_function_metric_three_times() -> None:
    # What the patch is for (if moto changes this, the module can go)
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-east-1")
        function = {"Name": "FunctionName", "Value": NAME}
        when = datetime.now(UTC) - timedelta(hours=1)
        client.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {"MetricName": "Invocations", "Dimensions": dims, "Value": 100.0, "Timestamp": when}
                for dims in ([function], [function, {"Name": "Resource", "Value": f"{NAME}:live"}])
            ],
        )
        assert _sum(client, [function]) == 200
