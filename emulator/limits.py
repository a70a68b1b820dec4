"""Lambda's control-plane rate limits, as the embedded AWS enforces them.

Lambda shares one 15 requests/second bucket per account and region between every control-plane
call; GetFunction and GetPolicy have buckets of their own (100/s and 15/s); invocations are not
in any of them (the quotas Lambda documents; docs/simulated-account.md, ``rateLimits``). A
request that finds its bucket empty is refused with 429 TooManyRequestsException, Reason
CallerRateLimitExceeded, as AWS answers it.

Time passes at the embedded AWS's clock (aws_time.py): with ``time_scale`` 0.01 a second of AWS
time is 10 ms of wall time, the same factor that shortens retry waits, so a limit binds the same
way relative to the waits (and to the tuner's own pacing) as it would in AWS. In-process compute
is not scaled, so below 1 the limits are kinder to a fast caller than AWS: a throttling bound is
asserted at ``time_scale`` 1.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from emulator.aws_time import aws_seconds_now
from emulator.interceptor import Refusal

CONTROL_PLANE_PER_SECOND = 15.0
GET_FUNCTION_PER_SECOND = 100.0
GET_POLICY_PER_SECOND = 15.0
_DATA_PLANE = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})
_THROTTLED = Refusal("TooManyRequestsException", 429, "Rate exceeded (Reason: CallerRateLimitExceeded)")


@dataclass
class _Bucket:
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        # A bucket holds one second's worth: the burst AWS allows is not documented.
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class LambdaRateLimits:
    """A request gate (interceptor.Gate): throttles Lambda control-plane calls above the limits."""

    time_scale: float
    control_plane: float = CONTROL_PLANE_PER_SECOND
    get_function: float = GET_FUNCTION_PER_SECOND
    get_policy: float = GET_POLICY_PER_SECOND
    admitted: Counter = field(default_factory=Counter)  # bucket -> requests served
    throttled: Counter = field(default_factory=Counter)  # bucket -> requests refused
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        """Seconds of AWS time: the embedded clock's (aws_time.EmbeddedClock.now), as the pacing reads it."""
        return aws_seconds_now(self.time_scale)

    def bucket_of(self, operation: str) -> str | None:
        if operation in _DATA_PLANE:
            return None
        return operation if operation in ("GetFunction", "GetPolicy") else "control-plane"

    def __call__(self, service: str, operation: str, caller: str) -> Refusal | None:
        if service != "lambda":
            return None
        name = self.bucket_of(operation)
        if name is None:
            return None
        rate = {"GetFunction": self.get_function, "GetPolicy": self.get_policy}.get(name, self.control_plane)
        with self._lock:
            now = self.now()
            bucket = self._buckets.setdefault(name, _Bucket(rate=rate, tokens=rate, stamp=now))
            if bucket.take(now):
                self.admitted[name] += 1
                return None
            self.throttled[name] += 1
            return _THROTTLED

    def reset(self) -> None:
        with self._lock:
            self.admitted.clear()
            self.throttled.clear()
            self._buckets.clear()
