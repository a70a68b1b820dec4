"""Logger, Tracer and Metrics, created once for every function: one log, trace and metric shape."""

from __future__ import annotations

import wrapt
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Tracer() would patch every library X-Ray supports at import, loading botocore (~140 ms) in every
# handler. The only calls the functions trace are AWS calls: botocore is patched once boto3 is
# imported, which autotuner_core.aws.clients does for the first client, so a path without AWS calls
# never loads it.
tracer = Tracer(auto_patch=False)
wrapt.register_post_import_hook(lambda _boto3: tracer.patch(["botocore"]), "boto3")
metrics = Metrics()


def bind_execution(execution_arn: str | None) -> None:
    """Use the Step Functions execution as the correlation id of every log line."""
    if execution_arn:
        logger.set_correlation_id(execution_arn)


def count(name: str, *, dimension: str, value: str, amount: float = 1) -> None:
    """A count with its own dimension, flushed as its own EMF document (e.g. RunOutcome by outcome)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=amount, namespace=metrics.namespace) as metric:
        metric.add_dimension(name=dimension, value=value)
