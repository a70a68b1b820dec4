"""Simulated target functions: invocations whose REPORT lines follow documented Lambda behaviour.

A target in the embedded AWS runs no code. Its behaviour is a ``FunctionProfile`` (account.py)
and the model below; every payload it returns carries ``"simulated": true``.

CPU share (AWS: "Lambda allocates CPU power in proportion to memory"; 1,769 MB = one vCPU,
up to 6 vCPUs at 10,240 MB; docs: configuration-memory)::

    vcpus(m) = min(m / 1769, 6)

Linear all the way (10,240 MB gives 5.79 vCPUs); the cap only matters if that ever changes.

Duration (without noise: ``expected_duration_ms``)::

    duration = (cpu_ms / min(vcpus(m), threads) * gc(m) + io_ms) * scale + transfer(m), times noise

``cpu_ms`` is the CPU work measured at one full vCPU. Below 1,769 MB a function gets a
fraction of a vCPU, so CPU time stretches as 1769 / m. Above it, only a function with
more than one thread gains (the extra vCPUs are extra cores, not a faster core), up to
``threads`` vCPUs. ``io_ms`` is waiting on other services: memory does not shorten it.
``scale`` is the payload's size: ``event["scale"]`` when the event is an object with a
positive number there, else 1. ``noise`` is a lognormal factor with median 1 and sigma
``profile.noise``, from a ``random.Random`` seeded per invocation with the function's code
identity, ``profile.seed``, the memory size, the caller and that stream's invocation counter: the
same seed gives the same sequence. Each (function, memory size, caller) stream counts on its own,
so sizes measured side by side (the state machine's Map runs them on threads) draw the same values
whatever order the threads reach the simulator in; the code identity is the name the profile was
given under, so a copy of the function made during a run (a shadow, whose name carries the run's
token) draws what the function itself would.

Memory (Lambda kills a runtime that exceeds its memory; the REPORT line then shows Max
Memory Used = Memory Size and the invoke returns ``Runtime.OutOfMemory``)::

    max memory used = round(base_memory_mb + working_set_mb * scale)

The working set grows linearly over the invocation. If it does not fit in the configured
memory the invocation is killed when it runs out, at ``duration * (m - base) / working set``:
errorType ``Runtime.OutOfMemory``, errorMessage "RequestId: … Error: Runtime exited with
error: signal: killed", Max Memory Used = Memory Size. ``memory_floor_mb`` is the smallest
size that does not run out.

Timeout (Lambda stops the invocation at the function's timeout; errorType
``Sandbox.Timedout``, "RequestId: … Error: Task timed out after 3.00 seconds")::

    duration > timeout * 1000  →  Duration = timeout * 1000, Status: timeout

Whichever of out-of-memory and timeout comes first wins.

Cold starts (Lambda runs each request in an execution environment of the function *version*;
a request that finds none idle gets a new one and pays its Init phase; environments are
reused by later requests; a new version, and ``$LATEST`` after any configuration change,
has none yet; docs: lambda-runtime-environment)::

    Init Duration = cold_start_ms * (0.7 + 0.3 * 128 / min(m, 1769))

``cold_start_ms`` is the Init Duration at 128 MB. 30 % of it is CPU work of the runtime's
start and the imports, single-threaded, so it runs on the function's CPU share (capped at
one vCPU); the rest (fetching code, starting the sandbox) does not depend on memory.
Init Duration is billed: since August 2025 Lambda bills the INIT phase of on-demand functions
on managed runtimes too, so a cold start's Billed Duration = ceil(Init + Duration). An invocation keeps its
environment busy for (init + duration) * ``time_scale`` real seconds, so invocations that
overlap in real time (threads) each need an environment, as concurrent requests do. After
a timeout or an out-of-memory kill Lambda resets the environment: the next request is cold.
Idle environments are never reclaimed here (Lambda reclaims them after minutes).

Replayed curves (``profile.curve``, curves.py): Duration follows a measured curve instead of the
formula above, piecewise linear in log-memory between its sizes, with its own noise (lognormal,
sigma 0.12 by default, mean-preserving) and rare 2-4x spikes; below its smallest size the
function runs out of memory, above its largest it keeps that size's duration. Memory, cold
starts, timeouts, errors and logs are modelled as for any profile.

Function errors: with probability ``error_rate`` (seeded as the noise) the invocation fails
with ``error_type`` after running its full duration, as an unhandled exception does; the
environment survives.

Billing (per 1 ms): Billed Duration = ceil(Duration), at least 1 ms; ceil(Init + Duration) on a
cold start.

Parametric extras (all off by default): ``gc_pressure`` makes the CPU part grow near the floor
by ``gc_pressure * (max memory used / m)^2`` (a tight heap collects often), so the cheapest size
can lie above the floor; ``transfer_mb`` adds ``transfer_mb / (bandwidth_mb_s * sqrt(min(1,
vcpus(m))))`` seconds of network time (throughput grows with memory up to one vCPU; AWS does not
document the curve, this is a model); ``memory_jitter`` draws each invocation's working set
within +-that share (Max Memory Used varies, and one near the limit may run out of memory);
``slow_share`` of invocations take ``slow_factor`` times as long (a bimodal latency: cache
misses, cold dependencies). ``expected_duration_ms`` is the fast mode without noise.

Logs: Text format as Lambda writes it (``INIT_START`` on a cold start, ``START``, error lines,
``END``, then the tab-separated ``REPORT`` line, Init Duration only when cold, ``Status`` /
``Error Type`` only when the runtime timed out or was killed); JSON format
(``log_format: "JSON"``) as ``platform.initStart`` / ``platform.start`` / ``platform.report``
records, ``record.metrics`` holding durationMs, billedDurationMs, memorySizeMB,
maxMemoryUsedMB and initDurationMs (docs: telemetry-schema-reference). The log always ends
with the report.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from emulator import simulated_output
from emulator.account import PROFILE_PRESETS, FunctionProfile
from emulator.interceptor import current_caller
from emulator.lambda_service import Invocation, Invoker, client_context
from emulator.simulated_output import OUT_OF_MEMORY, TIMED_OUT

MB_PER_VCPU = 1769
MAX_VCPUS = 6
INIT_CPU_SHARE = 0.3
INIT_REFERENCE_MB = 128
DEFAULT_TIME_SCALE = 0.0005


PROFILES: dict[str, FunctionProfile] = {name: FunctionProfile(preset=name) for name in PROFILE_PRESETS}
"""The presets as profiles, for demos and benchmarks: ``PROFILES["cpu-bound"]``."""

# platform.report record.status: "failure" is the function's own error (it raised), "error" the
# runtime's (killed), "timeout" the timeout (docs: telemetry-schema-reference, Status).
Status = Literal["success", "failure", "error", "timeout"]


# -- the model, without noise ---------------------------------------------------------------------
def vcpus(memory_mb: float) -> float:
    """The CPU share Lambda gives ``memory_mb``: one vCPU at 1,769 MB, at most six."""
    return min(memory_mb / MB_PER_VCPU, MAX_VCPUS)


def expected_duration_ms(profile: FunctionProfile, memory_mb: float, scale: float = 1.0) -> float:
    """Duration at ``memory_mb`` without noise, timeout or out-of-memory: the true curve.

    A profile with a ``curve`` replays it (curves.py), held at its end sizes outside its range.
    """
    if profile.curve is not None:
        curve = profile.curve.replay()
        return curve.duration_ms(min(max(memory_mb, curve.min_mb), curve.max_mb)) * scale
    heap = min(1.0, max_memory_used_mb(profile, scale) / memory_mb)
    cpu = profile.cpu_ms / min(vcpus(memory_mb), profile.threads) * (1 + profile.gc_pressure * heap**2)
    return cpu * scale + profile.io_ms * scale + transfer_ms(profile, memory_mb, scale)


def transfer_ms(profile: FunctionProfile, memory_mb: float, scale: float = 1.0) -> float:
    """Time to move ``transfer_mb`` at ``memory_mb``: full bandwidth from one vCPU up, sqrt(share) below."""
    if profile.transfer_mb <= 0:
        return 0.0
    throughput = profile.bandwidth_mb_s * math.sqrt(min(1.0, vcpus(memory_mb)))
    return profile.transfer_mb * scale / throughput * 1000


def expected_init_duration_ms(profile: FunctionProfile, memory_mb: float) -> float:
    """Init Duration of a cold start at ``memory_mb``."""
    cpu_factor = INIT_REFERENCE_MB / min(memory_mb, MB_PER_VCPU)
    return profile.cold_start_ms * (1 - INIT_CPU_SHARE + INIT_CPU_SHARE * cpu_factor)


def max_memory_used_mb(profile: FunctionProfile, scale: float = 1.0) -> int:
    """Max Memory Used of an invocation that has the memory it needs."""
    return round(profile.base_memory_mb + profile.working_set_mb * scale)


def memory_floor_mb(profile: FunctionProfile, scale: float = 1.0) -> int:
    """The smallest memory size (at least 128 MB) at which the function does not run out of memory.

    A replayed curve's floor is at least its smallest measured size.
    """
    curve_floor = profile.curve.points().memory_mb[0] if profile.curve is not None else 128
    return max(128, curve_floor, max_memory_used_mb(profile, scale))


def payload_scale(event: Any) -> float:
    """``event["scale"]`` if the event is an object with a positive finite number there, else 1."""
    if isinstance(event, dict):
        value = event.get("scale")
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return float(value)
    return 1.0


def billed_duration_ms(duration_ms: float) -> int:
    """Lambda bills the reported Duration rounded up to the next millisecond, at least 1 ms."""
    hundredths = round(duration_ms * 100)
    return max(1, -(-hundredths // 100))


# -- the simulator -----------------------------------------------------------------------------------
class FunctionVersion(Protocol):
    """What the simulator reads of the invoked function: moto's LambdaFunction has all of it."""

    function_name: str
    version: Any
    memory_size: int
    timeout: int


