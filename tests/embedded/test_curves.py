"""Replaying real measured curves: loading, interpolation, noise, and simulated functions that follow one."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emulator.account import FunctionProfile, load_account
from emulator.curves import (
    DEFAULT_CURVES_PATH,
    Curve,
    CurvePoints,
    find_record,
    load_curves,
    parse_curves,
)
from emulator.simulated_function import LambdaSimulator, expected_duration_ms, memory_floor_mb

S000 = {"memoryMb": [128, 256, 512, 1024, 2048, 3008], "meanDurationMs": [651.3, 312.8, 144.5, 81.8, 70.4, 68.5]}


def _record(**fields: Any) -> dict[str, Any]:
    return {"id": "c1", **S000, **fields}


def _function(memory: int) -> Any:
    return SimpleNamespace(
        function_name="replayed",
        version="$LATEST",
        memory_size=memory,
        timeout=900,
        run_time="python3.13",
        region="us-east-1",
        account_id="123456789012",
    )


def test_the_repository_copy_of_the_data_file_loads_with_every_record() -> None:
    # Given the data file copied into the repository (benchmarks/data/, with its README)
    # When it is loaded
    records = load_curves(DEFAULT_CURVES_PATH)
    # Then all 152 published curves are there, each with ascending sizes and one duration per size
    assert len(records) == 152
    assert (DEFAULT_CURVES_PATH.parent / "README.md").exists()
    for record in records:
        assert record.memory_mb == sorted(set(record.memory_mb))
        assert len(record.mean_duration_ms) == len(record.memory_mb)
    assert find_record("s000").memory_mb == [128, 256, 512, 1024, 2048, 3008]


def test_between_measured_sizes_the_duration_is_linear_in_log_memory() -> None:
    # Given a curve measured at 128 and 256 MB
    curve = Curve(CurvePoints(memory_mb=[128, 256], mean_duration_ms=[600.0, 300.0]))
    # When it is read at its measured sizes and at their geometric midpoint
    # Then the measured sizes give the measured means and the midpoint gives their average
    assert curve.duration_ms(128) == 600.0
    assert curve.duration_ms(256) == 300.0
    assert curve.duration_ms(128 * math.sqrt(2)) == pytest.approx(450.0)
    assert curve.duration_ms(192) == pytest.approx(600 - 300 * math.log(1.5) / math.log(2))


@pytest.mark.parametrize("memory", [127, 3009, 64])
def test_sizes_outside_the_curve_are_not_offered(memory: int) -> None:
    # Given the s000 curve (128-3008 MB)
    curve = Curve(find_record("s000"))
    # When a size outside it is asked for
    # Then it is refused, naming the curve's range
    with pytest.raises(ValueError, match="outside s000's measured range 128-3008 MB"):
        curve.duration_ms(memory)


def test_replayed_noise_keeps_the_curve_as_the_mean_with_rare_spikes() -> None:
    # Given a curve with the default noise (sigma 0.12) and spikes (2 %)
    curve = Curve(find_record("s000"))
    rng = random.Random(7)
    # When 5,000 invocations are replayed at 512 MB
    samples = [curve.sample_ms(512, rng) for _ in range(5000)]
    # Then their median sits near the curve, their log spread is about 0.12, and about 2 % are 2-4x spikes
    true = curve.duration_ms(512)
    ordinary = [s for s in samples if s < 1.8 * true]
    logs = [math.log(s) for s in ordinary]
    mean_log = sum(logs) / len(logs)
    sigma = math.sqrt(sum((v - mean_log) ** 2 for v in logs) / (len(logs) - 1))
    assert sum(ordinary) / len(ordinary) == pytest.approx(true, rel=0.01)
    assert sigma == pytest.approx(0.12, abs=0.01)
    assert 0.01 < (len(samples) - len(ordinary)) / len(samples) < 0.03
    assert max(samples) < 4.5 * true


def test_the_same_seed_replays_the_same_invocations() -> None:
    curve = Curve(find_record("s000"))
    first = [curve.sample_ms(256, random.Random("s")) for _ in range(3)]
    again = [curve.sample_ms(256, random.Random("s")) for _ in range(3)]
    assert first == again


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"memoryMb": [256, 128, 512]}, "memoryMb: sizes must be in ascending order", id="unsorted"),
        pytest.param({"memoryMb": [128, 128, 512]}, "memoryMb: duplicate sizes [128]", id="duplicate"),
        pytest.param(
            {"memoryMb": [128, 256, 512], "meanDurationMs": [10.0, -1.0, 5.0]},
            "meanDurationMs: durations must be positive, got -1.0 at 256 MB",
            id="negative",
        ),
        pytest.param(
            {"memoryMb": [128, 256, 512], "meanDurationMs": [10.0, 5.0]},
            "memoryMb has 3 entries but meanDurationMs has 2",
            id="lengths",
        ),
        pytest.param({"memoryMb": [64, 256]}, "memoryMb: [64] outside Lambda's", id="below-lambda"),
        pytest.param({"costPerInvocationUsd": [1.0]}, "costPerInvocationUsd has 1 entries", id="cost-length"),
    ],
)
def test_a_bad_curve_record_is_refused_naming_the_record_and_field(fields: dict[str, Any], message: str) -> None:
    # Given a record with one mistake
    data = [_record(**({"meanDurationMs": [1.0] * len(fields["memoryMb"])} if "memoryMb" in fields else {}) | fields)]
    # When the records are validated
    # Then the error names the record and what is wrong with which field
    with pytest.raises(ValueError) as error:
        parse_curves(data, where="curves.json")
    assert "curves.json: invalid curves: [0] (c1)" in str(error.value)
    assert message in str(error.value)


def test_a_curves_file_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "curves.json"
    path.write_text("[{")
    with pytest.raises(ValueError, match=re.escape(f"{path}: cannot read curves")):
        load_curves(path)


def test_a_reference_to_a_missing_record_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("curve.record: no record 's999'")):
        find_record("s999")


# -- a simulated function that follows a curve ---------------------------------------------------


def test_a_simulated_function_follows_a_referenced_curve() -> None:
    # Given a profile replaying record s000 without noise
    profile = FunctionProfile.model_validate({"curve": {"record": "s000", "noise": 0, "outlierRate": 0}})
    simulator = LambdaSimulator(time_scale=0)
    # When it is invoked at measured and interpolated sizes
    for memory in (128, 512, 724):
        assert simulator.invoke(_function(memory), profile, {}).error_type is None
    durations = {record.memory_size: record.duration_ms for record in simulator.invocations}
    # Then each Duration is the curve's, and the expected duration reads the same curve
    assert durations[128] == pytest.approx(651.317, abs=0.01)
    assert durations[512] == pytest.approx(144.537, abs=0.01)
    assert durations[724] == pytest.approx(expected_duration_ms(profile, 724), abs=0.01)
    assert expected_duration_ms(profile, 724) == pytest.approx(Curve(find_record("s000")).duration_ms(724))


def test_an_inline_curve_sets_the_memory_floor_at_its_smallest_size() -> None:
    # Given a function replaying an inline curve that starts at 256 MB
    profile = FunctionProfile.model_validate(
        {"curve": {"memoryMb": [256, 1024], "meanDurationMs": [400, 100]}, "baseMemoryMb": 60, "workingSetMb": 20}
    )
    simulator = LambdaSimulator(time_scale=0)
    # When it is invoked below, at and above its range
    below = simulator.invoke(_function(128), profile, {})
    at = simulator.invoke(_function(256), profile, {})
    # Then below the curve it runs out of memory; inside it runs and reports what it used
    assert memory_floor_mb(profile) == 256
    assert below.error_type == "Runtime.OutOfMemory"
    assert at.error_type is None
    assert simulator.invocations[-1].max_memory_used_mb == 80
    assert "simulated" in json.loads(at.payload)


@pytest.mark.parametrize(
    ("curve", "detail"),
    [
        pytest.param(
            {"memoryMb": [512, 256], "meanDurationMs": [1, 2]}, "sizes must be in ascending order", id="order"
        ),
        pytest.param({"memoryMb": [256, 256], "meanDurationMs": [1, 2]}, "duplicate sizes [256]", id="duplicate"),
        pytest.param({"memoryMb": [256, 512], "meanDurationMs": [1, -2]}, "durations must be positive", id="negative"),
        pytest.param({"record": "s999"}, "no record 's999'", id="missing-record"),
        pytest.param({"record": "s000", "memoryMb": [128, 256]}, "not both", id="both"),
        pytest.param({"memoryMb": [128, 256], "meanDurationMs": [1, 2], "sigma": 1}, "sigma", id="unknown-field"),
    ],
)
def test_a_bad_curve_in_an_account_file_is_a_load_error(tmp_path: Path, curve: dict[str, Any], detail: str) -> None:
    # Given an account file whose function replays a bad curve
    path = tmp_path / "account.json"
    path.write_text(json.dumps({"functions": [{"name": "replayed", "profile": {"curve": curve}}]}))
    # When it is loaded
    # Then the error names the file, the function's profile's curve and what is wrong
    with pytest.raises(ValueError) as error:
        load_account(path)
    assert f"{path}: invalid simulated account: functions.0.profile.curve" in str(error.value)
    assert detail in str(error.value)


def test_a_function_too_big_for_its_curve_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    profile = {"curve": {"record": "s000"}, "baseMemoryMb": 100, "workingSetMb": 50}
    path.write_text(json.dumps({"functions": [{"name": "replayed", "profile": profile}]}))
    with pytest.raises(ValueError, match=r"needs 150 MB .* smallest size 128 MB"):
        load_account(path)


def test_the_documented_real_curves_account_is_tuned_end_to_end() -> None:
    # Given the example account of docs/simulated-account.md, whose functions replay published curves
    from emulator.cloud import EmbeddedAws

    account = load_account(Path(__file__).resolve().parents[2] / "events" / "accounts" / "real-curves-account.json")
    with EmbeddedAws(account) as aws:
        # When the documented dry run measures its API handler (s001, at 128 MB)
        report = aws.run({"targets": ["replayed-api-handler"]})
        memory = aws.function_configuration("replayed-api-handler")["MemorySize"]
    # Then the run succeeds with a recommendation and its interval, and a dry run changes nothing
    assert (report.status, report.error) == ("SUCCEEDED", None)
    (record,) = report.records
    recommendation = record["recommendation"]
    low, high = recommendation["changeIntervalPct"]
    assert low <= recommendation["projectedChangePct"] <= high
    assert 128 <= recommendation["bestMemorySize"] <= 3008
    assert memory == 128
