"""ChooseConfiguration's handler: the recommendation from what was measured; no AWS call."""

from __future__ import annotations

import pytest

from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.steps import choose_configuration

from .conftest import MEASURED, cleaned, entry


def test_the_cheapest_size_is_recommended_with_the_statistics_of_every_size(run_step, deployed, aws, target) -> None:
    # Given a light function measured at 512 and 1024 MB (it runs at 1024), and cleaned up
    task = cleaned(run_step, entry(target, **MEASURED))
    # When the deployed ChooseConfiguration runs
    chosen = deployed("choose_configuration", task)
    # Then the cost strategy recommends 512 MB instead of 1024: twice as slow, but cheaper per invocation
    recommendation = chosen["recommendation"]
    assert (recommendation["strategy"], recommendation["memorySize"], recommendation["currentMemorySize"]) == (
        "cost",
        512,
        1024,
    )
    assert recommendation["costChangePct"] < 0 < recommendation["speedChangePct"]
    # And each size measured has its statistics, from as many invocations as were observed
    observed = {item["memorySize"]: len(item["durationsMs"]) for item in task["observations"]}
    assert {item["memorySize"]: item["invocations"] for item in chosen["configurations"]} == observed
    # And the raw samples are dropped (state size), the measurement's time kept
    assert "observations" not in chosen
    assert chosen["timings"]["measurementMs"] >= 0
    # And the clean-up's spend and this invocation's are added to the target's
    cleanup = task["cleanup"]["report"]["spend"]
    assert chosen["spend"]["tunerInvocations"] == task["spend"]["tunerInvocations"] + cleanup["tunerInvocations"] + 1
    assert chosen["spend"]["controlPlaneCalls"] == task["spend"]["controlPlaneCalls"] + cleanup["controlPlaneCalls"]


def test_the_speed_strategy_recommends_the_fastest_size(run_step, target) -> None:
    # Given the same measurement asked for with the speed strategy
    task = cleaned(run_step, entry(target, **MEASURED, strategy="speed"))
    # When ChooseConfiguration runs, then the function keeps its faster 1024 MB
    recommendation = run_step(choose_configuration.run, task)["recommendation"]
    assert (recommendation["strategy"], recommendation["memorySize"]) == ("speed", 1024)


def test_a_document_without_its_target_is_invalid_input(run_step, target) -> None:
    # Given a measured task that lost its target on the way
    task = cleaned(run_step, entry(target, **MEASURED))
    del task["target"]
    # Then it is refused as bad input, naming the field
    with pytest.raises(InvalidInputError, match="target"):
        run_step(choose_configuration.run, task)
