"""Simulated target functions: durations, memory, timeouts and cold starts follow documented Lambda behaviour.

(Logs, determinism, profiles and the embedded AWS: test_simulated_logs.py.)
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import pytest
from simulated_invocations import durations, exact, function, report

from emulator.account import FunctionProfile
from emulator.simulated_function import (
    PROFILES,
    LambdaSimulator,
    billed_duration_ms,
    expected_duration_ms,
    expected_init_duration_ms,
    memory_floor_mb,
    payload_scale,
    vcpus,
)


# -- duration against memory ----------------------------------------------------------------------
def test_cpu_bound_duration_falls_with_memory_up_to_one_vcpu_then_stays_flat() -> None:
    # Given a single-threaded CPU-bound function
    profile = exact("cpu-bound")
    # When it runs at sizes below and above 1,769 MB
    below = durations(profile, [128, 256, 512, 1024, 1769])
    above = durations(profile, [1769, 3008, 5308, 10240])
    # Then it gets faster up to one vCPU, in proportion to memory, and no faster after
    assert below == sorted(below, reverse=True) and len(set(below)) == len(below)
    assert below[0] / below[2] == pytest.approx(4, rel=0.02)
    assert len(set(above)) == 1


def test_multi_threaded_duration_keeps_falling_up_to_six_vcpus() -> None:
    # Given a function whose work runs on six threads
    profile = exact("multi-threaded")
    # When it runs from one vCPU up to the largest size
    measured = durations(profile, [1769, 3538, 5308, 7077, 10240])
    # Then every step up in memory is faster
    assert measured == sorted(measured, reverse=True) and len(set(measured)) == len(measured)
    assert vcpus(10_240) <= 6


def test_io_bound_duration_does_not_depend_on_memory() -> None:
    # Given a function that only waits, and the I/O-bound preset (a little CPU)
    waiting = FunctionProfile(cpu_ms=0, io_ms=500, noise=0)
    # When each runs at sizes from 128 MB to 10,240 MB
    sizes = [128, 512, 1769, 10240]
    # Then memory does not shorten the wait, and the preset barely changes from 512 MB up
    assert set(durations(waiting, sizes)) == {500.0}
    preset = durations(exact("io-bound"), sizes[1:])
    assert max(preset) / min(preset) < 1.1


def test_expected_duration_is_the_noise_free_report_duration() -> None:
    # Given each preset without noise
    for name in PROFILES:
        profile = exact(name)
        # When it runs at 3,008 MB (fits every preset's memory)
        measured = durations(profile, [3008])[0]
        # Then the REPORT Duration is expected_duration_ms
        assert measured == pytest.approx(expected_duration_ms(profile, 3008), abs=0.01), name


def test_payload_scale_multiplies_duration_and_working_set() -> None:
    # Given a function invoked with {"scale": 2}
    simulator = LambdaSimulator(time_scale=0)
    profile = exact("cpu-bound")
    single = report(simulator.invoke(function(1024), profile, {}).log)
    double = report(simulator.invoke(function(1024), profile, {"scale": 2}).log)
    # Then it takes twice as long and allocates twice the working set
    assert double["duration"] == pytest.approx(2 * single["duration"], abs=0.02)
    assert double["used"] - profile.base_memory_mb == pytest.approx(
        2 * (single["used"] - profile.base_memory_mb), abs=1
    )
    # And anything but a positive number is no scale
    assert [payload_scale(event) for event in ({"scale": "2"}, {"scale": -1}, {"scale": True}, [2], None)] == [1.0] * 5


def test_billed_duration_is_duration_rounded_up_to_the_millisecond_init_included_when_cold() -> None:
    assert [billed_duration_ms(value) for value in (12.0, 12.01, 12.99, 0.0)] == [12, 13, 13, 1]
    simulator = LambdaSimulator(time_scale=0)
    lines = [report(simulator.invoke(function(512), PROFILES["light"], {}).log) for _ in range(20)]
    # Since August 2025 Lambda bills the INIT phase of on-demand functions on managed runtimes too
    cold, *warm = lines
    assert cold["init"] is not None
    assert cold["billed"] == math.ceil(round(cold["duration"] + float(cold["init"]), 2))
    for line in warm:
        assert line["init"] is None
        assert line["billed"] == math.ceil(line["duration"])


# -- out of memory and timeout -------------------------------------------------------------------
def test_below_the_memory_floor_the_invocation_runs_out_of_memory() -> None:
    # Given a function that needs 460 MB
    profile = PROFILES["memory-hungry"]
    assert memory_floor_mb(profile) == 460
    simulator = LambdaSimulator(time_scale=0)
    # When it runs with 256 MB
    result = simulator.invoke(function(256), profile, {})
    # Then Lambda kills it: Runtime.OutOfMemory, and the REPORT shows all memory used
    payload = json.loads(result.payload)
    line = report(result.log)
    assert result.error_type == payload["errorType"] == "Runtime.OutOfMemory"
    assert (
        payload["errorMessage"] == f"RequestId: {line['request_id']} Error: Runtime exited with error: signal: killed"
    )
    assert payload["simulated"] is True
    assert line["used"] == line["memory"] == 256
    assert (line["status"], line["error"]) == ("error", "Runtime.OutOfMemory")
    assert "Runtime exited with error: signal: killed" in result.log
    # And at the floor it succeeds
    fits = simulator.invoke(function(460), profile, {})
    assert fits.error_type is None and report(fits.log)["used"] == 460


def test_an_invocation_longer_than_the_timeout_times_out_at_the_timeout() -> None:
    # Given a CPU-bound function with a 3 s timeout, at 128 MB (about 28 s of work)
    simulator = LambdaSimulator(time_scale=0)
    result = simulator.invoke(function(128, timeout=3), PROFILES["cpu-bound"], {})
    # Then it fails as Lambda's timeout, and Duration is the timeout
    payload = json.loads(result.payload)
    line = report(result.log)
    assert result.error_type == payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"] == f"RequestId: {line['request_id']} Error: Task timed out after 3.00 seconds"
    assert (line["duration"], line["status"]) == (3000.0, "timeout")
    # a cold start: its Init Duration is billed on top (Lambda bills INIT since August 2025)
    assert line["billed"] == math.ceil(3000.0 + float(line["init"]))
    assert line["used"] < line["memory"]


def test_function_errors_follow_the_error_rate_and_keep_the_environment() -> None:
    # Given a function that fails 30 % of the time with a chosen errorType
    profile = FunctionProfile(error_rate=0.3, error_type="CustomError", seed=7)
    simulator = LambdaSimulator(time_scale=0)
    results = [simulator.invoke(function(512), profile, {}) for _ in range(300)]
    # Then about 30 % fail, with that errorType and Lambda's error shape
    failed = [result for result in results if result.error_type is not None]
    assert 0.2 < len(failed) / len(results) < 0.4
    assert {result.error_type for result in failed} == {"CustomError"}
    payload = json.loads(failed[0].payload)
    assert payload["errorType"] == "CustomError" and payload["simulated"] is True and "errorMessage" in payload
    # And a function's own error does not cost a new environment
    assert simulator.cold_starts("f") == 1


# -- cold starts ------------------------------------------------------------------------------------
def test_first_invocation_is_cold_and_the_next_ones_are_warm() -> None:
    simulator = LambdaSimulator(time_scale=0)
    profile = PROFILES["light"]
    # When a function is invoked three times in a row
    lines = [report(simulator.invoke(function(128), profile, {}).log) for _ in range(3)]
    # Then only the first has an Init Duration, and one environment served them all
    assert lines[0]["init"] == pytest.approx(profile.cold_start_ms)
    assert [line["init"] for line in lines[1:]] == [None, None]
    assert simulator.cold_starts("f") == simulator.environment_count("f") == 1
    assert "INIT_START Runtime Version: python:3.13" in simulator.invoke(function(256), profile, {}).log


def test_init_duration_shrinks_a_little_with_more_cpu() -> None:
    profile = PROFILES["light"]
    at_128, at_1769, at_10240 = (expected_init_duration_ms(profile, size) for size in (128, 1769, 10240))
    assert at_128 == pytest.approx(profile.cold_start_ms)
    assert 0.7 * at_128 < at_1769 < at_128
    assert at_10240 == at_1769


def test_parallel_invocations_need_several_environments() -> None:
    # Given a slow function (100 s simulated holds an environment 0.1 s of real time)
    simulator = LambdaSimulator(time_scale=0.001)
    profile = FunctionProfile(cpu_ms=0, io_ms=100_000, noise=0)
    start = threading.Barrier(6)
    results: list[Any] = []

    def call() -> None:
        start.wait()
        results.append(simulator.invoke(function(512), profile, {}))

    # When six threads invoke it at once
    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then overlapping invocations each got an environment, and each paid a cold start
    cold = [result for result in results if report(result.log)["init"] is not None]
    assert simulator.cold_starts("f") == len(cold) >= 3
    # And afterwards an invocation reuses one of them
    assert report(simulator.invoke(function(512), profile, {}).log)["init"] is None


def test_a_new_version_and_a_changed_latest_start_cold() -> None:
    simulator = LambdaSimulator(time_scale=0)
    profile = PROFILES["light"]
    inits = [
        report(simulator.invoke(fn, profile, {}).log)["init"]
        for fn in (
            function(512),  # $LATEST: cold
            function(512),  # warm
            function(512, version="1"),  # a published version: its own environments
            function(512, version="1"),  # warm
            function(1024),  # $LATEST after a configuration change
        )
    ]
    assert [init is not None for init in inits] == [True, False, True, False, True]
    assert simulator.cold_starts("f", "1") == 1 and simulator.cold_starts("f", "$LATEST") == 2


def test_after_a_timeout_the_environment_is_reset() -> None:
    simulator = LambdaSimulator(time_scale=0)
    profile = PROFILES["cpu-bound"]
    first = report(simulator.invoke(function(128, timeout=3), profile, {}).log)
    second = report(simulator.invoke(function(128, timeout=3), profile, {}).log)
    assert first["status"] == second["status"] == "timeout"
    assert first["init"] is not None and second["init"] is not None


# -- parametric extras: optima above the floor, network, varying memory, bimodal latency ----------
def test_gc_pressure_puts_the_cheapest_size_above_the_memory_floor() -> None:
    # Given the gc-heavy preset (needs 240 MB; collects hard when the heap is tight)
    profile = PROFILES["gc-heavy"]
    floor = memory_floor_mb(profile)
    # When its cost per invocation (memory x duration) is computed at every 64 MB from the floor
    sizes = range(floor, 3009, 64)
    costs = {m: m * expected_duration_ms(profile, m) for m in sizes}
    cheapest = min(costs, key=costs.__getitem__)
    # Then the cheapest size is well above the floor, and the floor is clearly dearer
    assert cheapest >= 2 * floor
    assert costs[floor] > 1.2 * costs[cheapest]


def test_network_time_shrinks_with_memory_up_to_one_vcpu() -> None:
    # Given a function moving 40 MB at 75 MB/s from 1,769 MB up
    profile = FunctionProfile(cpu_ms=0, io_ms=0, transfer_mb=40, bandwidth_mb_s=75)
    # Then the transfer takes 533 ms at 1,769 MB and above, twice that at a quarter of the memory
    assert expected_duration_ms(profile, 1769) == pytest.approx(40 / 75 * 1000)
    assert expected_duration_ms(profile, 3008) == pytest.approx(40 / 75 * 1000)
    assert expected_duration_ms(profile, 1769 / 4) == pytest.approx(2 * 40 / 75 * 1000)


def test_max_memory_used_varies_between_invocations_with_memory_jitter() -> None:
    # Given a working set of 100 MB varying by +-30 %
    profile = FunctionProfile(base_memory_mb=50, working_set_mb=100, memory_jitter=0.3, noise=0)
    simulator = LambdaSimulator(time_scale=0)
    used = [report(simulator.invoke(function(1024), profile, {}).log)["used"] for _ in range(200)]
    # Then Max Memory Used spreads over 120-180 MB instead of always 150
    assert min(used) >= 120 and max(used) <= 180
    assert max(used) - min(used) > 40
    # and at a size between those, some invocations run out of memory
    tight = [simulator.invoke(function(160), profile, {}).error_type for _ in range(100)]
    assert 0 < tight.count("Runtime.OutOfMemory") < 100


def test_a_slow_mode_makes_latency_bimodal() -> None:
    # Given a quarter of invocations taking 4x as long
    profile = FunctionProfile(cpu_ms=100, io_ms=0, slow_share=0.25, slow_factor=4, noise=0)
    simulator = LambdaSimulator(time_scale=0)
    durations = [report(simulator.invoke(function(1769), profile, {}).log)["duration"] for _ in range(400)]
    # Then there are two modes, 100 ms and 400 ms, about 3:1
    assert set(durations) == {100.0, 400.0}
    assert 0.18 < durations.count(400.0) / len(durations) < 0.32
