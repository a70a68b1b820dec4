"""One target's document through its Map iteration, state by state: each state's output is the next one's input.

    TargetEntry --CheckCircuit--> AdmittedTarget --DiscoverResources--> TargetTask
    TargetTask --PlanMeasurements--> MeasuringTask --PrepareMeasurement--> PreparedRound
    PreparedRound --MeasureConfigurations--> MeasuringTask (again, until its plan is empty)
    MeasuringTask --CleanupMeasurement (at $.cleanup)--> MeasuredTask --ChooseConfiguration--> ChosenTask
    TargetTask (a fixed memorySize) or ChosenTask --UpdateConfiguration--> UpdatedTask or UpdatedChoice

A field that only exists after a state is required in that state's output; each state's output
is built by a method of its input (``entry.admitted(admission)``), so a misnamed field is a type error.
The step's middleware (steps/handler.py) then records its time in ``timings`` and its cost in ``spend``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict

from autotuner_core.documents.base import Document, Outcome, parse_event
from autotuner_core.documents.cost import StageTimings, TuningSpend
from autotuner_core.documents.drift import DeployRevert
from autotuner_core.documents.request import TargetRef, TuningRequest
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


class Admission(StrEnum):
    NORMAL = "NORMAL"  # circuit closed: tune as usual
    PROBE = "PROBE"  # circuit half-open and this execution is the one probe


class TargetEntry(Document):
    """One Map iteration's input (the Map's ItemSelector): a target as pre-flight resolved it."""

    execution: ExecutionRef
    request: TuningRequest
    ref: TargetRef
    timings: StageTimings

    def admitted(self, admission: Admission) -> AdmittedTarget:
        return AdmittedTarget(
            execution=self.execution, request=self.request, ref=self.ref, timings=self.timings, admission=admission
        )


class AdmittedTarget(TargetEntry):
    """CheckCircuit's output: the breaker let the target through, and this execution holds its lease."""

    admission: Admission

    def discovered(self, target: DiscoveredTarget) -> TargetTask:
        """The target as discovery found it; its tuning has spent nothing yet."""
        return TargetTask(
            execution=self.execution,
            request=self.request,
            target=target,
            admission=self.admission,
            timings=self.timings,
            spend=TuningSpend(),
        )


class _Carried(TypedDict):
    """What every state after discovery passes on unchanged."""

    execution: ExecutionRef
    request: TuningRequest
    target: DiscoveredTarget
    admission: Admission


class TargetTask(Document):
    """DiscoverResources' output: PlanMeasurements' input, or UpdateConfiguration's for a fixed memorySize."""

    execution: ExecutionRef
    request: TuningRequest
    target: DiscoveredTarget
    timings: StageTimings
    admission: Admission
    spend: TuningSpend  # what tuning this target has spent so far

    def _carried(self) -> _Carried:
        return _Carried(execution=self.execution, request=self.request, target=self.target, admission=self.admission)

    def measuring(self, *, started_ms: float) -> MeasuringTask:
        """Measuring begins at ``started_ms`` (epoch milliseconds): nothing observed, nothing planned yet."""
        return MeasuringTask(
            **self._carried(),
            timings=self.timings,
            spend=self.spend,
            measurement_started_ms=started_ms,
            observations=[],
        )

    def desired_memory(self) -> int | None:
        """The size to apply: the input's memorySize (a measured task has its winner instead)."""
        return self.request.memory_size

    def updated(
        self, outcome: Outcome, after: FunctionConfiguration, alias: str | None, drift: DeployRevert | None = None
    ) -> UpdatedTask:
        return UpdatedTask(
            **self._carried(),
            timings=self.timings,
            spend=self.spend,
            outcome=outcome,
            before=self.target.configuration,
            after=after,
            alias=alias,
            drift=drift,
        )


class MeasuredItem(Document):
    """What measuring one size of a round gave: the size's observation and what measuring it spent."""

    observation: SizeObservation
    spend: TuningSpend


class RoundItem(Document):
    """One size of one measuring round: the prepared candidate and how many invocations it gets."""

    candidate: Candidate
    invocations: int


