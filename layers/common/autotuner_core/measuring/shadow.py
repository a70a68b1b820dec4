"""Shadow copies: measuring a function whose ``$LATEST`` serves live traffic without touching it.

A shadow is a temporary function in the tuner's namespace (``autotuner-shadow-<run>-<hash>``), a
copy of the target as shadow_spec.py lists (or the target is refused when it cannot be one). It
has no trigger, URL or resource policy, so nothing but the tuner invokes it. It is tagged with the
target it copies, the execution that made it and the tuner's stack: clean-up deletes it by name,
and the orphan sweep finds what a crashed run left by those tags (shadow_cleanup.py). A function is deleted only when
both its name and its tags say the tuner made it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import urllib.request
from dataclasses import dataclass
from typing import Any

from autotuner_core.aws.arns import function_arn_beside
from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.lambda_control import get_function, wait_until_settled
from autotuner_core.documents.target import FunctionConfiguration, LiveTrafficEvidence
from autotuner_core.measuring import shadow_spec
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    InvalidConfigurationError,
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

    A retried or later round finds the one made earlier (by name, checked by tag). Every round
    reads the target again and holds the shadow to it (shadow_spec.py): what cannot be copied
    faithfully fails the target before anything is created, and a reservation or runtime
    version that drifted apart is set again or refused.
    """
    name = shadow_name(token, target_arn)
    arn = shadow_arn(target_arn, name)
    poll = settings.status_poll_interval_ms / 1000
    with aws_call("lambda:GetFunction", target_arn):
        source = lam.get_function(FunctionName=target_arn)
    problem = shadow_spec.refusal(source)
    if problem:
        raise InvalidConfigurationError(problem)
    try:
        state = get_function(lam, arn, tags_needed=True)
    except FunctionNotFoundError:
        state = None
    if state is None:
        _create(lam, s3, source, target_arn, name, arn, execution_arn, settings)
        state = get_function(lam, arn, tags_needed=True)
    if not made_by_tuner(state.tags, name, target_arn, settings) or state.tags.get(EXECUTION_TAG) != execution_arn:
        raise InvalidConfigurationError(
            f"{arn} exists but is not this run's shadow of {target_arn} (its tags say otherwise); not using it"
        )
    reserved = (source.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    if reserved is not None and state.reserved_concurrency != int(reserved):
        # The target's reservation bounds how many of its invocations run at once: the copy has the same.
        with aws_call("lambda:PutFunctionConcurrency", arn):
            lam.put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=int(reserved))
    ready = wait_until_settled(lam, arn, poll_interval_s=poll, max_wait_s=settings.max_status_wait_seconds)
    with aws_call("lambda:GetFunction", arn):
        shadow_config = lam.get_function(FunctionName=arn)["Configuration"]
    mismatch = shadow_spec.runtime_mismatch(source["Configuration"], shadow_config)
    if mismatch:
        raise InvalidConfigurationError(mismatch)  # the failure path's clean-up deletes the shadow
    return Shadow(arn=arn, configuration=ready.configuration)


def _create(
    lam: Any,
    s3: Any,
    source: dict[str, Any],
    target_arn: str,
    name: str,
    arn: str,
    execution_arn: str,
    settings: Settings,
) -> None:
    config = source["Configuration"]
    if not role_allowed(config.get("Role"), role_patterns(settings)):
        raise InvalidConfigurationError(
            f"{target_arn}'s execution role {config.get('Role')} is not among ShadowRoleArns; no shadow was created"
        )
    tags = {
        SHADOW_OF_TAG: target_arn,
        EXECUTION_TAG: execution_arn,
        # The tuner never tunes its own functions: a sweep cannot select a shadow.
        TUNER_STACK_TAG: settings.stack_name,
    }
    code = None
    if config.get("PackageType") != "Image":
        code = _copy_zip(s3, source["Code"]["Location"], name, target_arn, settings)
    spec = shadow_spec.spec_for(source, name, tags, code)
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


def made_by_tuner(tags: dict[str, str], name: str, target_arn: str | None, settings: Settings) -> bool:
    """Name prefix AND tags: the only proof that the tuner made a function."""
    if not name.startswith(SHADOW_PREFIX) or tags.get(TUNER_STACK_TAG) != settings.stack_name:
        return False
    shadow_of = tags.get(SHADOW_OF_TAG)
    return bool(shadow_of) and (target_arn is None or shadow_of == target_arn) and bool(tags.get(EXECUTION_TAG))
