"""The Terraform route (deploy/terraform): the module parsed, checked for parity with template.yaml, scanned by checkov.

No terraform binary is used: python-hcl2 parses the module as Terraform would read it, and checkov
(installed by `make tools`, as for tests/tools) scans it with its Terraform checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "deploy" / "terraform"
TEMPLATE = ROOT / "template.yaml"
sys.path.insert(0, str(MODULE))

import generate  # noqa: E402

CHECKOV = Path(sys.prefix) / "checkov" / "bin" / "checkov"
# The module's own variables, besides one per template parameter.
MODULE_VARIABLES = {"stack_name", "template_url", "notification_arns", "tags"}


def _text(value: Any) -> Any:
    """A parsed HCL string literal without its quotes (python-hcl2 keeps them); other values unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def _parsed(kind: str) -> list[dict[str, Any]]:
    """Every `kind` block (variable, resource, output, locals) of the module's files."""
    found: list[dict[str, Any]] = []
    for path in sorted(MODULE.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            found += hcl2.load(handle).get(kind, [])
    return found


def _blocks(kind: str) -> dict[str, dict[str, Any]]:
    """Every `kind` block of the module by its name."""
    return {_text(name): body for block in _parsed(kind) for name, body in block.items()}


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Parameters"]


def test_generated_files_are_what_the_template_gives(parameters: dict[str, Any]) -> None:
    # Given the template's parameters
    # When variables.tf and parameters.tf are generated from them
    rendered = generate.render({"Parameters": parameters})
    # Then the committed files are those (run deploy/terraform/generate.py after changing a parameter)
    for name, text in rendered.items():
        assert (MODULE / name).read_text(encoding="utf-8") == text, f"{name} is stale: run deploy/terraform/generate.py"


def test_every_template_parameter_is_a_variable_with_its_type_and_default(parameters: dict[str, Any]) -> None:
    # Given the module's variables as Terraform reads them
    variables = _blocks("variable")
    # Then there is one per template parameter, and only the module's own besides
    expected = {generate.variable_name(name): name for name in parameters}
    assert set(variables) == set(expected) | MODULE_VARIABLES
    for variable, name in expected.items():
        declaration, body = parameters[name], variables[variable]
        # with the parameter's type and default
        kind = {"Number": "number", "CommaDelimitedList": "list(string)", "String": "string"}[declaration["Type"]]
        assert body["type"].replace("${", "").replace("}", "") == kind, variable
        default = declaration["Default"]
        if declaration["Type"] == "Number":
            assert float(body["default"]) == float(default), variable
        elif declaration["Type"] == "CommaDelimitedList":
            assert [_text(item) for item in body["default"]] == [i for i in str(default).split(",") if i], variable
        else:
            assert _text(body["default"]) == str(default), variable
        # and a validation for each constraint CloudFormation would check
        constraints = [
            key
            for key in ("AllowedValues", "AllowedPattern", "MinValue", "MaxValue", "MaxLength")
            if key in declaration
        ]
        assert len(body.get("validation", [])) == len(constraints), variable
        assert _text(body["description"]).startswith(f"{name}: ")


def test_the_stack_passes_every_parameter_with_the_capabilities_the_template_needs(parameters: dict[str, Any]) -> None:
    # Given the module's CloudFormation stack and its parameters map
    stack = _blocks("resource")["aws_cloudformation_stack"]
    stack = stack[next(iter(stack))] if "autotuner" not in stack else stack["autotuner"]
    (locals_block,) = [
        block for path in sorted(MODULE.glob("*.tf")) for block in hcl2.load(path.open()).get("locals", [])
    ]
    passed = locals_block["parameters"]
    # Then each template parameter is passed from its own variable, lists joined as CloudFormation takes them
    assert set(passed) == set(parameters)
    for name, expression in passed.items():
        assert f"var.{generate.variable_name(name)}" in expression, name
        if parameters[name]["Type"] == "CommaDelimitedList":
            assert expression == f'${{join(",", var.{generate.variable_name(name)})}}'
    # And the stack deploys the packaged template with the transform and IAM capabilities
    assert stack["parameters"] == "${local.parameters}"
    assert stack["template_url"] == "${var.template_url}"
    assert sorted(_text(c) for c in stack["capabilities"]) == ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"]
    # And refuses, before CloudFormation is called, a VPC half given and names too long for Lambda
    conditions = [check["condition"] for check in stack["lifecycle"][0]["precondition"]]
    assert any("var.subnet_ids" in c and "var.security_group_ids" in c for c in conditions)
    assert any("var.name_prefix" in c and "var.stack_name" in c for c in conditions)


def test_outputs_read_the_stacks_outputs() -> None:
    outputs = _blocks("output")
    template_outputs = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Outputs"]
    # Given the module's outputs, Then the named ones read outputs template.yaml declares
    for name in ("state_machine_arn", "start_tuning_policy_arn"):
        key = outputs[name]["value"].split('outputs["', 1)[1].split('"]', 1)[0]
        assert key in template_outputs, name


def test_checkov_finds_nothing_unexplained_in_the_module() -> None:
    if not CHECKOV.is_file():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make tools` (`make test` does)")
    # Given checkov's Terraform checks
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(MODULE),
            "--framework",
            "terraform",
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    # Then it parsed the module's stack and no check failed
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] == 1
    assert report["results"]["failed_checks"] == []
    # And the one suppressed check says why, in the module itself
    skipped = {
        c["check_id"]: c["check_result"].get("suppress_comment", "") for c in report["results"]["skipped_checks"]
    }
    assert set(skipped) == {"CKV_AWS_124"}
    assert len(skipped["CKV_AWS_124"].split()) >= 10
