"""Names CloudFormation gives resources and stacks: physical names, pseudo parameters."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from autotuner_core.documents.request import partition_for


def _name_suffix(stack_name: str, logical_id: str) -> str:
    # CloudFormation appends a random suffix; a hash keeps redeployments in a fresh mock identical.
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    return base64.b32encode(digest).decode()[:12]


def physical_name(stack_name: str, logical_id: str, max_length: int = 64, *, with_stack: bool = True) -> str:
    """Name CloudFormation would generate for a resource without an explicit name.

    `{stack}-{LogicalId}-{SUFFIX}` (or `{LogicalId}-{SUFFIX}`), with the stack name and logical id
    shortened, each keeping a part, when the whole would exceed `max_length`.
    """
    suffix = _name_suffix(stack_name, logical_id)
    if not with_stack:
        return f"{logical_id[: max_length - len(suffix) - 1]}-{suffix}"
    room = max_length - len(suffix) - 2  # two dashes
    stack_part, id_part = stack_name, logical_id
    if len(stack_part) + len(id_part) > room:
        stack_part = stack_part[: max(room // 2, room - len(id_part))]
        id_part = id_part[: room - len(stack_part)]
    return f"{stack_part}-{id_part}-{suffix}"


def pseudo_parameters(stack_name: str, region: str, account_id: str) -> dict[str, Any]:
    """Values of the AWS:: pseudo parameters for a stack (AWS::NoValue is handled by the resolver)."""
    partition = partition_for(region)
    stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"{partition}/{region}/{account_id}/{stack_name}")
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
        "AWS::StackName": stack_name,
        "AWS::StackId": (f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}"),
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": [],
    }
