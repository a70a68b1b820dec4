"""The CDK route (deploy/cdk): the construct synthesized, checked for parity with template.yaml.

The construct runs under jsii (node), as `cdk synth` runs it. Parity means: the synthesized stack has
exactly template.yaml's parameters (with their constraints), conditions, rules and outputs, and the
resources the AWS::Serverless transform makes of template.yaml, property for property, except where
the code is: CDK assets instead of local folders.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
sys.path.insert(0, str(ROOT / "deploy" / "cdk"))

import aws_cdk as cdk  # noqa: E402
from autotuner_cdk import LambdaAutotuner  # noqa: E402

SET = {"NamePrefix": "acme-", "SubnetIds": ["subnet-0123abcd"], "SecurityGroupIds": ["sg-0123abcd"]}


class _NoManagedPolicyNames:
    def load(self) -> dict[str, str]:
        return {}


def _sam_expansion() -> dict[str, Any]:
    """template.yaml as the transform expands it, the definition file inlined (what `sam package` does)."""
    template = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://packaged/{properties[key]}"
        if "DefinitionUri" in properties:
            properties["Definition"] = json.loads((ROOT / properties.pop("DefinitionUri")).read_text(encoding="utf-8"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        return transform(copy.deepcopy(template), {}, _NoManagedPolicyNames())


def _same_layer_id(template: dict[str, Any]) -> dict[str, Any]:
    """The template with SAM's layer logical id (CommonLayer + a hash of the code location) made one.

    The transform names a layer version after its content's location, which differs between any
    two packagings (sam package's S3 key, a CDK asset's).
    """
    return json.loads(re.sub(r"\bCommonLayer[0-9a-f]{10}\b", "CommonLayerVersion", json.dumps(template)))


def _canonical(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource in one of its equivalent forms: tags by key, DependsOn as a list (the CDK writes these)."""
    resource = json.loads(json.dumps(resource))
    if isinstance(resource.get("DependsOn"), str):
        resource["DependsOn"] = [resource["DependsOn"]]
    tags = resource.get("Properties", {}).get("Tags")
    if isinstance(tags, list):
        resource["Properties"]["Tags"] = sorted(tags, key=lambda tag: tag["Key"])
    return resource


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The stack a CDK app with the construct synthesizes (parameters SET given), and its cloud assembly."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(
        app,
        "Tuner",
        env=cdk.Environment(region="us-east-1"),
        analytics_reporting=False,
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    tuner = LambdaAutotuner(stack, "Autotuner", template_file=TEMPLATE, parameters=SET)
    cdk.CfnOutput(stack, "TunerStateMachine", value=tuner.state_machine_arn)
    assembly = app.synth()
    report = outdir / "validation-report.json"
    return {
        "template": assembly.get_stack_by_name("Tuner").template,
        "outdir": outdir,
        "validation": json.loads(report.read_text()) if report.exists() else None,
        "stack": stack,
    }


def test_synthesized_stack_has_the_templates_parameters_and_the_given_defaults(synthesized: dict[str, Any]) -> None:
    # Given template.yaml's parameters
    declared = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Parameters"]
    parameters = synthesized["template"]["Parameters"]
    # Then the stack declares exactly those, each with the same type and constraints
    assert set(parameters) == set(declared)
    for name, declaration in declared.items():
        found = dict(parameters[name])
        expected = dict(declaration)
        if name in SET:  # the construct's values are the defaults CloudFormation starts from
            value = SET[name]
            assert found.pop("Default") == (",".join(value) if isinstance(value, list) else value)
            expected.pop("Default")
        assert found == json.loads(json.dumps(expected)), name


