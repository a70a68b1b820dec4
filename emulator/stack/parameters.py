"""Template parameters: effective values checked like CloudFormation, and what Ref returns for them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.stack.errors import TemplateError
from emulator.stack.intrinsics import scalar_str


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
                ok = any(_check_number(name, scalar_str(a)) == number for a in allowed)
            else:
                ok = item in [scalar_str(a) for a in allowed]
            if not ok:
                shown = ", ".join(scalar_str(a) for a in allowed)
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
        value = ",".join(scalar_str(v) for v in raw) if isinstance(raw, list) else scalar_str(raw, name)
        _check_parameter(name, declaration, value)
        values[name] = value
    return values


def typed_parameters(declarations: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    # What Ref returns: list types are lists, everything else (numbers too) is a string.
    return {
        name: value.split(",") if _is_list_type(str(declarations[name].get("Type", "String"))) else value
        for name, value in values.items()
    }
