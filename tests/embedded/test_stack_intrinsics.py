"""The embedded stack's parameters, physical names and intrinsic functions, resolved without deploying."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse
from small_stack import SMALL_TEMPLATE

from emulator.stack import (
    NO_VALUE,
    IntrinsicResolver,
    TemplateError,
    physical_name,
    resolve_parameters,
)

# ---------------------------------------------------------------------------------------------
# Parameters and names
# ---------------------------------------------------------------------------------------------


def test_resolve_parameters_applies_defaults_overrides_and_constraints() -> None:
    # Given declarations with each kind of constraint
    declarations = _raw_small()["Parameters"]

    # When values are resolved, Then defaults are strings and overrides win
    assert resolve_parameters(declarations) == {
        "Stage": "dev",
        "BatchSize": "5",
        "Prefix": "app",
        "Zones": "za,zb,zc",
    }
    assert resolve_parameters(declarations, {"BatchSize": 10, "Zones": ["x", "y"]})["Zones"] == "x,y"

    # And each violated constraint is reported with the parameter's name
    for overrides, message in [
        ({"Nope": "1"}, "Unknown parameter.*Nope"),
        ({"Stage": "qa"}, "Stage.*allowed values"),
        ({"BatchSize": "11"}, "BatchSize.*MaxValue 10"),
        ({"BatchSize": "many"}, "BatchSize.*not a number"),
        ({"Prefix": "App"}, "Prefix.*AllowedPattern.*lower-case letters only"),
    ]:
        with pytest.raises(ValueError, match=message):
            resolve_parameters(declarations, overrides)


def _raw_small() -> dict[str, Any]:
    return yaml_parse(SMALL_TEMPLATE)


def test_physical_names_are_deterministic_and_bounded() -> None:
    # Given a long stack name and logical id
    stack, logical_id = "a" * 100, "VeryLongLogicalIdForAFunction"

    # When names are generated, Then they fit, keep both parts and repeat for the same input
    name = physical_name(stack, logical_id, 64)
    assert len(name) <= 64 and name.startswith("aaa") and "-VeryLong" in name
    assert name == physical_name(stack, logical_id, 64)
    assert physical_name("s", "Fn") != physical_name("s", "Fn2")
    assert physical_name("s", "Machine", 80, with_stack=False).startswith("Machine-")


# ---------------------------------------------------------------------------------------------
# Intrinsic functions
# ---------------------------------------------------------------------------------------------


def _resolver(**conditions: Any) -> IntrinsicResolver:
    return IntrinsicResolver(
        {"Env": "prod", "Count": "3", "Names": ["a", "b"], "Empty": ""},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsEmpty": {"Fn::Equals": ["", {"Ref": "Empty"}]},
            "ProdAndEmpty": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsEmpty"}]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "NotProdOrEmpty": {"Fn::Or": [{"Condition": "NotProd"}, {"Condition": "IsEmpty"}]},
            "CountIsThree": {"Fn::Equals": [{"Ref": "Count"}, 3]},
            **conditions,
        },
        mappings={"Sizes": {"prod": {"Memory": 1024}}},
        refs={"Table": "my-table"},
        attributes={("Table", "Arn"): "arn:aws:dynamodb:us-east-1:123456789012:table/my-table"},
        unavailable={"Gone": "resource Gone is not created (condition X is false)"},
    )


def test_sub_with_variables_pseudo_parameters_attributes_and_escapes() -> None:
    # Given a resolver with parameters and a deployed table
    resolver = _resolver()

    # When Fn::Sub strings are resolved, Then each kind of variable is replaced
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}:${Env}:${Table}:${Table.Arn}"}) == (
        "us-east-1:prod:my-table:arn:aws:dynamodb:us-east-1:123456789012:table/my-table"
    )
    assert resolver.resolve({"Fn::Sub": ["${Name}-${Env}", {"Name": {"Ref": "Table"}, "Env": "local"}]}) == (
        "my-table-local"
    )
    assert resolver.resolve({"Fn::Sub": "${!Literal}-${Count}"}) == "${Literal}-3"
    with pytest.raises(TemplateError, match="Unknown"):
        resolver.resolve({"Fn::Sub": "${Unknown}"})


def test_if_and_conditions() -> None:
    # Given conditions built from Equals, Not, And, Or and Condition
    resolver = _resolver()

    # When they are evaluated, Then each has CloudFormation's value
    assert resolver.condition("IsProd") is True
    assert resolver.condition("ProdAndEmpty") is True
    assert resolver.condition("NotProd") is False
    assert resolver.condition("NotProdOrEmpty") is True
    assert resolver.condition("CountIsThree") is True  # "3" equals 3, as in CloudFormation
    assert resolver.resolve({"Fn::If": ["NotProd", "a", {"Ref": "Env"}]}) == "prod"
    # And the branch not taken is not resolved, so it may name a resource that was not created
    assert resolver.resolve({"Fn::If": ["IsProd", "kept", {"Ref": "Gone"}]}) == "kept"
    with pytest.raises(TemplateError, match="condition X is false"):
        resolver.resolve({"Fn::If": ["NotProd", "kept", {"Ref": "Gone"}]})
    with pytest.raises(TemplateError, match="refers to itself"):
        _resolver(Loop={"Fn::Not": [{"Condition": "Loop"}]}).condition("Loop")


def test_no_value_removes_keys_and_items() -> None:
    # Given a fragment with AWS::NoValue directly and through Fn::If
    resolver = _resolver()
    fragment = {
        "Kept": "yes",
        "Dropped": {"Ref": "AWS::NoValue"},
        "Conditional": {"Fn::If": ["NotProd", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}, {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}],
    }

    # When it is resolved, Then the keys and items are gone
    assert resolver.resolve(fragment) == {"Kept": "yes", "List": ["a", "b"]}
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_join_select_split_and_friends() -> None:
    # Given a resolver with a list parameter
    resolver = _resolver()

    # When list functions are combined, Then they compose like CloudFormation's
    assert resolver.resolve({"Fn::Join": [":", ["a", {"Ref": "Count"}, {"Ref": "Table"}]]}) == "a:3:my-table"
    assert resolver.resolve({"Fn::Join": [",", {"Ref": "Names"}]}) == "a,b"
    assert resolver.resolve({"Fn::Select": ["1", {"Ref": "Names"}]}) == "b"
    assert resolver.resolve({"Fn::Select": [2, {"Fn::Split": ["/", "x/y/z"]}]}) == "z"
    assert resolver.resolve({"Fn::Split": [",", {"Fn::Join": [",", {"Ref": "Names"}]}]}) == ["a", "b"]
    assert resolver.resolve({"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "us-east-1a"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}) == 1024
    assert resolver.resolve({"Fn::GetAtt": "Table.Arn"}).endswith(":table/my-table")
    with pytest.raises(TemplateError, match="out of range"):
        resolver.resolve({"Fn::Select": [5, {"Ref": "Names"}]})
    with pytest.raises(TemplateError, match="not supported"):
        resolver.resolve({"Fn::ImportValue": "shared"})
