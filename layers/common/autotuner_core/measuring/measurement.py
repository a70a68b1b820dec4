"""Measuring a target at candidate memory sizes, and always leaving it as it was found.

Each candidate size gets a published version and a temporary alias, created one after
another (``$LATEST`` can only change one update at a time); the aliases are then invoked,
possibly in parallel, while ``$LATEST`` is already back at its original configuration.
Everything temporary carries this execution's token, so clean-up finds it by name and by
version description even after a crash, and never touches anything else. Invoking the aliases
and reading their REPORT lines is invocations.py's.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

from autotuner_core.aws.lambda_control import (
    create_alias,
    delete_alias,
    delete_version,
    get_function,
    list_aliases,
    list_versions,
    publish_ready_version,
    publish_version,
    update_configuration,
    wait_until_settled,
    wait_until_version_active,
)
from autotuner_core.documents.base import RESERVED_ALIAS_PREFIX
from autotuner_core.documents.request import TuningRequest
from autotuner_core.documents.target import (
    Candidate,
    FunctionConfiguration,
    SizeObservation,
    SizeRequest,
)
from autotuner_core.documents.task import CleanupReport
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    InvalidConfigurationError,
    LiveTrafficError,
    StaleRevisionError,
    TargetChangedError,
    UpdateInProgressError,
)
from autotuner_core.settings import Settings


def run_token(execution_arn: str) -> str:
    """Eight hex characters naming this execution's temporary versions and aliases."""
    return hashlib.sha256(execution_arn.encode("utf-8")).hexdigest()[:8]


def alias_prefix(token: str) -> str:
    return f"{RESERVED_ALIAS_PREFIX}{token}-"


def alias_name(token: str, memory_size: int, copy: int | None = None) -> str:
    return f"{alias_prefix(token)}{memory_size}" + (f"-{copy}" if copy is not None else "")


def version_marker(token: str) -> str:
    return f"lambda-autotuner temporary {token}"


def live_floor(
    plan: list[SizeRequest], current_size: int, observations: list[SizeObservation], invocations: int
) -> tuple[list[SizeRequest], int | None]:
    """measureOnLive: the round that may run on a live ``$LATEST``, and the smallest size it may set.

    The floor is the max memory used at the function's own size (its REPORT lines, measured first)
    times the engine's headroom. Until that size is measured, the round is that size alone: no
    other size is set before the function's need is known.
    """
    from autotuner_core.decision.engine import MEMORY_HEADROOM

    used = [o.max_memory_used_mb for o in observations if o.memory_size == current_size and o.max_memory_used_mb]
    if not used:
        own = [item for item in plan if item.memory_size == current_size]
        return own or [SizeRequest(memory_size=current_size, invocations=invocations)], None
    return plan, math.ceil(max(used) * MEMORY_HEADROOM)


