"""SAM template to CloudFormation, offline, with local code folders and definition files kept local."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from autotuner_core.documents.request import partition_for
from emulator.moto_adapter import aws_managed_policies
from emulator.stack.errors import TemplateError
from emulator.stack.parameters import resolve_parameters

# Local code folders are handed to the translator as objects of this (never created) bucket: the
# translator only accepts S3 locations, and the embedded runtime reads the folder, not the object.
ARTIFACT_BUCKET = "embedded-artifacts"
# Metadata key recording a resource's local folder or file (the convention the CDK uses for assets).
ASSET_PATH_KEY = "aws:asset:path"


class _ManagedPolicyLoader:
    """Managed-policy loader for the translator: names -> ARNs from moto's copy, not from IAM."""

    def __init__(self, partition: str) -> None:
        self.partition = partition

    def load(self) -> dict[str, str]:
        return {
            name: f"arn:{self.partition}:iam::aws:policy{data.get('Path', '/')}{name}"
            for name, data in aws_managed_policies().items()
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


# Parsed templates by (path, modification time, size): parsing the YAML took a second per
# deployment. Each caller gets its own deep copy (the translation rewrites the template).
_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}


def load_template(template_path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse  # understands !Ref, !Sub and friends

    status = template_path.stat()
    key = (str(template_path.resolve()), status.st_mtime_ns, status.st_size)
    if key not in _PARSED:
        template = yaml_parse(template_path.read_text(encoding="utf-8"))
        if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
            raise TemplateError(f"{template_path} is not a template with Resources")
        _PARSED[key] = template
    return copy.deepcopy(_PARSED[key])


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
    template = load_template(template_path)
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
