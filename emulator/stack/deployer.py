"""Deploys a translated template: every resource through the service APIs, in dependency order."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3

from autotuner_core.documents.request import partition_for
from emulator.moto_adapter import mock_is_active
from emulator.stack.api_parameters import coerce_to_shape
from emulator.stack.deployed import DeployedFunction, DeployedStack
from emulator.stack.errors import TemplateError
from emulator.stack.intrinsics import IntrinsicResolver, references, scalar_str
from emulator.stack.names import physical_name, pseudo_parameters
from emulator.stack.parameters import resolve_parameters, typed_parameters
from emulator.stack.resources import CREATORS
from emulator.stack.rules import check_rules
from emulator.stack.translation import load_template, translate_template

# What creates one resource type: (deployer, logical id, resolved properties, the template's resource
# entry) -> (physical id, Fn::GetAtt attributes). Each module of resources/ lists its own.
Creator = Callable[["Deployer", str, dict, dict], tuple[str, dict]]


def _creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids in an order where each resource comes after those it refers to or depends on."""
    dependencies: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        unknown = [name for name in depends_on if name not in resources]
        if unknown:
            raise TemplateError(f"{logical_id}: DependsOn names unknown resources {unknown}")
        referred = references(resource.get("Properties", {})) & resources.keys()
        dependencies[logical_id] = (referred | set(depends_on)) - {logical_id}
    order: list[str] = []
    done: set[str] = set()
    remaining = list(resources)  # template order breaks ties, for a stable, readable order
    while remaining:
        ready = [logical_id for logical_id in remaining if dependencies[logical_id] <= done]
        if not ready:
            raise TemplateError(f"Circular dependency between resources {sorted(remaining)}")
        order.extend(ready)
        done.update(ready)
        remaining = [logical_id for logical_id in remaining if logical_id not in done]
    return order


