"""The live-traffic benchmark on a small account: the Power-Tuning-style flow serves production at
candidate sizes, ours does not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emulator.account import (
    FunctionProfile,
    LiveTrafficSpec,
    SimulatedAccount,
    SimulatedFunction,
    load_account,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import livetraffic

# One function its users invoke unqualified (so every request runs $LATEST), as an API Gateway
# integration does. Each update stays InProgress 0.5 s, so $LATEST holds each size a while.
ACCOUNT = SimulatedAccount(
    functions=[
        SimulatedFunction(
            name="orders-api",
            memory_size=1024,
            timeout=30,
            tags={"autotune": "enabled"},
            profile=FunctionProfile(preset="io-bound", seed=3),
            live_traffic=LiveTrafficSpec(requests_per_second=5),
        )
    ],
    update_seconds=0.5,
)
SIZES = (256, 512)


@pytest.fixture(scope="module")
def flows():
    return livetraffic.compare(ACCOUNT, ["orders-api"], SIZES, num=5)


def test_the_power_tuning_style_flow_runs_live_requests_at_candidate_sizes(flows):
    pt, _ = flows
    # Then production requests ran at the sizes it set $LATEST to while publishing its versions
    served = pt.served["orders-api"]
    assert pt.at_candidate_sizes["orders-api"] > 0
    assert pt.at_candidate_sizes["orders-api"] == sum(n for size, n in served.items() if size != 1024)
    assert set(served) - {1024} <= set(SIZES)
    assert pt.total_at_candidate_sizes == pt.at_candidate_sizes["orders-api"]


def test_our_run_serves_live_requests_only_at_the_original_size(flows):
    _, ours = flows
    # Then production was served throughout our run, never at a candidate size
    served = ours.served["orders-api"]
    assert sum(served.values()) > 0
    assert set(served) == {1024}
    assert ours.total_at_candidate_sizes == 0
    # And the run's own report agrees
    assert ours.outcomes["(run report)"] == "liveInvocationsAtCandidateSizes 0"
    assert "orders-api" in ours.outcomes


def test_the_summary_line_prints_both_counts(flows):
    pt, ours = flows
    line = livetraffic.summary_line(pt, ours)
    assert line == (
        f"Power Tuning's flow would have run {pt.total_at_candidate_sizes} live requests at candidate sizes; "
        "this run: 0"
    )


def test_the_default_account_file_has_live_traffic_on_latest_and_on_an_alias():
    account = load_account(livetraffic.DEFAULT_ACCOUNT)
    qualifiers = {f.name: f.live_traffic.qualifier for f in account.functions if f.live_traffic}
    assert None in qualifiers.values() and "live" in qualifiers.values()
    assert livetraffic.live_targets(account) == [f.name for f in account.functions]


def test_unknown_targets_are_refused_naming_the_option(capsys):
    with pytest.raises(SystemExit):
        livetraffic.main(argv=["--targets", "nope"])
    assert "--targets: ['nope'] not functions of" in capsys.readouterr().err
