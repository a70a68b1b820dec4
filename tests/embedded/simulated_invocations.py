"""Invoking a simulated function directly and reading its REPORT line, for the simulated-function tests."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from emulator.account import FunctionProfile
from emulator.simulated_function import LambdaSimulator

REPORT = re.compile(
    r"^REPORT RequestId: (?P<request_id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d\d) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t"
    r"(?:Init Duration: (?P<init>\d+\.\d\d) ms\t)?(?:Status: (?P<status>\w+)\t)?(?:Error Type: (?P<error>[\w.]+)\t)?$"
)


def function(memory: int = 128, *, timeout: int = 900, version: str = "$LATEST", name: str = "f") -> Any:
    """The attributes of moto's LambdaFunction the simulator reads."""
    return SimpleNamespace(
        function_name=name,
        version=version,
        memory_size=memory,
        timeout=timeout,
        run_time="python3.13",
        region="us-east-1",
        account_id="123456789012",
    )


def report(log: str) -> dict[str, Any]:
    """The REPORT line, which Lambda writes last, as numbers."""
    last = log.splitlines()[-1]
    match = REPORT.match(last)
    assert match, f"not a REPORT line: {last!r}"
    fields = match.groupdict()
    return {
        "request_id": fields["request_id"],
        "duration": float(fields["duration"]),
        "billed": int(fields["billed"]),
        "memory": int(fields["memory"]),
        "used": int(fields["used"]),
        "init": float(fields["init"]) if fields["init"] else None,
        "status": fields["status"],
        "error": fields["error"],
    }


def exact(preset: str, **fields: Any) -> FunctionProfile:
    """A preset without noise, so durations are the model's curve."""
    return FunctionProfile(preset=preset, noise=0, **fields)


def durations(profile: FunctionProfile, sizes: list[int]) -> list[float]:
    simulator = LambdaSimulator(time_scale=0)
    return [report(simulator.invoke(function(size), profile, {}).log)["duration"] for size in sizes]
