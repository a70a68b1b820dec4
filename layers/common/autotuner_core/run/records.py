"""Run records: exactly one DynamoDB item per target per execution, success or failure."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from autotuner_core.aws.arns import parse_arn_or_none
from autotuner_core.aws.calls import aws_call
from autotuner_core.cost import run_cost, savings
from autotuner_core.documents.base import Outcome, names_a_function
from autotuner_core.documents.outcome import RecordEvent, TargetOutcome
from autotuner_core.documents.request import parse_target
from autotuner_core.documents.target import DiscoveredTarget, ExecutionRef
from autotuner_core.policy.errors import (
    CircuitOpenError,
    ConditionFailedError,
    InvalidInputError,
    NoPayloadError,
    ThrottledError,
    TuningInProgressError,
    classify,
)
from autotuner_core.targets import iac

NO_TARGET = "(no target)"
# A target skipped for one of these was not tuned on purpose: recorded SKIPPED, not FAILED.
# NoPayloadError: a sweep's function without a payload of its own is skipped, not guessed at ({}).
SKIP_ERRORS = frozenset(e.__name__ for e in (CircuitOpenError, TuningInProgressError, NoPayloadError))
# Errors that say nothing about the target: they do not count against its circuit breaker.
NOT_COUNTED = SKIP_ERRORS | {InvalidInputError.__name__}
# CircuitOpenError's message ends with when the target will next be tried (breaker.py writes it).
_NEXT_TRY = re.compile(r"next try after (\S+)$")


def run_key(start_time: str, execution_name: str) -> str:
    """Sort key: runs of a target in start order; deterministic, so a retried write collides."""
    return f"{start_time}#{execution_name}"


def failed_stage(event: RecordEvent) -> str:
    """The first stage that did not complete is the one that failed.

    Stages leave their timing when they complete; measurement is skipped when the input
    names a fixed memory size.
    """
    timings = event.timings
    if timings.validate_permissions_ms is None:
        return "ValidatePermissions"
    if event.ref is not None and event.admission is None:
        return "CheckCircuit"
    if timings.discover_resources_ms is None:
        return "DiscoverResources"
    measuring = event.request is not None and event.request.memory_size is None and not event.request.from_telemetry
    if measuring and event.recommendation is None:
        return "MeasureConfigurations"
    if timings.update_configuration_ms is None:
        return "UpdateConfiguration"
    return "RecordResult"


def error_message(cause: str) -> str:
    """Lambda puts ``{"errorMessage": …, "errorType": …}`` in the Cause; other errors a plain string."""
    try:
        parsed = json.loads(cause)
    except (json.JSONDecodeError, TypeError):
        return cause
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return cause


def _record_targets(event: RecordEvent) -> list[tuple[str, DiscoveredTarget | None]]:
    if event.target is not None:
        return [(event.target.ref.arn, event.target)]
    if event.ref is not None:
        return [(event.ref.arn, None)]
    raw = event.input.get("targets") if isinstance(event.input, dict) else None
    if raw is None and isinstance(event.input, dict) and "lambdaARN" in event.input:
        raw = [event.input["lambdaARN"]]  # a Power Tuning input names its one function so
    # Only text shaped like a function reference keys a record: refused input may hold anything
    # (injection-looking text, a 3,000-character name over DynamoDB's 2,048-byte key limit).
    named = [item for item in raw if isinstance(item, str) and names_a_function(item)] if isinstance(raw, list) else []
    # Key records by ARN wherever the name allows it, so a target's history is one partition
    # whether its run failed in pre-flight or later. Input that failed validation may repeat a
    # name: one record per distinct target.
    keys = [_arn_if_possible(name, event.execution.arn) for name in named]
    return [(key, None) for key in dict.fromkeys(keys)] or [(NO_TARGET, None)]


def _arn_if_possible(name: str, execution_arn: str) -> str:
    partition, _, region, account, _ = parse_arn_or_none(execution_arn) or ("", "", "", "", "")
    if not (partition and region and account):
        return name
    try:
        return parse_target(name, partition=partition, region=region, account=account).arn
    except InvalidInputError:
        return name


def build_records(event: RecordEvent, *, now: datetime, retention_days: int) -> list[dict[str, Any]]:
    """The run records this event stands for, ready for DynamoDB (floats as Decimal)."""
    started = datetime.fromisoformat(event.execution.start_time.replace("Z", "+00:00"))
    elapsed_ms = max(0.0, (now - started).total_seconds() * 1000)
    base: dict[str, Any] = {
        "runKey": run_key(event.execution.start_time, event.execution.name),
        "executionArn": event.execution.arn,
        "executionStartedAt": event.execution.start_time,
        "recordedAt": now.isoformat(),
        "expiresAt": int((now + timedelta(days=retention_days)).timestamp()),
        "stageLatenciesMs": event.timings.dump(),
        "elapsedMs": round(elapsed_ms, 1),
    }
    if event.request is not None:
        # Payloads stay out of the record: they can be large and may hold data not meant for logs.
        base["requested"] = {
            key: value for key, value in event.request.dump().items() if key not in ("payload", "payloads")
        }
    if event.configurations:
        base["configurations"] = [item.dump() for item in event.configurations]
    if event.recommendation is not None:
        base["recommendation"] = event.recommendation.dump()
    if event.alias:
        base["alias"] = event.alias
    if event.note:
        base["note"] = event.note
    if event.refined_sizes:
        base["refinedSizes"] = event.refined_sizes
    if event.spend is not None:
        base["spend"] = event.spend.dump()
    if event.finding is not None and event.telemetry is not None:
        # Telemetry mode: the finding and what it rests on (bytes scanned, window read), no measurement.
        base.update(source=event.source, finding=event.finding.dump(), telemetry=event.telemetry.dump())
    if event.cleanup is not None:
        base["cleanup"] = event.cleanup.report.dump()
    if event.cleanup_error is not None:
        base["cleanupError"] = f"{event.cleanup_error.error}: {error_message(event.cleanup_error.cause)}"[:2000]
    if event.error is not None:
        policy, category = classify(event.error.error)
        message = error_message(event.error.cause)
        skipped = event.error.error in SKIP_ERRORS
        base.update(
            outcome=(Outcome.SKIPPED if skipped else Outcome.FAILED).value,
            errorType=event.error.error,
            errorMessage=message[:2000],
            errorCategory=category.value,
            errorPolicy=policy.value,
            failedStage=failed_stage(event),
            timeToFailureMs=round(elapsed_ms, 1),
        )
        next_try = _NEXT_TRY.search(message)
        if skipped and next_try:
            base["nextTryAt"] = next_try.group(1)
    else:
        base["outcome"] = (event.outcome or Outcome.FAILED).value
    records = []
    for key, target in _record_targets(event):
        record = dict(base, target=key)
        before = event.before or (target.configuration if target else None)
        if before is not None:
            record["before"] = before.dump()
        if event.after is not None and event.error is None:
            record["after"] = event.after.dump()
        if target is not None and target.ref.qualifier:
            record["qualifier"] = target.ref.qualifier
        if target is not None and target.live_traffic is not None:
            record["liveTraffic"] = target.live_traffic.dump()
        if target is not None and target.payload is not None:
            record["payloadSource"] = target.payload.dump()  # where its payload came from, not the payload
        # What to change in the function's source so that its next deploy keeps the size (targets/iac.py).
        declared = _declared_size(record, event)
        change = iac.iac_change(target.tags, declared) if target is not None and declared else None
        if change is not None:
            record["iac"] = change.dump()
        if event.drift is not None:
            record["deployRevert"] = event.drift.dump()
        # The decision in dollars (a month at the function's traffic, else per million invocations), so
        # the table, the event and every report say what it saves without recomputing it.
        priced = savings.projected_savings(
            record["outcome"], record.get("recommendation"), (record.get("liveTraffic") or {}).get("dailyInvocations")
        )
        if event.finding is not None and event.finding.savings is not None:
            priced = savings.from_finding(event.finding.savings)
        if priced is not None:
            record["projectedSavings"] = priced
        record = json.loads(json.dumps(record), parse_float=Decimal)
        # What tuning this target cost, in full (its share of the run's cost; the run's own states are
        # in the run's summary): the record keeps it after the execution's history has expired.
        record["cost"] = json.loads(json.dumps(run_cost.of_target(outcome_of(record)).dump()), parse_float=Decimal)
        records.append(record)
    return records


def _declared_size(record: dict[str, Any], event: RecordEvent) -> int | None:
    """The size the function's source should declare: the one applied or recommended, or the one a
    deploy's revert kept from being applied."""
    if record["outcome"] in (Outcome.APPLIED, Outcome.RECOMMENDED):
        size: int | None = (record.get("after") or {}).get("MemorySize")
        return size
    if event.drift is not None:
        if event.request is not None and event.request.memory_size is not None:
            return int(event.request.memory_size)
        if event.recommendation is not None:
            return int(event.recommendation.memory_size)
    return None


