"""Make CloudFormation's DescribeStacks return the deployed stack and its Outputs.

deploy_stack creates the resources through the service APIs (see deployer.py), so moto's
CloudFormation has never heard of the stack; tools that find the tuner by stack name, as an
operator's do against AWS, need it to. The template holds the Outputs as literal values and one
WaitConditionHandle, a resource moto's CloudFormation accepts and creates nothing for (it warns
that it does not model it: expected here).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from emulator.stack.deployed import DeployedStack

__all__ = ["register_stack"]


def register_stack(cloudformation: Any, stack: DeployedStack, stack_name: str) -> None:
    """CreateStack of a template that holds ``stack``'s Outputs (with their descriptions) and no resources."""
    declared = stack.template.get("Outputs", {})
    outputs = {}
    for key, value in stack.outputs.items():
        description = declared.get(key, {}).get("Description")
        outputs[key] = {"Value": value, **({"Description": description} if isinstance(description, str) else {})}
    template = {
        "Description": "The tuner's stack as deployed into the embedded AWS (resources created by deploy_stack)",
        "Resources": {"EmbeddedStack": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": outputs,
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tried to parse AWS::CloudFormation::WaitConditionHandle")
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
