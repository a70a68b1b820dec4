"""Function settings, read from the environment the template sets."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Every environment variable a tuner function reads; see template.yaml."""

    model_config = ConfigDict(frozen=True)

    stack_name: str = Field(default="lambda-autotuner", alias="TUNER_STACK_NAME")
    target_tag_key: str = Field(default="", alias="TARGET_TAG_KEY")
    target_tag_value: str = Field(default="", alias="TARGET_TAG_VALUE")
    status_poll_interval_ms: int = Field(default=1000, ge=10, alias="STATUS_POLL_INTERVAL_MS")
    max_status_wait_seconds: float = Field(default=60, gt=0, alias="MAX_STATUS_WAIT_SECONDS")
    discover_role_arn: str = Field(default="", alias="DISCOVER_ROLE_ARN")
    update_role_arn: str = Field(default="", alias="UPDATE_ROLE_ARN")
    record_role_arn: str = Field(default="", alias="RECORD_ROLE_ARN")
    prepare_role_arn: str = Field(default="", alias="PREPARE_ROLE_ARN")
    measure_role_arn: str = Field(default="", alias="MEASURE_ROLE_ARN")
    cleanup_role_arn: str = Field(default="", alias="CLEANUP_ROLE_ARN")
    run_history_table: str = Field(default="", alias="RUN_HISTORY_TABLE")
    run_history_table_arn: str = Field(default="", alias="RUN_HISTORY_TABLE_ARN")
    run_record_retention_days: int = Field(default=90, ge=1, alias="RUN_RECORD_RETENTION_DAYS")
    state_table: str = Field(default="", alias="STATE_TABLE")
    state_table_arn: str = Field(default="", alias="STATE_TABLE_ARN")
    guard_role_arn: str = Field(default="", alias="GUARD_ROLE_ARN")
    summarize_role_arn: str = Field(default="", alias="SUMMARIZE_ROLE_ARN")
    # Pre-flight's own role and the state machine's, with the functions the state machine invokes.
    validate_role_arn: str = Field(default="", alias="VALIDATE_ROLE_ARN")
    state_machine_role_arn: str = Field(default="", alias="STATE_MACHINE_ROLE_ARN")
    state_machine_task_arns: str = Field(default="", alias="STATE_MACHINE_TASK_ARNS")  # comma-separated
    circuit_failure_threshold: int = Field(default=3, ge=1, alias="CIRCUIT_FAILURE_THRESHOLD")
    circuit_cooldown_minutes: int = Field(default=3 * 1440, ge=0, alias="CIRCUIT_COOLDOWN_MINUTES")
    lease_minutes: int = Field(default=120, ge=1, alias="LEASE_MINUTES")
    # Deploys that put a tuned size back before re-applying it is held (targets/drift.py).
    deploy_revert_limit: int = Field(default=2, ge=1, alias="DEPLOY_REVERT_LIMIT")
    sweep_max_concurrency: int = Field(default=4, ge=1, le=40, alias="SWEEP_MAX_CONCURRENCY")
    sweep_max_targets: int = Field(default=10_000, ge=1, le=100_000, alias="SWEEP_MAX_TARGETS")
    sweep_bucket: str = Field(default="", alias="SWEEP_BUCKET")
    # The run report's presigned link (report_store.py; template parameter ReportLinkExpirySeconds).
    report_link_expiry_seconds: int = Field(default=3600, ge=60, le=43200, alias="REPORT_LINK_EXPIRY_SECONDS")
    # Execution roles a shadow copy of a live target may run with (iam:PassRole); empty: no shadows (shadow.py).
    shadow_role_arns: str = Field(default="", alias="SHADOW_ROLE_ARNS")
    # The tuner's share of the account's Lambda control-plane buckets (15/s shared; GetFunction
    # 100/s), split between the targets tuned side by side (pacing.py).
    control_plane_rate: float = Field(default=10.0, gt=0, le=15, alias="CONTROL_PLANE_REQUESTS_PER_SECOND")
    get_function_rate: float = Field(default=50.0, gt=0, le=100, alias="GET_FUNCTION_REQUESTS_PER_SECOND")
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")  # empty: no Tuning Completed events
    event_source: str = Field(default="lambda-autotuner", alias="EVENT_SOURCE")
    # Payloads (payloads.py): the buckets payloadS3 and autotuner:payload tags may name (template
    # parameter PayloadBuckets, comma-separated); empty refuses every S3 payload.
    payload_buckets: str = Field(default="", alias="PAYLOAD_BUCKETS")
    # The functions preProcessor / postProcessor may name (template parameter PayloadProcessorArns).
    payload_processor_arns: str = Field(default="", alias="PAYLOAD_PROCESSOR_ARNS")
    # The run budget (budget.py): a run whose pre-run estimate is over one of these is refused by
    # ValidatePermissions before anything is created. Template parameters MaxInvocationsPerRun,
    # MaxRunCostUsd, MaxVersionsPerTarget; the README says why each default.
    max_invocations_per_run: int = Field(default=10_000, ge=1, alias="MAX_INVOCATIONS_PER_RUN")
    max_run_cost_usd: float = Field(default=10.0, gt=0, allow_inf_nan=False, alias="MAX_RUN_COST_USD")
    max_versions_per_target: int = Field(default=200, ge=1, alias="MAX_VERSIONS_PER_TARGET")
    # Telemetry mode's Logs Insights scan cap per log group (template parameter TelemetryMaxScanBytes,
    # docs/telemetry.md). 0 is read here and refused before any query (telemetry/step.py).
    telemetry_max_scan_bytes: int = Field(default=10_000_000_000, ge=0, alias="TELEMETRY_MAX_SCAN_BYTES")

    @property
    def lease_seconds(self) -> int:
        return self.lease_minutes * 60

    @classmethod
    def from_env(cls) -> Settings:
        known = {field.alias for field in cls.model_fields.values()}
        return cls.model_validate({key: value for key, value in os.environ.items() if key in known})

    @property
    def task_function_arns(self) -> list[str]:
        """The tuner functions the state machine's Tasks invoke (besides pre-flight's own)."""
        return [arn.strip() for arn in self.state_machine_task_arns.split(",") if arn.strip()]

    @property
    def tag_scoped(self) -> bool:
        return bool(self.target_tag_key)

    def breaker_policy(self, request: Any = None) -> Any:
        """The breaker's policy: the template's parameters, overridden per execution."""
        from autotuner_core.policy.breaker import BreakerPolicy

        override = getattr(request, "circuit_breaker", None)
        return BreakerPolicy(
            failure_threshold=(override and override.failure_threshold) or self.circuit_failure_threshold,
            cooldown_seconds=(
                override.cooldown_seconds
                if override and override.cooldown_seconds is not None
                else self.circuit_cooldown_minutes * 60
            ),
            probe_seconds=self.lease_seconds,
        )


# Marks every function of a tuner stack (template Globals); the tuner never tunes those.
TUNER_STACK_TAG = "lambda-autotuner:stack"
