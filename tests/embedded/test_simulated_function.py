"""Simulated target functions: their REPORT lines follow documented Lambda behaviour."""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from emulator.account import FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
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

REPORT = re.compile(
    r"^REPORT RequestId: (?P<request_id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d\d) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t"
    r"(?:Init Duration: (?P<init>\d+\.\d\d) ms\t)?(?:Status: (?P<status>\w+)\t)?(?:Error Type: (?P<error>[\w.]+)\t)?$"
)


def function(memory: int = 128, *, timeout: int = 900, version: str = "$LATEST", name: str = "f") -> Any:
    """The attributes of moto's LambdaFunction the simulator reads."""
    return SimpleNamespace(
        function_name=name,
        version=version,
        memory_size=memory,
        timeout=timeout,
        run_time="python3.13",
        region="us-east-1",
        account_id="123456789012",
    )


def report(log: str) -> dict[str, Any]:
    """The REPORT line, which Lambda writes last, as numbers."""
    last = log.splitlines()[-1]
    match = REPORT.match(last)
    assert match, f"not a REPORT line: {last!r}"
    fields = match.groupdict()
    return {
        "request_id": fields["request_id"],
        "duration": float(fields["duration"]),
        "billed": int(fields["billed"]),
        "memory": int(fields["memory"]),
        "used": int(fields["used"]),
        "init": float(fields["init"]) if fields["init"] else None,
        "status": fields["status"],
        "error": fields["error"],
    }


def exact(preset: str, **fields: Any) -> FunctionProfile:
    """A preset without noise, so durations are the model's curve."""
    return FunctionProfile(preset=preset, noise=0, **fields)


def durations(profile: FunctionProfile, sizes: list[int]) -> list[float]:
    simulator = LambdaSimulator(time_scale=0)
    return [report(simulator.invoke(function(size), profile, {}).log)["duration"] for size in sizes]


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


# -- logs, payloads, determinism ----------------------------------------------------------------------
def test_text_log_has_start_end_and_report_lines_as_lambda_writes_them() -> None:
    result = LambdaSimulator(time_scale=0).invoke(function(1769, version="3"), exact("light"), {})
    lines = result.log.splitlines()
    request_id = report(result.log)["request_id"]
    assert lines[-3:-1] == [f"START RequestId: {request_id} Version: 3", f"END RequestId: {request_id}"]
    assert lines[0].startswith("INIT_START Runtime Version: python:3.13")  # a cold start, its INIT billed
    init = round(expected_init_duration_ms(PROFILES["light"], 1769), 2)
    assert lines[-1] == (
        f"REPORT RequestId: {request_id}\tDuration: 70.00 ms\tBilled Duration: {math.ceil(70 + init)} ms\t"
        f"Memory Size: 1769 MB\tMax Memory Used: 50 MB\tInit Duration: {init:.2f} ms\t"
    )
    assert json.loads(result.payload) == {"simulated": True, "function": "f", "version": "3", "memoryMB": 1769}


def test_json_log_format_writes_platform_records_with_the_documented_keys() -> None:
    # Given a function with Lambda's JSON log format
    profile = FunctionProfile(log_format="JSON")
    simulator = LambdaSimulator(time_scale=0)
    # When it is invoked cold, then warm
    cold, warm = (simulator.invoke(function(512), profile, {}) for _ in range(2))
    # Then every line is a JSON record, the report last, with the documented metrics
    records = [json.loads(line) for line in cold.log.splitlines()]
    assert [record["type"] for record in records] == ["platform.initStart", "platform.start", "platform.report"]
    report_record = records[-1]["record"]
    assert set(report_record["metrics"]) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert report_record["requestId"] == records[1]["record"]["requestId"]
    assert report_record["status"] == "success" and report_record["metrics"]["memorySizeMB"] == 512
    metrics = report_record["metrics"]
    assert metrics["billedDurationMs"] == math.ceil(round(metrics["durationMs"] + metrics["initDurationMs"], 2))
    warm_report = json.loads(warm.log.splitlines()[-1])
    assert warm_report["type"] == "platform.report" and "initDurationMs" not in warm_report["record"]["metrics"]


def test_json_log_format_reports_timeouts_and_out_of_memory() -> None:
    simulator = LambdaSimulator(time_scale=0)
    timed_out = simulator.invoke(function(128, timeout=1), FunctionProfile(preset="cpu-bound", log_format="JSON"), {})
    killed = simulator.invoke(function(128), FunctionProfile(preset="memory-hungry", log_format="JSON"), {})
    timeout_record = json.loads(timed_out.log.splitlines()[-1])["record"]
    killed_record = json.loads(killed.log.splitlines()[-1])["record"]
    assert timeout_record["status"] == "timeout" and timeout_record["metrics"]["durationMs"] == 1000.0
    assert (killed_record["status"], killed_record["errorType"]) == ("error", "Runtime.OutOfMemory")
    assert killed_record["metrics"]["maxMemoryUsedMB"] == killed_record["metrics"]["memorySizeMB"] == 128


