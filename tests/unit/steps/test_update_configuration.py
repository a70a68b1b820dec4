"""UpdateConfiguration's handler: the recommendation applied to the function (or only reported), and verified."""

from __future__ import annotations

import pytest

from autotuner_core.policy.errors import InvalidConfigurationError, TargetChangedError, UpdateInProgressError
from autotuner_core.steps import update_configuration

from .conftest import ACCOUNT, MEASURED, REGION, chosen, discovered, entry


def _memory(aws, function_arn: str, qualifier: str = "$LATEST") -> int:
    configuration = aws("lambda").get_function(FunctionName=function_arn, Qualifier=qualifier)["Configuration"]
    return int(configuration["MemorySize"])


def test_a_dry_run_reports_the_recommendation_and_changes_nothing(run_step, deployed, aws, target) -> None:
    # Given a dry run's recommendation of 512 MB for a function at 1024 MB
    task = chosen(run_step, entry(target, **MEASURED))
    assert task["recommendation"]["memorySize"] == 512
    # When the deployed UpdateConfiguration runs
    result = deployed("update_configuration", task)
    # Then it reports the size it would set, and the function keeps its 1024 MB
    assert result["outcome"] == "RECOMMENDED"
    assert (result["before"]["MemorySize"], result["after"]["MemorySize"]) == (1024, 512)
    assert _memory(aws, target) == 1024
    assert result["timings"]["updateConfigurationMs"] >= 0


def test_applying_sets_the_recommended_memory_and_verifies_it(run_step, deployed, aws, target) -> None:
    # Given a recommendation of 512 MB in a run that applies it
    task = chosen(run_step, entry(target, **MEASURED, apply=True))
    # When the deployed UpdateConfiguration runs
    result = deployed("update_configuration", task)
    # Then the function has 512 MB, and the output says so from Lambda's answer
    assert result["outcome"] == "APPLIED"
    assert _memory(aws, target) == 512
    assert (result["before"]["MemorySize"], result["after"]["MemorySize"]) == (1024, 512)
    # And the new revision is the one Lambda now reports
    live = aws("lambda").get_function(FunctionName=target)["Configuration"]
    assert result["after"]["RevisionId"] == live["RevisionId"] != result["before"]["RevisionId"]


def test_a_retry_after_the_update_replays_its_result_without_a_second_update(run_step, aws, target) -> None:
    # Given a fixed size applied once
    task = discovered(run_step, entry(target, memorySize=512, apply=True))
    first = run_step(update_configuration.run, task)
    revision = aws("lambda").get_function(FunctionName=target)["Configuration"]["RevisionId"]
    # When the state machine retries the same task (its answer was lost)
    again = run_step(update_configuration.run, task)
    # Then the retry reports the same change, and Lambda was not updated again
    assert again["outcome"] == first["outcome"] == "APPLIED"
    assert aws("lambda").get_function(FunctionName=target)["Configuration"]["RevisionId"] == revision


def test_applying_with_an_alias_points_it_at_a_version_of_the_new_size(run_step, aws, target) -> None:
    # Given a fixed size to apply behind the alias "live"
    task = discovered(run_step, entry(target, memorySize=512, apply=True, alias="live"))
    # When UpdateConfiguration runs
    result = run_step(update_configuration.run, task)
    # Then the alias exists and serves a published version with 512 MB
    assert result["alias"] == "live"
    alias = aws("lambda").get_alias(FunctionName=target, Name="live")
    assert alias["FunctionVersion"] != "$LATEST"
    assert _memory(aws, target, alias["FunctionVersion"]) == 512


def test_a_function_someone_else_resized_since_discovery_is_left_alone(run_step, aws, target) -> None:
    # Given a run applying 512 MB, and someone who sets the function to 2048 MB after discovery
    task = discovered(run_step, entry(target, memorySize=512, apply=True))
    aws("lambda").update_function_configuration(FunctionName=target, MemorySize=2048)
    # When UpdateConfiguration runs, then it refuses to overwrite their change
    with pytest.raises(TargetChangedError, match="from 1024 MB to 2048 MB"):
        run_step(update_configuration.run, task)
    assert _memory(aws, target) == 2048


def test_a_size_lambda_refuses_is_an_invalid_configuration(run_step, aws, lambda_service, target) -> None:
    # Given a run applying 10,240 MB to a function in an account whose memory quota is 3,008 MB
    lambda_service.emulation.memory_quota_mb = 3008
    task = discovered(run_step, entry(target, memorySize=10_240, apply=True))
    # When UpdateConfiguration runs, then Lambda's refusal is the permanent configuration error
    with pytest.raises(InvalidConfigurationError):
        run_step(update_configuration.run, task)
    assert _memory(aws, target) == 1024


def test_an_update_someone_else_has_in_progress_is_transient(run_step, aws, lambda_service, target) -> None:
    # Given a run applying 512 MB, and another update of the function still in progress in Lambda
    task = discovered(run_step, entry(target, memorySize=512, apply=True))
    lambda_service.emulation.set_busy(ACCOUNT, REGION, "orders", seconds=60)
    # When UpdateConfiguration runs, then Lambda's conflict is the error the state machine retries later
    with pytest.raises(UpdateInProgressError):
        run_step(update_configuration.run, task)
    assert _memory(aws, target) == 1024
