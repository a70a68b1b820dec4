"""CloudFormation intrinsic functions and conditions, resolved against parameters and deployed resources."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.stack.errors import TemplateError
from emulator.stack.names import pseudo_parameters


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


SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or")


def scalar_str(value: Any, what: str = "value") -> str:
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
        return self.get_att(logical_id, scalar_str(self.resolve(attribute), "Fn::GetAtt attribute"))

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
            return scalar_str(value, f"Fn::Sub variable ${{{name}}}")

        return SUB_VARIABLE.sub(replace, text)

    def _list_argument(self, value: Any, what: str) -> list:
        resolved = self.resolve(value)
        if not isinstance(resolved, list):
            raise TemplateError(f"{what} needs a list, got {resolved!r}")
        return resolved

    def _fn_join(self, arg: Any) -> str:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Join needs [delimiter, [values]], got {arg!r}")
        delimiter = scalar_str(self.resolve(arg[0]), "Fn::Join delimiter")
        values = self._list_argument(arg[1], "Fn::Join")
        return delimiter.join(scalar_str(value, "Fn::Join item") for value in values)

    def _fn_select(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Select needs [index, [values]], got {arg!r}")
        index_text = scalar_str(self.resolve(arg[0]), "Fn::Select index")
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
        delimiter = scalar_str(self.resolve(arg[0]), "Fn::Split delimiter")
        source = scalar_str(self.resolve(arg[1]), "Fn::Split source")
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
        return scalar_str(left) == scalar_str(right)

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
        region = scalar_str(self.resolve(arg), "Fn::GetAZs region") or self.pseudo["AWS::Region"]
        return [f"{region}{letter}" for letter in "abc"]

    def _fn_find_in_map(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3):
            raise TemplateError(f"Fn::FindInMap needs [map, top key, second key], got {arg!r}")
        map_name, top, second = (scalar_str(self.resolve(value), "Fn::FindInMap key") for value in arg)
        try:
            return self.mappings[map_name][top][second]
        except KeyError as e:
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top}/{second} in Mappings") from e

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(scalar_str(self.resolve(arg), "Fn::Base64").encode()).decode()

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


def references(node: Any) -> set[str]:
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
            for variable in SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
                if not variable.startswith("!") and variable.strip() not in variables:
                    found.add(variable.strip().split(".", 1)[0])
            found |= references(variables)
            return found
    if isinstance(node, dict):
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found