def test_the_same_seed_gives_the_same_invocations() -> None:
    def run(seed: int) -> list[tuple[str, float]]:
        simulator = LambdaSimulator(time_scale=0)
        profile = FunctionProfile(preset="cpu-bound", noise=0.2, error_rate=0.2, seed=seed)
        lines = [report(simulator.invoke(function(1024), profile, {}).log) for _ in range(10)]
        return [(line["request_id"], line["duration"]) for line in lines]

    assert run(1) == run(1)
    assert run(1) != run(2)
    durations_seen = {duration for _, duration in run(1)}
    assert len(durations_seen) > 1  # the noise is there


def test_sizes_measured_side_by_side_draw_the_same_whatever_order_the_threads_arrive_in() -> None:
    # Given a noisy profile measured at three sizes, five invocations each
    profile = FunctionProfile(preset="cpu-bound", noise=0.2, error_rate=0.2, seed=3)
    sizes = [512, 1024, 2048]

    def measure(order: list[int]) -> dict[int, list[tuple[str, float]]]:
        simulator = LambdaSimulator(time_scale=0)
        seen: dict[int, list[tuple[str, float]]] = {size: [] for size in sizes}
        for size in order:
            line = report(simulator.invoke(function(size), profile, {}).log)
            seen[size].append((line["request_id"], line["duration"]))
        return seen

    # When the sizes' invocations interleave one way, then another (a Map's threads decide it)
    one_by_one = measure([size for size in sizes for _ in range(5)])
    interleaved = measure([size for _ in range(5) for size in reversed(sizes)])

    # Then every size saw the same invocations, and the sizes do not share their noise
    assert one_by_one == interleaved
    assert one_by_one[512][0][0] != one_by_one[1024][0][0]


def test_a_copy_of_the_code_under_a_run_specific_name_draws_what_the_function_would() -> None:
    # Given one profile, invoked through its function's name and through two copies' names
    # (a shadow's name carries its run's token)
    profile = FunctionProfile(preset="io-bound", noise=0.3, seed=7)

    def durations(name: str) -> list[float]:
        simulator = LambdaSimulator(time_scale=0)
        invoke = simulator.invoker(profile, identity="orders-api")
        return [report(invoke(function(256, name=name), {}).log)["duration"] for _ in range(4)]

    # Then the copies' invocations are the function's own sequence, run after run
    assert durations("orders-api") == durations("autotuner-shadow-abc123-0f1e2d") == durations("autotuner-shadow-x")


# -- the account file ---------------------------------------------------------------------------------
def test_a_profile_comes_from_a_preset_with_fields_overriding_it() -> None:
    spec = SimulatedFunction.model_validate({"name": "f", "profile": {"preset": "cpu-bound", "cpuMs": 500}})
    assert spec.profile is not None
    assert spec.profile.cpu_ms == 500
    assert spec.profile.cold_start_ms == PROFILES["cpu-bound"].cold_start_ms
    assert SimulatedFunction(name="g").profile is None
    with pytest.raises(ValidationError):
        FunctionProfile.model_validate({"preset": "gpu-bound"})
    with pytest.raises(ValidationError):
        FunctionProfile.model_validate({"errorRate": 1.5})


# -- through the embedded AWS ---------------------------------------------------------------------------
def test_targets_in_the_embedded_aws_answer_with_simulated_report_lines() -> None:
    # Given an embedded AWS with one simulated target
    account = SimulatedAccount(
        update_seconds=0,
        functions=[
            SimulatedFunction(name="f", memory_size=256, timeout=30, profile=FunctionProfile(preset="io-bound"))
        ],
    )
    with EmbeddedAws(account) as aws:
        lam = aws.client("lambda")
        # When it is invoked with LogType=Tail
        answer = lam.invoke(FunctionName="f", LogType="Tail", Payload=b"{}")
        # Then the tail ends with a REPORT line and the payload says it is simulated
        tail = base64.b64decode(answer["LogResult"]).decode("utf-8")
        assert report(tail)["memory"] == 256 and report(tail)["init"] is not None
        assert json.loads(answer["Payload"].read())["simulated"] is True
        # When a version at another size is published behind an alias and invoked through it
        lam.update_function_configuration(FunctionName="f", MemorySize=1024)
        version = lam.publish_version(FunctionName="f")["Version"]
        lam.create_alias(FunctionName="f", Name="candidate", FunctionVersion=version)
        first, second = (
            lam.invoke(FunctionName="f", Qualifier="candidate", LogType="Tail", Payload=b"{}") for _ in range(2)
        )
        # Then the version runs, cold first, then warm
        assert first["ExecutedVersion"] == version
        first_line, second_line = (report(base64.b64decode(item["LogResult"]).decode()) for item in (first, second))
        assert first_line["memory"] == 1024 and first_line["init"] is not None
        assert second_line["init"] is None
        assert aws.simulator.cold_starts("f", version) == 1


def test_a_target_without_memory_fails_like_lambda_through_the_embedded_aws() -> None:
    account = SimulatedAccount(
        functions=[SimulatedFunction(name="hungry", memory_size=128, profile=FunctionProfile(preset="memory-hungry"))]
    )
    with EmbeddedAws(account) as aws:
        answer = aws.client("lambda").invoke(FunctionName="hungry", LogType="Tail", Payload=b"{}")
        assert answer["FunctionError"] == "Unhandled"
        assert json.loads(answer["Payload"].read())["errorType"] == "Runtime.OutOfMemory"
        assert report(base64.b64decode(answer["LogResult"]).decode())["used"] == 128


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
