"""What a deployment reports: the stack and its functions, as the embedded runtime needs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DeployedFunction:
    """A Lambda function as deployed, with everything the in-process runtime needs to run it."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path  # absolute local folder of CodeUri; Path() when the code is not a local folder
    handler: str
    environment: dict[str, str]
    role_arn: str
    memory_size: int
    timeout: int
    runtime: str = ""
    architectures: tuple[str, ...] = ("x86_64",)
    layers: tuple[str, ...] = ()  # layer version ARNs, in order
    layer_dirs: tuple[Path, ...] = ()  # local folders of those layers that come from this stack
    tracing_mode: str = "PassThrough"
    logging_config: dict[str, str] = field(default_factory=dict)
    ephemeral_storage_mb: int = 512
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class DeployedStack:
    """What deploy_stack created, resolved the way CloudFormation would report it."""

    name: str
    region: str
    account_id: str
    parameters: dict[str, str]
    resources: dict[str, str]
    outputs: dict[str, str]
    functions: dict[str, DeployedFunction]
    state_machine_arn: str
    state_machine_definition: dict
    skipped: list[tuple[str, str]]
    stack_id: str = ""
    resource_types: dict[str, str] = field(default_factory=dict)  # created and skipped resources
    conditions: dict[str, bool] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN, if several
    template: dict = field(default_factory=dict)  # the translated CloudFormation template
