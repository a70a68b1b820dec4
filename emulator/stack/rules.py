"""Template Rules: parameter assertions CloudFormation checks before it creates anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.stack.errors import TemplateError
from emulator.stack.intrinsics import scalar_str

# The functions a rule may use (CloudFormation user guide, "Rules"); Ref names a parameter.
# Fn::RefAll, Fn::ValueOf and Fn::ValueOfAll read AWS-specific parameter types, which the
# embedded deployer does not support (resolve_parameters refuses SSM types; the rest are
# plain strings here), so a rule using them is refused rather than guessed.
_UNSUPPORTED = ("Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll")


class _RuleEvaluator:
    def __init__(self, rule: str, parameters: Mapping[str, Any]) -> None:
        self.rule = rule
        self.parameters = parameters

    def fail(self, message: str) -> TemplateError:
        return TemplateError(f"Rule {self.rule}: {message}")

    def value(self, node: Any) -> Any:
        """A rule function's result, a parameter's value (lists for list types) or a literal."""
        if isinstance(node, dict) and len(node) == 1:
            name, arg = next(iter(node.items()))
            if name == "Ref":
                if not isinstance(arg, str) or arg not in self.parameters:
                    raise self.fail(f"Ref must name a parameter of the template, got {arg!r}")
                return self.parameters[arg]
            if name in _UNSUPPORTED:
                raise self.fail(f"{name} is not supported by the embedded AWS")
            handler = _FUNCTIONS.get(name)
            if handler is None:
                raise self.fail(f"{name} cannot be used in a rule")
            return handler(self, arg)
        if isinstance(node, list):
            return [self.value(item) for item in node]
        return node

    def boolean(self, node: Any) -> bool:
        result = self.value(node)
        if not isinstance(result, bool):
            raise self.fail(f"expected a condition, got {result!r}")
        return result

    def strings(self, node: Any, what: str) -> list[str]:
        result = self.value(node)
        if not isinstance(result, list):
            raise self.fail(f"{what} needs a list of strings, got {result!r}")
        return [scalar_str(item, what) for item in result]

    def pair(self, arg: Any, what: str) -> tuple[Any, Any]:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise self.fail(f"{what} needs two arguments, got {arg!r}")
        return arg[0], arg[1]


def _equals(evaluator: _RuleEvaluator, arg: Any) -> bool:
    left, right = (evaluator.value(item) for item in evaluator.pair(arg, "Fn::Equals"))
    if isinstance(left, (list, dict, bool)) or isinstance(right, (list, dict, bool)):
        return left == right
    return scalar_str(left) == scalar_str(right)


def _not(evaluator: _RuleEvaluator, arg: Any) -> bool:
    if not (isinstance(arg, list) and len(arg) == 1):
        raise evaluator.fail(f"Fn::Not needs one condition, got {arg!r}")
    return not evaluator.boolean(arg[0])


def _conditions(evaluator: _RuleEvaluator, arg: Any, name: str) -> list[bool]:
    if not (isinstance(arg, list) and 2 <= len(arg) <= 10):
        raise evaluator.fail(f"{name} needs 2 to 10 conditions, got {arg!r}")
    return [evaluator.boolean(item) for item in arg]


def _contains(evaluator: _RuleEvaluator, arg: Any) -> bool:
    values, wanted = evaluator.pair(arg, "Fn::Contains")
    return scalar_str(evaluator.value(wanted), "Fn::Contains value") in evaluator.strings(values, "Fn::Contains")


def _each_member_equals(evaluator: _RuleEvaluator, arg: Any) -> bool:
    values, wanted = evaluator.pair(arg, "Fn::EachMemberEquals")
    expected = scalar_str(evaluator.value(wanted), "Fn::EachMemberEquals value")
    return all(item == expected for item in evaluator.strings(values, "Fn::EachMemberEquals"))


def _each_member_in(evaluator: _RuleEvaluator, arg: Any) -> bool:
    values, allowed = evaluator.pair(arg, "Fn::EachMemberIn")
    permitted = set(evaluator.strings(allowed, "Fn::EachMemberIn"))
    return all(item in permitted for item in evaluator.strings(values, "Fn::EachMemberIn"))


_FUNCTIONS = {
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": lambda evaluator, arg: all(_conditions(evaluator, arg, "Fn::And")),
    "Fn::Or": lambda evaluator, arg: any(_conditions(evaluator, arg, "Fn::Or")),
    "Fn::Contains": _contains,
    "Fn::EachMemberEquals": _each_member_equals,
    "Fn::EachMemberIn": _each_member_in,
}


def check_rules(rules: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Evaluate the template's Rules against the typed parameter values, as CloudFormation does first.

    A rule whose RuleCondition holds must have every Assert true; the first that is not raises
    TemplateError (a ValueError) with the rule's name and its AssertDescription.
    """
    for name, rule in rules.items():
        evaluator = _RuleEvaluator(name, parameters)
        if not isinstance(rule, dict) or not isinstance(rule.get("Assertions"), list) or not rule["Assertions"]:
            raise evaluator.fail("a rule needs a non-empty Assertions list")
        if "RuleCondition" in rule and not evaluator.boolean(rule["RuleCondition"]):
            continue
        for assertion in rule["Assertions"]:
            if not isinstance(assertion, dict) or "Assert" not in assertion:
                raise evaluator.fail(f"each assertion needs an Assert, got {assertion!r}")
            if not evaluator.boolean(assertion["Assert"]):
                raise evaluator.fail(assertion.get("AssertDescription", "an assertion failed"))
