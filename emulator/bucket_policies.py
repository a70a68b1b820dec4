"""Each bucket gets its template policy whole, Conditions included (the TLS-only Deny).

The deployment leaves out statements with Conditions because moto's object-level check
(FakeBucket.get_permission) ignores Conditions: the TLS-only Deny would refuse every request.
That check is switched off here; IAM on the real calls (iam_enforcement.py) evaluates the bucket
policy with its Conditions and the request's context, as S3 does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulator import moto_adapter
from emulator.stack import DeployedStack, IntrinsicResolver, pseudo_parameters

__all__ = ["put_whole", "skip_object_level_check"]


def skip_object_level_check() -> Callable[[], None]:
    """moto's own bucket-policy check answers neutral from here on; returns the undo."""
    neutral = moto_adapter.PermissionResult.NEUTRAL
    return moto_adapter.patch(moto_adapter.FakeBucket, "get_permission", lambda bucket, action, resource: neutral)


def put_whole(stack: DeployedStack, s3: Any, region: str, account_id: str) -> None:
    """PutBucketPolicy with each AWS::S3::BucketPolicy of the template, resolved as deployed."""
    resources = stack.template.get("Resources", {})
    partition = stack.state_machine_arn.split(":")[1]
    buckets = [lid for lid, res in resources.items() if res.get("Type") == "AWS::S3::Bucket"]
    resolver = IntrinsicResolver(
        stack.parameters,
        pseudo=pseudo_parameters(stack.name, region, account_id),
        refs=stack.resources,
        attributes={
            (lid, "Arn"): f"arn:{partition}:s3:::{stack.resources[lid]}" for lid in buckets if lid in stack.resources
        },
    )
    for resource in resources.values():
        if resource.get("Type") != "AWS::S3::BucketPolicy":
            continue
        properties = resolver.resolve(resource["Properties"])
        s3.put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(properties["PolicyDocument"]))
