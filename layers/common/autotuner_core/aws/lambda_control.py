"""The Lambda control-plane calls the tuner makes, with errors translated.

Waiting polls ``GetFunction`` (its own 100 requests/s quota) rather than
``GetFunctionConfiguration``, which shares the 15 requests/s control-plane bucket with
every update the tuner makes; botocore's waiters judge each answer (waiting.py).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autotuner_core.aws.arns import unqualified
from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.paging import every_page
from autotuner_core.aws.waiting import Timing, settled, version_active, wait
from autotuner_core.documents.target import FunctionConfiguration
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    InvalidConfigurationError,
    PermissionDeniedError,
    UpdateInProgressError,
)


@dataclass(frozen=True)
class FunctionState:
    configuration: FunctionConfiguration
    tags: dict[str, str]
    arn: str
    version: str = "$LATEST"  # the version a qualifier resolved to
    # Lambda Managed Instances: the capacity provider the function runs on (None: on-demand Lambda).
    capacity_provider_arn: str | None = None
    # GetFunction's Concurrency.ReservedConcurrentExecutions (None: no reservation, the unreserved pool).
    reserved_concurrency: int | None = None

    @property
    def settled(self) -> bool:
        """Neither being created nor being updated: safe to read and to change."""
        config = self.configuration
        return config.state not in ("Pending",) and config.last_update_status not in ("InProgress",)


def get_function(client: Any, arn: str, qualifier: str | None = None, *, tags_needed: bool = False) -> FunctionState:
    """GetFunction; a missing function or qualifier raises FunctionNotFoundError.

    Lambda returns ``Tags`` only to callers allowed ``lambda:ListTags``, and leaves them out
    both for an untagged function and for a caller without that permission. With
    ``tags_needed`` (the caller decides on tags), an answer without tags is confirmed with
    ListTags, whose denial is a PermissionDeniedError rather than "untagged".
    """
    return _get_function(client, arn, qualifier, tags_needed=tags_needed)[1]


def _get_function(
    client: Any, arn: str, qualifier: str | None, *, tags_needed: bool
) -> tuple[dict[str, Any], FunctionState]:
    """GetFunction's answer as Lambda sent it (for a waiter to judge), and read."""
    kwargs: dict[str, Any] = {"FunctionName": arn}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    shown = f"{arn}:{qualifier}" if qualifier else arn
    with aws_call("lambda:GetFunction", shown):
        response = client.get_function(**kwargs)
    config = response["Configuration"]
    if response.get("TagsError"):
        raise PermissionDeniedError(
            f"lambda:GetFunction on {shown} returned no tags ({response['TagsError'].get('ErrorCode', 'TagsError')}): "
            "the role needs lambda:ListTags, because the tuner decides on tags"
        )
    tags = response.get("Tags")
    if tags is None and tags_needed:
        tags = list_tags(client, config["FunctionArn"])
    capacity = config.get("CapacityProviderConfig")
    if capacity:
        # The API reference's only kind today; another kind still marks a function that is not on-demand.
        managed = capacity.get("LambdaManagedInstancesCapacityProviderConfig") or {}
        capacity = managed.get("CapacityProviderArn") or json.dumps(capacity)
    return response, FunctionState(
        configuration=FunctionConfiguration.from_lambda(config),
        tags=dict(tags or {}),
        arn=config["FunctionArn"],
        version=str(config.get("Version") or "$LATEST"),
        capacity_provider_arn=capacity or None,
        reserved_concurrency=_reserved_concurrency(response),
    )


