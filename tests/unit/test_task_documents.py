"""A target's documents state by state: each state's output, through JSON, is the next state's input."""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.documents.base import Outcome, parse_event
from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.outcome import RECORDED, RecordEvent, Recording, parse_cleanup_input
from autotuner_core.documents.request import parse_request, parse_target
from autotuner_core.documents.target import (
    Candidate,
    ConfigurationStats,
    DiscoveredTarget,
    ExecutionRef,
    FunctionConfiguration,
    Recommendation,
    SizeObservation,
    SizeRequest,
)
from autotuner_core.documents.task import (
    Admission,
    Cleanup,
    CleanupReport,
    MeasuredTask,
    MeasuringTask,
    PreparedRound,
    RoundItem,
    TargetEntry,
    TargetTask,
    UpdatedChoice,
    UpdatedTask,
    parse_update_input,
)
from autotuner_core.policy.errors import InvalidInputError

EXECUTION = ExecutionRef(
    arn="arn:aws:states:eu-west-1:123456789012:execution:autotuner:run-7", start_time="2025-11-26T10:00:00Z"
)
REF = parse_target("orders", partition="aws", region="eu-west-1", account="123456789012")
TARGET = DiscoveredTarget(ref=REF, configuration=FunctionConfiguration(memory_size=512, timeout=30))


def handed_over(document: Any, model: type[Any]) -> Any:
    """``document`` as the next state receives it: JSON, parsed as that state's input model."""
    return parse_event(model, document.dump())


def entry(**request: Any) -> TargetEntry:
    return TargetEntry(
        execution=EXECUTION,
        request=parse_request({"targets": ["orders"], **request}),
        ref=REF,
        timings=StageTimings(validate_permissions_ms=10.0),
    )


def discovered(**request: Any) -> TargetTask:
    admitted = entry(**request).admitted(Admission.PROBE)
    task = handed_over(admitted, type(admitted)).discovered(TARGET)
    task.timings = task.timings.discovered(20.04)  # as the middleware records it
    return task


def test_a_measured_target_passes_each_document_on_to_the_next_state() -> None:
    # Given a target discovered for measuring
    task = handed_over(discovered(), TargetTask)
    assert task.admission is Admission.PROBE and task.timings.discover_resources_ms == 20.0

    # When it goes through one round of the measuring loop
    planned = task.measuring(started_ms=1_000.0).planned(
        [], [SizeRequest(memory_size=1024, invocations=5)], task.spend.counting_round(1), refined_sizes=None
    )
    planned = handed_over(planned, MeasuringTask)
    candidate = Candidate(memory_size=1024, version="3", aliases=["autotuner-run-7-1024"])
    prepared = handed_over(
        planned.prepared([candidate], [RoundItem(candidate=candidate, invocations=5)]),
        PreparedRound,
    )
    observed = [SizeObservation(memory_size=1024, durations_ms=[5.0] * 5, billed_durations_ms=[5.0] * 5)]
    done = handed_over(prepared.planned(observed, None, prepared.spend, refined_sizes=None), MeasuringTask)
    cleaned = parse_event(MeasuredTask, done.dump() | {"cleanup": Cleanup(report=CleanupReport()).dump()})
    recommendation = Recommendation(
        strategy="cost",
        memory_size=1024,
        current_memory_size=512,
        mean_ms=5.0,
        cost_per_invocation_usd=1e-7,
        summary="s",
    )
    chosen = cleaned.chosen(
        [ConfigurationStats(memory_size=1024)], recommendation, [], measurement_ms=33.33, spend=cleaned.spend
    )
    update = parse_update_input(chosen.dump())
    after = TARGET.configuration.at_size(1024)
    result = handed_over(update.updated(Outcome.RECOMMENDED, after, None), UpdatedChoice)

    # Then each state's output was the next one's input, and a field exists from the state that sets it on
    assert "round" not in done.dump() and done.candidates == [candidate] and done.plan is None
    assert "observations" not in chosen.dump() and "refinedSizes" not in chosen.dump()
    assert type(update) is type(chosen) and update.desired_memory() == 1024
    assert (result.spend.rounds, result.spend.round_items) == (1, 1)
    assert result.timings == StageTimings(validate_permissions_ms=10.0, discover_resources_ms=20.0, measurement_ms=33.3)
    assert result.after.memory_size == 1024 and result.after.revision_id is None
    assert result.before == TARGET.configuration


