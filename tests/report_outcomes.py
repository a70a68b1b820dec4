"""Run outputs as the reports read them (camelCase JSON), and readers of what the reports wrote."""

from __future__ import annotations

import base64
import re
from typing import Any

OOM_REASON = "3 of 10 invocations failed: Runtime.OutOfMemory"
# Two dollar signs: a chart that parsed mathtext would garble (or fail on) this text.
SUMMARY = (
    "balanced (weight 0.5): 1769 MB is 71% faster than the current 512 MB at about the same cost; "
    "\u2212$0.12 per million invocations ($46.53 instead of $46.65)"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def configuration(memory: int, mean: float, cost_per_million: float, **fields: Any) -> dict[str, Any]:
    """One entry of ``configurations`` as the run's JSON output carries it."""
    return {
        "memorySize": memory,
        "current": False,
        "invocations": 10,
        "errors": 0,
        "errorTypes": [],
        "coldStarts": 1,
        "coldStartShare": 0.1,
        "meanMs": mean,
        "p50Ms": mean * 0.99,
        "p90Ms": mean * 1.08,
        "p99Ms": mean * 1.12,
        "billedMeanMs": mean + 0.4,
        "maxMemoryUsedMb": 121,
        "costPerInvocationUsd": cost_per_million / 1_000_000,
        "costPerMillionUsd": cost_per_million,
        **fields,
    }


def measured_outcome(name: str = "cpu-fn") -> dict[str, Any]:
    """A target like ``output.outcomes[]`` of a real run: six sizes, one out of memory, one current."""
    return {
        "target": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "outcome": "APPLIED",
        "memoryBefore": 512,
        "memoryAfter": 1769,
        "recommendation": {
            "strategy": "balanced",
            "balancedWeight": 0.5,
            "memorySize": 1769,
            "currentMemorySize": 512,
            "meanMs": 2011.1,
            "costPerInvocationUsd": 4.6529e-05,
            "currentMeanMs": 6967.58,
            "currentCostPerInvocationUsd": 4.6654e-05,
            "speedChangePct": -71.1,
            "costChangePct": -0.27,
            "projectedChangePerMillionUsd": -0.12,
            "summary": SUMMARY,
        },
        "configurations": [
            configuration(
                128,
                27562.3,
                46.14,
                errors=3,
                errorTypes=["Runtime.OutOfMemory"],
                maxMemoryUsedMb=128,
                excluded=OOM_REASON,
            ),
            configuration(256, 13711.6, 45.91),
            configuration(512, 6967.58, 46.65, current=True),
            configuration(1024, 3550.0, 47.54),
            configuration(1769, 2011.1, 46.53),
            configuration(3008, 1994.1, 78.34),
        ],
    }


def fixed_size_outcome() -> dict[str, Any]:
    return {
        "target": "arn:aws:lambda:us-east-1:123456789012:function:orders-api",
        "outcome": "APPLIED",
        "memoryBefore": 512,
        "memoryAfter": 1024,
    }


def failed_outcome() -> dict[str, Any]:
    return {
        "target": "arn:aws:lambda:us-east-1:123456789012:function:gone-fn",
        "outcome": "FAILED",
        "errorType": "FunctionNotFoundError",
        "errorMessage": "lambda:GetFunction: ResourceNotFoundException: Function not found",
    }


def run_output(*outcomes: dict[str, Any]) -> dict[str, Any]:
    """The shape ``autotuner local run --json`` prints, reduced to what reports read."""
    execution = {
        "arn": "arn:aws:states:us-east-1:123456789012:execution:TunerStateMachine:run-0123456789ab",
        "startTime": "2026-11-26T18:34:00.188616+00:00",
    }
    return {
        "executionArn": execution["arn"],
        "status": "SUCCEEDED",
        "records": [],
        "output": {"execution": execution, "status": "SUCCEEDED", "counts": {}, "outcomes": list(outcomes)},
    }


def table_row(table: str, memory: int) -> str:
    rows = [line for line in table.splitlines() if re.match(rf"^\s*{memory}\s{{2,}}", line)]
    assert len(rows) == 1, f"expected one row for {memory} MB in:\n{table}"
    return rows[0]


def data_uri_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]
