"""The AWS clients a step calls, each made on first use: ``aws_client`` in Lambda, anything else in tests.

A step reaches AWS only through this object, so a test hands it clients of its own (moto's
in-process ones) and a step that calls nothing (PlanMeasurements) never imports boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autotuner_core.aws.clients import aws_client


class Clients:
    """One invocation's clients. The Lambda client counts its control-plane calls from first use, and
    the CloudWatch client its reads (the live-traffic checks): run_cost.py."""

    def __init__(self, make: Callable[[str], Any] = aws_client) -> None:
        self._make = make
        self._made: dict[str, Any] = {}
        self._counting = False

    def _count_from_here(self) -> None:
        from autotuner_core.cost import run_cost

        if not self._counting:
            run_cost.reset_calls()
            self._counting = True

    def _client(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = self._make(service)
        return self._made[service]

    @property
    def lambda_(self) -> Any:
        if "lambda" not in self._made:
            from autotuner_core.cost import run_cost

            self._count_from_here()
            run_cost.count_requests(self._client("lambda"), "lambda")
        return self._made["lambda"]

    def control_plane_calls(self) -> int:
        """The Lambda control-plane and CloudWatch requests this invocation made (none if it used neither)."""
        if not self._counting:
            return 0
        from autotuner_core.cost import run_cost

        return run_cost.control_plane_calls()

    @property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @property
    def s3(self) -> Any:
        return self._client("s3")

    @property
    def cloudwatch(self) -> Any:
        if "cloudwatch" not in self._made:
            from autotuner_core.cost import run_cost

            self._count_from_here()
            run_cost.count_requests(self._client("cloudwatch"), "cloudwatch")
        return self._made["cloudwatch"]

    @property
    def logs(self) -> Any:
        return self._client("logs")

    @property
    def iam(self) -> Any:
        return self._client("iam")

    @property
    def events(self) -> Any:
        return self._client("events")

    @property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")

    @property
    def tagging(self) -> Any:
        return self._client("resourcegroupstaggingapi")
