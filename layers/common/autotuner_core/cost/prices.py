"""What Lambda and Step Functions charge, per region and architecture, and the arithmetic on it.

One table, first pricing tier only: a tuning run compares configurations of one function, and
the tier discounts (after 6 billion GB-seconds a month) scale every configuration alike, so the
first tier ranks them correctly even for accounts that pay less.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict

from autotuner_core.documents.cost import RunCost

LAMBDA_PRICING_SOURCE = "https://aws.amazon.com/lambda/pricing/"
STEP_FUNCTIONS_PRICING_SOURCE = "https://aws.amazon.com/step-functions/pricing/"
# When this table was compiled. The standard rates below have not changed since 1 ms billing
# (December 2020) for x86_64 and since arm64's launch (September 2021); re-check the source
# before relying on the non-standard regions.
PRICES_AS_OF = date(2026, 11, 26)

DEFAULT_REGION = "us-east-1"
ARCHITECTURES = ("x86_64", "arm64")

REQUEST_PRICE_USD = 0.20 / 1_000_000  # $0.20 per million requests, both architectures
# Logs Insights bills the bytes a query scans (us-east-1 list price, Standard and Infrequent Access log
# classes alike; docs/telemetry.md): telemetry mode's own cost per target.
CLOUDWATCH_PRICING_SOURCE = "https://aws.amazon.com/cloudwatch/pricing/"
LOGS_INSIGHTS_USD_PER_GB_SCANNED = 0.005


def logs_insights_usd(bytes_scanned: int) -> float:
    """What a Logs Insights query that scanned ``bytes_scanned`` bytes costs (1 GB = 10^9 bytes)."""
    return bytes_scanned / 1e9 * LOGS_INSIGHTS_USD_PER_GB_SCANNED


# Standard workflows, us-east-1 rate; a few regions charge slightly more. Express workflows are
# priced per request and GB-second instead and are not modelled here.
STEP_FUNCTIONS_TRANSITION_USD = 0.025 / 1_000

# USD per GB-second, first tier: (x86_64, arm64).
_STANDARD = (0.0000166667, 0.0000133334)
LAMBDA_GB_SECOND_USD: dict[str, tuple[float, float]] = {
    # The standard rate: the page lists the same price for these regions.
    "us-east-1": _STANDARD,
    "us-east-2": _STANDARD,
    "us-west-1": _STANDARD,
    "us-west-2": _STANDARD,
    "ca-central-1": _STANDARD,
    "eu-west-1": _STANDARD,
    "eu-west-2": _STANDARD,
    "eu-west-3": _STANDARD,
    "eu-central-1": _STANDARD,
    "eu-north-1": _STANDARD,
    "ap-south-1": _STANDARD,
    "ap-southeast-1": _STANDARD,
    "ap-southeast-2": _STANDARD,
    "ap-northeast-1": _STANDARD,
    "ap-northeast-2": _STANDARD,
    "ap-northeast-3": _STANDARD,
    # São Paulo is often assumed to be dearer, as it is for EC2; for Lambda it is listed at the
    # standard rate (as AWS Lambda Power Tuning's and Artillery's price tables also have it).
    "sa-east-1": _STANDARD,
    # Regions with their own rate. Less certain than the standard rows: these are the values the
    # pricing page gave when last read and that two maintained open-source tables agree on.
    "af-south-1": (0.0000221000, 0.0000176800),
    "ap-east-1": (0.0000229200, 0.0000183000),
    "eu-south-1": (0.0000195172, 0.0000156138),
    "me-south-1": (0.0000206667, 0.0000165334),
    "me-central-1": (0.0000206667, 0.0000165334),
}


class Prices(BaseModel):
    """The rates one function is billed at, and where they come from.

    ``fallback`` is true when the function's region is not in the table and ``region_used``'s
    rates stand in for it: costs are then estimates, and reports should say so.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str  # the region asked about
    region_used: str  # the region whose rates these are
    architecture: str
    gb_second_usd: float
    request_usd: float
    fallback: bool = False
    source: str = LAMBDA_PRICING_SOURCE
    as_of: date = PRICES_AS_OF

    @property
    def note(self) -> str | None:
        """A sentence for reports when the rates are not the region's own, else None."""
        if not self.fallback:
            return None
        return f"no Lambda prices on record for {self.region}; {self.region_used} prices used"


def lambda_prices(region: str, architecture: str = "x86_64") -> Prices:
    """Lambda's first-tier rates for ``region`` and ``architecture`` (``x86_64`` or ``arm64``).

    An unknown region (a new one, GovCloud, China) gets us-east-1's rates with ``fallback=True``
    rather than an error: a tuning run ranks configurations of one function, and the ranking
    does not depend on the rate. An unknown architecture is a ValueError.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {architecture!r} is not one of {', '.join(ARCHITECTURES)}")
    rates = LAMBDA_GB_SECOND_USD.get(region)
    region_used = region if rates is not None else DEFAULT_REGION
    x86_64, arm64 = LAMBDA_GB_SECOND_USD[region_used]
    return Prices(
        region=region,
        region_used=region_used,
        architecture=architecture,
        gb_second_usd=arm64 if architecture == "arm64" else x86_64,
        request_usd=REQUEST_PRICE_USD,
        fallback=rates is None,
    )


def memory_gb(memory_mb: float) -> float:
    """Memory in the GB of Lambda's GB-second (1,024 MB)."""
    return memory_mb / 1024


def gb_seconds(memory_mb: float, billed_ms: float) -> float:
    """Memory (GB) x billed seconds: what Lambda's compute price is per."""
    return memory_gb(memory_mb) * billed_ms / 1000


def lambda_usd(gb_seconds: float, requests: int, prices: Prices) -> float:
    """What Lambda charges for ``gb_seconds`` of compute and ``requests`` requests: the one cost formula."""
    return gb_seconds * prices.gb_second_usd + requests * prices.request_usd


def step_functions_usd(state_transitions: int) -> float:
    """What a Standard workflow's state transitions cost."""
    return state_transitions * STEP_FUNCTIONS_TRANSITION_USD


def invocation_cost_usd(memory_mb: float, billed_ms: float, prices: Prices) -> float:
    """What one invocation costs: :func:`lambda_usd` of its :func:`gb_seconds` and one request.

    ``billed_ms`` is the REPORT line's Billed Duration (already rounded up to 1 ms by Lambda),
    or a mean of it.
    """
    if memory_mb <= 0 or billed_ms < 0:
        raise ValueError(f"memory {memory_mb} MB and billed duration {billed_ms} ms must be positive")
    return lambda_usd(gb_seconds(memory_mb, billed_ms), 1, prices)


def run_cost(state_transitions: int, invocation_costs: Iterable[float]) -> RunCost:
    """What a tuning run itself cost: its Standard-workflow state transitions plus every
    invocation of the target it made (each from :func:`invocation_cost_usd`).

    The tuner's own Lambda functions are left out: they are small and usually in the free tier.
    """
    if state_transitions < 0:
        raise ValueError(f"state transitions must not be negative, got {state_transitions}")
    costs = list(invocation_costs)
    transitions_usd = step_functions_usd(state_transitions)
    target_invocations_usd = sum(costs)
    return RunCost(
        state_transitions=state_transitions,
        target_invocations=len(costs),
        step_functions_usd=transitions_usd,
        target_invocations_usd=target_invocations_usd,
        total_usd=transitions_usd + target_invocations_usd,
    )
