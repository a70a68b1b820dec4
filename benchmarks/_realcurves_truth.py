"""The true objectives of a replayed curve: what Lambda bills (cost), what a user waits (speed), and
the balanced score, over the curve's whole range in 1 MB steps. Computed, never sampled.

The balanced truth (one definition, for both engines): ``0.5 * cost / max cost + 0.5 * duration /
max duration``, the maxima over the curve's whole range. That is Power Tuning's analyzer formula
(weight 0.5) applied to the true cost and duration of every size both engines may choose; neither
engine's own normalisation (over what it happened to measure) enters the truth.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from emulator.curves import OUTLIER_FACTOR, Curve, CurvePoints

# Replay reports each Duration rounded to 0.01 ms, as Lambda does, before ceiling it: a sample
# bills more than k ms once it reaches k + 0.005 ms.
REPORTED_HALF_STEP_MS = 0.005
# A survival term beyond this many sigmas of the lognormal is below 1e-12: left out of the sums.
TAIL_SIGMAS = 7.0
# Where even the narrowest part of the distribution (the lower tail of the non-spike lognormal) is
# this many ms wide, ceil() adds half a millisecond to the mean to within far less than 1e-9 ms.
SMOOTH_WIDTH_MS = 2.0


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _lognormal_survival(x: float, sigma: float) -> float:
    """P(L > x) for the replay's lognormal factor L (mu = -sigma^2 / 2, mean 1)."""
    if x <= 0:
        return 1.0
    return _normal_cdf((-(sigma**2) / 2 - math.log(x)) / sigma)


def _spike_survival(x: float, sigma: float, low: float, high: float) -> float:
    """P(L * U > x), U uniform on [low, high]: a spike's factor.

    Averaging P(L > x / u) over u in closed form: with v = ln u and a = ln x - mu, the integrand
    Phi((v - a) / sigma) e^v has the antiderivative e^v Phi((v - a) / sigma) - e^(a + sigma^2 / 2)
    Phi((v - a - sigma^2) / sigma)."""
    if x <= 0:
        return 1.0
    a = math.log(x) + sigma**2 / 2

    def antiderivative(v: float) -> float:
        return math.exp(v) * _normal_cdf((v - a) / sigma) - math.exp(a + sigma**2 / 2) * _normal_cdf(
            (v - a - sigma**2) / sigma
        )

    return (antiderivative(math.log(high)) - antiderivative(math.log(low))) / (high - low)


def _sum_survival(survival: Callable[[float], float], first_ms: float, last_ms: float) -> float:
    """Sum over k >= 1 of survival(k + 0.005) for a survival that is 1 below first_ms and 0 above last_ms."""
    start = max(1, math.floor(first_ms - REPORTED_HALF_STEP_MS))  # below it every term is 1
    stop = max(start, math.ceil(last_ms - REPORTED_HALF_STEP_MS))
    return start - 1 + sum(survival(k + REPORTED_HALF_STEP_MS) for k in range(start, stop + 1))


def _ceil_integral(w: float) -> float:
    """The integral of ceil(t) from 1 to w (w >= 1)."""
    n = math.ceil(w)
    return n * (n - 1) / 2 + n * (w - (n - 1)) - 1


def _billed_uniform(low_ms: float, high_ms: float) -> float:
    """E[max(1, ceil(Z - 0.005))] for Z uniform on [low_ms, high_ms]: a noiseless spike."""
    a, b = low_ms - REPORTED_HALF_STEP_MS, high_ms - REPORTED_HALF_STEP_MS
    at_one = max(0.0, min(b, 1.0) - a)  # everything up to 1 ms bills 1 ms
    above = _ceil_integral(b) - _ceil_integral(max(a, 1.0)) if b > 1 else 0.0
    return (at_one + above) / (b - a)


