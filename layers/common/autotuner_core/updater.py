"""Apply a desired configuration safely: RevisionId-guarded, waited for, verified."""

from __future__ import annotations

from typing import Any

from autotuner_core.errors import (
    InvalidConfigurationError,
    StaleRevisionError,
    TargetChangedError,
    UpdateInProgressError,
)
from autotuner_core.lambda_control import (
    get_function,
    publish_ready_version,
    put_alias,
    update_configuration,
    wait_until_settled,
)
from autotuner_core.models import FunctionConfiguration, Outcome, TargetTask
from autotuner_core.settings import Settings

# A RevisionId can go stale because of unrelated changes (tags, other settings); re-read and
# try again a few times, but never with a RevisionId we did not just read.
_MAX_REVISION_ATTEMPTS = 3


def desired_memory(task: TargetTask) -> int:
    """The size asked for in the input, or the measured winner."""
    if task.request.memory_size is not None:
        return task.request.memory_size
    if task.recommendation is None:
        raise InvalidConfigurationError(f"{task.target.ref.arn}: no measured winner to apply and no memorySize given")
    return task.recommendation.memory_size


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


def apply_memory(client: Any, task: TargetTask, settings: Settings) -> tuple[Outcome, FunctionConfiguration]:
    """Bring the target to the requested memory size. Returns the outcome and the configuration after.

    Dry run (``apply: false``) makes no call at all and reports the configuration it would set.
    """
    before = task.target.configuration
    desired = desired_memory(task)
    if before.memory_size == desired:
        return Outcome.UNCHANGED, before
    if not task.request.apply:
        return Outcome.RECOMMENDED, before.model_copy(update={"memory_size": desired, "revision_id": None})

    arn = task.target.ref.arn
    revision = before.revision_id
    outcome = Outcome.APPLIED
    for _ in range(_MAX_REVISION_ATTEMPTS):
        try:
            update_configuration(client, arn, {"MemorySize": desired}, revision)
            break
        except StaleRevisionError:
            current = get_function(client, arn).configuration
            if current.memory_size == desired:
                # Already there since discovery: another run (say, a second sweep) applied it, or an
                # earlier attempt of this task crashed after its update. This attempt changes nothing.
                outcome = Outcome.UNCHANGED
                break
            if current.memory_size != before.memory_size:
                raise TargetChangedError(
                    f"{arn} memory changed from {before.memory_size} MB to {current.memory_size} MB since "
                    f"discovery; not overwriting a concurrent change (wanted {desired} MB)"
                ) from None
            revision = current.revision_id
    else:
        raise StaleRevisionError(f"{arn} kept changing under us ({_MAX_REVISION_ATTEMPTS} stale RevisionIds)")

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


# How long a completed update's result is replayed to a retry of the same task.
IDEMPOTENCY_SECONDS = 3600


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

    @idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=config)
    def apply_for(key: dict[str, Any]) -> dict[str, Any]:
        outcome, after = apply_memory(client, task, settings)
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
