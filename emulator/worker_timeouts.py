"""A tuner function that times out right after one of its AWS calls (``SimulatedAccount.workerTimeouts``).

Lambda stops a function at its timeout wherever it is: the calls it made stand, nothing after
them runs (no ``except``, no ``finally`` that calls AWS, no Powertools clean-up), and the caller
gets ``FunctionError: Unhandled`` with errorType ``Sandbox.Timedout``. Here, an invocation armed
with a timeout is watched by the interceptor: right after the named call was served, the
handler's thread gets an ``InvocationTimedOut`` — a ``BaseException``, so the handler's
``except Exception`` cannot see it any more than it would see a real timeout — and any call it
still tries is refused the same way. The runtime then waits until the invocation's deadline
(its Timeout times retryTimeScale, or ``seconds``) and answers as Lambda does.

While a timeout is armed for a function, each of its invocations has that deadline in its
context (``get_remaining_time_in_millis``), so what it derives from its deadline (Powertools
idempotency's in-progress expiry) agrees with when it is cut off. Calls the function makes on
threads of its own (a ThreadPoolExecutor) are not watched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from emulator.account import WorkerTimeout
from emulator.interceptor import Interceptor, Refusal

TIMED_OUT = "Sandbox.Timedout"


class InvocationTimedOut(BaseException):
    """The invocation reached its (simulated) timeout; raised in the handler's thread."""


@dataclass
class _Armed:
    spec: WorkerTimeout
    remaining: int


class WorkerTimeouts:
    """The armed timeouts, and the interceptor hooks that enforce them."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []
        self._time_scale = 1.0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._installed: Interceptor | None = None
        self.cut_off = 0  # invocations cut off so far

    def arm(self, timeouts: list[WorkerTimeout], *, interceptor: Interceptor, time_scale: float) -> None:
        """Replace the armed timeouts (an empty list disarms); hooks into ``interceptor`` once."""
        if self._installed is not interceptor:
            interceptor.gates.insert(0, self._refuse_after_timeout)
            interceptor.observers.append(self._after_call)
            self._installed = interceptor
        with self._lock:
            self._armed = [_Armed(spec=spec, remaining=spec.times) for spec in timeouts]
            self._time_scale = time_scale

    def remaining(self) -> int:
        with self._lock:
            return sum(armed.remaining for armed in self._armed)

    @contextmanager
    def watching(self, function: str, timeout_s: float) -> Iterator[float | None]:
        """Watch one invocation of ``function``; yields its deadline in seconds if a timeout is armed for it."""
        with self._lock:
            mine = [armed for armed in self._armed if armed.spec.function == function and armed.remaining > 0]
            scale = self._time_scale
        self._local.armed = mine
        self._local.timed_out = False
        try:
            if not mine:
                yield None
            else:
                yield mine[0].spec.seconds or timeout_s * scale
        finally:
            self._local.armed = []
            self._local.timed_out = False

    def _after_call(self, call: str, caller: str) -> None:
        for armed in getattr(self._local, "armed", []):
            if armed.spec.after != call:
                continue
            with self._lock:
                if armed.remaining <= 0:
                    continue
                armed.remaining -= 1
                self.cut_off += 1
            self._local.timed_out = True
            raise InvocationTimedOut(f"{caller} timed out after {call}")

    def _refuse_after_timeout(self, service: str, operation: str, caller: str) -> Refusal | None:
        if getattr(self._local, "timed_out", False):
            raise InvocationTimedOut(f"{caller} made {service}:{operation} after its timeout")
        return None
