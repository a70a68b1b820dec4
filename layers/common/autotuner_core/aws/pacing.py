"""Pacing: the tuner stays inside the account's Lambda control-plane rate limits.

Lambda shares one 15 requests/second bucket per account and region among all control-plane
calls (GetFunction has its own 100/s); above it, calls are throttled. The tuner takes a share
of each (template parameters), split evenly between the targets tuned side by side, and every
worker spaces its own calls with a token bucket, so a sweep does not lean on throttling and
retries. Throttling that still happens (other tools in the account) is a transient error for
the SDK and the state machine to retry.

The bucket is per thread: in Lambda one execution environment serves one invocation at a time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# Data-plane calls: not in the control-plane bucket.
_UNPACED = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})
_local = threading.local()


class TokenBucket:
    """``rate`` calls per second with bursts of ``burst``; ``take`` waits for a token."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._stamp = time.monotonic()

    def take(self) -> float:
        """Take one token, sleeping until there is one; returns the seconds slept."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        wait = (1 - self._tokens) / self.rate
        time.sleep(wait)
        self._stamp = time.monotonic()
        self._tokens = 0.0
        return wait


def pace(workers: int, settings: Any) -> None:
    """Give this worker (thread) its share of the account's Lambda buckets for this invocation."""
    share = max(1, workers)
    _local.waited = 0.0
    _local.buckets = {
        "GetFunction": TokenBucket(settings.get_function_rate / share),
        "*": TokenBucket(settings.control_plane_rate / share),
    }


def paced_seconds() -> float:
    """Seconds this worker has waited for its share since ``pace``: the handlers log it."""
    return getattr(_local, "waited", 0.0)


def before_lambda_request(operation_name: str | None = None, **_: Any) -> None:
    """botocore ``request-created`` hook: once per attempt, so SDK retries are paced too."""
    buckets = getattr(_local, "buckets", None)
    if buckets is None or operation_name in _UNPACED:
        return
    bucket = buckets.get(operation_name or "", buckets["*"])
    _local.waited = getattr(_local, "waited", 0.0) + bucket.take()


def install(client: Any) -> None:
    client.meta.events.register("request-created.lambda", before_lambda_request)