class MeasuringTask(TargetTask):
    """The measuring loop's document (PlanMeasurements' and MeasureConfigurations' output): everything
    observed so far and the planner's next round; without a plan, measuring is done (CleanupMeasurement)."""

    measurement_started_ms: float
    observations: list[SizeObservation]
    plan: list[SizeRequest] | None = None
    # Every size prepared so far, all rounds; none before PrepareMeasurement prepared the first round.
    candidates: list[Candidate] | None = None
    # Sizes first planned after the first round (the decision's "refined" sizes); none until there are some.
    refined_sizes: list[int] | None = None

    def planned(
        self,
        observations: list[SizeObservation],
        plan: list[SizeRequest] | None,
        spend: TuningSpend,
        *,
        refined_sizes: list[int] | None,
    ) -> MeasuringTask:
        """The loop's document after a round: the round's observations pooled in, and the next round planned."""
        return MeasuringTask(
            **self._carried(),
            timings=self.timings,
            spend=spend,
            measurement_started_ms=self.measurement_started_ms,
            observations=observations,
            plan=plan,
            candidates=self.candidates,
            refined_sizes=refined_sizes,
        )

    def prepared(self, candidates: list[Candidate], round_items: list[RoundItem]) -> PreparedRound:
        """The planned round, ready: every size has its version and aliases (``candidates``, all rounds)."""
        return PreparedRound(
            **self._carried(),
            timings=self.timings,
            spend=self.spend,
            measurement_started_ms=self.measurement_started_ms,
            observations=self.observations,
            plan=self.plan,
            candidates=candidates,
            refined_sizes=self.refined_sizes,
            round=round_items,
        )


class PreparedRound(MeasuringTask):
    """PrepareMeasurement's output, MeasureConfigurations' input: the round's candidates and invocations."""

    plan: list[SizeRequest]
    candidates: list[Candidate]
    round: list[RoundItem]


class CleanupReport(Document):
    """What CleanupMeasurement removed and restored (measurement.clean_up)."""

    aliases_deleted: int = 0
    versions_deleted: int = 0
    restored: bool = False
    shadow_deleted: bool | None = None  # a live target's shadow copy: deleted (None: there was none to look for)
    note: str | None = None
    spend: TuningSpend | None = None  # this clean-up's own cost; ChooseConfiguration adds it to the target's


class Cleanup(Document):
    """What the clean-up states' ResultSelector puts at ``$.cleanup``."""

    report: CleanupReport


class MeasuredTask(MeasuringTask):
    """CleanupMeasurement's output (its report at ``$.cleanup``), ChooseConfiguration's input."""

    cleanup: Cleanup

    def chosen(
        self,
        configurations: list[ConfigurationStats],
        recommendation: Recommendation,
        refined_sizes: list[int],
        *,
        measurement_ms: float,
        spend: TuningSpend,
    ) -> ChosenTask:
        """The decision: the raw samples have served their purpose and stay behind (state size)."""
        return ChosenTask(
            **self._carried(),
            timings=self.timings.measured(measurement_ms),
            spend=spend,
            measurement_started_ms=self.measurement_started_ms,
            candidates=self.candidates,
            cleanup=self.cleanup,
            configurations=configurations,
            refined_sizes=refined_sizes or None,
            recommendation=recommendation,
        )


class ChosenTask(TargetTask):
    """ChooseConfiguration's output, UpdateConfiguration's input: the statistics and the recommendation."""

    measurement_started_ms: float
    candidates: list[Candidate] | None = None
    cleanup: Cleanup
    configurations: list[ConfigurationStats]  # everything measured
    refined_sizes: list[int] | None = None  # sizes measured after the first round; none when there were none
    recommendation: Recommendation

    def desired_memory(self) -> int | None:
        if self.request.memory_size is not None:
            return self.request.memory_size
        return self.recommendation.memory_size

    def updated(
        self, outcome: Outcome, after: FunctionConfiguration, alias: str | None, drift: DeployRevert | None = None
    ) -> UpdatedChoice:
        return UpdatedChoice(
            **self._carried(),
            timings=self.timings,
            spend=self.spend,
            measurement_started_ms=self.measurement_started_ms,
            candidates=self.candidates,
            cleanup=self.cleanup,
            configurations=self.configurations,
            refined_sizes=self.refined_sizes,
            recommendation=self.recommendation,
            outcome=outcome,
            before=self.target.configuration,
            after=after,
            alias=alias,
            drift=drift,
        )


class _Update(Document):
    outcome: Outcome
    before: FunctionConfiguration
    after: FunctionConfiguration
    alias: str | None = None  # the alias now pointing at a version with the new configuration
    drift: DeployRevert | None = None  # a deploy put a tuned size back (targets/drift.py)


class UpdatedTask(TargetTask, _Update):
    """UpdateConfiguration's output for a fixed memorySize: RecordTargetResult's input."""


class UpdatedChoice(ChosenTask, UpdatedTask):
    """UpdateConfiguration's output for a measured target: RecordTargetResult's input."""


def parse_update_input(event: Any) -> TargetTask:
    """UpdateConfiguration's input: discovery's document for a fixed memorySize (the ASL's Plan choice), else
    ChooseConfiguration's."""
    request = event.get("request") if isinstance(event, dict) else None
    fixed = isinstance(request, dict) and "memorySize" in request
    return parse_event(TargetTask, event) if fixed else parse_event(ChosenTask, event)
