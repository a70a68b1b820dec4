"""Apply a desired configuration safely: RevisionId-guarded, waited for, verified."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.lambda_control import (
    get_function,
    publish_ready_version,
    put_alias,
    update_configuration,
    wait_until_settled,
)
from autotuner_core.documents.base import Outcome
from autotuner_core.documents.target import FunctionConfiguration
from autotuner_core.documents.task import TargetTask
from autotuner_core.policy.errors import (
    ConditionFailedError,
    InvalidConfigurationError,
    StaleRevisionError,
    TargetChangedError,
    UpdateInProgressError,
)
from autotuner_core.settings import Settings

# A RevisionId can go stale because of unrelated changes (tags, other settings); re-read and
# try again a few times, but never with a RevisionId we did not just read.
_MAX_REVISION_ATTEMPTS = 3


def desired_memory(task: TargetTask) -> int:
    """The size asked for in the input, or the measured winner."""
    desired = task.desired_memory()
    if desired is None:
        raise InvalidConfigurationError(f"{task.target.ref.arn}: no measured winner to apply and no memorySize given")
    return desired


def point_alias(client: Any, task: TargetTask, after: FunctionConfiguration, settings: Settings) -> str | None:
    """Publish the live configuration as a version and point the requested alias at it.

    The alias moves only once the version is Active: with SnapStart a new version is Pending
    while its snapshot is made, and the alias's traffic would fail until then.
    """
    alias = task.request.alias
    if alias is None or not task.request.apply:
        return None
    arn = task.target.ref.arn
    version = publish_ready_version(
        client,
        arn,
        f"lambda-autotuner: {after.memory_size} MB",
        after.revision_id,
        poll_interval_s=settings.status_poll_interval_ms / 1000,
        max_wait_s=settings.max_status_wait_seconds,
    )
    put_alias(client, arn, alias, version)
    return alias


def apply_memory(
    client: Any, task: TargetTask, settings: Settings, *, earlier_attempt: bool = False
) -> tuple[Outcome, FunctionConfiguration]:
    """Bring the target to the requested memory size. Returns the outcome and the configuration after.

    Dry run (``apply: false``) makes no call at all and reports the configuration it would set.
    A target found at the desired size since discovery is ``APPLIED`` when an earlier attempt of
    this task may have made the change (``earlier_attempt``), otherwise ``UNCHANGED``: someone
    else did (a second sweep), and this run changed nothing.
    """
    before = task.target.configuration
    desired = desired_memory(task)
    if before.memory_size == desired:
        return Outcome.UNCHANGED, before
    if not task.request.apply:
        return Outcome.RECOMMENDED, before.at_size(desired)

    arn = task.target.ref.arn
    # Read it again first: another run that discovered it at the same time (a second sweep) may
    # have applied the same size since, and then this run changes nothing.
    current = get_function(client, arn).configuration
    if current.memory_size == desired:
        # Unless this task's earlier attempt, cut off by its timeout after its update, made it.
        outcome = Outcome.APPLIED if earlier_attempt else Outcome.UNCHANGED
    else:
        _refuse_changed(arn, before.memory_size, current.memory_size, desired)
        outcome = Outcome.APPLIED
        _update_memory(client, arn, before.memory_size, desired, current.revision_id)

    settled = wait_until_settled(
        client,
        arn,
        poll_interval_s=settings.status_poll_interval_ms / 1000,
        max_wait_s=settings.max_status_wait_seconds,
    )
    after = settled.configuration
    if after.memory_size != desired:
        raise InvalidConfigurationError(
            f"{arn} reports {after.memory_size} MB after the update to {desired} MB was accepted"
        )
    return outcome, after


def _refuse_changed(arn: str, discovered: int, current: int, desired: int) -> None:
    if current != discovered:
        raise TargetChangedError(
            f"{arn} memory changed from {discovered} MB to {current} MB since "
            f"discovery; not overwriting a concurrent change (wanted {desired} MB)"
        )


def _update_memory(client: Any, arn: str, discovered: int, desired: int, revision: str | None) -> None:
    """UpdateFunctionConfiguration guarded by ``revision``, re-read and sent again while only the
    revision moved on (tags, other settings)."""
    for _ in range(_MAX_REVISION_ATTEMPTS):
        try:
            update_configuration(client, arn, {"MemorySize": desired}, revision)
            return
        except StaleRevisionError:
            current = get_function(client, arn).configuration
            if current.memory_size == desired:
                return  # this request's own SDK retry: the first try was applied, its answer lost
            _refuse_changed(arn, discovered, current.memory_size, desired)
            revision = current.revision_id
    raise StaleRevisionError(f"{arn} kept changing under us ({_MAX_REVISION_ATTEMPTS} stale RevisionIds)")


# How long a completed update's result is replayed to a retry of the same task.
IDEMPOTENCY_SECONDS = 3600


def _first_attempt(dynamodb: Any, table: str, key: dict[str, Any]) -> bool:
    """Whether this is the first attempt of the update ``key`` names (a conditional put).

    Idempotency replays a completed attempt's result, but an attempt cut off by its timeout
    completed nothing: its retry finds the change made and must still report it as this run's.
    """
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()
    try:
        with aws_call("dynamodb:PutItem", table):
            dynamodb.put_item(
                TableName=table,
                Item={
                    "pk": {"S": f"update-attempt#{digest}"},
                    "kind": {"S": "update-attempt"},
                    "expiresAt": {"N": str(int(time.time()) + IDEMPOTENCY_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
    except ConditionFailedError:
        return False
    return True


def apply_once(
    client: Any, dynamodb: Any, task: TargetTask, settings: Settings, lambda_context: Any = None
) -> tuple[Outcome, FunctionConfiguration, str | None]:
    """Apply, at most once per (execution, target, desired configuration).

    A retry after a timeout that had already applied the change gets the first attempt's result
    back from the state table instead of applying again (Powertools Idempotency). A retry while
    the first attempt still runs is transient: the state machine tries again later.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    persistence = DynamoDBPersistenceLayer(
        table_name=settings.state_table, key_attr="pk", expiry_attr="expiresAt", boto3_client=dynamodb
    )
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    # Powertools leaves idempotent_function untyped; apply_for's own signature is the one to read.
    @idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def apply_for(key: dict[str, Any]) -> dict[str, Any]:
        changes = task.request.apply and task.target.configuration.memory_size != desired_memory(task)
        earlier = changes and not _first_attempt(dynamodb, settings.state_table, key)
        outcome, after = apply_memory(client, task, settings, earlier_attempt=earlier)
        return {"outcome": outcome.value, "after": after.dump(), "alias": point_alias(client, task, after, settings)}

    key = {
        "execution": task.execution.arn,
        "target": task.target.ref.arn,
        "memorySize": desired_memory(task),
        "apply": task.request.apply,
        "alias": task.request.alias,
    }
    try:
        result = apply_for(key=key)
    except IdempotencyAlreadyInProgressError as error:
        raise UpdateInProgressError(
            f"{task.target.ref.arn}: an earlier attempt of this update is still running"
        ) from error
    return Outcome(result["outcome"]), FunctionConfiguration.model_validate(result["after"]), result["alias"]
