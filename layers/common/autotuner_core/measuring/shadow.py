"""Shadow copies: measuring a function whose ``$LATEST`` serves live traffic without touching it.

A shadow is a temporary function in the tuner's namespace (``autotuner-shadow-<run>-<hash>``) with
the target's code (the zip copied through the tuner's bucket, or the same image), runtime, handler,
layers, environment, VPC, architecture, timeout, ephemeral storage, tracing and execution role. It
has no trigger, URL or resource policy, so nothing but the tuner invokes it. It is tagged with the
target it copies, the execution that made it and the tuner's stack: clean-up deletes it by name,
and the orphan sweep finds what a crashed run left by those tags. A function is deleted only when
both its name and its tags say the tuner made it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import urllib.request
from dataclasses import dataclass
from typing import Any

from autotuner_core.aws.arns import function_arn_beside, function_name
from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.lambda_control import get_function, wait_until_settled
from autotuner_core.aws.paging import every_page
from autotuner_core.documents.target import FunctionConfiguration, LiveTrafficEvidence
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    InvalidConfigurationError,
    UnexpectedAwsError,
    UpdateInProgressError,
)
from autotuner_core.settings import TUNER_STACK_TAG, Settings

SHADOW_PREFIX = "autotuner-shadow-"
SHADOW_OF_TAG = "autotuner:shadow-of"
EXECUTION_TAG = "autotuner:execution"
CODE_PREFIX = "shadow-code/"
# A presigned Code.Location is valid for 10 minutes; the copy is read at once.
_DOWNLOAD_TIMEOUT_S = 60
_MAX_ZIP_BYTES = 250 * 1024 * 1024  # Lambda's unzipped limit bounds any real package well below this
_RUNNING = "RUNNING"

VERSIONS, SHADOW, IN_PLACE = "versions", "shadow", "in-place"


def shadow_name(token: str, target_arn: str) -> str:
    """The shadow of ``target_arn`` for the run ``token``: 36 characters, well within Lambda's 64."""
    digest = hashlib.sha256(target_arn.encode("utf-8")).hexdigest()[:10]
    return f"{SHADOW_PREFIX}{token}-{digest}"


def shadow_arn(target_arn: str, name: str) -> str:
    """The shadow's ARN: the target's account, region and partition, the shadow's name."""
    return function_arn_beside(target_arn, name)


def code_key(name: str) -> str:
    """Where the shadow's copy of a zip package is kept in the tuner's bucket."""
    return f"{CODE_PREFIX}{name}.zip"


def role_patterns(settings: Settings) -> list[str]:
    """The execution roles a shadow may be given (template parameter ShadowRoleArns); empty: no shadows."""
    return [item.strip() for item in settings.shadow_role_arns.split(",") if item.strip()]


def role_allowed(role_arn: str | None, patterns: list[str]) -> bool:
    """Whether ``role_arn`` matches one of the ARNs or IAM-style patterns (``*``, ``?``)."""
    if not role_arn:
        return False
    return any(fnmatch.fnmatchcase(role_arn, pattern) for pattern in patterns)


def decide(evidence: LiveTrafficEvidence, role_arn: str | None, settings: Settings, *, measure_on_live: bool) -> str:
    """How a measured target is measured: on versions (idle), on a shadow, or in place (opted in).

    A live ``$LATEST`` that may not be shadowed and was not opted in gets "": the caller refuses it.
    """
    if not evidence.live:
        return VERSIONS
    patterns = role_patterns(settings)
    if role_allowed(role_arn, patterns):
        return SHADOW
    if measure_on_live:
        return IN_PLACE
    return ""


def shadow_refusal(role_arn: str | None, settings: Settings) -> str:
    """What the LiveTrafficError adds: why no shadow was possible and how to allow one."""
    if not role_patterns(settings):
        return (
            "This deployment allows no shadow copies: deploy with ShadowRoleArns listing the execution roles a "
            "shadow may run with (iam:PassRole), or set measureOnLive: true to measure $LATEST in place"
        )
    return (
        f"its execution role {role_arn} is not among the deployment's ShadowRoleArns, so no shadow copy may run "
        "with it: add it there, or set measureOnLive: true to measure $LATEST in place"
    )


