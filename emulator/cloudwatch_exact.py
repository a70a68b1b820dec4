"""GetMetricStatistics reads one metric: the exact dimension set asked for, as CloudWatch does.

CloudWatch treats each combination of dimensions as a metric of its own, and GetMetricStatistics
returns the datapoints of the metric whose dimensions are exactly those given. moto returns every
datum whose dimensions include them: asked for ``FunctionName`` alone, it adds the data Lambda
publishes under ``FunctionName`` + ``Resource`` (and + ``ExecutedVersion``) to it and counts each
invocation two or three times. (moto's GetMetricData already matches exactly.) A query without
dimensions is left as moto answers it: the product always names its dimensions.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from emulator import moto_adapter

# The dimension set (sorted name/value pairs) of the GetMetricStatistics call running in this thread.
_asked: ContextVar[list[tuple[str, str | None]] | None] = ContextVar("asked_dimensions", default=None)


def install() -> Callable[[], None]:
    """Match GetMetricStatistics' dimensions exactly until the returned undo is called."""
    patches = moto_adapter.Patches()

    def get_metric_statistics(backend: Any, *args: Any, **kwargs: Any) -> Any:
        dimensions = kwargs["dimensions"] if "dimensions" in kwargs else args[6]
        token = _asked.set(sorted((d["Name"], d.get("Value")) for d in dimensions or []))
        try:
            return original_statistics(backend, *args, **kwargs)
        finally:
            _asked.reset(token)

    def filter_(datum: Any, *args: Any, **kwargs: Any) -> bool:
        if not original_filter(datum, *args, **kwargs):
            return False
        asked = _asked.get()
        return asked is None or sorted((d.name, d.value) for d in datum.dimensions) == asked

    original_statistics = patches.patch(moto_adapter.CloudWatchBackend, "get_metric_statistics", get_metric_statistics)
    original_filter = patches.patch(moto_adapter.MetricDatumBase, "filter", filter_)
    return patches.undo
