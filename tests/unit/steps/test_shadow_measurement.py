"""A live target measured on its shadow copy: PrepareMeasurement makes it, MeasureConfigurations invokes only it,
CleanupMeasurement deletes it with its code copy. The deployment allows shadows (ShadowRoleArns)."""

from __future__ import annotations

import pytest

from autotuner_core.settings import Settings
from autotuner_core.steps import measure_configuration, prepare_measurement

from .conftest import BUCKET, MEASURED, ROLE_ARN, entry, planned, tuner_settings


@pytest.fixture
def settings(make_settings) -> Settings:
    return tuner_settings(make_settings, SHADOW_ROLE_ARNS=ROLE_ARN)


@pytest.fixture
def live(aws, target: str) -> str:
    """The target, with a function URL: production reaches its $LATEST."""
    aws("lambda").create_function_url_config(FunctionName=target, AuthType="AWS_IAM")
    return target


def _functions(aws) -> list[str]:
    return sorted(item["FunctionName"] for item in aws("lambda").list_functions()["Functions"])


def _objects(aws) -> list[str]:
    return [item["Key"] for item in aws("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_live_target_is_measured_on_its_shadow_and_never_itself(run_step, aws, lambda_service, live) -> None:
    # Given a live target's first round
    task = planned(run_step, entry(live, **MEASURED))
    assert task["target"]["liveTraffic"]["measuredOn"] == "shadow"
    # When PrepareMeasurement and MeasureConfigurations run
    prepared = run_step(prepare_measurement.run, task)
    run_step(measure_configuration.run, prepared)
    # Then the candidates are a copy's, which exists beside the target, its code kept in the sweep bucket
    [shadow] = {candidate["functionArn"] for candidate in prepared["candidates"]}
    name = shadow.rsplit(":", 1)[-1]
    assert _functions(aws) == sorted(["orders", name])
    assert _objects(aws) == [f"shadow-code/{name}.zip"]
    # And every invocation ran on the copy; the target has no version or alias of this run
    assert {call.function_name for call in lambda_service.simulator.invocations} == {name}
    lam = aws("lambda")
    assert lam.list_aliases(FunctionName=live)["Aliases"] == []
    assert [item["Version"] for item in lam.list_versions_by_function(FunctionName=live)["Versions"]] == ["$LATEST"]


def test_clean_up_deletes_the_shadow_and_its_code(run_step, deployed, aws, live) -> None:
    # Given a live target measured on its shadow copy
    task = run_step(
        measure_configuration.run, run_step(prepare_measurement.run, planned(run_step, entry(live, **MEASURED)))
    )
    # When the deployed CleanupMeasurement runs
    report = deployed("cleanup_measurement", task)
    # Then the copy and its code are gone, and the target is as it was
    assert report["shadowDeleted"] is True
    assert _functions(aws) == ["orders"]
    assert _objects(aws) == []
    assert aws("lambda").get_function(FunctionName=live)["Configuration"]["MemorySize"] == 1024