def test_synthesized_stack_has_the_same_resources_as_the_transform_makes(synthesized: dict[str, Any]) -> None:
    # Given the resources CloudFormation makes of template.yaml (the SAM transform)
    expected = _same_layer_id(_sam_expansion())
    resources = _same_layer_id(synthesized["template"])["Resources"]
    # Then the CDK stack has the same logical ids and types, nothing more
    assert {lid: r["Type"] for lid, r in resources.items()} == {
        lid: r["Type"] for lid, r in expected["Resources"].items()
    }
    # And the same properties, but for where the code is
    for lid, resource in expected["Resources"].items():
        mine = copy.deepcopy(resources[lid])
        theirs = copy.deepcopy(resource)
        for key in ("Code", "Content"):
            mine.get("Properties", {}).pop(key, None)
            theirs.get("Properties", {}).pop(key, None)
        assert _canonical(mine) == _canonical(theirs), lid
    # And the same conditions, rules and outputs (plus the app's own output)
    for section in ("Conditions", "Rules"):
        assert synthesized["template"][section] == json.loads(json.dumps(expected[section]))
    outputs = dict(synthesized["template"]["Outputs"])
    assert outputs.pop("TunerStateMachine")["Value"] == {"Ref": "TunerStateMachine"}
    assert outputs == json.loads(json.dumps(expected["Outputs"]))


def test_function_and_layer_code_are_cdk_assets_of_the_local_folders(synthesized: dict[str, Any]) -> None:
    # Given the functions and the layer of the synthesized stack
    resources = synthesized["template"]["Resources"]
    packaged = {
        lid: r["Properties"]["Code" if r["Type"] == "AWS::Lambda::Function" else "Content"]
        for lid, r in resources.items()
        if r["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion")
    }
    assert len(packaged) == 12
    staged = {path.name: path for path in synthesized["outdir"].glob("asset.*")}
    for lid, location in packaged.items():
        # Then each is uploaded to the CDK assets bucket as a zip of its folder, staged in cdk.out
        assert location["S3Bucket"] == {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-us-east-1"}, lid
        digest = location["S3Key"].removesuffix(".zip")
        folder = staged[f"asset.{digest}"]
        if resources[lid]["Type"] == "AWS::Lambda::Function":
            assert (folder / "app.py").is_file(), lid
        else:
            assert (folder / "autotuner_core").is_dir()


def test_synthesis_finds_no_errors(synthesized: dict[str, Any]) -> None:
    # Given the report of the CDK's synth-time CloudFormation validation (when it runs)
    report = synthesized["validation"]
    if report is None:
        return
    # Then no plugin failed and no violation is an error
    assert all(plugin["conclusion"] == "success" for plugin in report["pluginReports"])
    errors = [v for plugin in report["pluginReports"] for v in plugin["violations"] if v["severity"] == "error"]
    assert errors == []


def test_an_unknown_parameter_is_refused_naming_it(synthesized: dict[str, Any]) -> None:
    # Given a misspelt parameter name
    # When the construct is created with it, Then the error names it before anything is synthesized
    with pytest.raises(ValueError, match="Unknown parameter\\(s\\) NamePrefx"):
        LambdaAutotuner(synthesized["stack"], "Second", template_file=TEMPLATE, parameters={"NamePrefx": "a-"})


def test_the_shipped_app_synthesizes_the_stack_as_cdk_synth_runs_it(tmp_path: Path) -> None:
    # Given deploy/cdk/app.py, run the way `cdk synth` runs it (cdk.json's command, CDK_OUTDIR set)
    command = json.loads((ROOT / "deploy" / "cdk" / "cdk.json").read_text(encoding="utf-8"))["app"]
    assert command == "python3 app.py"
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path), "AUTOTUNER_TEMPLATE": str(TEMPLATE)}
    # When it runs
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT / "deploy" / "cdk",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Then it writes the lambda-autotuner stack with template.yaml's resources and parameters
    assert result.returncode == 0, result.stderr
    template = _same_layer_id(json.loads((tmp_path / "lambda-autotuner.template.json").read_text(encoding="utf-8")))
    expected = _same_layer_id(_sam_expansion())
    assert set(expected["Resources"]) <= set(template["Resources"])
    assert set(template["Resources"]) - set(expected["Resources"]) <= {"CDKMetadata"}
    declared = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Parameters"]
    assert set(template["Parameters"]) - {"BootstrapVersion"} == set(declared)