@dataclass(frozen=True)
class SimulatedInvocation:
    """One simulated invocation, as the REPORT line tells it (kept for tests and benchmarks)."""

    function_name: str
    version: str
    request_id: str
    memory_size: int
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    status: Status
    error_type: str | None
    environment: int
    # What the function received, as a function can see it: the event, and the ClientContext's
    # decoded document (measurement marks itself there: {"custom": {"autotuner": "measurement", …}}).
    event: Any = None
    client_context: dict[str, Any] | None = None


@dataclass
class _Environment:
    number: int
    busy: bool = True


class LambdaSimulator:
    """Invokes simulated targets: durations, memory, cold starts and failures per the module's model.

    ``invoker(profile)`` gives the embedded AWS's Lambda emulation an invoker for one function.
    ``time_scale`` is how many real seconds an invocation holds its environment per simulated
    second (0.0005: a 1 s invocation holds it for 0.5 ms).
    """

    def __init__(self, *, time_scale: float = DEFAULT_TIME_SCALE, sleep: Callable[[float], None] = time.sleep):
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.time_scale = time_scale
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pools: dict[tuple[str, ...], list[_Environment]] = {}
        self._counters: dict[tuple[str, ...], int] = {}
        self._environments = 0
        self.invocations: list[SimulatedInvocation] = []

    def invoker(self, profile: FunctionProfile | None = None, *, identity: str | None = None) -> Invoker:
        """An invoker for ``LambdaEmulation.set_invoker``; no profile: a light function.

        ``identity`` names the code whose behaviour this is (the simulated function's name): a
        function given the same invoker, a copy of that code, then draws from the same streams.
        None: each function invoked draws under its own name.
        """
        profile = profile or FunctionProfile()

        def invoke(fn: Any, event: Any) -> Invocation:
            return self.invoke(fn, profile, event, identity=identity)

        return invoke

    def cold_starts(self, function_name: str, version: str | None = None) -> int:
        """Cold starts of the function (of one version: "$LATEST", "1", …). Each created one environment."""
        with self._lock:
            return sum(
                1
                for record in self.invocations
                if record.function_name == function_name
                and record.init_duration_ms is not None
                and (version is None or record.version == version)
            )

    def environment_count(self, function_name: str, version: str | None = None) -> int:
        """Execution environments created for the function (or one version); equals ``cold_starts``."""
        return self.cold_starts(function_name, version)

    def invoke(
        self, fn: FunctionVersion, profile: FunctionProfile, event: Any, *, identity: str | None = None
    ) -> Invocation:
        """Simulate one invocation of ``fn`` (a version's configuration) with ``profile``.

        ``identity``: the code's name for the random streams (``invoker``); None: ``fn``'s name.
        """
        version = str(fn.version)
        memory = int(fn.memory_size)
        timeout_ms = float(fn.timeout) * 1000
        scale = payload_scale(event)
        function_key = (str(getattr(fn, "account_id", "")), str(getattr(fn, "region", "")), fn.function_name)
        pool_key = (*function_key, version, _configuration_fingerprint(fn))
        code = identity or fn.function_name
        # One stream per size and caller: concurrent callers (a Map's iterations, live traffic)
        # interleave in an order the threads decide, and must not shift each other's draws.
        caller = current_caller()
        stream = (function_key[0], function_key[1], code, memory, caller)

        with self._lock:
            counter = self._counters.get(stream, 0)
            self._counters[stream] = counter + 1
            pool = self._pools.setdefault(pool_key, [])
            environment = next((env for env in pool if not env.busy), None)
            cold = environment is None
            if environment is None:
                self._environments += 1
                environment = _Environment(number=self._environments)
                pool.append(environment)
            environment.busy = True

        rng = random.Random(f"{code}:{profile.seed}:{memory}:{caller}:{counter}")
        request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if profile.curve is None:
            noise = rng.lognormvariate(0.0, profile.noise) if profile.noise > 0 else 1.0
            run_ms = expected_duration_ms(profile, memory, scale) * noise
        else:
            curve = profile.curve.replay()
            run_ms = curve.sample_ms(min(max(memory, curve.min_mb), curve.max_mb), rng) * scale
        fails = rng.random() < profile.error_rate
        # Drawn only when used, so profiles without them keep their sequences.
        if profile.slow_share > 0 and rng.random() < profile.slow_share:
            run_ms *= profile.slow_factor
        jitter = rng.uniform(-profile.memory_jitter, profile.memory_jitter) if profile.memory_jitter > 0 else 0.0

        init_ms = round(expected_init_duration_ms(profile, memory), 2) if cold else None
        working_set = profile.working_set_mb * scale * (1 + jitter)
        needed = profile.base_memory_mb + working_set
        # A replayed curve says nothing below its smallest size: the function runs out of memory there.
        floor = memory_floor_mb(profile, scale) if profile.curve is not None else needed
        killed_at = None
        if needed > memory or floor > memory:
            share = 0.0 if working_set <= 0 else max(0.0, memory - profile.base_memory_mb) / working_set
            killed_at = run_ms * min(1.0, share)

        status: Status = "success"
        error_type: str | None = None
        if killed_at is not None and killed_at <= timeout_ms:
            duration_ms, used, status, error_type = killed_at, memory, "error", OUT_OF_MEMORY
        elif run_ms > timeout_ms:
            grown = working_set * timeout_ms / run_ms
            duration_ms, used, status, error_type = (
                timeout_ms,
                round(profile.base_memory_mb + grown),
                "timeout",
                TIMED_OUT,
            )
        else:
            duration_ms, used = run_ms, round(needed)
            if fails:
                status, error_type = "failure", profile.error_type
        duration_ms = round(duration_ms, 2)
        used = min(used, memory)

        try:
            self._sleep(((init_ms or 0.0) + duration_ms) / 1000 * self.time_scale)
        finally:
            with self._lock:
                if status in ("success", "failure"):
                    environment.busy = False  # reusable: a function's own error leaves the runtime alive
                else:
                    pool.remove(environment)  # Lambda resets the environment after a timeout or a kill

        record = SimulatedInvocation(
            function_name=fn.function_name,
            version=version,
            request_id=request_id,
            memory_size=memory,
            duration_ms=duration_ms,
            # Since August 2025 Lambda bills the INIT phase of on-demand functions on every runtime.
            billed_duration_ms=billed_duration_ms(duration_ms + (init_ms or 0.0)),
            max_memory_used_mb=used,
            init_duration_ms=init_ms,
            status=status,
            error_type=error_type,
            environment=environment.number,
            event=event,
            client_context=client_context(),
        )
        with self._lock:
            self.invocations.append(record)
        payload = simulated_output.payload(record, fn, profile, timeout_ms / 1000)
        log = simulated_output.log(record, fn, profile, timeout_ms / 1000)
        return Invocation(payload=json.dumps(payload).encode("utf-8"), error_type=error_type, log=log)


def _configuration_fingerprint(fn: Any) -> str:
    """What an update of ``$LATEST`` changes: a change means new environments (a cold start)."""
    environment = getattr(fn, "environment_vars", None) or {}
    parts = [
        fn.memory_size,
        fn.timeout,
        getattr(fn, "ephemeral_storage", None),
        getattr(fn, "run_time", None),
        getattr(fn, "handler", None),
        getattr(fn, "code_sha_256", None),
        getattr(fn, "description", None),
        sorted(environment.items()) if isinstance(environment, dict) else environment,
        list(getattr(fn, "architectures", None) or []),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()[:16]
