"""Real measured Lambda curves, replayed: duration at any size in a curve's range, with noise.

A record has the format of ``benchmarks/data/real-curves.json`` (see its README): Power Tuning
results that their authors published, one mean duration per measured memory size. Replaying one:

- **Interpolation.** Between two measured sizes the duration is piecewise linear in
  log-memory: ``d(m) = d_i + (d_j - d_i) * ln(m / m_i) / ln(m_j / m_i)``. Doubling memory is
  the step Lambda users (and these curves) measure in, and a duration that halves per doubling
  stays on a straight line this way.
- **Range.** Sizes below the smallest or above the largest measured size are not offered:
  :meth:`Curve.duration_ms` raises ``ValueError`` there. The simulated function (simulated_function.py)
  runs out of memory below the smallest size: the memory floor sits at it.
- **Noise.** Each invocation's Duration is the curve's mean times a lognormal factor with
  sigma ``noise`` (default 0.12, the median residual the data's README reports) and mean 1,
  so the curve is the mean of what is replayed without spikes. Rarely (``outlier_rate``,
  default 2 %) an invocation is a spike of 2-4 times that, as a cold environment's first
  request or a noisy neighbour makes one; with them the replayed mean is 1.04 times the curve
  at every size (1 + 2 % x 2 extra), which leaves every comparison between sizes as it was.

Load errors name the file, the record and the field: unsorted or duplicate sizes, durations
that are not positive, lists of different lengths, a reference to a missing record.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

DEFAULT_CURVES_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "real-curves.json"
DEFAULT_NOISE = 0.12  # the data README's median relative residual
DEFAULT_OUTLIER_RATE = 0.02
OUTLIER_FACTOR = (2.0, 4.0)  # a spike multiplies the Duration by a uniform factor in this range
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240


class CurvePoints(BaseModel):
    """Measured sizes and their mean durations: what a curve needs to be replayed."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    memory_mb: list[int] = Field(min_length=2, description="measured sizes, strictly ascending")
    mean_duration_ms: list[float] = Field(min_length=2, description="mean Duration at each size, positive")

    @model_validator(mode="after")
    def _consistent(self) -> CurvePoints:
        sizes, durations = self.memory_mb, self.mean_duration_ms
        if len(sizes) != len(durations):
            raise ValueError(
                f"memoryMb has {len(sizes)} entries but meanDurationMs has {len(durations)}: one duration per size"
            )
        duplicates = sorted({size for size in sizes if sizes.count(size) > 1})
        if duplicates:
            raise ValueError(f"memoryMb: duplicate sizes {duplicates}")
        if sizes != sorted(sizes):
            raise ValueError(f"memoryMb: sizes must be in ascending order, got {sizes}")
        outside = [size for size in sizes if not MIN_MEMORY_MB <= size <= MAX_MEMORY_MB]
        if outside:
            raise ValueError(f"memoryMb: {outside} outside Lambda's {MIN_MEMORY_MB}-{MAX_MEMORY_MB} MB")
        bad = [(size, d) for size, d in zip(sizes, durations, strict=True) if not (math.isfinite(d) and d > 0)]
        if bad:
            listed = ", ".join(f"{d} at {size} MB" for size, d in bad)
            raise ValueError(f"meanDurationMs: durations must be positive, got {listed}")
        return self


class CurveRecord(CurvePoints):
    """One record of the data file: the points plus where they come from."""

    id: str = Field(min_length=1)
    source: str = ""
    workload: str = ""
    architecture: str = "x86_64"
    cost_per_invocation_usd: list[float] | None = None
    visualization: str | None = None
    # Init Duration of a cold start at 128 MB, where the source measured one (benchmarks model the rest).
    init_duration_ms: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _costs(self) -> CurveRecord:
        if self.cost_per_invocation_usd is not None and len(self.cost_per_invocation_usd) != len(self.memory_mb):
            raise ValueError(
                f"costPerInvocationUsd has {len(self.cost_per_invocation_usd)} entries but memoryMb has "
                f"{len(self.memory_mb)}"
            )
        return self