@dataclass(frozen=True)
class Shadow:
    """The shadow being measured: its ARN and its configuration as created."""

    arn: str
    configuration: FunctionConfiguration


def ensure_shadow(lam: Any, s3: Any, target_arn: str, token: str, execution_arn: str, settings: Settings) -> Shadow:
    """The run's shadow of ``target_arn``, created on first use and waited for until Active.

    A retried or later round finds the one made earlier (by name, checked by tag).
    """
    name = shadow_name(token, target_arn)
    arn = shadow_arn(target_arn, name)
    poll = settings.status_poll_interval_ms / 1000
    try:
        state = get_function(lam, arn, tags_needed=True)
    except FunctionNotFoundError:
        state = None
    if state is None:
        _create(lam, s3, target_arn, name, arn, execution_arn, settings)
        state = get_function(lam, arn, tags_needed=True)
    if not _ours(state.tags, name, target_arn, settings) or state.tags.get(EXECUTION_TAG) != execution_arn:
        raise InvalidConfigurationError(
            f"{arn} exists but is not this run's shadow of {target_arn} (its tags say otherwise); not using it"
        )
    ready = wait_until_settled(lam, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds)
    return Shadow(arn=arn, configuration=ready.configuration)


def _create(lam: Any, s3: Any, target_arn: str, name: str, arn: str, execution_arn: str, settings: Settings) -> None:
    with aws_call("lambda:GetFunction", target_arn):
        source = lam.get_function(FunctionName=target_arn)
    config = source["Configuration"]
    if not role_allowed(config.get("Role"), role_patterns(settings)):
        raise InvalidConfigurationError(
            f"{target_arn}'s execution role {config.get('Role')} is not among ShadowRoleArns; no shadow was created"
        )
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
        "Tags": {
            SHADOW_OF_TAG: target_arn,
            EXECUTION_TAG: execution_arn,
            # The tuner never tunes its own functions: a sweep cannot select a shadow.
            TUNER_STACK_TAG: settings.stack_name,
        },
    }
    if config.get("PackageType") == "Image":
        spec["PackageType"] = "Image"
        spec["Code"] = {"ImageUri": source["Code"]["ImageUri"]}
        image_config = (config.get("ImageConfigResponse") or {}).get("ImageConfig")
        if image_config:
            spec["ImageConfig"] = image_config
    else:
        spec["Runtime"] = config["Runtime"]
        spec["Handler"] = config["Handler"]
        spec["Code"] = _copy_zip(s3, source["Code"]["Location"], name, target_arn, settings)
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
    log_format = (config.get("LoggingConfig") or {}).get("LogFormat")
    if log_format:
        # The format decides how REPORT lines read; the shadow logs to its own group, not production's.
        spec["LoggingConfig"] = {"LogFormat": log_format}
    try:
        with aws_call("lambda:CreateFunction", arn):
            lam.create_function(**spec)
    except UpdateInProgressError:
        # "Function already exist": an earlier attempt of this task created it; the caller checks its tags.
        return


