"""Which payload each target is measured with, and reading payloads kept in S3.

Precedence, per target: its entry in the input's ``payloads`` map, then its ``autotuner:payload``
tag (an ``s3://`` URI), then the run-wide ``payload`` / ``payloadS3``. Without any of these, a
sweep (``select``, or more than one target) does not invoke the function: it is skipped with
``NoPayloadError`` and recorded SKIPPED. One explicitly named target is invoked with ``{}``, as
AWS Lambda Power Tuning does; ``"payload": {}`` says the same for a sweep.

S3 objects are read by the measuring function, never passed through state (256 KB), and only
from the buckets the deployment names (template parameter ``PayloadBuckets``).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any

from autotuner_core.aws.arns import parse_arn
from autotuner_core.aws.calls import aws_call
from autotuner_core.documents.request import (
    MAX_INVOKE_PAYLOAD_BYTES,
    PayloadSource,
    TargetRef,
    TuningRequest,
    parse_target,
)
from autotuner_core.policy.errors import (
    InvalidConfigurationError,
    InvalidInputError,
    NoPayloadError,
    ObjectNotFoundError,
    PermissionDeniedError,
)
from autotuner_core.settings import Settings

PAYLOAD_TAG = "autotuner:payload"
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.{1,1024})\Z", re.DOTALL)
NO_PAYLOAD = (
    "no payload: give payloads[<function>], tag autotuner:payload, or a run-wide payload (payload or payloadS3; "
    '"payload": {} sends an empty object)'
)
# Objects read in this execution environment, by (execution, URI): a measuring function reads an
# object once per run, and never serves another run a copy that may have changed since.
_CACHE: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_CACHE_ENTRIES = 4  # at most 4 x 6 MB held
_CACHE_LOCK = threading.Lock()


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key); ValueError for anything else."""
    match = _S3_URI.match(uri)
    if not match:
        raise ValueError(f"{uri!r:.80} is not an S3 object URI (s3://BUCKET/KEY)")
    return match["bucket"], match["key"]


def allowed_buckets(setting: str) -> list[str]:
    """A comma-list parameter (PayloadBuckets, PayloadProcessorArns) as its items."""
    return [bucket.strip() for bucket in setting.split(",") if bucket.strip()]


def check_bucket(uri: str, buckets: list[str], field: str) -> tuple[str, str]:
    """The object's (bucket, key) if its bucket may be read; InvalidInputError naming ``field`` otherwise."""
    try:
        bucket, key = split_s3_uri(uri)
    except ValueError as error:
        raise InvalidInputError(f"{field}: {error}") from None
    if bucket not in buckets:
        allowed = f"the deployment allows {', '.join(buckets)}" if buckets else "the deployment allows none"
        raise InvalidInputError(
            f"{field}: bucket {bucket!r} is not one the tuner may read payloads from ({allowed}; template "
            "parameter PayloadBuckets)"
        )
    return bucket, key


def check_object(s3: Any, uri: str, buckets: list[str], field: str) -> int:
    """HeadObject before the run: the object exists, may be read and fits Lambda's 6 MB invoke limit.

    Returns its size. Every problem is InvalidInputError naming ``field``.
    """
    bucket, key = check_bucket(uri, buckets, field)
    try:
        with aws_call("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"):
            head = s3.head_object(Bucket=bucket, Key=key)
    except ObjectNotFoundError:
        raise InvalidInputError(f"{field}: {uri} does not exist") from None
    except PermissionDeniedError as error:
        # S3 answers 403, not 404, for a missing object to a caller without s3:ListBucket.
        raise InvalidInputError(
            f"{field}: {uri} cannot be read by the tuner: it does not exist or access is denied ({error})"
        ) from None
    size = int(head.get("ContentLength", 0))
    if size > MAX_INVOKE_PAYLOAD_BYTES:
        raise InvalidInputError(
            f"{field}: {uri} has {size} bytes, over Lambda's synchronous invoke limit of {MAX_INVOKE_PAYLOAD_BYTES}"
        )
    return size


def check_payload_map(
    request: TuningRequest, targets: list[TargetRef], *, partition: str, region: str, account: str
) -> None:
    """Every ``payloads`` key must name one of the run's targets (by name, partial ARN or ARN)."""
    if not request.payloads:
        return
    arns = {target.arn for target in targets}
    strays: list[str] = []
    owners: dict[str, str] = {}
    for key in request.payloads:
        try:
            arn = parse_target(key, partition=partition, region=region, account=account).arn
        except InvalidInputError:
            arn = None
        if arn is None or arn not in arns:
            strays.append(key)
        elif arn in owners:
            raise InvalidInputError(f"payloads: {owners[arn]!r} and {key!r} name the same function")
        else:
            owners[arn] = key
    if strays:
        shown = ", ".join(repr(key)[:80] for key in strays[:10]) + (" …" if len(strays) > 10 else "")
        raise InvalidInputError(
            f"payloads: {len(strays)} {'entry names' if len(strays) == 1 else 'entries name'} no target of this "
            f"run: {shown}"
        )


def check_payload_input(
    request: TuningRequest, targets: list[TargetRef], settings: Settings, *, function_arn: str
) -> None:
    """Pre-flight's first payload checks, before any AWS call: the map names targets, S3 payloads are in
    allowed buckets, processors are allowed functions."""
    partition, _, region, account, _ = parse_arn(function_arn)
    check_payload_map(request, targets, partition=partition, region=region, account=account)
    buckets = allowed_buckets(settings.payload_buckets)
    for field, uri in payload_objects(request):
        check_bucket(uri, buckets, field)
    check_processors(request, allowed_buckets(settings.payload_processor_arns), function_arn=function_arn)


