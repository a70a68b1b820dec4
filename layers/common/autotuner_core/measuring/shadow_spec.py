"""What a shadow copies from its target, and what makes a target impossible to copy faithfully.

``spec_for`` turns the target's GetFunction answer into the shadow's CreateFunction request, or
refuses with ``InvalidConfigurationError`` before anything is created. ``COPIED`` and
``NOT_COPIED`` are the list docs/measuring.md shows (a test keeps the two equal); ``REFUSED`` names
what makes a target fail instead of being measured on a copy that would behave differently.
"""

from __future__ import annotations

from typing import Any

from autotuner_core.policy.errors import InvalidConfigurationError

# GetFunction field -> how the shadow gets it.
COPIED: dict[str, str] = {
    "Code (zip)": "the package's bytes, downloaded from Code.Location into the tuner's bucket",
    "Code (image)": "Code.ResolvedImageUri: the image digest the target runs, never its tag",
    "ImageConfigResponse.ImageConfig": "as is",
    "Runtime": "as is",
    "RuntimeVersionConfig.RuntimeVersionArn": "checked: the same version, or the target fails",
    "Handler": "as is",
    "Role": "as is (only a role ShadowRoleArns lists)",
    "Layers": "the same layer version ARNs",
    "Environment.Variables": "as is",
    "KMSKeyArn": "as is",
    "VpcConfig": "subnets, security groups, dual stack",
    "FileSystemConfigs": "as is",
    "Architectures": "as is",
    "MemorySize": "as is (then the candidate sizes)",
    "Timeout": "as is",
    "EphemeralStorage": "as is",
    "TracingConfig.Mode": "as is",
    "LoggingConfig.LogFormat": "as is",
    "LoggingConfig.ApplicationLogLevel": "as is",
    "LoggingConfig.SystemLogLevel": "as is",
    "SnapStart.ApplyOn": "as is",
    "Concurrency.ReservedConcurrentExecutions": "PutFunctionConcurrency on the shadow, the same number",
}

# Left out on purpose: each is either a way in (nothing but the tuner may invoke the shadow) or
# something keyed on the target's own name that a copy cannot share.
NOT_COPIED: dict[str, str] = {
    "LoggingConfig.LogGroup": "the shadow logs to its own group, /aws/lambda/<shadow name>, deleted at clean-up",
    "DeadLetterConfig": "only asynchronous invocations reach it; the tuner invokes synchronously",
    "event source mappings, function URL, resource-based policy": "ways in: nothing but the tuner may invoke it",
    "destinations (event invoke config)": "asynchronous only, and a way out into production's targets",
    "aliases and their routing": "the tuner makes its own temporary aliases",
    "provisioned concurrency": "the shadow's versions start cold; measure onlyColdStarts to see that",
    "the function's name, ARN and tags": "AWS_LAMBDA_FUNCTION_NAME, metrics and policies naming it differ",
}

# What makes a target fail with InvalidConfigurationError before its shadow exists.
REFUSED: dict[str, str] = {
    "Environment.Error": "the tuner may not decrypt the environment (a KMS key it may not use)",
    "SigningProfileVersionArn": "signed code: the shadow would run without the code-signing config",
    "Concurrency.ReservedConcurrentExecutions = 0": "the function is throttled entirely; so would its copy be",
    "PackageType Image without Code.ResolvedImageUri": "no digest to copy: a tag may name another image",
}