def test_a_fixed_size_goes_from_discovery_to_the_update() -> None:
    # Given a target with a fixed memorySize, discovered
    task = discovered(memorySize=1024, apply=True)

    # When UpdateConfiguration reads it and applies the size
    update = parse_update_input(task.dump())
    result = update.updated(Outcome.APPLIED, TARGET.configuration.at_size(1024), "live")

    # Then it was discovery's document, and the update's output is RecordTargetResult's
    assert type(update) is TargetTask and update.desired_memory() == 1024
    assert type(handed_over(result, UpdatedTask)) is UpdatedTask
    assert handed_over(result, UpdatedTask).alias == "live"


def test_a_document_of_another_state_is_refused_naming_its_fields() -> None:
    # Given the measuring loop's document handed to UpdateConfiguration's measured branch
    measuring = discovered().measuring(started_ms=1.0)

    # When it is parsed, then it is bad input naming what ChooseConfiguration would have added
    with pytest.raises(InvalidInputError) as caught:
        parse_update_input(measuring.dump())
    assert set(caught.value.problems) >= {
        "observations: unknown field (got [])",
        "recommendation: required field is missing",
        "cleanup: required field is missing",
    }


def test_record_event_reads_every_recorded_document_with_an_error() -> None:
    # Given every state's document, each as a Catch hands it on with the error added
    task = discovered()
    measuring = task.measuring(started_ms=1.0)
    documents = [entry().dump(), entry().admitted(Admission.NORMAL).dump(), task.dump(), measuring.dump()]
    failed = {"error": {"Error": "ThrottledError", "Cause": "slow down"}}

    # When RecordResult parses each, then each is read with its fields and its error
    for document in documents:
        event = parse_event(RecordEvent, document | failed)
        assert event.execution == EXECUTION and event.error is not None
        assert event.model_dump(by_alias=True, exclude_none=True, mode="json", exclude={"error"}) == document

    # And its fields are exactly the recorded documents' fields, plus what a Catch adds
    fields = set().union(*(model.model_fields for model in RECORDED)) | {"error", "cleanup_error", "cleanup"}
    assert set(RecordEvent.model_fields) == fields


def test_record_event_declares_each_recorded_field_once_with_its_type_there_made_optional() -> None:
    # Given every field the recorded documents have beyond what every recording has, in their order
    recorded: dict[str, Any] = {}
    for model in RECORDED:
        for name, field in model.model_fields.items():
            if name not in Recording.model_fields:
                recorded.setdefault(name, set()).add(field.annotation | None)
    # Then RecordEvent declares exactly those, in that order, each with its type there (one in every document), or None
    declared = {name: field for name, field in RecordEvent.model_fields.items() if name not in Recording.model_fields}
    assert list(declared) == list(recorded)
    for name, field in declared.items():
        assert len(recorded[name]) == 1, f"{name} has several types in the recorded documents: declare their union"
        assert (field.annotation, field.default) == (recorded[name].pop(), None), name


def test_cleanup_reads_the_loop_s_document_or_a_failed_state_s_input() -> None:
    # Given the measuring loop's last document, and a failed discovery's input as its Catch hands it on
    measuring = discovered().measuring(started_ms=1.0).dump()
    failed = entry().dump() | {"error": {"Error": "FunctionNotFoundError", "Cause": "gone"}}

    # When CleanupMeasurement parses each, then the first is the loop's document, the second a recorded failure
    assert type(parse_cleanup_input(measuring)) is MeasuringTask
    assert type(parse_cleanup_input(failed)) is RecordEvent
    # And a document the loop never hands on without an error is bad input, not a recording
    with pytest.raises(InvalidInputError, match="invalid MeasuringTask document"):
        parse_cleanup_input(entry().dump())


def test_admission_is_one_of_the_breakers_answers() -> None:
    # Given CheckCircuit's output with an admission the breaker never gives
    document = entry().admitted(Admission.NORMAL).dump() | {"admission": "MAYBE"}

    # When DiscoverResources parses it, then it is refused
    with pytest.raises(InvalidInputError, match="admission"):
        parse_event(type(entry().admitted(Admission.NORMAL)), document)