class Deployer:
    """Creates one stack's resources through the service APIs, in dependency order.

    The creators in resources/ call the APIs through call(), name resources with name_for() and
    arn(), and record what the in-process runtime needs in functions, layer_dirs and state_machines.
    """

    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        region: str,
        account_id: str,
        parameters: dict[str, str],
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.partition = partition_for(region)
        self.pseudo = pseudo_parameters(stack_name, region, account_id)
        self.declarations = template.get("Parameters", {})
        self.parameters = parameters
        self.refs: dict[str, Any] = {}
        self.attributes: dict[tuple[str, str], Any] = {}
        self.unavailable: dict[str, str] = {}
        self.resolver = IntrinsicResolver(
            typed_parameters(self.declarations, parameters),
            conditions=template.get("Conditions", {}),
            mappings=template.get("Mappings", {}),
            pseudo=self.pseudo,
            refs=self.refs,
            attributes=self.attributes,
            unavailable=self.unavailable,
        )
        self.clients: dict[str, Any] = {}
        self.skipped: list[tuple[str, str]] = []
        self.created: dict[str, str] = {}  # logical id -> type
        self.functions: dict[str, DeployedFunction] = {}
        self.layer_dirs: dict[str, Path] = {}  # layer version ARN -> local folder
        self.state_machines: dict[str, tuple[str, dict]] = {}
        self.conditions: dict[str, bool] = {}

    # -- plumbing -------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """The deployment's boto3 client for a service (one per service, in the stack's region)."""
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=self.region)
        return self.clients[service]

    def call(self, service: str, method: str, **params: Any) -> dict[str, Any]:
        """Call an API with the values coerced to its input shape and None values left out."""
        client = self.client(service)
        operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method])
        params = {key: value for key, value in params.items() if value is not None}
        return getattr(client, method)(**coerce_to_shape(operation.input_shape, params))

    def name_for(self, logical_id: str, explicit: Any, max_length: int, *, with_stack: bool = True) -> str:
        """The resource's explicit name if the template gives one, else the one CloudFormation generates."""
        if explicit:
            return scalar_str(explicit, f"{logical_id} name")
        return physical_name(self.stack_name, logical_id, max_length, with_stack=with_stack)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """An ARN in the stack's partition, region and account (either left empty where the service does)."""
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    # -- the stack ------------------------------------------------------------------------------

    def deploy(self) -> None:
        resources = self.template["Resources"]
        self.conditions = {name: self.resolver.condition(name) for name in self.template.get("Conditions", {})}
        for logical_id in _creation_order(resources):
            resource = resources[logical_id]
            resource_type = resource.get("Type", "")
            condition = resource.get("Condition")
            if condition is not None and not self.resolver.condition(condition):
                self.unavailable[logical_id] = f"resource {logical_id} is not created (condition {condition} is false)"
                continue
            creator = CREATORS.get(resource_type)
            if creator is None:
                self.skipped.append((logical_id, resource_type))
                self.unavailable[logical_id] = f"{resource_type} {logical_id} is not emulated by the embedded AWS"
                continue
            try:
                properties = self.resolver.resolve(resource.get("Properties", {}))
                physical_id, attributes = creator(self, logical_id, properties, resource)
            except Exception as e:
                # Annotate rather than wrap: the caller still sees moto's / botocore's own error.
                e.add_note(f"while creating {logical_id} ({resource_type}) of stack {self.stack_name}")
                raise
            self.refs[logical_id] = physical_id
            self.attributes.update({(logical_id, name): value for name, value in attributes.items()})
            self.created[logical_id] = resource_type

    def outputs(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, output in self.template.get("Outputs", {}).items():
            condition = output.get("Condition")
            if condition is not None and not self.resolver.condition(condition):
                continue
            value = self.resolver.resolve(output.get("Value"))
            values[name] = (
                ",".join(scalar_str(v) for v in value) if isinstance(value, list) else scalar_str(value, name)
            )
        return values


def deploy_stack(
    template_path: Path,
    stack_name: str = "lambda-autotuner",
    parameters: dict[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> DeployedStack:
    """Deploy a SAM template into the active moto mock, resource by resource, like CloudFormation.

    Must run while `moto.mock_aws(...)` is active. Parameters are validated first (unknown name or a
    value outside the declared constraints: TemplateError, a ValueError), then the template's Rules
    (a failed assertion: TemplateError with its AssertDescription). Resources whose Condition is
    false are not created; resource types the embedded AWS does not emulate are listed in `skipped`.
    An API error while creating a resource propagates unchanged, with a note naming the resource.
    """
    if not mock_is_active():
        raise RuntimeError("deploy_stack creates resources through boto3: call it inside moto.mock_aws()")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack_name):
        raise TemplateError(f"Stack name {stack_name!r} is not a valid CloudFormation stack name")
    template_path = Path(template_path).resolve()
    source = load_template(template_path)
    declarations = source.get("Parameters", {})
    effective = resolve_parameters(declarations, parameters)
    check_rules(source.get("Rules", {}), typed_parameters(declarations, effective))
    served_account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    if served_account != account_id:
        raise ValueError(f"The active mock serves account {served_account}, not {account_id} (see MOTO_ACCOUNT_ID)")

    template = translate_template(template_path, region, effective)
    deployer = Deployer(copy.deepcopy(template), stack_name, region, account_id, effective)
    deployer.deploy()

    state_machine_arn, definition = next(iter(deployer.state_machines.values()), ("", {}))
    return DeployedStack(
        name=stack_name,
        region=region,
        account_id=account_id,
        parameters=effective,
        resources={logical_id: scalar_str(deployer.refs[logical_id]) for logical_id in deployer.created},
        outputs=deployer.outputs(),
        functions=deployer.functions,
        state_machine_arn=state_machine_arn,
        state_machine_definition=definition,
        skipped=deployer.skipped,
        stack_id=deployer.pseudo["AWS::StackId"],
        resource_types={
            **deployer.created,
            **dict(deployer.skipped),
        },
        conditions=deployer.conditions,
        state_machines={logical_id: arn for logical_id, (arn, _) in deployer.state_machines.items()},
        template=template,
    )