def check_payload_objects(s3: Any, request: TuningRequest, buckets: list[str]) -> None:
    """Pre-flight's last payload check (after the simulation allowed the reads): HeadObject on each S3 payload."""
    for field, uri in payload_objects(request):
        check_object(s3, uri, buckets, field)


PROCESSOR_FIELDS = ("preProcessor", "postProcessor")


def processor_arns(request: TuningRequest, *, function_arn: str) -> dict[str, str]:
    """preProcessor / postProcessor as ARNs in the tuner's account and region ({field: ARN}, given ones only).

    InvalidInputError naming the field for another account, region or partition.
    """
    partition, _, region, account, _ = parse_arn(function_arn)
    found = {}
    for field, text in zip(PROCESSOR_FIELDS, (request.pre_processor, request.post_processor), strict=True):
        if text is None:
            continue
        try:
            found[field] = parse_target(text, partition=partition, region=region, account=account).qualified_arn
        except InvalidInputError as error:
            raise InvalidInputError(f"{field}: {error}") from None
    return found


def check_processors(request: TuningRequest, allowed: list[str], *, function_arn: str) -> None:
    """Each processor must be a function the deployment allows (PayloadProcessorArns), exactly as listed."""
    for field, arn in processor_arns(request, function_arn=function_arn).items():
        if arn not in allowed:
            listed = f"it allows {', '.join(allowed)}" if allowed else "it allows none"
            raise InvalidInputError(
                f"{field}: {arn} is not a function this deployment may invoke around measurements ({listed}; "
                "template parameter PayloadProcessorArns)"
            )


def payload_objects(request: TuningRequest) -> list[tuple[str, str]]:
    """(field, URI) of every S3 payload the input names: checked before the run."""
    found = [("payloadS3", request.payload_s3)] if request.payload_s3 else []
    for key, entry in (request.payloads or {}).items():
        if entry.payload_s3:
            found.append((f"payloads[{key!r}].payloadS3", entry.payload_s3))
    return found


def resolve_source(
    request: TuningRequest, target: TargetRef, tags: dict[str, str], buckets: list[str], *, s3: Any = None
) -> PayloadSource:
    """Where this target's payload comes from; NoPayloadError when a sweep gives it none.

    A tag's object is checked with HeadObject (``s3``) here, before any version or shadow exists;
    a problem with it is the function's (InvalidConfigurationError), not the input's.
    """
    partition, _, region, account, _ = parse_arn(target.arn)
    for key, entry in (request.payloads or {}).items():
        try:
            named = parse_target(key, partition=partition, region=region, account=account)
        except InvalidInputError:
            continue
        if named.arn == target.arn:
            return PayloadSource(origin="payloads", entry=key, s3=entry.payload_s3)
    tagged = tags.get(PAYLOAD_TAG)
    if tagged:
        try:
            if s3 is None:
                check_bucket(tagged, buckets, f"tag {PAYLOAD_TAG}")
            else:
                check_object(s3, tagged, buckets, f"tag {PAYLOAD_TAG}")
        except InvalidInputError as error:
            raise InvalidConfigurationError(f"{target.arn}: {error}") from None
        return PayloadSource(origin="tag", s3=tagged)
    if request.payload is not None or request.payload_s3 is not None:
        return PayloadSource(origin="run", s3=request.payload_s3)
    sweep = request.select is not None or len(request.targets or []) > 1
    if sweep:
        raise NoPayloadError(f"{target.arn}: {NO_PAYLOAD}")
    return PayloadSource(origin="default")


def payload_for(request: TuningRequest, source: PayloadSource | None, s3: Any, execution_arn: str) -> Any:
    """The payload to send: an inline value (as the request holds it) or an S3 object's bytes (JSON, sent as is)."""
    if source is None or source.origin == "default":
        return {}
    if source.s3:
        return _read_object(s3, source.s3, execution_arn)
    if source.origin == "payloads":
        return request.payloads[source.entry].payload  # type: ignore[index]
    return request.payload


def _read_object(s3: Any, uri: str, execution_arn: str) -> bytes:
    with _CACHE_LOCK:
        cached = _CACHE.get((execution_arn, uri))
    if cached is None:
        bucket, key = split_s3_uri(uri)
        try:
            with aws_call("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"):
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_INVOKE_PAYLOAD_BYTES + 1)
        except ObjectNotFoundError as error:
            raise InvalidConfigurationError(f"{uri}: the payload object is gone since pre-flight ({error})") from None
        if len(body) > MAX_INVOKE_PAYLOAD_BYTES:
            raise InvalidConfigurationError(
                f"{uri} is over Lambda's synchronous invoke limit of {MAX_INVOKE_PAYLOAD_BYTES} bytes"
            )
        try:
            json.loads(body)
        except ValueError:
            raise InvalidConfigurationError(f"{uri} is not JSON; Lambda's Invoke sends a JSON document") from None
        with _CACHE_LOCK:
            _CACHE[(execution_arn, uri)] = cached = body
            while len(_CACHE) > _CACHE_ENTRIES:
                _CACHE.popitem(last=False)
    return cached
