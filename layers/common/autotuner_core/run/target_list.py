"""The run's target list, kept in S3: a sweep's list can exceed the 256 KB state payload limit.

ValidatePermissions writes it once; the Distributed Map reads its items from it (ItemReader) and
SummarizeRun reads it back to know which targets must have a run record. Only the object's
location travels through state.
"""

from __future__ import annotations

import json
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.documents.request import TargetRef
from autotuner_core.documents.target import ExecutionRef, ObjectRef
from autotuner_core.policy.errors import InvalidInputError

PREFIX = "runs"
REPORTS_PREFIX = "reports"


def report_key(execution_name: str) -> str:
    """Where SummarizeRun writes the run's HTML report (report_store.py): one per execution, as
    execution names are unique per state machine. Here, beside the list's key, so that pre-flight
    checks the grant without importing the renderer."""
    return f"{REPORTS_PREFIX}/{execution_name}/report.html"


def target_list_key(execution_name: str) -> str:
    """One object per execution; execution names are unique per state machine."""
    return f"{PREFIX}/{execution_name}/targets.json"


def store_targets(s3: Any, bucket: str, execution: ExecutionRef, targets: list[TargetRef]) -> ObjectRef:
    if not bucket:
        raise InvalidInputError("SWEEP_BUCKET is empty: the template passes the sweep bucket's name to this function")
    ref = ObjectRef(bucket=bucket, key=target_list_key(execution.name))
    body = json.dumps([target.dump() for target in targets], separators=(",", ":")).encode()
    with aws_call("s3:PutObject", f"s3://{ref.bucket}/{ref.key}"):
        s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=body, ContentType="application/json")
    return ref


def load_targets(s3: Any, ref: ObjectRef) -> list[TargetRef]:
    with aws_call("s3:GetObject", f"s3://{ref.bucket}/{ref.key}"):
        body = s3.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
    return [TargetRef.model_validate(item) for item in json.loads(body)]
