"""The real-curve benchmark's cost truth: memory x the expected Billed Duration under the replay's noise."""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

import pytest

from emulator.curves import DEFAULT_NOISE, DEFAULT_OUTLIER_RATE, Curve, CurvePoints, load_curves

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import realcurves

# The replay's mean Duration is the curve's mean times 1.04: a 2 % chance of a spike of 2-4x (3x on average).
REPLAYED_MEAN = 1 + DEFAULT_OUTLIER_RATE * 2


def _flat(mean_ms: float, name: str) -> Curve:
    return Curve(CurvePoints(memory_mb=[128, 1024], mean_duration_ms=[mean_ms, mean_ms]), name=name)


def _brute_force_billed(curve: Curve, samples: int) -> tuple[float, float]:
    """The mean Billed Duration of many replayed invocations at 128 MB, and its standard error."""
    draws = realcurves.Draws(curve, seed=12345)
    billed = [float(max(1, math.ceil(draws.duration(128, i)))) for i in range(samples)]
    return statistics.fmean(billed), statistics.stdev(billed) / math.sqrt(samples)


def test_a_long_duration_bills_its_mean_plus_about_half_a_millisecond() -> None:
    # Given a curve that runs 500 ms at every size
    truth = realcurves.Truth.of(_flat(500.0, "long"))
    # When its billed truth is computed
    # Then at every size it is within 0.2 % of memory x the replay's mean Duration
    for memory in (128, 512, 1024):
        cost = truth.scores("cost")[memory - 128]
        assert cost == pytest.approx(memory * 500.0 * REPLAYED_MEAN, rel=0.002)
        assert cost > memory * 500.0 * REPLAYED_MEAN  # rounding up never lowers the bill
    # and the speed truth is still the curve's mean Duration
    assert truth.scores("speed")[0] == 500.0


def test_a_short_duration_bills_far_above_its_mean_as_many_replayed_invocations_do() -> None:
    # Given a curve that runs 1.2 ms
    curve = _flat(1.2, "short")
    # When its expected Billed Duration is computed, and 200,000 invocations are replayed
    expected = realcurves.Truth.of(curve).billed[0]
    sampled, error = _brute_force_billed(curve, 200_000)
    # Then the two agree within 1 % (and within four standard errors of the sample mean)
    assert expected == pytest.approx(sampled, rel=0.01)
    assert abs(expected - sampled) < 4 * error
    # and the bill is far above the mean Duration (most invocations bill 2 ms)
    assert expected > 1.5 * 1.2 * REPLAYED_MEAN


@pytest.mark.parametrize(("mean_ms", "noise"), [(3.3, DEFAULT_NOISE), (45.0, DEFAULT_NOISE), (2.5, 0.0), (700.0, 0.0)])
def test_the_computed_bill_matches_replayed_invocations_between_the_extremes(mean_ms: float, noise: float) -> None:
    # Given a curve of a few ms or tens of ms, with the default noise or none (spikes only)
    points = CurvePoints(memory_mb=[128, 1024], mean_duration_ms=[mean_ms, mean_ms])
    curve = Curve(points, noise=noise, name=f"mid{mean_ms}:{noise}")
    # When 100,000 invocations are replayed
    sampled, error = _brute_force_billed(curve, 100_000)
    # Then their mean bill is the computed one, within four standard errors
    assert abs(realcurves.Truth.of(curve).billed[0] - sampled) < 4 * error


@pytest.mark.parametrize("noise", [0.0, 0.05, DEFAULT_NOISE, 0.5])
def test_an_invocation_bills_at_least_one_millisecond_and_never_less_than_it_ran(noise: float) -> None:
    # Given durations from far below a millisecond to tens of ms
    for mean in (0.01, 0.2, 0.6, 0.999, 1.0, 1.5, 2.7, 9.7, 30.0, 80.0):
        billed = realcurves.expected_billed_ms(mean, noise, DEFAULT_OUTLIER_RATE)
        # Then the expected bill is at least 1 ms and at least the mean Duration (less its 0.005 ms rounding)
        assert billed >= 1
        assert billed >= mean * REPLAYED_MEAN - realcurves.REPORTED_HALF_STEP_MS
    # and a function that runs far below a millisecond bills 1 ms (a wide noise's rare tail excepted)
    assert realcurves.expected_billed_ms(0.05, noise, DEFAULT_OUTLIER_RATE) == pytest.approx(1.0, abs=1e-4)


def test_a_noiseless_replay_bills_its_duration_rounded_up() -> None:
    # Without noise or spikes, every invocation runs the mean: 1.2 ms bills 2 ms, 3.0 ms bills 3 ms
    assert realcurves.expected_billed_ms(1.2, 0.0, 0.0) == 2.0
    assert realcurves.expected_billed_ms(3.0, 0.0, 0.0) == 3.0
    # and spikes of 2-4x on 1 ms run 2-4 ms: they bill 3 ms up to 3.005 ms (reported 3.00) and 4 ms above,
    # half the time each (but for the 0.005 ms that bill 2)
    spike = (0.005 * 2 + 1.0 * 3 + 0.995 * 4) / 2
    assert realcurves.expected_billed_ms(1.0, 0.0, 0.5) == pytest.approx(0.5 * 1 + 0.5 * spike)


def test_the_bill_is_continuous_where_the_sum_gives_way_to_its_smooth_limit() -> None:
    # Given the mean above which the term-by-term sum is replaced by mean + 0.495 ms (sigma 0.12)
    sigma = DEFAULT_NOISE
    switch = realcurves.SMOOTH_WIDTH_MS / sigma / math.exp(-(sigma**2) / 2 - realcurves.TAIL_SIGMAS * sigma)
    # When the bill is computed just below and just above it
    below = realcurves.expected_billed_ms(switch * (1 - 1e-9), sigma, DEFAULT_OUTLIER_RATE)
    above = realcurves.expected_billed_ms(switch * (1 + 1e-9), sigma, DEFAULT_OUTLIER_RATE)
    # Then the two agree to far better than a microsecond
    assert below == pytest.approx(above, abs=1e-6)
    assert above == pytest.approx(switch * REPLAYED_MEAN + 0.495, abs=1e-6)


def test_on_a_short_published_curve_the_billed_saving_is_smaller_than_the_mean_duration_one() -> None:
    # Given s008: 17 ms at 256 MB, 7.5 ms at 512 MB
    record = next(r for r in load_curves() if r.id == "s008")
    truth = realcurves.Truth.of(Curve(record))
    billed, mean = truth.scores("cost"), truth.mean_duration_costs()
    # When 512 MB is compared with 256 MB
    # Then it saves about 8.7 % of the bill, where memory x mean Duration says 11.8 %
    assert 1 - billed[512 - 256] / billed[0] == pytest.approx(0.087, abs=0.002)
    assert 1 - mean[512 - 256] / mean[0] == pytest.approx(1 - 512 * 7.5 / (256 * 17.0), abs=0.002)
    # and the regret of keeping 256 MB is judged by the bill
    assert truth.regret_pct(256, "cost") < truth.regret_pct(256, "cost", mean)
