"""The tuning's own cost: transitions of the measuring loop, target and tuner GB-seconds, calls, dollars."""

from __future__ import annotations

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from autotuner_core.cost import run_cost
from autotuner_core.cost.prices import REQUEST_PRICE_USD, STEP_FUNCTIONS_TRANSITION_USD, lambda_prices
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.outcome import TargetOutcome
from autotuner_core.documents.request import TuningRequest
from autotuner_core.documents.target import ConfigurationStats

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def measured(memory: int, *, billed_total_ms: float, n: int = 10) -> ConfigurationStats:
    return ConfigurationStats(
        memory_size=memory, invocations=n, mean_ms=10.0, cost_per_invocation_usd=1e-6, billed_total_ms=billed_total_ms
    )


def test_the_count_follows_the_measuring_loop_and_adds_the_tuners_own_lambda_time() -> None:
    # Given one target measured in two rounds (3 sizes, then 1), with what its steps spent
    spend = TuningSpend(rounds=2, round_items=4, tuner_invocations=9, tuner_gb_seconds=3.0, control_plane_calls=40)
    outcome = TargetOutcome(
        target=TARGET,
        outcome="RECOMMENDED",
        configurations=[measured(m, billed_total_ms=1000.0) for m in (256, 512, 1024, 768)],
        spend=spend,
    )

    # When the run's cost is counted
    cost = run_cost.counted([outcome])

    # Then transitions are the run's 5, the target's 9 and 3 per round, however many sizes a round
    # measures (one Task measures them all and plans the next round)
    assert cost.state_transitions == 5 + 9 + 3 * 2
    # And target GB-seconds are each size's billed time at its memory: (256+512+1024+768)/1024 GB x 1 s
    assert cost.target_gb_seconds == pytest.approx(2560 / 1024)
    # And the tuner's invocations add pre-flight, summary, circuit check and record to what the steps counted
    assert cost.tuner_invocations == 9 + 2 + 2
    assert cost.tuner_gb_seconds == 3.0 and cost.control_plane_calls == 40
    tuner_usd = 3.0 * lambda_prices("us-east-1", "arm64").gb_second_usd + 13 * REQUEST_PRICE_USD
    assert cost.tuner_lambda_usd == pytest.approx(tuner_usd)
    assert cost.total_usd == pytest.approx(cost.state_transitions * STEP_FUNCTIONS_TRANSITION_USD + 40e-6 + tuner_usd)


def test_the_estimate_bounds_the_engines_longest_run() -> None:
    # Given the default request (budget 3 x 10 invocations), and the most a run can count: one
    # round per invocation up to the round limit, every invocation its own round item
    from autotuner_core.decision import engine

    request = TuningRequest.model_validate({"targets": [TARGET]})
    spend = TuningSpend(rounds=min(engine.MAX_ROUNDS, 30), round_items=30)
    outcome = TargetOutcome(
        target=TARGET, outcome="APPLIED", configurations=[measured(128, billed_total_ms=1.0)] * 7, spend=spend
    )

    # Then the pre-run estimate (budget.py, which replaced run_cost.estimate) is not below the
    # count, and its invocations are the engine's budget
    from autotuner_core.cost import budget
    from autotuner_core.documents.request import TargetRef
    from autotuner_core.documents.target import FunctionConfiguration
    from autotuner_core.settings import Settings

    ref = TargetRef(given="orders", name="orders", arn=TARGET)
    configuration = FunctionConfiguration(memory_size=128, timeout=3)
    per_target = budget.estimate_target(request, ref, configuration, None, Settings(), shadows=False)
    estimate = budget.estimate_run(request, [per_target], 1)
    assert estimate.state_transitions >= run_cost.counted([outcome]).state_transitions
    assert estimate.target_invocations == 30


def test_a_step_is_billed_for_the_target_time_it_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 512 MB tuner function that was busy 0.2 s while its targets ran 3 s in all
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")

    # When the step is charged
    spend = run_cost.charge(TuningSpend(), busy_s=0.2, waited_ms=3000.0, calls=2)

    # Then it is billed the 3 s it waited, at 0.5 GB
    assert (spend.tuner_invocations, spend.tuner_gb_seconds, spend.control_plane_calls) == (1, 1.5, 2)


def _answer_locally(**_: object) -> AWSResponse:
    # before-send: botocore takes this as the HTTP response, so nothing leaves the machine.
    return AWSResponse("https://lambda.us-east-1.amazonaws.com", 200, {}, _Body())


class _Body:
    def stream(self, **_: object):
        yield b"{}"


def test_control_plane_calls_are_counted_and_invocations_are_not() -> None:
    # Given a Lambda client counted from now, answered locally
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    client.meta.events.register("before-send.lambda", _answer_locally)
    run_cost.count_control_plane_calls(client)

    # When it makes two control-plane calls and one Invoke
    client.get_function(FunctionName="orders")
    client.update_function_configuration(FunctionName="orders", MemorySize=256)
    client.invoke(FunctionName="orders")

    # Then two are counted, and counting again starts from zero
    assert run_cost.control_plane_calls() == 2
    run_cost.count_control_plane_calls(client)
    assert run_cost.control_plane_calls() == 0


def test_measured_invocations_are_priced_at_every_billed_duration_not_the_trimmed_mean() -> None:
    # Given a size measured 10 times at 1,024 MB arm64: 9 invocations of 100 ms and one cold start of 2 s
    from autotuner_core.decision.analysis import configuration_stats
    from autotuner_core.documents.target import InvocationSample

    prices = lambda_prices("eu-west-1", "arm64")
    samples = [
        InvocationSample(duration_ms=b, billed_duration_ms=b, memory_size_mb=1024, max_memory_used_mb=100)
        for b in [100.0] * 9 + [2000.0]
    ]
    stats = configuration_stats(1024, samples, prices=prices, discard_top_bottom=0.2)
    outcome = TargetOutcome(target=TARGET, outcome="RECOMMENDED", configurations=[stats], spend=TuningSpend())
    # When the target's cost is counted
    cost = run_cost.of_target(outcome)
    # Then its invocations cost what Lambda bills: 2.9 s at 1 GB at the function's price, and 10 requests
    assert cost.target_invocations_usd == pytest.approx(2.9 * prices.gb_second_usd + 10 * prices.request_usd)
    # (the trimmed mean, which drops the cold start, would have priced 1 s)
    assert stats.cost_per_invocation_usd * 10 < cost.target_invocations_usd