def prepare_candidates(
    client: Any,
    arn: str,
    original: FunctionConfiguration,
    request: TuningRequest,
    execution_arn: str,
    settings: Settings,
    *,
    sizes: list[int] | None = None,
    floor_mb: int | None = None,
    before_change: Callable[[int], None] | None = None,
    invocations: dict[int, int] | None = None,
) -> list[Candidate]:
    """Publish a version and create a temporary alias per candidate size, then restore ``$LATEST``.

    A size Lambda rejects (over the account's memory quota) is kept as an excluded candidate
    with Lambda's reason; the others are measured. With ``onlyColdStarts`` each invocation
    gets its own version (a version starts with no warm environment): as many as the size's
    ``invocations`` in the planner's round (default: the request's ``invocations``), no more; the
    version's Description differs per copy, which is what makes Lambda publish a new one. ``sizes`` are
    the sizes of the planner's round (default: the request's sizes and the current one).
    ``floor_mb`` (measureOnLive: ``$LATEST`` serves production) excludes every smaller size, and
    each size stays on ``$LATEST`` only from its update to its publish: waiting for a SnapStart
    version to become Active happens after ``$LATEST`` is restored. ``before_change(size)`` runs
    right before each change of ``$LATEST`` (the live-traffic re-check): when it raises
    LiveTrafficError, ``$LATEST`` is restored at once and the error goes on.
    """
    token = run_token(execution_arn)
    marker = version_marker(token)
    sizes = sorted(set(sizes) if sizes else set(request.memory_sizes) | {original.memory_size})
    planned = invocations or {}
    poll = settings.status_poll_interval_ms / 1000
    # Start from what $LATEST is now (refinement follows our own restore), but only if it still
    # has the memory we found or our marker: anything else is someone else's change.
    current = wait_until_settled(client, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds)
    ours = (current.configuration.description or "").startswith(marker)  # a retry after our own crash
    if current.configuration.memory_size != original.memory_size and not ours:
        raise TargetChangedError(
            f"{arn} has {current.configuration.memory_size} MB, not the {original.memory_size} MB found at discovery; "
            "not measuring a function someone else is changing"
        )
    revision = current.configuration.revision_id
    last_size: int | None = None  # the memory this task last gave $LATEST: what restoring undoes
    candidates: list[Candidate] = []
    # The function's own size goes first: if Lambda refuses even that one (it is above the
    # account's memory quota), $LATEST could not be put back after any other size.
    # measureOnLive: (alias, version, size) still to wait for and point, once $LATEST is restored
    pending: list[tuple[str, str, int]] = []
    for size in sorted(sizes, key=lambda size: size != original.memory_size):
        aliases: list[str] = []
        version: str | None = None
        copies = planned.get(size, request.invocations) if request.only_cold_starts else 1
        if floor_mb is not None and size < floor_mb and size != original.memory_size:
            candidates.append(
                Candidate(
                    memory_size=size,
                    excluded=f"below {floor_mb} MB, the max memory used at {original.memory_size} MB x headroom: "
                    "measureOnLive never sets a live $LATEST below it",
                )
            )
            continue
        try:
            for copy in range(copies):
                # The marker in $LATEST's description tells clean-up, even after a crash, that the
                # current configuration is this run's to restore; a new description per cold-start
                # copy is also what makes Lambda publish a new version.
                suffix = f" cold start {copy}" if copies > 1 else ""
                changes: dict[str, Any] = {"MemorySize": size, "Description": f"{marker} {size} MB{suffix}"}
                if before_change is not None:
                    try:
                        before_change(size)
                    except LiveTrafficError:
                        restore_latest(client, arn, original, settings, marker=marker, last_size=last_size)
                        raise
                updated = _update(client, arn, changes, revision, original)
                last_size = size
                if _settled(updated):
                    # The update's own answer says it is done: a GetFunction would only repeat it.
                    revision = updated.get("RevisionId")
                else:
                    revision = wait_until_settled(
                        client, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds
                    ).configuration.revision_id
                name = alias_name(token, size, copy if copies > 1 else None)
                if floor_mb is not None:
                    # $LATEST serves production: on to the next size right after the publish.
                    version = publish_version(client, arn, marker, revision)
                    pending.append((name, version, size))
                else:
                    # With SnapStart the version is Pending while its snapshot is made: invoke it only once Active.
                    version = publish_ready_version(
                        client, arn, marker, revision, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds
                    )
                    version = _create_or_reuse_alias(client, arn, name, version, marker, size)
                aliases.append(name)
        except InvalidConfigurationError as error:
            if size == original.memory_size and not candidates:
                raise InvalidConfigurationError(
                    f"{arn} has {size} MB, a size Lambda no longer accepts for it ({error}); measuring would "
                    "move $LATEST to sizes it could not be restored from, so nothing was changed"
                ) from None
            candidates.append(
                Candidate(
                    memory_size=size, current=size == original.memory_size, excluded=f"Lambda rejected it: {error}"
                )
            )
            continue
        candidates.append(
            Candidate(memory_size=size, current=size == original.memory_size, version=version, aliases=aliases)
        )
    restore_latest(client, arn, original, settings, marker=marker, last_size=last_size)
    pointed: dict[int, str] = {}
    for name, version, size in pending:
        wait_until_version_active(
            client, arn, version, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds
        )
        pointed[size] = _create_or_reuse_alias(client, arn, name, version, marker, size)
    candidates = [
        candidate.pointed(version=pointed[candidate.memory_size]) if candidate.memory_size in pointed else candidate
        for candidate in candidates
    ]
    return sorted(candidates, key=lambda candidate: candidate.memory_size)


def _create_or_reuse_alias(client: Any, arn: str, name: str, version: str, marker: str, size: int) -> str:
    """Create the temporary alias; returns the version it points to.

    A retried task finds the alias its earlier attempt created (Lambda: ResourceConflictException,
    "Alias already exists"). If it points to one of this run's versions at this size, it is as good
    as a new one: reuse it (the version published just now is clean-up's, by its marker).
    """
    try:
        create_alias(client, arn, name, version, marker)
        return version
    except UpdateInProgressError as conflict:
        try:
            existing = get_function(client, arn, qualifier=name)
        except FunctionNotFoundError:
            raise conflict from None
        config = existing.configuration
        if config.memory_size != size or config.description != marker:
            raise conflict from None
        return existing.version


