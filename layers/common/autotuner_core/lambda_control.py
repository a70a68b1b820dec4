"""The Lambda control-plane calls the tuner makes, with errors translated.

Waiting polls ``GetFunction`` (its own 100 requests/s quota) rather than
``GetFunctionConfiguration``, which shares the 15 requests/s control-plane bucket with
every update the tuner makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autotuner_core.aws_errors import aws_call
from autotuner_core.errors import InvalidConfigurationError, UpdateInProgressError
from autotuner_core.models import FunctionConfiguration


@dataclass(frozen=True)
class FunctionState:
    configuration: FunctionConfiguration
    tags: dict[str, str]
    arn: str

    @property
    def settled(self) -> bool:
        """Neither being created nor being updated: safe to read and to change."""
        config = self.configuration
        return config.state not in ("Pending",) and config.last_update_status not in ("InProgress",)


def get_function(client: Any, arn: str, qualifier: str | None = None) -> FunctionState:
    """GetFunction; a missing function or qualifier raises FunctionNotFoundError."""
    kwargs: dict[str, Any] = {"FunctionName": arn}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    shown = f"{arn}:{qualifier}" if qualifier else arn
    with aws_call("lambda:GetFunction", shown):
        response = client.get_function(**kwargs)
    config = response["Configuration"]
    return FunctionState(
        configuration=FunctionConfiguration.from_lambda(config),
        tags=dict(response.get("Tags") or {}),
        arn=config["FunctionArn"],
    )


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
    deadline = clock() + max_wait_s
    while True:
        state = get_function(client, arn)
        config = state.configuration
        if config.last_update_status == "Failed":
            raise InvalidConfigurationError(f"the last update of {arn} failed (LastUpdateStatus Failed)")
        if config.state == "Failed":
            raise InvalidConfigurationError(f"{arn} is in State Failed and cannot be tuned")
        if state.settled:
            return state
        if clock() >= deadline:
            raise UpdateInProgressError(
                f"{arn} is still State={config.state} LastUpdateStatus={config.last_update_status} "
                f"after {max_wait_s:g} s"
            )
        sleep(poll_interval_s)


def update_memory(client: Any, arn: str, memory_size: int, revision_id: str | None) -> None:
    """UpdateFunctionConfiguration guarded by RevisionId: it fails if anyone changed the function."""
    kwargs: dict[str, Any] = {"FunctionName": arn, "MemorySize": memory_size}
    if revision_id:
        kwargs["RevisionId"] = revision_id
    with aws_call("lambda:UpdateFunctionConfiguration", arn):
        client.update_function_configuration(**kwargs)
