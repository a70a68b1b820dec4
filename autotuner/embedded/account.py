"""The simulated account: what exists in the embedded AWS before the tuner runs.

One JSON file describes it (schema: docs/simulated-account.md, examples: events/accounts/).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class SimulatedFunction(_Spec):
    """A target function. Labelled simulated: its code is not run, its behaviour is modelled."""

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    memory_size: int = Field(default=128, ge=128, le=10_240)
    timeout: int = Field(default=3, ge=1, le=900)
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    runtime: str = "python3.13"
    ephemeral_storage: int = Field(default=512, ge=512, le=10_240)
    tags: dict[str, str] = {}
    state: Literal["Active", "Pending"] = "Active"
    pending_seconds: float = Field(default=0.0, ge=0, description="how long a Pending function stays Pending")
    aliases: list[str] = []


class RevokedPermission(_Spec):
    """Remove actions from a tuner function's role, as if the template lacked them."""

    function: str = Field(description="logical id of a tuner function, e.g. UpdateConfigurationFunction")
    actions: list[str] = Field(min_length=1)


class Fault(_Spec):
    """Answer matching requests with an AWS error instead of serving them."""

    service: str = Field(description="botocore service id: lambda, iam, dynamodb, stepfunctions, …")
    action: str = Field(default="*", description="API operation, e.g. UpdateFunctionConfiguration; * for all")
    code: str = Field(description="AWS error code, e.g. TooManyRequestsException, ServiceException")
    status: int = Field(default=400, ge=400, le=599)
    message: str = "injected by the embedded AWS"
    times: int | None = Field(default=None, ge=1, description="fail this many matching requests, then serve")
    probability: float | None = Field(default=None, gt=0, le=1, description="fail each request with this chance")
    seed: int = 0

    @model_validator(mode="after")
    def _one_trigger(self) -> Fault:
        if (self.times is None) == (self.probability is None):
            raise ValueError("a fault needs exactly one of 'times' or 'probability'")
        return self


class SimulatedAccount(_Spec):
    """Everything the embedded AWS starts with."""

    region: str = "us-east-1"
    account_id: str = Field(default="123456789012", pattern=r"^\d{12}$")
    stack_name: str = Field(default="lambda-autotuner", pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,100}$")
    parameters: dict[str, str] = Field(
        default={"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"},
        description="template parameter overrides, as sam deploy --parameter-overrides",
    )
    memory_quota_mb: int = Field(default=3008, ge=128, le=10_240, description="account memory limit per function")
    update_seconds: float = Field(default=0.1, ge=0, description="LastUpdateStatus stays InProgress this long")
    retry_time_scale: float = Field(
        default=0.01, gt=0, le=1, description="state-machine Retry waits are multiplied by this"
    )
    functions: list[SimulatedFunction] = []
    revoke: list[RevokedPermission] = []
    faults: list[Fault] = []

    @model_validator(mode="after")
    def _unique_functions(self) -> SimulatedAccount:
        names = [function.name for function in self.functions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"functions: duplicate names {duplicates}")
        return self


def load_account(path: Path | str) -> SimulatedAccount:
    """Read and validate a simulated-account file; errors name the file and each bad field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read simulated account: {error}") from None
    try:
        return SimulatedAccount.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(file)'}: {item['msg']}" for item in error.errors()
        )
        raise ValueError(f"{path}: invalid simulated account: {problems}") from None
