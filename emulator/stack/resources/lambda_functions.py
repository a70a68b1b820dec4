"""Lambda functions and layer versions; functions are recorded for the in-process runtime."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from emulator.stack.api_parameters import pick, tag_dict
from emulator.stack.deployed import DeployedFunction
from emulator.stack.intrinsics import scalar_str
from emulator.stack.translation import ASSET_PATH_KEY

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer

# Placeholder deployment package: moto needs a zip, the embedded runtime runs code_dir in-process.
_PLACEHOLDER_FILE = "EMBEDDED_PLACEHOLDER.txt"


@functools.cache
def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_PLACEHOLDER_FILE, "Code runs in-process from the local folder (embedded AWS).\n")
    return buffer.getvalue()


def _inline_code_zip(source: str, runtime: str) -> bytes:
    # CloudFormation stores ZipFile code as index.<ext> for the interpreted runtimes.
    extension = "js" if runtime.startswith("nodejs") else "py"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"index.{extension}", source)
    return buffer.getvalue()


def _create_layer_version(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    layer = deployer.call(
        "lambda",
        "publish_layer_version",
        LayerName=deployer.name_for(logical_id, props.get("LayerName"), 140),
        Description=props.get("Description"),
        Content={"ZipFile": _placeholder_zip()},
        CompatibleRuntimes=props.get("CompatibleRuntimes"),
        CompatibleArchitectures=props.get("CompatibleArchitectures"),
        LicenseInfo=props.get("LicenseInfo"),
    )
    asset = resource.get("Metadata", {}).get(ASSET_PATH_KEY)
    if asset:
        deployer.layer_dirs[layer["LayerVersionArn"]] = Path(asset)
    return layer["LayerVersionArn"], {"LayerVersionArn": layer["LayerVersionArn"]}


# What Lambda checks the execution role may do before it attaches a function to a VPC, in its order.
_VPC_ROLE_ACTIONS = ("CreateNetworkInterface", "DescribeNetworkInterfaces", "DeleteNetworkInterface")


def _invalid_parameter(message: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "InvalidParameterValueException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "CreateFunction",
    )


def _check_vpc_config(deployer: Deployer, vpc: dict[str, Any], role_arn: str) -> None:
    """Lambda's checks of a VpcConfig at CreateFunction, which moto skips: the subnets and security
    groups exist, and the execution role (with its permissions boundary) may manage network interfaces.

    The simulated targets' VPCs are not modelled (account.py); the tuner's own functions are checked here.
    """
    from emulator import iam_evaluation, iam_simulation
    from emulator.moto_adapter import get_partition, iam_backends

    subnets, groups = list(vpc.get("SubnetIds") or []), list(vpc.get("SecurityGroupIds") or [])
    if not subnets:
        return  # an empty VpcConfig attaches no VPC
    if not groups:
        raise _invalid_parameter("SecurityGroupIds are required when SubnetIds are set.")
    for operation, key in (("describe_subnets", "SubnetIds"), ("describe_security_groups", "GroupIds")):
        try:
            deployer.call("ec2", operation, **{key: subnets if key == "SubnetIds" else groups})
        except ClientError as e:
            error = e.response["Error"]
            api = "DescribeSubnets" if key == "SubnetIds" else "DescribeSecurityGroups"
            raise _invalid_parameter(
                f"Error occurred while {api}. EC2 Error Code: {error['Code']}. EC2 Error Message: {error['Message']}"
            ) from e
    backend = iam_backends[deployer.account_id][get_partition(deployer.region)]
    identity, boundary = iam_simulation.principal_policies(backend, role_arn)
    for action in _VPC_ROLE_ACTIONS:
        if not iam_evaluation.evaluate(identity, f"ec2:{action}", "*", permissions_boundary=boundary).allowed:
            raise _invalid_parameter(f"The provided execution role does not have permissions to call {action} on EC2")


def _create_function(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("FunctionName"), 64)
    if props.get("VpcConfig"):
        _check_vpc_config(deployer, props["VpcConfig"], scalar_str(props.get("Role", ""), "Role"))
    runtime = scalar_str(props.get("Runtime", ""))
    code = props.get("Code", {})
    if "ZipFile" in code:
        package = {"ZipFile": _inline_code_zip(code["ZipFile"], runtime)}
    elif "ImageUri" in code:
        package = {"ImageUri": code["ImageUri"]}
    else:
        package = {"ZipFile": _placeholder_zip()}
    environment = {
        key: scalar_str(value, f"environment variable {key}")
        for key, value in props.get("Environment", {}).get("Variables", {}).items()
    }
    # CloudFormation tags every resource it creates with its stack and logical id.
    tags = {
        **tag_dict(props.get("Tags")),
        "aws:cloudformation:stack-name": deployer.stack_name,
        "aws:cloudformation:stack-id": deployer.pseudo["AWS::StackId"],
        "aws:cloudformation:logical-id": logical_id,
    }
    logging_config = {key: scalar_str(value) for key, value in props.get("LoggingConfig", {}).items()}
    function = deployer.call(
        "lambda",
        "create_function",
        FunctionName=name,
        Code=package,
        Environment={"Variables": environment} if "Environment" in props else None,
        Tags=tags,
        KMSKeyArn=props.get("KmsKeyArn"),
        LoggingConfig=logging_config or None,
        **pick(
            props,
            "Runtime",
            "Handler",
            "Role",
            "Description",
            "MemorySize",
            "Timeout",
            "Layers",
            "Architectures",
            "TracingConfig",
            "EphemeralStorage",
            "DeadLetterConfig",
            "VpcConfig",
            "FileSystemConfigs",
            "ImageConfig",
            "PackageType",
            "SnapStart",
        ),
    )
    if "ReservedConcurrentExecutions" in props:
        deployer.call(
            "lambda",
            "put_function_concurrency",
            FunctionName=name,
            ReservedConcurrentExecutions=props["ReservedConcurrentExecutions"],
        )
    asset = resource.get("Metadata", {}).get(ASSET_PATH_KEY)
    layers = tuple(props.get("Layers", []))
    deployer.functions[logical_id] = DeployedFunction(
        logical_id=logical_id,
        name=name,
        arn=function["FunctionArn"],
        code_dir=Path(asset) if asset else Path(),
        handler=scalar_str(props.get("Handler", "")),
        environment=environment,
        role_arn=function["Role"],
        memory_size=function["MemorySize"],
        timeout=function["Timeout"],
        runtime=runtime,
        architectures=tuple(function.get("Architectures", ["x86_64"])),
        layers=layers,
        layer_dirs=tuple(deployer.layer_dirs[arn] for arn in layers if arn in deployer.layer_dirs),
        tracing_mode=function.get("TracingConfig", {}).get("Mode", "PassThrough"),
        logging_config=logging_config,
        ephemeral_storage_mb=function.get("EphemeralStorage", {}).get("Size", 512),
        tags=tags,
    )
    return name, {"Arn": function["FunctionArn"]}


CREATORS: dict[str, Creator] = {
    "AWS::Lambda::LayerVersion": _create_layer_version,
    "AWS::Lambda::Function": _create_function,
}
