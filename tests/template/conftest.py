"""The template, parsed and translated once per test module: the tests read, never write, them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from .reading import REGION, ROOT, STUB_DEFINITION, TEMPLATE, _ManagedPolicyLoader


@pytest.fixture(scope="module")
def sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def cfn(sam_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml as CloudFormation, translated offline the way `sam deploy` would submit it."""
    template = copy.deepcopy(sam_template)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):  # local paths become S3 locations at package time
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://packaged-artifacts/{props[key]}"
        definition_uri = props.get("DefinitionUri")
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(definition_uri, str):
            del props["DefinitionUri"]  # SAM inlines a local definition file at package time
            definition_file = ROOT / definition_uri
            props["Definition"] = (
                json.loads(definition_file.read_text()) if definition_file.exists() else STUB_DEFINITION
            )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        return transform(template, {}, _ManagedPolicyLoader())
