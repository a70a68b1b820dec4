"""What a run spends: the pre-run estimate, the counted cost, a target's tuning spend and the stage timings."""

from __future__ import annotations

from autotuner_core.documents.base import Document


class TargetEstimate(Document):
    """One target's share of the pre-run budget estimate (budget.py): upper bounds, and how they were bounded."""

    target: str
    target_invocations: int
    target_gb_seconds: float
    # What bounded the GB-seconds: "duration" (CloudWatch's recent Maximum Duration), "timeout" (no
    # recent Duration: every invocation at its timeout), "fixed" (a memorySize: nothing measured) or
    # "not-found" (discovery fails it before anything is measured).
    basis: str
    current_memory_size: int | None = None
    max_duration_ms: float | None = None
    versions_created: int
    shadows_created: int = 0
    control_plane_calls: int
    state_transitions: int
    tuner_invocations: int = 0
    tuner_gb_seconds: float = 0.0
    target_invocations_usd: float = 0.0
    tuner_lambda_usd: float = 0.0
    # The preProcessor's and postProcessor's invocations around the target's, their GB-seconds and dollars.
    processor_invocations: int = 0
    processor_gb_seconds: float = 0.0
    processor_usd: float = 0.0
    total_usd: float


class RunCost(Document):
    """What the run itself costs: transitions, the target's invocations and the tuner's own Lambda time."""

    state_transitions: int
    target_invocations: int
    step_functions_usd: float
    target_invocations_usd: float
    total_usd: float
    target_gb_seconds: float = 0.0
    tuner_invocations: int = 0  # the tuner's own Lambda invocations (one per Task state)
    tuner_gb_seconds: float = 0.0  # its functions wait synchronously for every target invocation
    tuner_lambda_usd: float = 0.0
    # Lambda API calls other than Invoke, and the live-traffic checks' CloudWatch reads, as the steps counted them
    control_plane_calls: int = 0
    processor_invocations: int = 0  # preProcessor and postProcessor invocations, in total_usd
    processor_gb_seconds: float = 0.0
    processor_usd: float = 0.0
    # The pre-run estimate only (budget.py): versions and shadow functions the run may create, and per target.
    versions_created: int | None = None
    shadows_created: int | None = None
    targets: list[TargetEstimate] | None = None


class TuningSpend(Document):
    """What one target's tuning has spent so far, added up by the measuring steps as they run."""

    rounds: int = 0  # measuring rounds run
    round_items: int = 0  # sizes measured, summed over rounds (one MeasureConfiguration each)
    tuner_invocations: int = 0
    tuner_gb_seconds: float = 0.0
    control_plane_calls: int = 0
    # The preProcessor's and postProcessor's invocations around the target's, and their billed GB-seconds.
    processor_invocations: int = 0
    processor_gb_seconds: float = 0.0
    # Why measuring stopped before the planner was done: the target's counted spend reached its share
    # of the run's limits (cost/share.py). None: the planner ended it.
    budget_stop: str | None = None

    def _with(self, **changes: object) -> TuningSpend:
        fields = {name: getattr(self, name) for name in TuningSpend.model_fields}
        fields.update(changes)
        return TuningSpend.model_validate(fields)

    def plus(self, *, tuner_invocations: int = 0, tuner_gb_seconds: float = 0.0, calls: int = 0) -> TuningSpend:
        """This spend with more of the tuner's own invocations, GB-seconds and control-plane calls."""
        return self._with(
            tuner_invocations=self.tuner_invocations + tuner_invocations,
            tuner_gb_seconds=self.tuner_gb_seconds + tuner_gb_seconds,
            control_plane_calls=self.control_plane_calls + calls,
        )

    def with_processors(self, invocations: int, gb_seconds: float) -> TuningSpend:
        """This spend with more processor invocations and their GB-seconds."""
        return self._with(
            processor_invocations=self.processor_invocations + invocations,
            processor_gb_seconds=self.processor_gb_seconds + gb_seconds,
        )

    def counting_round(self, items: int) -> TuningSpend:
        """This spend with one more measuring round of ``items`` sizes; none when nothing is planned."""
        return self._with(rounds=self.rounds + (1 if items else 0), round_items=self.round_items + items)

    def stopped(self, reason: str) -> TuningSpend:
        """This spend, its measuring stopped by the run budget for ``reason``."""
        return self._with(budget_stop=reason)


class StageTimings(Document):
    """Milliseconds each completed stage took; a missing stage did not complete."""

    validate_permissions_ms: float | None = None
    discover_resources_ms: float | None = None
    measurement_ms: float | None = None
    update_configuration_ms: float | None = None

    # Each stage's time is kept to a tenth of a millisecond.
    def validated(self, took_ms: float) -> StageTimings:
        return StageTimings(validate_permissions_ms=round(took_ms, 1))

    def discovered(self, took_ms: float) -> StageTimings:
        return StageTimings(
            validate_permissions_ms=self.validate_permissions_ms, discover_resources_ms=round(took_ms, 1)
        )

    def measured(self, took_ms: float) -> StageTimings:
        return StageTimings(
            validate_permissions_ms=self.validate_permissions_ms,
            discover_resources_ms=self.discover_resources_ms,
            measurement_ms=round(took_ms, 1),
        )

    def updated(self, took_ms: float) -> StageTimings:
        return StageTimings(
            validate_permissions_ms=self.validate_permissions_ms,
            discover_resources_ms=self.discover_resources_ms,
            measurement_ms=self.measurement_ms,
            update_configuration_ms=round(took_ms, 1),
        )