def _copy_zip(s3: Any, location: str, name: str, target_arn: str, settings: Settings) -> dict[str, str]:
    """Download the package from GetFunction's presigned Code.Location into the tuner's bucket."""
    if not settings.sweep_bucket:
        raise InvalidConfigurationError("SWEEP_BUCKET is not set: no bucket to copy the shadow's code through")
    if not location.startswith("https://"):
        raise InvalidConfigurationError(f"{target_arn}'s Code.Location is not an https URL; not downloading it")
    with urllib.request.urlopen(location, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        body = response.read(_MAX_ZIP_BYTES + 1)
    if len(body) > _MAX_ZIP_BYTES:
        raise InvalidConfigurationError(f"{target_arn}'s package is larger than {_MAX_ZIP_BYTES} bytes")
    key = code_key(name)
    with aws_call("s3:PutObject", f"{settings.sweep_bucket}/{key}"):
        s3.put_object(Bucket=settings.sweep_bucket, Key=key, Body=body)
    return {"S3Bucket": settings.sweep_bucket, "S3Key": key}


def _ours(tags: dict[str, str], name: str, target_arn: str | None, settings: Settings) -> bool:
    """Name prefix AND tags: the only proof that the tuner made a function."""
    if not name.startswith(SHADOW_PREFIX) or tags.get(TUNER_STACK_TAG) != settings.stack_name:
        return False
    shadow_of = tags.get(SHADOW_OF_TAG)
    return bool(shadow_of) and (target_arn is None or shadow_of == target_arn) and bool(tags.get(EXECUTION_TAG))


def delete_shadow(lam: Any, s3: Any, target_arn: str, token: str, execution_arn: str, settings: Settings) -> bool:
    """Delete this run's shadow of ``target_arn`` and its code copy; safe to run twice. Returns whether one existed."""
    name = shadow_name(token, target_arn)
    arn = shadow_arn(target_arn, name)
    try:
        state = get_function(lam, arn, tags_needed=True)
    except FunctionNotFoundError:
        _delete_code(s3, name, settings)
        return False
    if not _ours(state.tags, name, target_arn, settings) or state.tags.get(EXECUTION_TAG) != execution_arn:
        return False  # not the tuner's (or not this run's): never deleted
    _delete(lam, s3, arn, name, settings)
    return True


def _delete(lam: Any, s3: Any, arn: str, name: str, settings: Settings) -> None:
    try:
        # Unqualified: the function with its versions and aliases.
        with aws_call("lambda:DeleteFunction", arn):
            lam.delete_function(FunctionName=arn)
    except FunctionNotFoundError:
        pass  # deleted meanwhile (the sweep of another run, or a retry of this task)
    _delete_code(s3, name, settings)


def _delete_code(s3: Any, name: str, settings: Settings) -> None:
    if not settings.sweep_bucket:
        return
    key = code_key(name)
    with aws_call("s3:DeleteObject", f"{settings.sweep_bucket}/{key}"):
        s3.delete_object(Bucket=settings.sweep_bucket, Key=key)  # S3 answers 204 for a missing key too


@dataclass(frozen=True)
class SweepReport:
    """What the orphan sweep found and removed."""

    found: int = 0
    deleted: int = 0
    kept_running: int = 0


def sweep_orphans(
    tagging: Any, lam: Any, sfn: Any, s3: Any, settings: Settings, *, state_machine_arn: str
) -> SweepReport:
    """Delete the shadows crashed runs of this stack left: tagged by it, and their execution not RUNNING.

    Found by tag (``tag:GetResources``), checked by name prefix and tags again, and kept while
    the execution that made it still runs (``states:DescribeExecution``). Only executions of this
    stack's state machine are asked about: another stack's shadows are its own sweep's.
    """
    executions_prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"
    found = deleted = kept = 0
    pages = every_page(
        tagging,
        "get_resources",
        "tag:GetResources",
        "lambda:function",
        TagFilters=[{"Key": SHADOW_OF_TAG}, {"Key": TUNER_STACK_TAG, "Values": [settings.stack_name]}],
        ResourceTypeFilters=["lambda:function"],
    )
    status_of: dict[str, str] = {}
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            arn = item["ResourceARN"]
            name = function_name(arn)
            tags = {tag["Key"]: tag["Value"] for tag in item.get("Tags", [])}
            execution = tags.get(EXECUTION_TAG, "")
            if not _ours(tags, name, None, settings) or not execution.startswith(executions_prefix):
                continue
            found += 1
            if execution not in status_of:
                status_of[execution] = _execution_status(sfn, execution)
            if status_of[execution] == _RUNNING:
                kept += 1
                continue
            _delete(lam, s3, arn, name, settings)
            deleted += 1
    return SweepReport(found=found, deleted=deleted, kept_running=kept)


def _execution_status(sfn: Any, execution_arn: str) -> str:
    try:
        with aws_call("states:DescribeExecution", execution_arn):
            return str(sfn.describe_execution(executionArn=execution_arn)["status"])
    except UnexpectedAwsError as error:
        if "ExecutionDoesNotExist" in str(error):  # past Step Functions' retention: long over
            return "GONE"
        raise
