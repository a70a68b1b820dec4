"""AWS's own ASL validator and asl-validator check the state machine definition as deployed.

The definition's ${...} placeholders are resolved from the template's DefinitionSubstitutions (as
the SAM translation hands them to CloudFormation) to plausible ARNs and names, because both tools
check the shape of Resource and FunctionName values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from emulator.stack import physical_name, translate_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STACK, REGION, ACCOUNT = "lambda-autotuner", "us-east-1", "123456789012"


def _plausible(value: Any, resources: dict[str, Any]) -> str:
    """What CloudFormation would put in place of one DefinitionSubstitutions value."""
    if isinstance(value, str):
        return value
    (function, argument), *rest = value.items()
    logical_id = argument if function == "Ref" else argument[0] if function == "Fn::GetAtt" else None
    if rest or logical_id not in resources:
        pytest.fail(f"DefinitionSubstitutions value {value!r}: this test resolves Ref and Fn::GetAtt of resources only")
    kind = resources[logical_id]["Type"]
    name = physical_name(STACK, logical_id)
    resolved = {
        ("AWS::Lambda::Function", "Ref"): name,
        ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        ("AWS::S3::Bucket", "Ref"): name.lower(),
        ("AWS::S3::Bucket", "Arn"): f"arn:aws:s3:::{name.lower()}",
        ("AWS::DynamoDB::Table", "Ref"): name,
        ("AWS::DynamoDB::Table", "Arn"): f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
    }.get((kind, "Ref" if function == "Ref" else argument[1]))
    if resolved is None:
        pytest.fail(f"DefinitionSubstitutions value {value!r} ({kind}): add a plausible value for it to this test")
    return resolved


@pytest.fixture(scope="module")
def resolved_definitions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each state machine of the translated template, substitutions resolved, written to a file."""
    template = translate_template(TEMPLATE, REGION)
    resources = template["Resources"]
    files = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        properties = resource["Properties"]
        text = properties["DefinitionString"]
        for name, value in properties.get("DefinitionSubstitutions", {}).items():
            text = text.replace("${" + name + "}", _plausible(value, resources))
        unresolved = re.findall(r"\$\{[^}]*\}", text)
        assert not unresolved, f"{logical_id}: placeholders without a DefinitionSubstitutions entry: {unresolved}"
        path = tmp_path_factory.mktemp("asl") / f"{logical_id}.asl.json"
        path.write_text(text, encoding="utf-8")
        files[logical_id] = path
    assert files, "template.yaml defines no state machine"
    return files


def test_the_state_machine_passes_aws_validator_and_asl_validator(
    run_node: Any, resolved_definitions: dict[str, Path]
) -> None:
    # Given each state machine of the template, as CloudFormation would receive its definition
    for logical_id, path in resolved_definitions.items():
        # When AWS's ASL validator (amazon-states-language-service) and asl-validator check it
        findings = run_node("validate-asl.js", str(path))
        # Then neither reports anything
        assert findings == {"amazonStatesLanguageService": [], "aslValidator": []}, (logical_id, findings)


def _write(tmp_path: Path, definition: dict[str, Any]) -> str:
    path = tmp_path / "definition.asl.json"
    path.write_text(json.dumps(definition, indent=2), encoding="utf-8")
    return str(path)


def test_aws_validator_catches_a_fractional_percentage_and_a_lower_case_jitter_strategy(
    run_node: Any, tmp_path: Path
) -> None:
    # Given a Distributed Map tolerating 50.5 % and a retrier with JitterStrategy "full"
    definition = {
        "StartAt": "Sweep",
        "States": {
            "Sweep": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Tune",
                    "States": {"Tune": {"Type": "Pass", "End": True}},
                },
                "ToleratedFailurePercentage": 50.5,
                "Retry": [{"ErrorEquals": ["States.ALL"], "JitterStrategy": "full"}],
                "End": True,
            },
        },
    }
    # When AWS's validator checks it
    findings = run_node("validate-asl.js", _write(tmp_path, definition))
    # Then it names both: an integer is expected, and the enum is FULL | NONE
    messages = " ".join(f["message"] for f in findings["amazonStatesLanguageService"])
    assert "integer" in messages, findings
    assert "FULL" in messages, findings


def test_asl_validator_catches_a_transition_to_no_state(run_node: Any, tmp_path: Path) -> None:
    # Given a state whose Next names no state
    definition = {"StartAt": "Plan", "States": {"Plan": {"Type": "Pass", "Next": "Missing"}}}
    # When asl-validator checks it
    findings = run_node("validate-asl.js", _write(tmp_path, definition))
    # Then it names the missing target
    assert any("Missing" in message for message in findings["aslValidator"]), findings
