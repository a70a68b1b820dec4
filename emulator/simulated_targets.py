"""The simulated account's own resources, created after the stack: target functions and payload objects."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from emulator import history

if TYPE_CHECKING:
    from emulator.cloud import EmbeddedAws

__all__ = ["create_payload_objects", "create_targets", "placeholder_zip"]


def create_targets(aws: EmbeddedAws) -> None:
    """The account's simulated functions: their role, layers, aliases, live sources and behaviour."""
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName="simulated-target-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    lam = aws.client("lambda")
    layers: dict[str, str] = {}  # layer name -> the version ARN the targets attach
    for name in sorted({layer for function in aws.account.functions for layer in function.layers}):
        layers[name] = lam.publish_layer_version(LayerName=name, Content={"ZipFile": placeholder_zip(f"layer {name}")})[
            "LayerVersionArn"
        ]
    for function in aws.account.functions:
        package: dict[str, Any] = {
            "Runtime": function.runtime,
            "Handler": "simulated.handler",
            "Code": {"ZipFile": placeholder_zip(function.name)},
        }
        if function.image_uri:
            package = {"PackageType": "Image", "Code": {"ImageUri": function.image_uri}}
        if function.layers:
            package["Layers"] = [layers[name] for name in function.layers]
        if function.environment:
            package["Environment"] = {"Variables": function.environment}
        if function.kms_key_arn:
            package["KMSKeyArn"] = function.kms_key_arn
        # One LoggingConfig for the shadow copy's traits and for telemetry's log group: the account file's
        # own settings over the profile's format and the function's log group.
        logging_config = {**history.log_config(function), **function.logging_config}
        package["LoggingConfig"] = logging_config
        if function.vpc is not None:
            package["VpcConfig"] = {
                "SubnetIds": function.vpc.subnet_ids,
                "SecurityGroupIds": function.vpc.security_group_ids,
            }
        lam.create_function(
            FunctionName=function.name,
            Role=role,
            **package,
            MemorySize=function.memory_size,
            Timeout=function.timeout,
            Architectures=[function.architecture],
            EphemeralStorage={"Size": function.ephemeral_storage},
            Tags={
                **function.tags,
                **function.stack_tags(aws.account.region, aws.account.account_id),
                "embedded:simulated": "true",
            },
            Description="Simulated target function (embedded AWS)",
            **function.lambda_settings(),
        )
        aws.lambda_emulation.copy_traits(
            aws.account.account_id,
            aws.account.region,
            function.name,
            kms_key_usable=function.kms_key_usable,
            runtime_version_pinned=function.runtime_version_pinned,
            code_signed=function.code_signed,
            image_tag_moved=function.image_tag_moved,
        )
        if function.reserved_concurrency is not None:
            lam.put_function_concurrency(
                FunctionName=function.name, ReservedConcurrentExecutions=function.reserved_concurrency
            )
        history.write_history(aws, function)
        aws.lambda_emulation.set_snapshot_seconds(
            aws.account.account_id, aws.account.region, function.name, function.pending_version_seconds
        )
        aws.lambda_emulation.set_invoker(
            aws.account.account_id,
            aws.account.region,
            function.name,
            aws.simulator.invoker(function.profile, identity=function.name),
        )
        for alias in function.aliases:
            version = lam.publish_version(FunctionName=function.name)["Version"]
            lam.create_alias(FunctionName=function.name, Name=alias, FunctionVersion=version)
        for alias in function.latest_aliases:
            lam.create_alias(FunctionName=function.name, Name=alias, FunctionVersion="$LATEST")
        aws.live_sources.create(lam, aws.client("sqs"), function)
        if function.state == "Pending" and function.pending_seconds > 0:
            aws.lambda_emulation.set_pending(
                aws.account.account_id, aws.account.region, function.name, function.pending_seconds
            )


def create_payload_objects(aws: EmbeddedAws) -> None:
    """The account's S3 objects (payloads), each bucket created once."""
    s3 = aws.client("s3")
    buckets = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for spec in aws.account.payload_objects:
        bucket, key = spec.uri.removeprefix("s3://").split("/", 1)
        if bucket not in buckets:
            where = {} if aws.account.region == "us-east-1" else {"LocationConstraint": aws.account.region}
            s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {}))
            buckets.add(bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=spec.content())


def placeholder_zip(name: str) -> bytes:
    """A package of its own per simulated function: a copy of it (a shadow) is recognised by its bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry = zipfile.ZipInfo("simulated.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"# {name}: behaviour is simulated by the embedded AWS\n")
    return buffer.getvalue()
