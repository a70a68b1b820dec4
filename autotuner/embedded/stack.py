"""Deploy template.yaml into the embedded AWS (moto) the way CloudFormation would.

The SAM template is translated with the real SAM translator, its intrinsic functions are resolved
here, and every resource is created through the service APIs (boto3 against moto's backends), in
dependency order. Going through the APIs rather than moto's own CloudFormation matters: moto keeps
CloudFormation-created state machines in a backend that cannot execute them, and the APIs validate
what we send the way AWS would.

Usage (a moto mock must be active)::

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stack = deploy_stack(Path("template.yaml"))
        stack.functions["RecordResultFunction"].environment["RUN_HISTORY_TABLE"]
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from autotuner_core.models import partition_for

__all__ = [
    "ARTIFACT_BUCKET",
    "ASSET_PATH_KEY",
    "NO_VALUE",
    "DeployedFunction",
    "DeployedStack",
    "IntrinsicResolver",
    "TemplateError",
    "deploy_stack",
    "physical_name",
    "pseudo_parameters",
    "resolve_parameters",
    "translate_template",
]

# Local code folders are handed to the translator as objects of this (never created) bucket: the
# translator only accepts S3 locations, and the embedded runtime reads the folder, not the object.
ARTIFACT_BUCKET = "embedded-artifacts"
# Metadata key recording a resource's local folder or file (the convention the CDK uses for assets).
ASSET_PATH_KEY = "aws:asset:path"

# Placeholder deployment package: moto needs a zip, the embedded runtime runs code_dir in-process.
_PLACEHOLDER_FILE = "EMBEDDED_PLACEHOLDER.txt"


class TemplateError(ValueError):
    """The template (or a parameter value) cannot be deployed as written."""


class _NoValue:
    """Type of NO_VALUE: what `Ref: AWS::NoValue` resolves to before its key or item is removed."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE = _NoValue()


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


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


def _name_suffix(stack_name: str, logical_id: str) -> str:
    # CloudFormation appends a random suffix; a hash keeps redeployments in a fresh mock identical.
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    return base64.b32encode(digest).decode()[:12]


