"""A decision in dollars: a month at the function's traffic where it is known, per million otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotuner_core.cost.savings import (
    DAYS_PER_MONTH,
    money_summary,
    priced,
    projected_savings,
    savings_of,
    savings_text,
    short_text,
    usd,
)

CHEAPER = {"projectedChangePerMillionUsd": -8.0, "summary": "cost: 512 MB is 40% cheaper"}
PRICIER = {"projectedChangePerMillionUsd": 0.4, "summary": "speed: 1536 MB is 66% faster"}
KEPT = {"projectedChangePerMillionUsd": -0.1, "keptCurrent": True, "summary": "current size kept"}


def test_a_month_is_730_hours_as_aws_prices_it():
    assert round(DAYS_PER_MONTH * 24, 9) == 730  # 30.42 days


def test_a_change_with_known_traffic_is_priced_per_month():
    # Given a change saving $8 per million, on a function invoked 100,000 times in the last 24 h
    savings = projected_savings("APPLIED", CHEAPER, 100_000)
    # Then it saves $0.80 a day, 730 / 24 days a month
    assert savings == {
        "basis": "traffic",
        "perMillionUsd": 8.0,
        "dailyInvocations": 100_000,
        "perMonthUsd": pytest.approx(0.8 * 730 / 24, abs=1e-6),
    }
    assert savings_text(savings, "APPLIED") == "saves $24.33 a month at 100,000 invocations a day ($8.00 per million)"
    assert savings_text(savings, "RECOMMENDED").startswith("would save $24.33 a month")
    assert short_text(savings) == "$24.33/month"


def test_without_traffic_a_change_stays_per_million_and_says_why():
    savings = projected_savings("RECOMMENDED", CHEAPER, None)
    assert savings == {"basis": "perMillion", "perMillionUsd": 8.0}
    assert savings_text(savings, "RECOMMENDED") == (
        "would save $8.00 per million invocations (traffic unknown: not priced per month)"
    )
    assert short_text(savings) == "$8.00/1M"


def test_an_idle_function_saves_nothing_a_month_and_its_per_million_figure_is_kept():
    savings = projected_savings("APPLIED", CHEAPER, 0)
    assert savings["perMonthUsd"] == 0
    assert savings_text(savings, "APPLIED") == (
        "$0.00 a month: no invocations in the last 24 h (saves $8.00 per million)"
    )
    assert short_text(savings) == "$0.00/month (idle; $8.00/1M)"


def test_a_costlier_size_is_a_negative_saving_said_as_a_cost():
    savings = projected_savings("APPLIED", PRICIER, 1_000_000)
    assert savings["perMonthUsd"] == pytest.approx(-0.4 * 730 / 24, abs=1e-6)
    assert savings_text(savings, "APPLIED") == (
        "costs $12.17 a month more at 1,000,000 invocations a day ($0.40 per million)"
    )


def test_a_kept_size_saves_nothing_and_an_undecided_outcome_is_not_priced():
    assert projected_savings("UNCHANGED", KEPT, 5_000)["perMonthUsd"] == 0
    assert savings_text(projected_savings("UNCHANGED", KEPT, 5_000), "UNCHANGED").startswith("$0.00 a month")
    assert projected_savings("FAILED", CHEAPER, 5_000) is None
    assert projected_savings("APPLIED", None, 5_000) is None  # a fixed size: nothing measured
    assert savings_text(None) == "not priced: nothing was measured"


def test_a_stored_record_is_read_as_plain_numbers_and_an_old_one_is_priced_from_its_traffic():
    # Given a record as DynamoDB returns it (Decimals), and one written before projectedSavings existed
    stored = {
        "outcome": "APPLIED",
        "projectedSavings": {
            "basis": "traffic",
            "perMillionUsd": Decimal("8"),
            "dailyInvocations": Decimal("100000"),
            "perMonthUsd": Decimal("24.333333"),
        },
    }
    old = {"outcome": "APPLIED", "recommendation": CHEAPER, "liveTraffic": {"dailyInvocations": Decimal("100000")}}
    # Then both give the same plain numbers
    assert savings_of(stored) == {
        "basis": "traffic",
        "perMillionUsd": 8.0,
        "dailyInvocations": 100_000,
        "perMonthUsd": 24.333333,
    }
    assert savings_of(old)["perMonthUsd"] == pytest.approx(24.333333, abs=1e-6)
    assert type(savings_of(stored)["perMonthUsd"]) is float


def test_a_sweep_totals_the_priced_functions_and_names_the_biggest():
    # Given a sweep: two functions with traffic, one without a CloudWatch reading, one kept, one failed
    outcomes = [
        {"target": "small", "outcome": "APPLIED", "recommendation": CHEAPER, "dailyInvocations": 10_000},
        {"target": "big", "outcome": "APPLIED", "recommendation": CHEAPER, "dailyInvocations": 1_000_000},
        {"target": "unknown", "outcome": "APPLIED", "recommendation": CHEAPER},
        {"target": "kept", "outcome": "UNCHANGED", "recommendation": KEPT, "dailyInvocations": 50},
        {"target": "broken", "outcome": "FAILED", "errorType": "InvalidConfigurationError"},
    ]
    rows = priced(outcomes, lambda outcome: outcome["target"])
    # Then the changes are ranked by dollars a month, the per-million-only one last
    assert [row.name for row in rows] == ["big", "small", "unknown"]
    # And the summary adds up only the month's dollars and lists the rest per million
    assert money_summary(rows) == (
        "saves $245.77 a month across 2 functions; biggest: big $243.33, small $2.43; "
        "traffic unknown, per million invocations: unknown $8.00"
    )


def test_a_run_without_changes_says_so():
    assert money_summary([]) == "no size changes: nothing to save"


@pytest.mark.parametrize(
    ("amount", "text"), [(1234.567, "$1,234.57"), (0.42, "$0.42"), (0.00314, "$0.0031"), (-3.1, "-$3.10"), (0, "$0.00")]
)
def test_dollars_are_readable_at_every_scale(amount, text):
    assert usd(amount) == text