class Curve:
    """A replayable curve: the true mean duration at any size in its range, and noisy invocations."""

    def __init__(
        self,
        points: CurvePoints,
        *,
        noise: float = DEFAULT_NOISE,
        outlier_rate: float = DEFAULT_OUTLIER_RATE,
        name: str | None = None,
    ):
        if not 0 <= noise <= 1:
            raise ValueError(f"noise must be in [0, 1], got {noise}")
        if not 0 <= outlier_rate < 1:
            raise ValueError(f"outlier_rate must be in [0, 1), got {outlier_rate}")
        self.points = points
        self.noise = noise
        self.outlier_rate = outlier_rate
        self.name = name or getattr(points, "id", "curve")
        self._sizes = list(points.memory_mb)
        self._durations = list(points.mean_duration_ms)

    @property
    def min_mb(self) -> int:
        return self._sizes[0]

    @property
    def max_mb(self) -> int:
        return self._sizes[-1]

    @property
    def span(self) -> float:
        """Largest over smallest measured size."""
        return self.max_mb / self.min_mb

    def duration_ms(self, memory_mb: float) -> float:
        """The true mean Duration at ``memory_mb``: piecewise linear in log-memory between measured sizes."""
        if not self.min_mb <= memory_mb <= self.max_mb:
            raise ValueError(f"{memory_mb} MB is outside {self.name}'s measured range {self.min_mb}-{self.max_mb} MB")
        j = bisect.bisect_left(self._sizes, memory_mb)
        if self._sizes[j] == memory_mb:
            return self._durations[j]
        low, high = self._sizes[j - 1], self._sizes[j]
        share = math.log(memory_mb / low) / math.log(high / low)
        return self._durations[j - 1] + (self._durations[j] - self._durations[j - 1]) * share

    def sample_ms(self, memory_mb: float, rng: random.Random) -> float:
        """One invocation's Duration at ``memory_mb``: the mean times lognormal noise, rarely a spike."""
        mean = self.duration_ms(memory_mb)
        # mu = -sigma^2 / 2 keeps the factor's mean at 1: the curve is a mean, not a median.
        factor = rng.lognormvariate(-(self.noise**2) / 2, self.noise) if self.noise > 0 else 1.0
        spike = rng.random() < self.outlier_rate
        if spike:
            factor *= rng.uniform(*OUTLIER_FACTOR)
        return mean * factor


def parse_curves(data: object, *, where: str = "curves") -> list[CurveRecord]:
    """Validate a list of records of the data file's format; errors name the record and the field."""
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a list of curve records, got {type(data).__name__}")
    records: list[CurveRecord] = []
    problems: list[str] = []
    for index, item in enumerate(data):
        label = f"[{index}]" + (
            f" ({item['id']})" if isinstance(item, dict) and isinstance(item.get("id"), str) else ""
        )
        try:
            records.append(CurveRecord.model_validate(item))
        except ValidationError as error:
            problems += [f"{label}{_field(problem['loc'])}: {_message(problem)}" for problem in error.errors()]
    ids = [record.id for record in records]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"id: duplicate ids {duplicates}")
    if problems:
        raise ValueError(f"{where}: invalid curves: " + "; ".join(problems))
    return records


def load_curves(path: Path | str = DEFAULT_CURVES_PATH) -> list[CurveRecord]:
    """Read and validate a curves file (the data file's format); errors name the file, record and field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read curves: {error}") from None
    return parse_curves(data, where=str(path))


@cache
def _default_records() -> dict[str, CurveRecord]:
    return {record.id: record for record in load_curves(DEFAULT_CURVES_PATH)}


def find_record(record_id: str, records: Sequence[CurveRecord] | None = None) -> CurveRecord:
    """The record with ``record_id`` (of the repository's data file unless ``records`` are given)."""
    by_id = _default_records() if records is None else {record.id: record for record in records}
    try:
        return by_id[record_id]
    except KeyError:
        raise ValueError(
            f"curve.record: no record {record_id!r} in {DEFAULT_CURVES_PATH.name if records is None else 'the curves'}"
        ) from None


def _field(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def _message(problem: dict) -> str:
    # Our own validators' messages already name the field; pydantic prefixes them with "Value error, ".
    return str(problem["msg"]).removeprefix("Value error, ")
