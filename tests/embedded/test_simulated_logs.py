"""Simulated target functions: their logs as Lambda writes them, deterministic draws, profiles and the embedded AWS.

(Durations, memory, timeouts and cold starts: test_simulated_function.py.)
"""

from __future__ import annotations

import base64
import json
import math

import pytest
from pydantic import ValidationError
from simulated_invocations import exact, function, report

from emulator.account import FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.simulated_function import (
    PROFILES,
    LambdaSimulator,
    expected_init_duration_ms,
)


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