def spec_for(source: dict[str, Any], name: str, tags: dict[str, str], code: dict[str, str] | None) -> dict[str, Any]:
    """The shadow's CreateFunction request from GetFunction's answer ``source``.

    ``code`` is where the zip was copied (None for an image). Raises InvalidConfigurationError
    naming what could not be copied; :func:`refusal` says it without the code copy.
    """
    config = source["Configuration"]
    problem = refusal(source)
    if problem:
        raise InvalidConfigurationError(problem)
    spec: dict[str, Any] = {
        "FunctionName": name,
        "Role": config["Role"],
        "Description": f"Lambda Autotuner shadow of {config['FunctionName']} for measuring; deleted after the run",
        "MemorySize": config["MemorySize"],
        "Timeout": config["Timeout"],
        "Architectures": config.get("Architectures") or ["x86_64"],
        "EphemeralStorage": config.get("EphemeralStorage") or {"Size": 512},
        "TracingConfig": {"Mode": (config.get("TracingConfig") or {}).get("Mode", "PassThrough")},
        "Publish": False,
        "Tags": tags,
    }
    if config.get("PackageType") == "Image":
        spec["PackageType"] = "Image"
        spec["Code"] = {"ImageUri": source["Code"]["ResolvedImageUri"]}
        image_config = (config.get("ImageConfigResponse") or {}).get("ImageConfig")
        if image_config:
            spec["ImageConfig"] = image_config
    else:
        spec["Runtime"] = config["Runtime"]
        spec["Handler"] = config["Handler"]
        spec["Code"] = code
    if config.get("Layers"):
        spec["Layers"] = [layer["Arn"] for layer in config["Layers"]]
    variables = (config.get("Environment") or {}).get("Variables")
    if variables:
        spec["Environment"] = {"Variables": variables}
    if config.get("KMSKeyArn"):
        spec["KMSKeyArn"] = config["KMSKeyArn"]
    vpc = config.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):
        spec["VpcConfig"] = {
            "SubnetIds": vpc["SubnetIds"],
            "SecurityGroupIds": vpc.get("SecurityGroupIds", []),
            **({"Ipv6AllowedForDualStack": True} if vpc.get("Ipv6AllowedForDualStack") else {}),
        }
    if config.get("FileSystemConfigs"):
        spec["FileSystemConfigs"] = config["FileSystemConfigs"]
    apply_on = (config.get("SnapStart") or {}).get("ApplyOn")
    if apply_on and apply_on != "None":
        spec["SnapStart"] = {"ApplyOn": apply_on}  # its versions are Pending until their snapshot is made
    logging = {
        key: value
        for key, value in (config.get("LoggingConfig") or {}).items()
        if key in ("LogFormat", "ApplicationLogLevel", "SystemLogLevel") and value
    }
    if logging:
        # The format decides how REPORT lines read, the levels how much the function logs (which costs time).
        spec["LoggingConfig"] = logging
    return spec


def refusal(source: dict[str, Any]) -> str:
    """Why ``source`` (GetFunction's answer) cannot be copied faithfully; "" when it can."""
    config = source["Configuration"]
    arn = config.get("FunctionArn") or config.get("FunctionName")
    error = (config.get("Environment") or {}).get("Error")
    if error:
        return (
            f"{arn}'s environment could not be read ({error.get('ErrorCode', 'Error')}: {error.get('Message', '')}): "
            "a shadow would run without its environment variables, so none was created. Let the PrepareMeasurement "
            "role use the function's KMS key (kms:Decrypt in the key policy), or give the target a memorySize"
        )
    if config.get("SigningProfileVersionArn"):
        return (
            f"{arn}'s code is signed (signing profile {config['SigningProfileVersionArn']}): a shadow would run "
            "without its code-signing config, so none was created; give the target a memorySize"
        )
    if (source.get("Concurrency") or {}).get("ReservedConcurrentExecutions") == 0:
        return f"{arn} has a reserved concurrency of 0: every invocation of it is throttled, and so would its shadow's"
    if config.get("PackageType") == "Image" and not (source.get("Code") or {}).get("ResolvedImageUri"):
        return (
            f"{arn} is an image function whose GetFunction answer has no Code.ResolvedImageUri: without the digest "
            "a shadow could run another image than the target's tag named at deploy time, so none was created"
        )
    return ""


def runtime_mismatch(target_config: dict[str, Any], shadow_config: dict[str, Any]) -> str:
    """Why the shadow's runtime version differs from the target's ("" when they match or neither reports one)."""
    wanted = (target_config.get("RuntimeVersionConfig") or {}).get("RuntimeVersionArn")
    got = (shadow_config.get("RuntimeVersionConfig") or {}).get("RuntimeVersionArn")
    if not wanted or wanted == got:
        return ""
    return (
        f"{target_config.get('FunctionArn')} runs the runtime version {wanted}, and its shadow was given {got}: "
        "a measurement on another runtime version is not a measurement of the target, so the shadow is deleted "
        "and the target fails; give it a memorySize, or update its runtime version"
    )
