"""An AWS CDK (v2, Python) construct that deploys Lambda Autotuner: template.yaml's resources, unchanged.

The SAM template is expanded with the SAM translator (as CloudFormation's AWS::Serverless transform
would expand it) and included with ``cloudformation_include.CfnInclude``, which keeps every logical
id, parameter, condition, rule and output. CfnInclude cannot include the SAM template itself: it
resolves references such as ``ValidatePermissionsFunctionRole``, a role only the transform creates.
Local code folders and the state machine definition become CDK assets, so ``cdk deploy`` uploads
them; give it the template ``sam build`` wrote (``.aws-sam/build/template.yaml``), whose folders hold
the built layer.

Usage::

    from autotuner_cdk import LambdaAutotuner

    LambdaAutotuner(stack, "Autotuner", template_file=".aws-sam/build/template.yaml",
                    parameters={"NamePrefix": "acme-", "PermissionsBoundary": boundary_arn})

``parameters`` set the defaults of the stack's CloudFormation parameters (CloudFormation checks
their constraints at deployment); ``cdk deploy --parameters Name=value`` still overrides them.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import cloudformation_include as cfn_include
from constructs import Construct

# Local folders are handed to the translator as objects of this (never used) bucket; each one is
# then replaced by its CDK asset's bucket and key.
_LOCAL_BUCKET = "autotuner-local-asset"
_LOCAL_CODE = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
# Where the expanded resources hold the code location the translator wrote.
_EXPANDED_CODE = {"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"}

ParameterValue = str | int | float | Sequence[str]


class _NoManagedPolicyNames:
    """The translator's managed-policy lookup: the template names AWS managed policies by ARN only."""

    def load(self) -> dict[str, str]:
        return {}


@contextmanager
def _region(region: str) -> Iterator[None]:
    # The translator derives the partition of the AWS managed policy ARNs it adds from the region.
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


def expand_template(template_file: Path, region: str = "us-east-1") -> tuple[dict[str, Any], dict[str, Path]]:
    """template.yaml as the AWS::Serverless transform expands it, and the local path of each code location.

    Local CodeUri/ContentUri folders become ``s3://autotuner-local-asset/<logical id>`` (returned as
    logical id -> folder); a local DefinitionUri file is inlined as the state machine's Definition.
    """
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template_file = Path(template_file).resolve()
    template = yaml_parse(template_file.read_text(encoding="utf-8"))
    local: dict[str, Path] = {}
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        key = _LOCAL_CODE.get(resource.get("Type", ""))
        if key and isinstance(properties.get(key), str) and "://" not in properties[key]:
            local[logical_id] = (template_file.parent / properties[key]).resolve()
            properties[key] = f"s3://{_LOCAL_BUCKET}/{logical_id}"
        definition = properties.get("DefinitionUri")
        local_definition = isinstance(definition, str) and "://" not in definition
        if resource.get("Type") == "AWS::Serverless::StateMachine" and local_definition:
            del properties["DefinitionUri"]
            properties["Definition"] = json.loads((template_file.parent / definition).read_text(encoding="utf-8"))
    with _region(region):
        expanded = transform(copy.deepcopy(template), {}, _NoManagedPolicyNames())
    return expanded, local


class LambdaAutotuner(Construct):
    """Lambda Autotuner's stack (template.yaml) inside a CDK stack: the same resources, parameters and outputs.

    ``template_file``: template.yaml, or the template ``sam build`` wrote (deploy that one: its layer
    folder holds the dependencies). ``parameters``: defaults for the template's parameters, by their
    template names; an unknown name is a ValueError naming it. ``region``: where the stack is deployed,
    for the partition of the AWS managed policy ARNs the transform adds (default: the stack's region
    when it is known, else us-east-1).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        template_file: str | os.PathLike[str],
        parameters: Mapping[str, ParameterValue] | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack_region = cdk.Stack.of(self).region
        if region is None:
            region = "us-east-1" if cdk.Token.is_unresolved(stack_region) else stack_region
        expanded, local = expand_template(Path(template_file), region)
        unknown = sorted(set(parameters or {}) - set(expanded.get("Parameters", {})))
        if unknown:
            raise ValueError(
                f"Unknown parameter(s) {', '.join(unknown)}; the template declares "
                f"{', '.join(expanded.get('Parameters', {}))}"
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "template.json"
            path.write_text(json.dumps(expanded), encoding="utf-8")
            # The logical ids stay the template's, so outputs, docs and IAM tests name the same resources.
            self.template = cfn_include.CfnInclude(self, "Template", template_file=str(path), preserve_logical_ids=True)
        for name, value in (parameters or {}).items():
            shown = ",".join(value) if isinstance(value, (list, tuple)) else str(value)
            self.template.get_parameter(name).default = shown
        self.assets: dict[str, s3_assets.Asset] = {}
        for logical_id, resource in expanded["Resources"].items():
            key = _EXPANDED_CODE.get(resource["Type"])
            location = resource.get("Properties", {}).get(key or "", {})
            if not key or location.get("S3Bucket") != _LOCAL_BUCKET:
                continue
            source = location["S3Key"]
            asset = self.assets.get(source) or s3_assets.Asset(self, f"{source}Code", path=str(local[source]))
            self.assets[source] = asset
            included = self.template.get_resource(logical_id)
            included.add_property_override(f"{key}.S3Bucket", asset.s3_bucket_name)
            included.add_property_override(f"{key}.S3Key", asset.s3_object_key)

    @property
    def state_machine_arn(self) -> str:
        """The tuner's state machine ARN (the template's StateMachineArn output)."""
        return cdk.Token.as_string(self.template.get_output("StateMachineArn").value)

    @property
    def start_tuning_policy_arn(self) -> str:
        """The managed policy that lets a workload start and follow tuning executions."""
        return cdk.Token.as_string(self.template.get_output("StartTuningPolicyArn").value)