@functools.cache
def expected_billed_ms(
    mean_ms: float, noise: float, outlier_rate: float, spike: tuple[float, float] = OUTLIER_FACTOR
) -> float:
    """The expected Billed Duration of one replayed invocation whose curve's mean is ``mean_ms``.

    Lambda bills each invocation's Duration rounded up to the millisecond, at least 1 ms, and both
    engines rank sizes by it (Replay bills the same way). A curve that runs a few ms pays much more
    than its mean (1.2 ms bills about 2 ms), so the true cost of a size is memory x E[max(1, ceil(D))], D distributed as
    ``Curve.sample_ms`` draws it: ``mean_ms`` times a lognormal factor of sigma ``noise`` and mean 1,
    times a uniform factor in ``spike`` with probability ``outlier_rate``. Computed, not sampled
    (no seed can favour an engine): E[max(1, ceil Y)] = 1 + sum over k >= 1 of P(Y > k), with the
    lognormal's tail from erfc and the spike's in closed form, over the terms within TAIL_SIGMAS.
    Where the distribution is wide at the millisecond scale (SMOOTH_WIDTH_MS) the sum is E[D] +
    0.5 - 0.005 ms to within far less than 1e-9 ms (Euler-Maclaurin: what is left is the Fourier
    transform of a smooth density at 2 pi), so long durations are not summed term by term; nor are
    the spikes where they alone are that wide.
    """
    low, high = spike
    mean_factor = 1 - outlier_rate + outlier_rate * (low + high) / 2
    if noise == 0:
        # Replay multiplies by exactly 1.0: the non-spike Duration is the mean itself.
        steady = float(max(1, math.ceil(round(mean_ms, 2))))
        return (1 - outlier_rate) * steady + outlier_rate * _billed_uniform(mean_ms * low, mean_ms * high)
    lowest = mean_ms * math.exp(-(noise**2) / 2 - TAIL_SIGMAS * noise)  # the non-spike's lower tail
    highest = mean_ms * math.exp(-(noise**2) / 2 + TAIL_SIGMAS * noise)
    if lowest * noise >= SMOOTH_WIDTH_MS:
        return mean_ms * mean_factor + 0.5 - REPORTED_HALF_STEP_MS
    steady = 1 + _sum_survival(lambda t: _lognormal_survival(t / mean_ms, noise), lowest, highest)
    if lowest * low * noise >= SMOOTH_WIDTH_MS:
        # The spikes alone are already wide at the millisecond scale (their narrowest part is the
        # non-spike's lower tail times the smallest spike factor): the same shortcut holds for them.
        spiked = mean_ms * (low + high) / 2 + 0.5 - REPORTED_HALF_STEP_MS
    else:
        spiked = 1 + _sum_survival(
            lambda t: _spike_survival(t / mean_ms, noise, low, high), lowest * low, highest * high
        )
    return (1 - outlier_rate) * steady + outlier_rate * spiked


@dataclass(frozen=True)
class Truth:
    """A curve's true objectives over its whole range, 1 MB steps.

    ``durations`` are the curve's mean Durations (what a user waits: the speed truth); ``billed``
    the expected Billed Durations under the replay's noise (what Lambda charges: the cost truth,
    :func:`expected_billed_ms`). On a curve that runs a few ms the two rank sizes differently."""

    sizes: range
    durations: list[float]
    billed: list[float]

    @classmethod
    def of(cls, curve: Curve) -> Truth:
        """The curve's truth (computed once per curve: the billed sums are the benchmark's slowest part)."""
        points = curve.points
        return _truth(tuple(points.memory_mb), tuple(points.mean_duration_ms), curve.noise, curve.outlier_rate)

    @classmethod
    def compute(cls, curve: Curve) -> Truth:
        """The truth of ``curve``, computed afresh."""
        sizes = range(curve.min_mb, curve.max_mb + 1)
        durations = [curve.duration_ms(m) for m in sizes]
        billed = [expected_billed_ms(d, curve.noise, curve.outlier_rate) for d in durations]
        return cls(sizes=sizes, durations=durations, billed=billed)

    def mean_duration_costs(self) -> list[float]:
        """memory x mean Duration: the cost truth before the billed one, shown for comparison."""
        return [m * d for m, d in zip(self.sizes, self.durations, strict=True)]

    def scores(self, strategy: str, weight: float = 0.5) -> list[float]:
        costs = [m * b for m, b in zip(self.sizes, self.billed, strict=True)]
        if strategy == "cost":
            return costs
        if strategy == "speed":
            return self.durations
        max_cost, max_duration = max(costs), max(self.durations)
        return [
            weight * c / max_cost + (1 - weight) * d / max_duration for c, d in zip(costs, self.durations, strict=True)
        ]

    def regret_pct(self, memory: int, strategy: str, scores: list[float] | None = None) -> float:
        scores = scores if scores is not None else self.scores(strategy)
        return (scores[memory - self.sizes.start] / min(scores) - 1) * 100


@functools.lru_cache(maxsize=256)
def _truth(sizes: tuple[int, ...], durations: tuple[float, ...], noise: float, outlier_rate: float) -> Truth:
    points = CurvePoints(memory_mb=list(sizes), mean_duration_ms=list(durations))
    return Truth.compute(Curve(points, noise=noise, outlier_rate=outlier_rate))
