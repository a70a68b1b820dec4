"""S3 buckets and bucket policies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.stack.api_parameters import json_text
from emulator.stack.intrinsics import scalar_str

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _create_bucket(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    # Bucket names are lowercase, at most 63 characters.
    name = deployer.name_for(logical_id, props.get("BucketName"), 63).lower()
    region = deployer.region
    deployer.call(
        "s3",
        "create_bucket",
        Bucket=name,
        CreateBucketConfiguration=None if region == "us-east-1" else {"LocationConstraint": region},
    )
    if "BucketEncryption" in props:
        deployer.call(
            "s3",
            "put_bucket_encryption",
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "PublicAccessBlockConfiguration" in props:
        deployer.call(
            "s3",
            "put_public_access_block",
            Bucket=name,
            PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
        )
    for rule in (props.get("LifecycleConfiguration") or {}).get("Rules", []):
        deployer.call(
            "s3",
            "put_bucket_lifecycle_configuration",
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": rule.get("Id", "rule"),
                        "Status": rule["Status"],
                        "Filter": {"Prefix": rule.get("Prefix", "")},
                        "Expiration": {"Days": int(rule["ExpirationInDays"])},
                    }
                ]
            },
        )
    return name, {
        "Arn": deployer.arn("s3", name, region=False, account=False),
        "DomainName": f"{name}.s3.amazonaws.com",
    }


def _create_bucket_policy(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    bucket = scalar_str(props["Bucket"], "Bucket")
    document = props["PolicyDocument"]
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    # moto applies a bucket policy's statements without their Condition: a TLS-only Deny
    # would refuse every request. Statements with conditions are AWS's to enforce.
    kept = [statement for statement in statements if "Condition" not in statement]
    if kept:
        deployer.call("s3", "put_bucket_policy", Bucket=bucket, Policy=json_text({**document, "Statement": kept}))
    return bucket, {}


CREATORS: dict[str, Creator] = {
    "AWS::S3::Bucket": _create_bucket,
    "AWS::S3::BucketPolicy": _create_bucket_policy,
}