def _settled(response: dict[str, Any]) -> bool:
    """Whether an UpdateFunctionConfiguration answer says the update is already applied (nothing to wait for)."""
    return response.get("LastUpdateStatus") == "Successful" and response.get("State", "Active") == "Active"


def _update(
    client: Any, arn: str, changes: dict[str, Any], revision: str | None, original: FunctionConfiguration
) -> dict[str, Any]:
    try:
        return update_configuration(client, arn, changes, revision)
    except StaleRevisionError:
        raise TargetChangedError(
            f"{arn} was changed by someone else during measurement; stopping and restoring "
            f"{original.memory_size} MB where it is still ours to restore"
        ) from None


def restore_latest(
    client: Any,
    arn: str,
    original: FunctionConfiguration,
    settings: Settings,
    *,
    marker: str,
    last_size: int | None = None,
) -> bool:
    """Undo this run's changes to ``$LATEST``, and only those. Returns whether a change was needed.

    The description is ours while it carries ``marker``; the memory is ours while it is the size
    we set last (the marker's text says which, or ``last_size`` when someone else has replaced
    the description since). Whatever someone else set meanwhile stands: we never overwrite a
    concurrent change, and the write is guarded by the RevisionId just read.
    """
    poll = settings.status_poll_interval_ms / 1000
    state = wait_until_settled(client, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds)
    current = state.configuration
    ours = (current.description or "").startswith(marker)
    set_size = _size_in_marker(current.description, marker) or last_size
    changes: dict[str, Any] = {}
    if set_size is not None and current.memory_size == set_size != original.memory_size:
        changes["MemorySize"] = original.memory_size
    if ours:
        changes["Description"] = original.description or ""
    if not changes:
        return False
    update_configuration(client, arn, changes, current.revision_id)
    wait_until_settled(client, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds)
    return True


def _size_in_marker(description: str | None, marker: str) -> int | None:
    """The memory size written next to our marker in ``$LATEST``'s description ("<marker> 1024 MB")."""
    text = description or ""
    found = re.match(r" (\d+) MB", text[len(marker) :]) if text.startswith(marker) else None
    return int(found.group(1)) if found else None


def clean_up(
    client: Any,
    arn: str,
    original: FunctionConfiguration,
    execution_arn: str,
    settings: Settings,
    *,
    applied: int | None = None,
) -> CleanupReport:
    """Delete this execution's aliases and versions and restore ``$LATEST``; safe to run twice.

    ``$LATEST`` is restored where it still holds what this run set while measuring (its marker,
    the size it set last), whatever crashed where; what someone else changed since stands.
    ``applied`` is the memory size this run was applying when it failed: an update Lambda
    accepted before the failure (a timeout or an error after the call) is undone too, when
    ``$LATEST`` is exactly the original with that size, so a failed run leaves the function as
    it was found.
    """
    token = run_token(execution_arn)
    marker = version_marker(token)
    report = CleanupReport()
    for alias in list_aliases(client, arn):
        if alias["Name"].startswith(alias_prefix(token)):
            delete_alias(client, arn, alias["Name"])
            report.aliases_deleted += 1
    last_size: int | None = None  # the memory of this run's latest version: what $LATEST last had from us
    for version in sorted(list_versions(client, arn), key=lambda item: _version_number(item.get("Version"))):
        if version.get("Version") != "$LATEST" and version.get("Description") == marker:
            last_size = version.get("MemorySize", last_size)
            delete_version(client, arn, version["Version"])
            report.versions_deleted += 1
    report.restored = restore_latest(client, arn, original, settings, marker=marker, last_size=last_size)
    if not report.restored and applied is not None:
        report.restored = _undo_update(client, arn, original, applied, settings)
    if not report.restored:
        current = get_function(client, arn).configuration
        if current.memory_size != original.memory_size:
            report.note = f"$LATEST has {current.memory_size} MB, set by someone else since; left as it is"
    return report


def _undo_update(client: Any, arn: str, original: FunctionConfiguration, applied: int, settings: Settings) -> bool:
    """Put the original memory back if ``$LATEST`` is the original with only ``applied`` MB changed."""
    poll = settings.status_poll_interval_ms / 1000
    current = wait_until_settled(
        client, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds
    ).configuration
    untouched = (current.description or "") == (original.description or "") and current.timeout == original.timeout
    if not untouched or current.memory_size != applied or applied == original.memory_size:
        return False
    update_configuration(client, arn, {"MemorySize": original.memory_size}, current.revision_id)
    wait_until_settled(client, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds)
    return True


def _version_number(version: Any) -> int:
    return int(version) if str(version).isdigit() else 0