def physical_name(stack_name: str, logical_id: str, max_length: int = 64, *, with_stack: bool = True) -> str:
    """Name CloudFormation would generate for a resource without an explicit name.

    `{stack}-{LogicalId}-{SUFFIX}` (or `{LogicalId}-{SUFFIX}`), with the stack name and logical id
    shortened, each keeping a part, when the whole would exceed `max_length`.
    """
    suffix = _name_suffix(stack_name, logical_id)
    if not with_stack:
        return f"{logical_id[: max_length - len(suffix) - 1]}-{suffix}"
    room = max_length - len(suffix) - 2  # two dashes
    stack_part, id_part = stack_name, logical_id
    if len(stack_part) + len(id_part) > room:
        stack_part = stack_part[: max(room // 2, room - len(id_part))]
        id_part = id_part[: room - len(stack_part)]
    return f"{stack_part}-{id_part}-{suffix}"


def pseudo_parameters(stack_name: str, region: str, account_id: str) -> dict[str, Any]:
    """Values of the AWS:: pseudo parameters for a stack (AWS::NoValue is handled by the resolver)."""
    partition = partition_for(region)
    stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"{partition}/{region}/{account_id}/{stack_name}")
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
        "AWS::StackName": stack_name,
        "AWS::StackId": (f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}"),
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


# ---------------------------------------------------------------------------------------------
# Intrinsic functions
# ---------------------------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or")


def _scalar_str(value: Any, what: str = "value") -> str:
    """String form CloudFormation gives a scalar (numbers as written, booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TemplateError(f"{what} must be a string or number, got {type(value).__name__}: {value!r}")


def _intrinsic(node: Any) -> tuple[str, Any] | None:
    """(function name, argument) when node is an intrinsic function call, else None."""
    if isinstance(node, dict) and len(node) == 1:
        key, arg = next(iter(node.items()))
        if key == "Ref" or key.startswith("Fn::"):
            return key, arg
    return None


def _split_get_att(arg: Any) -> tuple[str, str]:
    if isinstance(arg, str) and "." in arg:
        logical_id, attribute = arg.split(".", 1)
        return logical_id, attribute
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        return arg[0], arg[1]
    raise TemplateError(f"Fn::GetAtt needs [LogicalId, Attribute] or 'LogicalId.Attribute', got {arg!r}")


class IntrinsicResolver:
    """Resolves CloudFormation intrinsic functions against parameters and deployed resources.

    `refs` (logical id -> Ref value) and `attributes` ((logical id, attribute) -> value) are read at
    resolution time, so the deployer fills them in as it creates resources. `unavailable` maps the
    logical ids that exist in the template but have no value (condition false, not emulated) to the
    reason, for a clear error.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any] | None = None,
        *,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
        pseudo: Mapping[str, Any] | None = None,
        refs: Mapping[str, Any] | None = None,
        attributes: Mapping[tuple[str, str], Any] | None = None,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self.parameters = parameters if parameters is not None else {}
        self.condition_definitions = conditions if conditions is not None else {}
        self.mappings = mappings if mappings is not None else {}
        self.pseudo = pseudo if pseudo is not None else pseudo_parameters("stack", "us-east-1", "123456789012")
        self.refs = refs if refs is not None else {}
        self.attributes = attributes if attributes is not None else {}
        self.unavailable = unavailable if unavailable is not None else {}
        self._condition_values: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # -- conditions -----------------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        """Value of the named template condition (evaluated once, cycles rejected)."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.condition_definitions:
            raise TemplateError(f"Unknown condition {name!r}")
        if name in self._evaluating:
            raise TemplateError(f"Condition {name!r} refers to itself")
        self._evaluating.add(name)
        try:
            value = self._condition_expression(self.condition_definitions[name])
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    def _condition_expression(self, node: Any) -> bool:
        if isinstance(node, dict) and len(node) == 1 and "Condition" in node:
            return self.condition(node["Condition"])
        call = _intrinsic(node)
        if call is None or call[0] not in _CONDITION_FUNCTIONS:
            raise TemplateError(f"A condition must be Fn::Equals/Not/And/Or or Condition, got {node!r}")
        return bool(self.resolve(node))

    # -- values ---------------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Resolve every intrinsic function in node; AWS::NoValue removes its key or list item.

        Returns NO_VALUE when node itself resolves to AWS::NoValue.
        """
        call = _intrinsic(node)
        if call is not None:
            return self._call(*call)
        if isinstance(node, dict):
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not NO_VALUE}
        if isinstance(node, list):
            return [item for item in (self.resolve(value) for value in node) if item is not NO_VALUE]
        return node

    def ref(self, name: str) -> Any:
        """Value of `Ref: name`: a pseudo parameter, a parameter or a deployed resource's physical id."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.unavailable:
            raise TemplateError(f"Ref {name}: {self.unavailable[name]}")
        raise TemplateError(f"Ref to unknown parameter or resource {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Value of `Fn::GetAtt: [logical_id, attribute]` of a deployed resource."""
        key = (logical_id, attribute)
        if key in self.attributes:
            return self.attributes[key]
        if logical_id in self.unavailable:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: {self.unavailable[logical_id]}")
        if logical_id in self.refs:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: attribute not available")
        raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id!r}")

    def _call(self, name: str, arg: Any) -> Any:
        handler = self._functions.get(name)
        if handler is None:
            raise TemplateError(f"Intrinsic function {name} is not supported by the embedded deployer")
        return handler(self, arg)

    def _fn_ref(self, arg: Any) -> Any:
        if not isinstance(arg, str):
            raise TemplateError(f"Ref needs a name, got {arg!r}")
        return self.ref(arg)

    def _fn_get_att(self, arg: Any) -> Any:
        logical_id, attribute = _split_get_att(arg)
        return self.get_att(logical_id, _scalar_str(self.resolve(attribute), "Fn::GetAtt attribute"))

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            text, variables = arg[0], {key: self.resolve(value) for key, value in arg[1].items()}
        else:
            raise TemplateError(f"Fn::Sub needs a string or [string, {{variables}}], got {arg!r}")
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub template must be a string, got {text!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stands for the text ${Literal}
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            return _scalar_str(value, f"Fn::Sub variable ${{{name}}}")

        return _SUB_VARIABLE.sub(replace, text)

    def _list_argument(self, value: Any, what: str) -> list:
        resolved = self.resolve(value)
        if not isinstance(resolved, list):
            raise TemplateError(f"{what} needs a list, got {resolved!r}")
        return resolved

    def _fn_join(self, arg: Any) -> str:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Join needs [delimiter, [values]], got {arg!r}")
        delimiter = _scalar_str(self.resolve(arg[0]), "Fn::Join delimiter")
        values = self._list_argument(arg[1], "Fn::Join")
        return delimiter.join(_scalar_str(value, "Fn::Join item") for value in values)

    def _fn_select(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Select needs [index, [values]], got {arg!r}")
        index_text = _scalar_str(self.resolve(arg[0]), "Fn::Select index")
        if not index_text.isdigit():
            raise TemplateError(f"Fn::Select index must be a non-negative integer, got {index_text!r}")
        values = self._list_argument(arg[1], "Fn::Select")
        index = int(index_text)
        if index >= len(values):
            raise TemplateError(f"Fn::Select index {index} is out of range for {len(values)} values")
        return values[index]

    def _fn_split(self, arg: Any) -> list[str]:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Split needs [delimiter, string], got {arg!r}")
        delimiter = _scalar_str(self.resolve(arg[0]), "Fn::Split delimiter")
        source = _scalar_str(self.resolve(arg[1]), "Fn::Split source")
        return source.split(delimiter)

    def _fn_if(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise TemplateError(f"Fn::If needs [condition, value_if_true, value_if_false], got {arg!r}")
        # Only the chosen branch is resolved: the other may name a resource whose condition is false.
        return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

    def _fn_equals(self, arg: Any) -> bool:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Equals needs two values, got {arg!r}")
        left, right = (self.resolve(value) for value in arg)
        if isinstance(left, (list, dict)) or isinstance(right, (list, dict)):
            return left == right
        return _scalar_str(left) == _scalar_str(right)

    def _conditions_list(self, arg: Any, name: str, minimum: int) -> list[bool]:
        if not (isinstance(arg, list) and minimum <= len(arg) <= 10):
            raise TemplateError(f"{name} needs {minimum} to 10 conditions, got {arg!r}")
        return [self._condition_expression(item) for item in arg]

    def _fn_not(self, arg: Any) -> bool:
        return not self._conditions_list(arg, "Fn::Not", 1)[0]

    def _fn_and(self, arg: Any) -> bool:
        return all(self._conditions_list(arg, "Fn::And", 2))

    def _fn_or(self, arg: Any) -> bool:
        return any(self._conditions_list(arg, "Fn::Or", 2))

    def _fn_get_azs(self, arg: Any) -> list[str]:
        region = _scalar_str(self.resolve(arg), "Fn::GetAZs region") or self.pseudo["AWS::Region"]
        return [f"{region}{letter}" for letter in "abc"]

    def _fn_find_in_map(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3):
            raise TemplateError(f"Fn::FindInMap needs [map, top key, second key], got {arg!r}")
        map_name, top, second = (_scalar_str(self.resolve(value), "Fn::FindInMap key") for value in arg)
        try:
            return self.mappings[map_name][top][second]
        except KeyError as e:
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top}/{second} in Mappings") from e

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(_scalar_str(self.resolve(arg), "Fn::Base64").encode()).decode()

    def _fn_to_json_string(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))

    def _fn_length(self, arg: Any) -> int:
        return len(self._list_argument(arg, "Fn::Length"))

    _functions: dict[str, Callable[[IntrinsicResolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::Length": _fn_length,
    }


def _references(node: Any) -> set[str]:
    """Names a template fragment refers to through Ref, Fn::GetAtt and Fn::Sub."""
    found: set[str] = set()
    call = _intrinsic(node)
    if call is not None:
        name, arg = call
        if name == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif name == "Fn::GetAtt":
            found.add(_split_get_att(arg)[0])
        elif name == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for variable in _SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
                if not variable.startswith("!") and variable.strip() not in variables:
                    found.add(variable.strip().split(".", 1)[0])
            found |= _references(variables)
            return found
    if isinstance(node, dict):
        for value in node.values():
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def _creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids in an order where each resource comes after those it refers to or depends on."""
    dependencies: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        unknown = [name for name in depends_on if name not in resources]
        if unknown:
            raise TemplateError(f"{logical_id}: DependsOn names unknown resources {unknown}")
        referred = _references(resource.get("Properties", {})) & resources.keys()
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


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def _is_list_type(parameter_type: str) -> bool:
    return parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<")


def _check_number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise TemplateError(f"Parameter {name}: {text!r} is not a number") from None


def _check_parameter(name: str, declaration: Mapping[str, Any], value: str) -> None:
    parameter_type = str(declaration.get("Type", "String"))
    hint = f" ({declaration['ConstraintDescription']})" if declaration.get("ConstraintDescription") else ""
    items = value.split(",") if _is_list_type(parameter_type) else [value]
    numeric = parameter_type in ("Number", "List<Number>")
    allowed = declaration.get("AllowedValues")
    for item in items:
        number = _check_number(name, item) if numeric else None
        if allowed is not None:
            if numeric:
                ok = any(_check_number(name, _scalar_str(a)) == number for a in allowed)
            else:
                ok = item in [_scalar_str(a) for a in allowed]
            if not ok:
                shown = ", ".join(_scalar_str(a) for a in allowed)
                raise TemplateError(f"Parameter {name}: {item!r} is not one of the allowed values [{shown}]{hint}")
        pattern = declaration.get("AllowedPattern")
        if pattern is not None and not numeric and re.fullmatch(str(pattern), item) is None:
            raise TemplateError(f"Parameter {name}: {item!r} does not match AllowedPattern {pattern!r}{hint}")
        if number is not None:
            low, high = declaration.get("MinValue"), declaration.get("MaxValue")
            if low is not None and number < float(low):
                raise TemplateError(f"Parameter {name}: {item} is below MinValue {low}{hint}")
            if high is not None and number > float(high):
                raise TemplateError(f"Parameter {name}: {item} is above MaxValue {high}{hint}")
    if not numeric and not _is_list_type(parameter_type):
        shortest, longest = declaration.get("MinLength"), declaration.get("MaxLength")
        if shortest is not None and len(value) < int(shortest):
            raise TemplateError(f"Parameter {name}: {value!r} is shorter than MinLength {shortest}{hint}")
        if longest is not None and len(value) > int(longest):
            raise TemplateError(f"Parameter {name}: {value!r} is longer than MaxLength {longest}{hint}")


def resolve_parameters(declarations: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Effective parameter values: the defaults, then the overrides, each checked like CloudFormation.

    Raises TemplateError (a ValueError) for an unknown name, a missing value or a value that breaks
    AllowedValues, AllowedPattern, MinValue/MaxValue or MinLength/MaxLength.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declarations))
    if unknown:
        raise TemplateError(
            f"Unknown parameter(s) {', '.join(unknown)}; the template declares {', '.join(declarations)}"
        )
    values: dict[str, str] = {}
    for name, declaration in declarations.items():
        parameter_type = str(declaration.get("Type", "String"))
        if parameter_type.startswith("AWS::SSM::Parameter"):
            raise TemplateError(f"Parameter {name}: type {parameter_type} is not supported by the embedded AWS")
        if name in overrides:
            raw = overrides[name]
        elif "Default" in declaration:
            raw = declaration["Default"]
        else:
            raise TemplateError(f"Parameter {name} has no default and no value was given")
        value = ",".join(_scalar_str(v) for v in raw) if isinstance(raw, list) else _scalar_str(raw, name)
        _check_parameter(name, declaration, value)
        values[name] = value
    return values


def _typed_parameters(declarations: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    # What Ref returns: list types are lists, everything else (numbers too) is a string.
    return {
        name: value.split(",") if _is_list_type(str(declarations[name].get("Type", "String"))) else value
        for name, value in values.items()
    }


# ---------------------------------------------------------------------------------------------
# Translation
# ---------------------------------------------------------------------------------------------


@functools.cache
def _moto_managed_policies() -> dict[str, dict[str, Any]]:
    # moto's copy of the AWS managed policies; parsing it takes ~0.6 s, so only on demand, once.
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


class _ManagedPolicyLoader:
    """Managed-policy loader for the translator: names -> ARNs from moto's copy, not from IAM."""

    def __init__(self, partition: str) -> None:
        self.partition = partition

    def load(self) -> dict[str, str]:
        return {
            name: f"arn:{self.partition}:iam::aws:policy{data.get('Path', '/')}{name}"
            for name, data in _moto_managed_policies().items()
        }


@contextmanager
def _default_region(region: str) -> Iterator[None]:
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


def _load_template(template_path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse  # understands !Ref, !Sub and friends

    template = yaml_parse(template_path.read_text(encoding="utf-8"))
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{template_path} is not a template with Resources")
    return template


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and "://" not in uri


# (resource type, property holding a local path, S3 form the translator/CloudFormation expects)
_LOCAL_ARTIFACT_PROPERTIES = (
    ("AWS::Serverless::Function", "CodeUri", "uri"),
    ("AWS::Serverless::LayerVersion", "ContentUri", "uri"),
    ("AWS::Serverless::StateMachine", "DefinitionUri", "uri"),
    ("AWS::Lambda::Function", "Code", "S3Bucket/S3Key"),
    ("AWS::Lambda::LayerVersion", "Content", "S3Bucket/S3Key"),
    ("AWS::StepFunctions::StateMachine", "DefinitionS3Location", "Bucket/Key"),
)


def _replace_local_artifacts(template: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Point local CodeUri/ContentUri/DefinitionUri at the artifact bucket; return S3 key -> local path."""
    local: dict[str, Path] = {}

    def to_s3(value: str) -> Any:
        path = (base_dir / value).resolve()
        try:
            key = path.relative_to(base_dir.resolve()).as_posix()
        except ValueError:  # outside the template's folder: still a unique key
            key = path.as_posix().lstrip("/")
        local[key] = path
        return key

    for resource in template["Resources"].values():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(properties, dict):
            continue
        for resource_type, prop, form in _LOCAL_ARTIFACT_PROPERTIES:
            if resource.get("Type") == resource_type and _is_local(properties.get(prop)):
                key = to_s3(properties[prop])
                if form == "uri":
                    properties[prop] = f"s3://{ARTIFACT_BUCKET}/{key}"
                elif form == "S3Bucket/S3Key":
                    properties[prop] = {"S3Bucket": ARTIFACT_BUCKET, "S3Key": key}
                else:
                    properties[prop] = {"Bucket": ARTIFACT_BUCKET, "Key": key}
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals, dict) and _is_local(function_globals.get("CodeUri")):
        function_globals["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{to_s3(function_globals['CodeUri'])}"
    return local


def _attach_local_artifacts(template: dict[str, Any], local: Mapping[str, Path]) -> None:
    """Record each resource's local folder in its Metadata and inline local state machine definitions."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        location = properties.get("Code") or properties.get("Content") or {}
        if location.get("S3Bucket") == ARTIFACT_BUCKET:
            resource.setdefault("Metadata", {})[ASSET_PATH_KEY] = str(local[location["S3Key"]])
        definition = properties.get("DefinitionS3Location") or {}
        if resource.get("Type") == "AWS::StepFunctions::StateMachine" and definition.get("Bucket") == ARTIFACT_BUCKET:
            path = local[definition["Key"]]
            if not path.is_file():
                raise TemplateError(f"{logical_id}: definition file {path} does not exist")
            # The file's own text, so the deployed definition reads exactly like the file.
            properties["DefinitionString"] = path.read_text(encoding="utf-8")
            del properties["DefinitionS3Location"]
            resource.setdefault("Metadata", {})[ASSET_PATH_KEY] = str(path)


def translate_template(template_path: Path, region: str, parameters: Mapping[str, str] | None = None) -> dict:
    """Translate a SAM template to CloudFormation, offline, as `sam deploy` would have it transformed.

    Local CodeUri/ContentUri folders become `s3://embedded-artifacts/<relative path>` and their absolute
    path is recorded in the resource's Metadata under `aws:asset:path`; a local DefinitionUri file is
    inlined as DefinitionString (DefinitionSubstitutions are kept for deployment). A template without a
    SAM Transform is returned with the same local-path handling only.
    """
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    template_path = Path(template_path).resolve()
    template = _load_template(template_path)
    local = _replace_local_artifacts(template, template_path.parent)
    transforms = template.get("Transform", [])
    transforms = [transforms] if isinstance(transforms, str) else transforms
    if any(str(name).startswith("AWS::Serverless") for name in transforms):
        declarations = template.get("Parameters", {})
        parameter_values: dict[str, Any] = dict(resolve_parameters(declarations, parameters))
        parameter_values.update({"AWS::Region": region, "AWS::Partition": partition_for(region)})
        to_py27_compatible_template(template, parameter_values)
        with _default_region(region):
            translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
            try:
                template = translator.translate(
                    template,
                    parameter_values=parameter_values,
                    get_managed_policy_map=_ManagedPolicyLoader(partition_for(region)).load,
                )
            except InvalidDocumentException as e:
                causes = "; ".join(cause.message for cause in e.causes)
                raise TemplateError(f"SAM translation of {template_path} failed: {causes}") from e
            finally:
                # Its offline publisher discards them; unpublished ones would log a warning at exit.
                translator.metrics.publish()
        template = undo_mark_unicode_str_in_template(template)
    _attach_local_artifacts(template, local)
    return template


# ---------------------------------------------------------------------------------------------
# Deployment
# ---------------------------------------------------------------------------------------------


@functools.cache
def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_PLACEHOLDER_FILE, "Code runs in-process from the local folder (embedded AWS).\n")
    return buffer.getvalue()


def _inline_code_zip(source: str, runtime: str) -> bytes:
    # CloudFormation stores ZipFile code as index.<ext> for the interpreted runtimes.
    extension = "js" if runtime.startswith("nodejs") else "py"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"index.{extension}", source)
    return buffer.getvalue()


def _coerce(shape: Any, value: Any) -> Any:
    """Convert resolved template values (numbers from Ref are strings) to what the API shape wants."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {key: _coerce(members[key], item) if key in members else item for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_coerce(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _coerce(shape.value, item) for key, item in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return int(float(value)) if value.strip() else value
    if kind in ("double", "float") and isinstance(value, (str, int)) and not isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, (int, float)):
        return _scalar_str(value)
    return value


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {key: _scalar_str(value) for key, value in tags.items()}
    return {tag["Key"]: _scalar_str(tag["Value"]) for tag in tags or []}


def _json_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _policy_text(document: Any) -> str:
    """A policy document as IAM receives it, with the Version moto insists on.

    IAM accepts a document without Version (SAM writes its policy templates and `Policies:
    - Statement:` that way) and reads it as 2008-10-17; moto rejects anything but 2012-10-17. The
    two versions differ only in policy variables, which 2008-10-17 leaves as literal text.
    """
    if isinstance(document, str):
        document = json.loads(document)
    if isinstance(document, dict) and "Version" not in document:
        document = {"Version": "2012-10-17", **document}
    return json.dumps(document)


def _attribute_texts(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    """SNS and SQS attributes are strings: documents as JSON text, scalars as text."""
    return {
        key: _json_text(props[key]) if isinstance(props[key], (dict, list)) else _scalar_str(props[key])
        for key in keys
        if key in props
    }


def _pick(properties: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


def _substitute_definition(text: str, substitutions: Mapping[str, Any], logical_id: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in substitutions:
            return _scalar_str(substitutions[name], f"DefinitionSubstitutions {name}")
        return match.group(0)

    resolved = _SUB_VARIABLE.sub(replace, text)
    # A placeholder left over would reach the interpreter as a literal ARN: refuse it here instead.
    unresolved = sorted(set(re.findall(r"\$\{([A-Za-z0-9_.:-]+)\}", resolved)))
    if unresolved:
        raise TemplateError(f"{logical_id}: definition placeholders without DefinitionSubstitutions: {unresolved}")
    return resolved


def _mock_is_active() -> bool | None:
    try:
        from moto.core.models import MockAWS
    except ImportError:  # no moto: nothing to check against
        return None
    # A private flag; if moto renames it, skip the check rather than refuse to deploy.
    return getattr(MockAWS, "_mocks_active", None)


class _Deployer:
    """Creates one stack's resources through the service APIs, in dependency order."""

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
            _typed_parameters(self.declarations, parameters),
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
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=self.region)
        return self.clients[service]

    def call(self, service: str, method: str, **params: Any) -> dict[str, Any]:
        """Call an API with the values coerced to its input shape and None values left out."""
        client = self.client(service)
        operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method])
        params = {key: value for key, value in params.items() if value is not None}
        return getattr(client, method)(**_coerce(operation.input_shape, params))

    def name_for(self, logical_id: str, explicit: Any, max_length: int, *, with_stack: bool = True) -> str:
        if explicit:
            return _scalar_str(explicit, f"{logical_id} name")
        return physical_name(self.stack_name, logical_id, max_length, with_stack=with_stack)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
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
            creator = self._creators.get(resource_type)
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
                ",".join(_scalar_str(v) for v in value) if isinstance(value, list) else _scalar_str(value, name)
            )
        return values

    # -- IAM ------------------------------------------------------------------------------------

    def _ensure_aws_managed_policy(self, policy_arn: str) -> None:
        """Make an AWS managed policy attachable in moto even when it was not told to load them.

        moto loads its copy of the AWS managed policies only with `iam.load_aws_managed_policies`;
        in AWS they always exist, so a deployment must not depend on that setting.
        """
        match = re.fullmatch(r"arn:([\w-]+):iam::aws:policy(/(?:[^/]+/)*)([^/]+)", policy_arn)
        if match is None:
            return  # a customer managed policy: it must exist already, as in AWS
        from moto.iam.models import AWSManagedPolicy, iam_backends

        backend = iam_backends[self.account_id][match.group(1)]
        if policy_arn in backend.managed_policies:
            return
        data = _moto_managed_policies().get(match.group(3))
        if data is None or data.get("Path", "/") != match.group(2):
            raise TemplateError(f"{policy_arn} is not an AWS managed policy known to the embedded AWS")
        policy = AWSManagedPolicy.from_data(match.group(3), self.account_id, backend.region_name, data)
        backend.managed_policies[policy.arn] = policy
        backend.aws_managed_policies.append(policy)

    def _create_role(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("RoleName"), 64)
        if props.get("PermissionsBoundary"):
            self._ensure_aws_managed_policy(props["PermissionsBoundary"])
        role = self.call(
            "iam",
            "create_role",
            RoleName=name,
            AssumeRolePolicyDocument=_json_text(props["AssumeRolePolicyDocument"]),
            Path=props.get("Path"),
            Description=props.get("Description"),
            MaxSessionDuration=props.get("MaxSessionDuration"),
            PermissionsBoundary=props.get("PermissionsBoundary"),
            Tags=props.get("Tags") or None,
        )["Role"]
        for policy in props.get("Policies", []):
            self.call(
                "iam",
                "put_role_policy",
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=_policy_text(policy["PolicyDocument"]),
            )
        for policy_arn in props.get("ManagedPolicyArns", []):
            self._ensure_aws_managed_policy(policy_arn)
            self.call("iam", "attach_role_policy", RoleName=name, PolicyArn=policy_arn)
        return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def _attach_to_principals(self, props: dict, policy_arn: str) -> None:
        for role in props.get("Roles", []):
            self.call("iam", "attach_role_policy", RoleName=role, PolicyArn=policy_arn)
        for user in props.get("Users", []):
            self.call("iam", "attach_user_policy", UserName=user, PolicyArn=policy_arn)
        for group in props.get("Groups", []):
            self.call("iam", "attach_group_policy", GroupName=group, PolicyArn=policy_arn)

    def _create_managed_policy(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("ManagedPolicyName"), 128)
        policy = self.call(
            "iam",
            "create_policy",
            PolicyName=name,
            Path=props.get("Path"),
            PolicyDocument=_policy_text(props["PolicyDocument"]),
            Description=props.get("Description"),
        )["Policy"]
        self._attach_to_principals(props, policy["Arn"])
        return policy["Arn"], {"PolicyArn": policy["Arn"], "PolicyId": policy["PolicyId"]}

    def _create_inline_policy(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        # AWS::IAM::Policy / AWS::IAM::RolePolicy: one inline policy put on each principal.
        document = _policy_text(props["PolicyDocument"])
        roles = props.get("Roles", []) + ([props["RoleName"]] if "RoleName" in props else [])
        for role in roles:
            self.call(
                "iam",
                "put_role_policy",
                RoleName=role,
                PolicyName=props["PolicyName"],
                PolicyDocument=document,
            )
        for user in props.get("Users", []):
            self.call(
                "iam",
                "put_user_policy",
                UserName=user,
                PolicyName=props["PolicyName"],
                PolicyDocument=document,
            )
        for group in props.get("Groups", []):
            self.call(
                "iam",
                "put_group_policy",
                GroupName=group,
                PolicyName=props["PolicyName"],
                PolicyDocument=document,
            )
        return physical_name(self.stack_name, logical_id, 128), {}

    # -- Lambda ---------------------------------------------------------------------------------

    def _create_layer_version(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        layer = self.call(
            "lambda",
            "publish_layer_version",
            LayerName=self.name_for(logical_id, props.get("LayerName"), 140),
            Description=props.get("Description"),
            Content={"ZipFile": _placeholder_zip()},
            CompatibleRuntimes=props.get("CompatibleRuntimes"),
            CompatibleArchitectures=props.get("CompatibleArchitectures"),
            LicenseInfo=props.get("LicenseInfo"),
        )
        asset = resource.get("Metadata", {}).get(ASSET_PATH_KEY)
        if asset:
            self.layer_dirs[layer["LayerVersionArn"]] = Path(asset)
        return layer["LayerVersionArn"], {"LayerVersionArn": layer["LayerVersionArn"]}

    def _create_function(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("FunctionName"), 64)
        runtime = _scalar_str(props.get("Runtime", ""))
        code = props.get("Code", {})
        if "ZipFile" in code:
            package = {"ZipFile": _inline_code_zip(code["ZipFile"], runtime)}
        elif "ImageUri" in code:
            package = {"ImageUri": code["ImageUri"]}
        else:
            package = {"ZipFile": _placeholder_zip()}
        environment = {
            key: _scalar_str(value, f"environment variable {key}")
            for key, value in props.get("Environment", {}).get("Variables", {}).items()
        }
        # CloudFormation tags every resource it creates with its stack and logical id.
        tags = {
            **_tag_dict(props.get("Tags")),
            "aws:cloudformation:stack-name": self.stack_name,
            "aws:cloudformation:stack-id": self.pseudo["AWS::StackId"],
            "aws:cloudformation:logical-id": logical_id,
        }
        logging_config = {key: _scalar_str(value) for key, value in props.get("LoggingConfig", {}).items()}
        function = self.call(
            "lambda",
            "create_function",
            FunctionName=name,
            Code=package,
            Environment={"Variables": environment} if "Environment" in props else None,
            Tags=tags,
            KMSKeyArn=props.get("KmsKeyArn"),
            LoggingConfig=logging_config or None,
            **_pick(
                props,
                "Runtime",
                "Handler",
                "Role",
                "Description",
                "MemorySize",
                "Timeout",
                "Layers",
                "Architectures",
                "TracingConfig",
                "EphemeralStorage",
                "DeadLetterConfig",
                "VpcConfig",
                "FileSystemConfigs",
                "ImageConfig",
                "PackageType",
                "SnapStart",
            ),
        )
        if "ReservedConcurrentExecutions" in props:
            self.call(
                "lambda",
                "put_function_concurrency",
                FunctionName=name,
                ReservedConcurrentExecutions=props["ReservedConcurrentExecutions"],
            )
        asset = resource.get("Metadata", {}).get(ASSET_PATH_KEY)
        layers = tuple(props.get("Layers", []))
        self.functions[logical_id] = DeployedFunction(
            logical_id=logical_id,
            name=name,
            arn=function["FunctionArn"],
            code_dir=Path(asset) if asset else Path(),
            handler=_scalar_str(props.get("Handler", "")),
            environment=environment,
            role_arn=function["Role"],
            memory_size=function["MemorySize"],
            timeout=function["Timeout"],
            runtime=runtime,
            architectures=tuple(function.get("Architectures", ["x86_64"])),
            layers=layers,
            layer_dirs=tuple(self.layer_dirs[arn] for arn in layers if arn in self.layer_dirs),
            tracing_mode=function.get("TracingConfig", {}).get("Mode", "PassThrough"),
            logging_config=logging_config,
            ephemeral_storage_mb=function.get("EphemeralStorage", {}).get("Size", 512),
            tags=tags,
        )
        return name, {"Arn": function["FunctionArn"]}

    # -- logs, data, messaging ------------------------------------------------------------------

    def _create_log_group(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("LogGroupName"), 512)
        self.call(
            "logs",
            "create_log_group",
            logGroupName=name,
            kmsKeyId=props.get("KmsKeyId"),
            tags=_tag_dict(props.get("Tags")) or None,
            logGroupClass=props.get("LogGroupClass"),
        )
        if "RetentionInDays" in props:
            self.call("logs", "put_retention_policy", logGroupName=name, retentionInDays=props["RetentionInDays"])
        return name, {"Arn": self.arn("logs", f"log-group:{name}:*")}

    def _create_table(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("TableName"), 255)
        # Property names differ between CloudFormation and the DynamoDB API in these few places.
        indexes = [
            _pick(index, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
            for index in props.get("GlobalSecondaryIndexes", [])
        ]
        stream = props.get("StreamSpecification")
        sse = props.get("SSESpecification")
        table = self.call(
            "dynamodb",
            "create_table",
            TableName=name,
            GlobalSecondaryIndexes=indexes or None,
            StreamSpecification={"StreamEnabled": True, **stream} if stream else None,
            SSESpecification=(
                {"Enabled": sse.get("SSEEnabled", False), **_pick(sse, "SSEType", "KMSMasterKeyId")} if sse else None
            ),
            Tags=props.get("Tags") or None,
            **_pick(
                props,
                "AttributeDefinitions",
                "KeySchema",
                "BillingMode",
                "ProvisionedThroughput",
                "LocalSecondaryIndexes",
                "TableClass",
                "DeletionProtectionEnabled",
                "OnDemandThroughput",
            ),
        )["TableDescription"]
        if "PointInTimeRecoverySpecification" in props:
            self.call(
                "dynamodb",
                "update_continuous_backups",
                TableName=name,
                PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"],
            )
        if "TimeToLiveSpecification" in props:
            self.call(
                "dynamodb",
                "update_time_to_live",
                TableName=name,
                TimeToLiveSpecification=props["TimeToLiveSpecification"],
            )
        attributes = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            attributes["StreamArn"] = table["LatestStreamArn"]
        return name, attributes

    def _create_bucket(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        # Bucket names are lowercase, at most 63 characters.
        name = self.name_for(logical_id, props.get("BucketName"), 63).lower()
        region = self.region
        self.call(
            "s3",
            "create_bucket",
            Bucket=name,
            CreateBucketConfiguration=None if region == "us-east-1" else {"LocationConstraint": region},
        )
        if "BucketEncryption" in props:
            self.call(
                "s3",
                "put_bucket_encryption",
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            self.call(
                "s3",
                "put_public_access_block",
                Bucket=name,
                PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
            )
        for rule in (props.get("LifecycleConfiguration") or {}).get("Rules", []):
            self.call(
                "s3",
                "put_bucket_lifecycle_configuration",
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": rule.get("Id", "rule"),
                            "Status": rule["Status"],
                            "Filter": {"Prefix": rule.get("Prefix", "")},
                            "Expiration": {"Days": int(rule["ExpirationInDays"])},
                        }
                    ]
                },
            )
        return name, {
            "Arn": self.arn("s3", name, region=False, account=False),
            "DomainName": f"{name}.s3.amazonaws.com",
        }

    def _create_bucket_policy(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        bucket = _scalar_str(props["Bucket"], "Bucket")
        document = props["PolicyDocument"]
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        # moto applies a bucket policy's statements without their Condition: a TLS-only Deny
        # would refuse every request. Statements with conditions are AWS's to enforce.
        kept = [statement for statement in statements if "Condition" not in statement]
        if kept:
            self.call("s3", "put_bucket_policy", Bucket=bucket, Policy=_json_text({**document, "Statement": kept}))
        return bucket, {}

    def _create_queue(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        fifo = _scalar_str(props.get("FifoQueue", False)) == "true"
        name = props.get("QueueName") or physical_name(self.stack_name, logical_id, 75 if fifo else 80)
        attributes = _attribute_texts(
            props, ("MessageRetentionPeriod", "SqsManagedSseEnabled", "VisibilityTimeout", "FifoQueue")
        )
        url = self.call("sqs", "create_queue", QueueName=name, Attributes=attributes or None)["QueueUrl"]
        arn = self.arn("sqs", name)
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_queue_policy(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        for url in props["Queues"]:
            self.call(
                "sqs",
                "set_queue_attributes",
                QueueUrl=_scalar_str(url),
                Attributes={"Policy": _json_text(props["PolicyDocument"])},
            )
        return logical_id, {}

    def _create_topic(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        fifo = _scalar_str(props.get("FifoTopic", False)) == "true"
        name = props.get("TopicName") or physical_name(self.stack_name, logical_id, 251 if fifo else 256)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = _attribute_texts(
            props,
            (
                "DisplayName",
                "FifoTopic",
                "KmsMasterKeyId",
                "ContentBasedDeduplication",
                "SignatureVersion",
                "TracingConfig",
                "ArchivePolicy",
            ),
        )
        topic_arn = self.call(
            "sns",
            "create_topic",
            Name=name,
            Attributes=attributes or None,
            Tags=props.get("Tags") or None,
            DataProtectionPolicy=_json_text(props["DataProtectionPolicy"]) if "DataProtectionPolicy" in props else None,
        )["TopicArn"]
        for subscription in props.get("Subscription", []):
            self.call(
                "sns",
                "subscribe",
                TopicArn=topic_arn,
                Protocol=subscription["Protocol"],
                Endpoint=subscription["Endpoint"],
            )
        return topic_arn, {"TopicArn": topic_arn, "TopicName": name}

    def _create_subscription(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        attributes = _attribute_texts(
            props, ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")
        )
        subscription_arn = self.call(
            "sns",
            "subscribe",
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint"),
            Attributes=attributes or None,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return subscription_arn, {"Arn": subscription_arn}

    # -- schedules, alarms ----------------------------------------------------------------------

    def _create_rule(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("Name"), 64)
        rule_arn = self.call(
            "events",
            "put_rule",
            Name=name,
            EventPattern=_json_text(props["EventPattern"]) if "EventPattern" in props else None,
            **_pick(props, "ScheduleExpression", "State", "Description", "RoleArn", "EventBusName"),
        )["RuleArn"]
        if props.get("Targets"):
            self.call(
                "events",
                "put_targets",
                Rule=name,
                EventBusName=props.get("EventBusName"),
                Targets=props["Targets"],
            )
        return name, {"Arn": rule_arn}

    def _create_schedule(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("Name"), 64)
        schedule_arn = self.call(
            "scheduler",
            "create_schedule",
            Name=name,
            **_pick(
                props,
                "GroupName",
                "ScheduleExpression",
                "ScheduleExpressionTimezone",
                "FlexibleTimeWindow",
                "Target",
                "State",
                "Description",
                "StartDate",
                "EndDate",
                "KmsKeyArn",
                "ActionAfterCompletion",
            ),
        )["ScheduleArn"]
        return name, {"Arn": schedule_arn}

    def _create_alarm(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("AlarmName"), 255)
        # CloudFormation's Alarm properties are the PutMetricAlarm parameters.
        self.call(
            "cloudwatch",
            "put_metric_alarm",
            AlarmName=name,
            **{k: v for k, v in props.items() if k != "AlarmName"},
        )
        return name, {"Arn": self.arn("cloudwatch", f"alarm:{name}")}

    def _create_dashboard(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        name = self.name_for(logical_id, props.get("DashboardName"), 255)
        self.call(
            "cloudwatch",
            "put_dashboard",
            DashboardName=name,
            DashboardBody=_json_text(props["DashboardBody"]),
        )
        return name, {}

    # -- Step Functions -------------------------------------------------------------------------

    def _create_state_machine(self, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
        # CloudFormation names state machines {LogicalId}-{suffix}, without the stack name.
        name = self.name_for(logical_id, props.get("StateMachineName"), 80, with_stack=False)
        if "DefinitionString" in props:
            text = _scalar_str(props["DefinitionString"], "DefinitionString")
        elif "Definition" in props:
            text = json.dumps(props["Definition"], indent=2)
        else:
            raise TemplateError(f"{logical_id}: no definition (S3 definitions are not emulated)")
        text = _substitute_definition(text, props.get("DefinitionSubstitutions", {}), logical_id)
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as e:
            raise TemplateError(f"{logical_id}: the definition with substitutions is not valid JSON: {e}") from e
        logging = props.get("LoggingConfiguration")
        tracing = props.get("TracingConfiguration")
        encryption = props.get("EncryptionConfiguration")
        state_machine_arn = self.call(
            "stepfunctions",
            "create_state_machine",
            name=name,
            definition=text,
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
            loggingConfiguration=(
                {
                    "level": logging.get("Level", "OFF"),
                    "includeExecutionData": logging.get("IncludeExecutionData", False),
                    "destinations": [
                        {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                        for d in logging.get("Destinations", [])
                    ],
                }
                if logging
                else None
            ),
            tracingConfiguration={"enabled": tracing.get("Enabled", False)} if tracing else None,
            encryptionConfiguration=(
                {
                    key[0].lower() + key[1:]: value
                    for key, value in encryption.items()  # KmsKeyId -> kmsKeyId, Type -> type, ...
                }
                if encryption
                else None
            ),
            tags=[{"key": tag["Key"], "value": _scalar_str(tag["Value"])} for tag in props.get("Tags", [])] or None,
        )["stateMachineArn"]
        self.state_machines[logical_id] = (state_machine_arn, definition)
        return state_machine_arn, {"Arn": state_machine_arn, "Name": name}

    _creators: dict[str, Callable[[_Deployer, str, dict, dict], tuple[str, dict]]] = {
        "AWS::IAM::Role": _create_role,
        "AWS::IAM::ManagedPolicy": _create_managed_policy,
        "AWS::IAM::Policy": _create_inline_policy,
        "AWS::IAM::RolePolicy": _create_inline_policy,
        "AWS::Lambda::LayerVersion": _create_layer_version,
        "AWS::Lambda::Function": _create_function,
        "AWS::Logs::LogGroup": _create_log_group,
        "AWS::DynamoDB::Table": _create_table,
        "AWS::S3::Bucket": _create_bucket,
        "AWS::S3::BucketPolicy": _create_bucket_policy,
        "AWS::SQS::Queue": _create_queue,
        "AWS::SQS::QueuePolicy": _create_queue_policy,
        "AWS::SNS::Topic": _create_topic,
        "AWS::SNS::Subscription": _create_subscription,
        "AWS::Events::Rule": _create_rule,
        "AWS::Scheduler::Schedule": _create_schedule,
        "AWS::CloudWatch::Alarm": _create_alarm,
        "AWS::CloudWatch::Dashboard": _create_dashboard,
        "AWS::StepFunctions::StateMachine": _create_state_machine,
    }


def deploy_stack(
    template_path: Path,
    stack_name: str = "lambda-autotuner",
    parameters: dict[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> DeployedStack:
    """Deploy a SAM template into the active moto mock, resource by resource, like CloudFormation.

    Must run while `moto.mock_aws(...)` is active. Parameters are validated first (unknown name or a
    value outside the declared constraints: TemplateError, a ValueError). Resources whose Condition is
    false are not created; resource types the embedded AWS does not emulate are listed in `skipped`.
    An API error while creating a resource propagates unchanged, with a note naming the resource.
    """
    if _mock_is_active() is False:
        raise RuntimeError("deploy_stack creates resources through boto3: call it inside moto.mock_aws()")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack_name):
        raise TemplateError(f"Stack name {stack_name!r} is not a valid CloudFormation stack name")
    template_path = Path(template_path).resolve()
    declarations = _load_template(template_path).get("Parameters", {})
    effective = resolve_parameters(declarations, parameters)
    served_account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    if served_account != account_id:
        raise ValueError(f"The active mock serves account {served_account}, not {account_id} (see MOTO_ACCOUNT_ID)")

    template = translate_template(template_path, region, effective)
    deployer = _Deployer(copy.deepcopy(template), stack_name, region, account_id, effective)
    deployer.deploy()

    state_machine_arn, definition = next(iter(deployer.state_machines.values()), ("", {}))
    return DeployedStack(
        name=stack_name,
        region=region,
        account_id=account_id,
        parameters=effective,
        resources={logical_id: _scalar_str(deployer.refs[logical_id]) for logical_id in deployer.created},
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