def _reserved_concurrency(response: dict[str, Any]) -> int | None:
    reserved = (response.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return None if reserved is None else int(reserved)


def list_tags(client: Any, arn: str) -> dict[str, str]:
    """ListTags of the function (tags live on the function, never on a version or alias)."""
    function_arn = unqualified(arn)
    try:
        with aws_call("lambda:ListTags", function_arn):
            return dict(client.list_tags(Resource=function_arn).get("Tags") or {})
    except PermissionDeniedError as error:
        raise PermissionDeniedError(
            f"{error}; GetFunction returned no tags and ListTags is denied: the role needs lambda:ListTags, "
            "because the tuner decides on tags"
        ) from error


def refuse_capacity_provider(state: FunctionState) -> None:
    """A function on Lambda Managed Instances is priced by its instances, not by GB-seconds: nothing to tune."""
    if state.capacity_provider_arn:
        raise InvalidConfigurationError(
            f"{state.arn} runs on the capacity provider {state.capacity_provider_arn} (Lambda Managed Instances): "
            "its price is the EC2 instances' plus a management fee, not GB-seconds of its memory size, so memory "
            "tuning does not apply; nothing was changed"
        )


def refuse_switched_off(state: FunctionState) -> None:
    """A function with reserved concurrency 0 is switched off on purpose: every invocation is throttled.

    Measuring it would only collect throttles, and changing its memory would tune a function its
    owner has stopped; the owner decides when it runs again (DeleteFunctionConcurrency or a new
    reservation), not the tuner.
    """
    if state.reserved_concurrency == 0:
        raise InvalidConfigurationError(
            f"{state.arn} has reserved concurrency 0 (Concurrency.ReservedConcurrentExecutions): it is switched "
            "off on purpose and every invocation is throttled; give it concurrency again to tune it; "
            "nothing was changed"
        )


def refuse_failed(state: FunctionState) -> None:
    """A function whose creation or last update failed cannot be tuned until someone fixes it."""
    config = state.configuration
    if config.last_update_status == "Failed":
        raise InvalidConfigurationError(f"the last update of {state.arn} failed (LastUpdateStatus Failed)")
    if config.state == "Failed":
        raise InvalidConfigurationError(f"{state.arn} is in State Failed and cannot be tuned")


def wait_until_settled(
    client: Any,
    arn: str,
    *,
    poll_interval_s: float,
    max_wait_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FunctionState:
    """Poll until the function is neither Pending nor InProgress.

    A ``Failed`` update is permanent (Lambda says why); still busy at the deadline is
    transient, so the state machine retries later instead of this function waiting longer.
    """

    def busy(state: FunctionState) -> UpdateInProgressError:
        return UpdateInProgressError(
            f"{arn} is still State={state.configuration.state} "
            f"LastUpdateStatus={state.configuration.last_update_status} "
            f"after {max_wait_s:g} s"
        )

    timing = Timing(poll_interval_s, max_wait_s, sleep, clock)
    return wait(settled(), lambda: _get_function(client, arn, None, tags_needed=False), refuse_failed, busy, timing)


def wait_until_version_active(
    client: Any,
    arn: str,
    version: str,
    *,
    poll_interval_s: float,
    max_wait_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FunctionState:
    """Poll a published version until it is ``Active`` (with SnapStart it is ``Pending`` while its snapshot is made).

    Lambda refuses to invoke a Pending version (ResourceConflictException). Still Pending at the
    deadline is transient (UpdateInProgressError), a Failed version is permanent
    (InvalidConfigurationError, with Lambda's reason).
    """

    def refuse(state: FunctionState) -> None:
        if state.configuration.state == "Failed":
            raise InvalidConfigurationError(f"version {version} of {arn} is in State Failed and cannot be invoked")

    def busy(state: FunctionState) -> UpdateInProgressError:
        return UpdateInProgressError(
            f"version {version} of {arn} is still State={state.configuration.state} after {max_wait_s:g} s "
            "(a SnapStart snapshot is being made); it cannot be invoked before it is Active"
        )

    timing = Timing(poll_interval_s, max_wait_s, sleep, clock)
    return wait(version_active(), lambda: _get_function(client, arn, version, tags_needed=False), refuse, busy, timing)


def publish_ready_version(
    client: Any, arn: str, description: str, revision_id: str | None, *, poll_interval_s: float, max_wait_s: float
) -> str:
    """Publish ``$LATEST`` and return the version once it can be invoked (Active), waiting if it is Pending."""
    published = _publish(client, arn, description, revision_id)
    version = str(published["Version"])
    if published.get("State") == "Pending":
        wait_until_version_active(client, arn, version, poll_interval_s=poll_interval_s, max_wait_s=max_wait_s)
    elif published.get("State") == "Failed":
        raise InvalidConfigurationError(f"version {version} of {arn} is in State Failed and cannot be invoked")
    return version


def update_configuration(client: Any, arn: str, changes: dict[str, Any], revision_id: str | None) -> dict[str, Any]:
    """UpdateFunctionConfiguration with any settings, guarded by RevisionId when one is given."""
    kwargs: dict[str, Any] = {"FunctionName": arn, **changes}
    if revision_id:
        kwargs["RevisionId"] = revision_id
    with aws_call("lambda:UpdateFunctionConfiguration", arn):
        return dict(client.update_function_configuration(**kwargs))


def publish_version(client: Any, arn: str, description: str, revision_id: str | None = None) -> str:
    """Publish $LATEST as a version; RevisionId makes sure it is the configuration we just set."""
    return str(_publish(client, arn, description, revision_id)["Version"])


def _publish(client: Any, arn: str, description: str, revision_id: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"FunctionName": arn, "Description": description}
    if revision_id:
        kwargs["RevisionId"] = revision_id
    with aws_call("lambda:PublishVersion", arn):
        return dict(client.publish_version(**kwargs))


def put_alias(client: Any, arn: str, name: str, version: str) -> None:
    """Point alias ``name`` at ``version``, creating the alias if it does not exist."""
    try:
        with aws_call("lambda:GetAlias", f"{arn}:{name}"):
            client.get_alias(FunctionName=arn, Name=name)
        exists = True
    except FunctionNotFoundError:
        exists = False
    action = "lambda:UpdateAlias" if exists else "lambda:CreateAlias"
    with aws_call(action, f"{arn}:{name}"):
        if exists:
            client.update_alias(FunctionName=arn, Name=name, FunctionVersion=version)
        else:
            client.create_alias(FunctionName=arn, Name=name, FunctionVersion=version)


def create_alias(client: Any, arn: str, name: str, version: str, description: str) -> None:
    with aws_call("lambda:CreateAlias", f"{arn}:{name}"):
        client.create_alias(FunctionName=arn, Name=name, FunctionVersion=version, Description=description)


def list_aliases(client: Any, arn: str) -> list[dict[str, Any]]:
    pages = every_page(client, "list_aliases", "lambda:ListAliases", arn, FunctionName=arn)
    return [alias for page in pages for alias in page.get("Aliases", [])]


def list_versions(client: Any, arn: str) -> list[dict[str, Any]]:
    pages = every_page(client, "list_versions_by_function", "lambda:ListVersionsByFunction", arn, FunctionName=arn)
    return [version for page in pages for version in page.get("Versions", [])]


def delete_alias(client: Any, arn: str, name: str) -> None:
    with aws_call("lambda:DeleteAlias", f"{arn}:{name}"):
        client.delete_alias(FunctionName=arn, Name=name)


def delete_version(client: Any, arn: str, version: str) -> None:
    """Delete one published version; never the function itself (a qualifier is required)."""
    if not version or version == "$LATEST":
        raise ValueError("delete_version needs a published version number")
    with aws_call("lambda:DeleteFunction", f"{arn}:{version}"):
        client.delete_function(FunctionName=arn, Qualifier=version)


def invoke_with_output(
    client: Any, arn: str, qualifier: str | None, payload: bytes, *, client_context: str | None = None
) -> tuple[str | None, dict[str, Any] | None, bytes, str]:
    """Invoke synchronously with the log tail: (errorType or None, error body, payload, decoded log tail).

    ``client_context`` is Lambda's ClientContext (base64 JSON) the function receives.

    ``qualifier`` None invokes the function as named (``arn`` may carry its own qualifier).
    """
    extra: dict[str, Any] = {"ClientContext": client_context} if client_context else {}
    if qualifier is not None:
        extra["Qualifier"] = qualifier
    with aws_call("lambda:InvokeFunction", f"{arn}:{qualifier}" if qualifier else arn):
        response = client.invoke(
            FunctionName=arn, InvocationType="RequestResponse", LogType="Tail", Payload=payload, **extra
        )
    body = response["Payload"].read()
    tail = base64.b64decode(response.get("LogResult") or "").decode("utf-8", errors="replace")
    if not response.get("FunctionError"):
        return None, None, body, tail
    try:
        error = json.loads(body)
    except ValueError:
        error = {"errorMessage": body.decode("utf-8", errors="replace")[:500]}
    if not isinstance(error, dict):
        error = {"errorMessage": str(error)[:500]}
    return str(error.get("errorType") or response["FunctionError"]), error, body, tail
