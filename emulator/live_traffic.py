"""Live traffic on simulated targets while a run tunes them: what production would see.

A simulated function with ``liveTraffic`` (docs/simulated-account.md) is invoked by "its users"
for the whole run: unqualified by default, so each request runs whatever ``$LATEST`` is at that
moment, as an API Gateway integration, an event source mapping or a function URL without a
qualifier does. Each invocation records the memory size it ran at, read from its own REPORT line.
A live request that ran at a size other than the function's original one or the one the run
finally left is a request production served at a candidate size: the count the tuner must keep 0.

A scheduled caller with ``callsDuringRun`` (IAM alone authorises it; no trigger shows it) makes its
next call right after the tuner first sets the function's ``$LATEST`` to a memory size other than
its own: :meth:`LiveTraffic.observe` sees the tuner's UpdateFunctionConfiguration as it is served,
and the call is made there, before the tuner's next request, so a run sees it at its next check.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.account import SimulatedFunction
from emulator.interceptor import calls_made_by, unlogged

# Text REPORT lines say "Memory Size: 512 MB"; JSON logs carry platform.report's memorySizeMB.
_MEMORY = re.compile(r"Memory Size: (\d+) MB|\"memorySizeMB\":\s*(\d+)")
# The fastest the driver invokes, whatever the rate asks: each request is a real call through the
# embedded Lambda, and a faster loop would only take the CPU from the run it observes.
_MIN_INTERVAL_S = 0.01
CALLER = "live-traffic"


@dataclass(frozen=True)
class LiveInvocation:
    """One request of a function's users, and the configuration it ran at."""

    function: str
    qualifier: str
    executed_version: str
    memory_size: int | None
    error: str | None


class LiveTraffic:
    """Invokes every function that has ``liveTraffic`` at its rate until stopped.

    ``aws_second`` is how many real seconds one AWS second lasts in the embedded AWS (its
    ``retry_time_scale``); the rate is per AWS second, bounded below by ``_MIN_INTERVAL_S``.
    """

    def __init__(self, functions: list[SimulatedFunction], *, client: Callable[[], Any], aws_second: float) -> None:
        self.functions = [function for function in functions if function.live_traffic is not None]
        # Functions whose scheduled callers call during the run: not yet called, by name.
        self._due = {
            function.name: function
            for function in functions
            if any(caller.calls_during_run for caller in function.scheduled_callers)
        }
        self._scheduled = [function for function in self._due.values() if function not in self.functions]
        self._client = client
        self._aws_second = aws_second
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.invocations: list[LiveInvocation] = []

    def __enter__(self) -> LiveTraffic:
        self._stop.clear()
        for function in self.functions:
            thread = threading.Thread(target=self._drive, args=(function,), name=f"live-{function.name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    @property
    def watched(self) -> list[SimulatedFunction]:
        """Every function production reaches during the run: live traffic, or a scheduled caller."""
        return [*self.functions, *self._scheduled]

    def observe(self, call: str, caller: str) -> None:
        """An interceptor observer: after a tuner's UpdateFunctionConfiguration, the calls that fall due."""
        if call != "lambda:UpdateFunctionConfiguration" or caller in (CALLER, "client") or not self._due:
            return
        client = self._client()
        with unlogged():
            moved = [
                function
                for function in list(self._due.values())
                if client.get_function_configuration(FunctionName=function.name)["MemorySize"] != function.memory_size
            ]
        for function in moved:
            with self._lock:
                if self._due.pop(function.name, None) is None:
                    continue  # another thread's update made its call
            for scheduled in function.scheduled_callers:
                if scheduled.calls_during_run:
                    for _ in range(scheduled.requests):
                        self._invoke(client, function.name, scheduled.qualifier, b"{}")

    def _invoke(self, client: Any, name: str, qualifier: str | None, payload: bytes) -> None:
        """One request of the function's users, recorded with the memory size it ran at."""
        kwargs: dict[str, Any] = {"FunctionName": name, "Payload": payload, "LogType": "Tail"}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        # The function's users are not the tuner: their calls are neither logged nor faulted.
        with unlogged(), calls_made_by(CALLER):
            response = client.invoke(**kwargs)
        tail = base64.b64decode(response.get("LogResult") or b"").decode("utf-8", "replace")
        found = _MEMORY.search(tail)
        record = LiveInvocation(
            function=name,
            qualifier=qualifier or "$LATEST",
            executed_version=response.get("ExecutedVersion", "$LATEST"),
            memory_size=int(found.group(1) or found.group(2)) if found else None,
            error=response.get("FunctionError"),
        )
        with self._lock:
            self.invocations.append(record)

    def _drive(self, function: SimulatedFunction) -> None:
        spec = function.live_traffic
        assert spec is not None
        interval = max(_MIN_INTERVAL_S, self._aws_second / spec.requests_per_second)
        client = self._client()
        payload = json.dumps(spec.payload).encode("utf-8")
        while not self._stop.is_set():
            self._invoke(client, function.name, spec.qualifier, payload)
            self._stop.wait(interval)

    def at_candidate_sizes(
        self, original: dict[str, int], final: dict[str, int], applying: dict[str, set[int]] | None = None
    ) -> int:
        """Live requests that ran at neither the function's original size nor the size it was left at.

        ``applying``: the size a run set out to apply to a function; a failed apply that was rolled
        back ran production there briefly, which is the change asked for, not a candidate size.
        """
        applying = applying or {}
        with self._lock:
            return sum(
                1
                for record in self.invocations
                if record.memory_size not in (original.get(record.function), final.get(record.function))
                and record.memory_size not in applying.get(record.function, set())
            )

    def by_memory_size(self) -> dict[str, dict[int | None, int]]:
        """How many live requests each function served at each memory size."""
        counts: dict[str, dict[int | None, int]] = {}
        with self._lock:
            for record in self.invocations:
                sizes = counts.setdefault(record.function, {})
                sizes[record.memory_size] = sizes.get(record.memory_size, 0) + 1
        return counts


def applying_sizes(records: list[dict[str, Any]]) -> dict[str, set[int]]:
    """The memory size an applying run set out to give each target, as its run records say.

    A record keeps the request the tuner parsed (``requested``, its ``apply`` and any fixed
    ``memorySize``) and the recommendation it made; an apply that failed is rolled back, so that
    size is neither the original nor the final one. The execution input is not read: the tuner's
    own records are what an account holds after a run.
    """
    sizes: dict[str, set[int]] = {}
    for record in records:
        requested = record.get("requested") or {}
        if requested.get("apply") is not True:
            continue
        name = str(record.get("target", "")).rsplit(":", 1)[-1]
        fixed = requested.get("memorySize")
        size = fixed if isinstance(fixed, int) else (record.get("recommendation") or {}).get("memorySize")
        if isinstance(size, int):
            sizes.setdefault(name, set()).add(size)
    return sizes
