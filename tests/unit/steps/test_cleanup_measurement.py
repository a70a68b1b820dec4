"""CleanupMeasurement's handler: what a run created is gone afterwards, and $LATEST is as it was found."""

from __future__ import annotations

from autotuner_core.steps import cleanup_measurement, prepare_measurement

from .conftest import MEASURED, discovered, entry, execution, failed, measured, planned


def _left_over(aws, function_arn: str) -> tuple[list[str], list[str]]:
    lam = aws("lambda")
    aliases = sorted(alias["Name"] for alias in lam.list_aliases(FunctionName=function_arn)["Aliases"])
    versions = [item["Version"] for item in lam.list_versions_by_function(FunctionName=function_arn)["Versions"]]
    return aliases, versions


def test_after_measuring_the_run_s_aliases_and_versions_are_deleted(run_step, deployed, aws, target) -> None:
    # Given a target measured at 512 and 1024 MB: two aliases on two versions
    task = measured(run_step, entry(target, **MEASURED))
    assert _left_over(aws, target) == (sorted(c["aliases"][0] for c in task["candidates"]), ["$LATEST", "1", "2"])
    # When the deployed CleanupMeasurement runs
    report = deployed("cleanup_measurement", task)
    # Then its report says what it deleted, and Lambda holds only $LATEST, at 1024 MB
    assert (report["aliasesDeleted"], report["versionsDeleted"]) == (2, 2)
    assert _left_over(aws, target) == ([], ["$LATEST"])
    assert aws("lambda").get_function(FunctionName=target)["Configuration"]["MemorySize"] == 1024
    # And its own invocation is in the report's spend (ChooseConfiguration adds it to the target's)
    assert report["spend"]["tunerInvocations"] == 1
    assert report["spend"]["controlPlaneCalls"] >= 4


def test_cleaning_up_twice_deletes_nothing_the_second_time(run_step, aws, target) -> None:
    # Given a measured target already cleaned up (the failure path may run after a clean-up that itself failed late)
    task = measured(run_step, entry(target, **MEASURED))
    run_step(cleanup_measurement.run, task)
    # When CleanupMeasurement runs again, then it succeeds with nothing to delete
    again = run_step(cleanup_measurement.run, task)
    assert (again["aliasesDeleted"], again["versionsDeleted"], again["restored"]) == (0, 0, False)
    assert _left_over(aws, target) == ([], ["$LATEST"])


def test_latest_left_at_a_candidate_size_by_a_crash_is_restored(run_step, aws, target) -> None:
    # Given a prepared round, then $LATEST left at 512 MB with this run's marker, as a crash mid-preparation leaves it
    task = run_step(prepare_measurement.run, planned(run_step, entry(target, **MEASURED)))
    lam = aws("lambda")
    marker = lam.list_versions_by_function(FunctionName=target)["Versions"][-1]["Description"]  # this run's
    lam.update_function_configuration(FunctionName=target, MemorySize=512, Description=f"{marker} 512 MB")
    # When CleanupMeasurement runs on the failure path
    report = run_step(cleanup_measurement.run, failed(task, "States.Timeout", "PrepareMeasurement timed out"))
    # Then $LATEST has its own memory and description again
    assert report["restored"] is True
    latest = lam.get_function(FunctionName=target)["Configuration"]
    assert (latest["MemorySize"], latest["Description"]) == (1024, "")


def test_a_failed_apply_is_undone(run_step, aws, target) -> None:
    # Given a run applying a fixed 512 MB whose UpdateConfiguration failed after Lambda accepted the update
    task = discovered(run_step, entry(target, apply=True, memorySize=512))
    aws("lambda").update_function_configuration(FunctionName=target, MemorySize=512)
    # When CleanupMeasurement runs on the failure path
    report = run_step(cleanup_measurement.run, failed(task, "States.Timeout", "UpdateConfiguration timed out"))
    # Then the function is back at the 1024 MB it was found at
    assert report["restored"] is True
    assert aws("lambda").get_function(FunctionName=target)["Configuration"]["MemorySize"] == 1024


def test_a_size_someone_else_set_meanwhile_stands(run_step, aws, target) -> None:
    # Given a measured target that someone else then sets to 2048 MB
    task = measured(run_step, entry(target, **MEASURED))
    aws("lambda").update_function_configuration(FunctionName=target, MemorySize=2048)
    # When CleanupMeasurement runs
    report = run_step(cleanup_measurement.run, task)
    # Then its own aliases and versions are gone, their size stands, and the report says so
    assert (report["aliasesDeleted"], report["versionsDeleted"], report["restored"]) == (2, 2, False)
    assert "2048 MB" in report["note"]
    assert aws("lambda").get_function(FunctionName=target)["Configuration"]["MemorySize"] == 2048


def test_a_failure_before_discovery_has_nothing_to_clean(run_step) -> None:
    # Given the failure path of a target whose discovery failed: no target in the document
    event = failed(
        {"execution": execution(), "ref": {"given": "gone", "arn": "x", "name": "gone"}, "timings": {}},
        "FunctionNotFoundError",
        "gone does not exist",
    )
    # When CleanupMeasurement runs, then it touches nothing and says why
    assert run_step(cleanup_measurement.run, event) == {
        "aliasesDeleted": 0,
        "versionsDeleted": 0,
        "restored": False,
        "note": "no target to clean",
    }
