"""Lambda and Step Functions prices, and what an invocation and a run cost."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autotuner_core.cost.prices import (
    LAMBDA_PRICING_SOURCE,
    PRICES_AS_OF,
    invocation_cost_usd,
    lambda_prices,
    run_cost,
)

REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-south-1",
    "ca-central-1",
    "sa-east-1",
]


def test_us_east_1_prices_are_the_published_ones() -> None:
    # Given / When the us-east-1 prices for each architecture
    x86 = lambda_prices("us-east-1", "x86_64")
    arm = lambda_prices("us-east-1", "arm64")

    # Then they are the published first-tier rates, with their source and date
    assert x86.gb_second_usd == 0.0000166667
    assert arm.gb_second_usd == 0.0000133334
    assert x86.request_usd == arm.request_usd == pytest.approx(0.20 / 1_000_000)
    assert not x86.fallback
    assert x86.region_used == "us-east-1"
    assert x86.source == LAMBDA_PRICING_SOURCE == "https://aws.amazon.com/lambda/pricing/"
    assert x86.as_of == PRICES_AS_OF
    assert x86.note is None


@pytest.mark.parametrize("region", REGIONS)
def test_every_listed_region_has_its_own_prices_and_arm_is_cheaper(region: str) -> None:
    # Given a region the tuner is commonly deployed in
    # When its prices are looked up
    x86 = lambda_prices(region, "x86_64")
    arm = lambda_prices(region, "arm64")

    # Then they are that region's, not a fallback, and arm64 costs less per GB-second
    assert not x86.fallback and not arm.fallback
    assert x86.region_used == region
    assert arm.gb_second_usd < x86.gb_second_usd


def test_a_region_with_its_own_rate_is_dearer_than_us_east_1() -> None:
    # Given Cape Town and Hong Kong, priced above the standard rate
    # When / Then their prices are higher than us-east-1's
    standard = lambda_prices("us-east-1", "x86_64").gb_second_usd
    assert lambda_prices("af-south-1", "x86_64").gb_second_usd > standard
    assert lambda_prices("ap-east-1", "arm64").gb_second_usd > lambda_prices("us-east-1", "arm64").gb_second_usd


def test_an_unknown_region_falls_back_to_us_east_1_and_says_so() -> None:
    # Given a region that is not in the table
    # When its prices are looked up
    prices = lambda_prices("xx-newregion-7", "arm64")

    # Then us-east-1's prices are used and the result is flagged
    assert prices.fallback
    assert prices.region == "xx-newregion-7"
    assert prices.region_used == "us-east-1"
    assert prices.gb_second_usd == lambda_prices("us-east-1", "arm64").gb_second_usd
    assert prices.note == "no Lambda prices on record for xx-newregion-7; us-east-1 prices used"


def test_an_unknown_architecture_is_rejected() -> None:
    with pytest.raises(ValueError, match="x86_64, arm64"):
        lambda_prices("us-east-1", "riscv64")


def test_prices_are_a_frozen_value() -> None:
    prices = lambda_prices("us-east-1")
    with pytest.raises(ValidationError):
        prices.gb_second_usd = 0.0  # type: ignore[misc]


def test_one_invocation_at_1024_mb_for_100_ms_on_arm64_in_us_east_1() -> None:
    # Given arm64 in us-east-1
    prices = lambda_prices("us-east-1", "arm64")

    # When 1,024 MB runs for a billed 100 ms
    cost = invocation_cost_usd(1024, 100, prices)

    # Then it costs 1 GB x 0.1 s x $0.0000133334 + $0.0000002 = $0.00000153334
    assert cost == pytest.approx(0.00000153334, rel=1e-12)


def test_one_invocation_at_128_mb_for_1_ms_on_x86_64() -> None:
    # Given x86_64 in eu-west-1 (standard rate)
    prices = lambda_prices("eu-west-1", "x86_64")

    # When 128 MB runs for a billed 1 ms
    cost = invocation_cost_usd(128, 1, prices)

    # Then it costs 0.125 GB x 0.001 s x $0.0000166667 + $0.0000002 (the request dominates)
    assert cost == pytest.approx(0.125 * 0.001 * 0.0000166667 + 0.0000002, rel=1e-12)
    assert cost == pytest.approx(2.0208e-7, rel=1e-4)


def test_a_non_positive_memory_size_is_rejected() -> None:
    with pytest.raises(ValueError):
        invocation_cost_usd(0, 100, lambda_prices("us-east-1"))


def test_a_run_costs_its_state_transitions_plus_its_invocations() -> None:
    # Given a run with 40 state transitions and 3 target invocations
    costs = [0.0000015, 0.0000025, 0.000001]

    # When its cost is computed
    cost = run_cost(40, costs)

    # Then transitions cost $0.025 per 1,000 and the total adds the invocations
    assert cost.state_transitions == 40
    assert cost.target_invocations == 3
    assert cost.step_functions_usd == pytest.approx(0.001)
    assert cost.target_invocations_usd == pytest.approx(0.000005)
    assert cost.total_usd == pytest.approx(0.001005)


def test_a_run_without_invocations_costs_only_its_transitions() -> None:
    cost = run_cost(7, [])
    assert (cost.target_invocations, cost.target_invocations_usd) == (0, 0)
    assert cost.total_usd == pytest.approx(7 * 0.000025)