def plain(value: Any) -> Any:
    """A DynamoDB item's value as JSON-ready data: numbers come back as Decimal, sets as set."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(item) for item in value]
    return value


def outcome_of(record: dict[str, Any]) -> TargetOutcome:
    plain = json.loads(json.dumps(record, default=float))
    return TargetOutcome(
        recommendation=plain.get("recommendation"),
        configurations=plain.get("configurations"),
        refined_sizes=plain.get("refinedSizes"),
        spend=plain.get("spend"),
        target=record["target"],
        outcome=Outcome(record["outcome"]),
        memory_before=(record.get("before") or {}).get("MemorySize"),
        memory_after=(record.get("after") or {}).get("MemorySize"),
        error_type=record.get("errorType"),
        error_message=record.get("errorMessage"),
        daily_invocations=(plain.get("liveTraffic") or {}).get("dailyInvocations")
        or ((plain.get("projectedSavings") or {}).get("dailyInvocations") if "finding" in plain else None),
        finding=plain.get("finding"),
    )


def write_records(dynamodb: Any, table: str, records: list[dict[str, Any]]) -> int:
    """Put each record unless this execution already recorded that target. Returns items written.

    The condition makes a retried RecordResult harmless: the first write wins and a retry
    never produces a second record or overwrites the first.
    """
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    written = 0
    for record in records:
        item = {key: serializer.serialize(value) for key, value in record.items()}
        try:
            with aws_call("dynamodb:PutItem", table):
                dynamodb.put_item(
                    TableName=table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#target)",
                    ExpressionAttributeNames={"#target": "target"},
                )
            written += 1
        except ConditionFailedError:
            continue
    return written


# BatchGetItem takes at most 100 keys per request.
_KEYS_PER_BATCH = 100
_MAX_UNPROCESSED_ROUNDS = 8


def read_records(dynamodb: Any, table: str, execution: ExecutionRef, targets: list[str]) -> dict[str, dict[str, Any]]:
    """This execution's record of each target, by target ARN; a target without one is absent.

    Keys are known (target, runKey), so strongly consistent reads by key see every record
    written before this call; the byExecution index could still be catching up.
    """
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    key = run_key(execution.start_time, execution.name)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(targets), _KEYS_PER_BATCH):
        request: dict[str, Any] = {
            table: {
                "Keys": [
                    {"target": {"S": arn}, "runKey": {"S": key}} for arn in targets[start : start + _KEYS_PER_BATCH]
                ],
                "ConsistentRead": True,
            }
        }
        for attempt in range(_MAX_UNPROCESSED_ROUNDS):
            if attempt:
                time.sleep(min(2.0, 0.05 * 2**attempt))  # unprocessed keys: the table is throttling
            with aws_call("dynamodb:BatchGetItem", table):
                page = dynamodb.batch_get_item(RequestItems=request)
            for item in page.get("Responses", {}).get(table, []):
                record = {name: deserializer.deserialize(value) for name, value in item.items()}
                found[record["target"]] = record
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise ThrottledError(f"dynamodb:BatchGetItem on {table}: keys still unprocessed after retries")
    return found


def now_utc() -> datetime:
    return datetime.now(UTC)


def breaker_verdict(record: dict[str, Any]) -> bool | None:
    """How a record counts for its target's circuit breaker: success, failure, or not at all.

    Bad input, an open circuit and a lease held by another execution say nothing about the
    target, and a record without a real target (no ARN) has no breaker.
    """
    if not str(record.get("target", "")).startswith("arn:"):
        return None
    # A deploy's revert says nothing against the target: its run measured and decided.
    if record["outcome"] in (Outcome.APPLIED, Outcome.UNCHANGED, Outcome.RECOMMENDED, Outcome.REVERTED_BY_DEPLOY):
        return True
    if record["outcome"] == Outcome.FAILED and record.get("errorType") not in NOT_COUNTED:
        return False
    return None


def latest_records(dynamodb: Any, table: str, target: str, limit: int) -> list[dict[str, Any]]:
    """The target's latest ``limit`` run records, newest first (one strongly consistent Query).

    runKey starts with the execution's start time, so the partition's order is the runs' order.
    """
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    with aws_call("dynamodb:Query", table):
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="#target = :target",
            ExpressionAttributeNames={"#target": "target"},
            ExpressionAttributeValues={":target": {"S": target}},
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
    return [plain({name: deserializer.deserialize(value) for name, value in item.items()}) for item in page["Items"]]
