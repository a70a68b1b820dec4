"""The run budget's figures in docs/usage.md ("Why the defaults"), computed by the estimate itself.

``python -m benchmarks budget_figures`` prints, for the default input (``invocations`` 10, the
standard range) on functions of 3,008 MB with a 15-minute timeout and no recent Duration (the
loosest bound: every invocation at its timeout), how many pass the default ``MaxRunCostUsd`` on
each architecture and what the next one would cost. tests/unit/test_budget_figures.py checks
that the docs say exactly this.
"""

from __future__ import annotations

from autotuner_core.cost import budget
from autotuner_core.documents.request import TargetRef, parse_request
from autotuner_core.documents.target import FunctionConfiguration
from autotuner_core.settings import Settings

_ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
MEMORY_MB, TIMEOUT_S = 3008, 900


def run_estimate_usd(functions: int, architecture: str) -> float:
    """The estimate of a default-input run over ``functions`` such functions (us-east-1)."""
    names = [f"function-{index}" for index in range(functions)]
    request = parse_request({"targets": names})
    configuration = FunctionConfiguration(memory_size=MEMORY_MB, timeout=TIMEOUT_S, architectures=[architecture])
    estimates = [
        budget.estimate_target(
            request, TargetRef(given=name, name=name, arn=_ARN + name), configuration, None, Settings(), shadows=True
        )
        for name in names
    ]
    return budget.estimate_run(request, estimates, functions).total_usd


def most_that_pass(architecture: str, limit_usd: float) -> tuple[int, float, float]:
    """How many such functions pass ``limit_usd``, that run's estimate, and the estimate of one more."""
    count = 0
    while run_estimate_usd(count + 1, architecture) <= limit_usd:
        count += 1
    return count, run_estimate_usd(count, architecture), run_estimate_usd(count + 1, architecture)


def sentence() -> str:
    """The docs' sentence on MaxRunCostUsd's default."""
    limit = Settings().max_run_cost_usd
    parts = []
    for architecture in ("x86_64", "arm64"):
        count, passing, refused = most_that_pass(architecture, limit)
        parts.append(f"{count} {architecture} ones (${passing:.2f}; {count + 1} are refused at ${refused:.2f})")
    return (
        f"lets the default input pass on {' or '.join(parts)} of 3,008 MB with 15-minute timeouts and no recent "
        "Duration (the loosest bound), and stops a run whose bound is in the tens of dollars"
    )


def main(quick: bool = False) -> int:
    del quick  # computed, not measured: the same either way
    print(sentence())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
