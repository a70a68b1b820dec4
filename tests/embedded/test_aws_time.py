"""The AWS-time model: the embedded clock's waits, the latencies it adds, and a run's estimate."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from emulator import aws_time
from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.limits import LambdaRateLimits

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def test_every_tuner_function_has_a_measured_cold_start_and_every_latency_a_source():
    # Given the handlers in functions/
    handlers = {path.parent.name for path in FUNCTIONS_DIR.glob("*/app.py")}
    # Then each has its measured imports in the model, and nothing else is listed
    assert set(aws_time.FUNCTION_INIT_MS) == handlers
    assert all(100 < ms < 2000 for ms in aws_time.FUNCTION_INIT_MS.values())
    # And every latency says where its figure comes from
    for latency in aws_time.LATENCIES.values():
        assert latency.seconds > 0
        assert len(latency.source) > 40
    # And a function without a measurement is named, not guessed
    with pytest.raises(KeyError, match="functions/new_step"):
        aws_time.function_init_seconds("new_step")


def test_the_clock_sleeps_scaled_counts_full_length_and_is_the_limits_clock():
    # Given the embedded clock at a scale of 0.001
    clock = aws_time.EmbeddedClock(0.001)
    # When a retry waits 2 s and a worker paces 0.5 s
    before = clock.now()
    clock.sleep(2.0, "retry")
    clock.sleep(0.5, "pacing")
    # Then both are counted at full length and AWS time advanced by at least that much
    assert dict(clock.waits) == {"retry": 2.0, "pacing": 0.5}
    assert clock.now() - before >= 2.5
    # And the rate limits read the same clock
    limits = LambdaRateLimits(time_scale=0.001)
    assert abs(limits.now() - clock.now()) < 1.0  # 1 AWS second = 1 ms of wall time here


def invocation(function: str, *, cold: bool, duration_ms: float, init_ms: float = 0.0, request_ms: float = 0.0):
    return SimpleNamespace(
        function=function, cold=cold, duration_ms=duration_ms, init_ms=init_ms, request_ms=request_ms
    )


def test_the_estimate_replaces_emulator_time_with_each_documented_latency():
    # Given a run with 10 s of retry waits, 4 transitions, one cold and one warm invocation of
    # CheckCircuit (the cold one 500 ms long, 300 ms of it importing, 100 ms inside AWS requests;
    # the warm one 50 ms, 20 ms in requests), and 5 AWS requests
    history = [{"type": "ExecutionStarted"}] + [{"type": "TaskStateEntered"}] * 3 + [{"type": "ChoiceStateEntered"}]
    estimate = aws_time.estimate_run(
        waits={"retry": 10.0},
        history=history,
        invocations=[
            invocation("Check", cold=True, duration_ms=500.0, init_ms=300.0, request_ms=100.0),
            invocation("Check", cold=False, duration_ms=50.0, request_ms=20.0),
        ],
        api_requests=5,
        code_dirs={"Check": "check_circuit"},
    )
    # Then the handlers' own compute stays, and each latency is the model's figure times its count
    cold_start = aws_time.RUNTIME_INIT.seconds + aws_time.FUNCTION_INIT_MS["check_circuit"] / 1000
    assert estimate.parts == pytest.approx(
        {
            "compute": 0.1 + 0.03,
            "waits": 10.0,
            "stateTransitions": 4 * aws_time.STATE_TRANSITION.seconds,
            "invokes": 2 * aws_time.WARM_INVOKE.seconds,
            "coldStarts": cold_start,
            "apiRequests": 5 * aws_time.API_REQUEST.seconds,
        }
    )
    assert estimate.seconds == pytest.approx(sum(estimate.parts.values()))


def test_a_run_report_carries_its_aws_estimate_beside_its_in_process_seconds():
    # Given a run that fails at once on a target that does not exist
    account = SimulatedAccount(functions=[SimulatedFunction(name="orders-api", memory_size=512)])
    with EmbeddedAws(account) as aws:
        report = aws.run({"targets": ["ghost"], "memorySize": 1024, "apply": True})
        cold_starts = sum(1 for log in aws.runtime.logs if log.cold)
        in_requests = sum(log.request_ms for log in aws.runtime.logs)
    document = report.as_json()
    # Then the report shows both figures, and the estimate holds every cold start and transition
    assert report.status == "FAILED"
    assert document["awsSeconds"] == pytest.approx(report.aws_time.seconds, abs=0.001)
    assert cold_starts >= 2
    floor = report.state_transitions * aws_time.STATE_TRANSITION.seconds + cold_starts * aws_time.RUNTIME_INIT.seconds
    assert report.aws_time.parts["coldStarts"] > cold_starts * aws_time.RUNTIME_INIT.seconds
    assert document["awsSeconds"] > floor
    # And the emulator's own time inside the functions' requests was measured, to be replaced by the model
    assert in_requests > 0
