"""DiscoverResources' handler, against moto's Lambda."""

from __future__ import annotations

import pytest

from autotuner_core.policy.errors import FunctionNotFoundError, InvalidInputError
from autotuner_core.steps import discover_resources

from .conftest import admitted


def test_discovery_returns_the_target_s_configuration_and_starts_its_spend(run_step, target) -> None:
    # Given a function at 1024 MB
    # When DiscoverResources runs for it
    task = run_step(discover_resources.run, admitted(target, memorySize=512))
    # Then the task names it with its configuration as found
    assert task["target"]["ref"]["arn"] == target
    assert task["target"]["configuration"]["MemorySize"] == 1024
    # And its spend is this one invocation, with the control-plane calls it made, and its time is kept
    assert task["spend"]["tunerInvocations"] == 1
    assert task["spend"]["controlPlaneCalls"] >= 1
    assert task["spend"]["tunerGbSeconds"] > 0
    assert task["timings"]["discoverResourcesMs"] >= 0


def test_a_missing_function_is_its_own_error(run_step, aws, target) -> None:
    # Given a target that does not exist
    missing = target.replace(":orders", ":gone")
    # When DiscoverResources runs, then it fails with the error the state machine catches as permanent
    with pytest.raises(FunctionNotFoundError):
        run_step(discover_resources.run, admitted(missing, memorySize=512))


def test_a_malformed_document_is_invalid_input(run_step, target) -> None:
    # Given a document without its execution
    event = admitted(target, memorySize=512)
    del event["execution"]
    # Then the handler refuses it as bad input, naming the field
    with pytest.raises(InvalidInputError, match="execution"):
        run_step(discover_resources.run, event)
