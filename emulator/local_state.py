"""The embedded account kept between commands: ``autotuner local run``, then ``local history``.

moto keeps everything in memory, and it has no persistence of its own. After a run, the part of
the account that outlives it in AWS and that an operator reads afterwards is written to one JSON
file in a state directory (the CLI's ``--state-dir``):

- the simulated account itself (so the next command deploys the same stack and targets: names
  and ARNs are deterministic, see ``stack.py`` and ``EmbeddedAws.start``);
- every DynamoDB item of every table (the run history, the circuit breaker's state, the
  idempotency records), as DynamoDB's typed JSON;
- every S3 object of every bucket (the Distributed Map's results, the shadows' code copies);
- every execution of the tuner's state machine as Step Functions answered for it:
  DescribeExecution, GetExecutionHistory, ListMapRuns, and for each map run DescribeMapRun and
  its children's ListExecutions, DescribeExecution and GetExecutionHistory.

A later command starts a fresh embedded AWS with the saved account and ``restored`` puts the
items and objects back through the services' own APIs (PutItem, PutObject) and answers those
Step Functions calls for the saved executions with the saved answers. Why answers rather than a
replay: an execution's history is the interpreter's record of one real run (its timestamps,
retries, thread interleaving); re-running the input would make a new run, not bring back the one
the user asks about, and moto has no API that creates a finished execution. DynamoDB items and
S3 objects, on the other hand, are plain data the real APIs write back exactly.

The file is written to a temporary name and renamed over the old one, so a reader never sees
half a state, and two commands writing at once leave one whole state (the last one's).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import moto_adapter
from emulator.account import SimulatedAccount
from emulator.interceptor import unlogged

if TYPE_CHECKING:
    from emulator.cloud import EmbeddedAws

__all__ = ["STATE_FILE", "LocalState", "LocalStateError", "capture", "restored"]

STATE_FILE = "state.json"
_FORMAT = 1
_DATE = "$date"  # how a timestamp is kept in the file: {"$date": ISO 8601}
_BYTES = "$bytes"  # and binary data: {"$bytes": base64}
_BATCH = 25  # BatchWriteItem's limit on items per request


class LocalStateError(Exception):
    """The state directory cannot be read or does not fit; the message names the file and why."""


@dataclass
class LocalState:
    """What ``capture`` read from an embedded account, and ``restored`` puts back."""

    account: SimulatedAccount
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> typed items
    objects: dict[str, dict[str, str]] = field(default_factory=dict)  # bucket -> key -> base64 body
    # execution ARN -> {"describe", "history", "mapRuns": [{"describe", "children": [ARN]}]}; children too
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    executions_started: int = 0

    # -- the file ------------------------------------------------------------------------------
    @staticmethod
    def path(state_dir: str | Path) -> Path:
        """The state file in ``state_dir``."""
        return Path(state_dir) / STATE_FILE

    @classmethod
    def load(cls, state_dir: str | Path) -> LocalState | None:
        """The state kept in ``state_dir``; None if there is none yet."""
        path = cls.path(state_dir)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise LocalStateError(f"cannot read {path}: {error}") from None
        try:
            document = json.loads(text, object_hook=_decode)
            if document.get("format") != _FORMAT:
                raise ValueError(f"format {document.get('format')!r}, this version reads {_FORMAT}")
            return cls(
                account=SimulatedAccount.model_validate(document["account"]),
                tables=document["dynamodb"],
                objects=document["s3"],
                executions=document["stepfunctions"],
                executions_started=int(document["executionsStarted"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise LocalStateError(
                f"{path} is not an embedded account state ({error}); delete it, or pass another --state-dir"
            ) from None

    def save(self, state_dir: str | Path) -> Path:
        """Write the state to ``state_dir`` (created if missing), replacing what was there at once."""
        path = self.path(state_dir)
        document = {
            "format": _FORMAT,
            "account": self.account.model_dump(mode="json", by_alias=True),
            "executionsStarted": self.executions_started,
            "dynamodb": self.tables,
            "s3": self.objects,
            "stepfunctions": self.executions,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".state-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, default=_encode, separators=(",", ":"))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path


# -- reading the account ---------------------------------------------------------------------------
def capture(aws: EmbeddedAws, previous: LocalState | None = None) -> LocalState:
    """The account's tables, objects and executions now, with ``previous``'s executions kept.

    Reads through the operator's clients, unlogged: the capture is no part of any run.
    """
    state = LocalState(
        account=aws.account,
        executions=dict(previous.executions) if previous is not None else {},
        executions_started=aws.executions_started,
    )
    assert aws.stack is not None
    with unlogged():
        dynamodb = aws.client("dynamodb")
        for page in dynamodb.get_paginator("list_tables").paginate():
            for table in page["TableNames"]:
                items: list[dict[str, Any]] = []
                for scanned in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                    items.extend(scanned["Items"])
                state.tables[table] = items
        s3 = aws.client("s3")
        for bucket in s3.list_buckets().get("Buckets", []):
            kept = state.objects.setdefault(bucket["Name"], {})
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
                for entry in page.get("Contents", []):
                    body = s3.get_object(Bucket=bucket["Name"], Key=entry["Key"])["Body"].read()
                    kept[entry["Key"]] = base64.b64encode(body).decode("ascii")
        sfn = aws.client("stepfunctions")
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=aws.stack.state_machine_arn):
            for listed in page["executions"]:
                _capture_execution(sfn, listed["executionArn"], state.executions)
    return state


def _answer(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def _capture_execution(sfn: Any, execution_arn: str, into: dict[str, dict[str, Any]], *, child: bool = False) -> None:
    described = _answer(sfn.describe_execution(executionArn=execution_arn))
    kept: dict[str, Any] = {"describe": described, "history": _history(sfn, execution_arn), "mapRuns": []}
    # The tuner's Distributed Map children start no map runs of their own (and moto lists none for them).
    pages = [] if child else sfn.get_paginator("list_map_runs").paginate(executionArn=execution_arn)
    for page in pages:
        for listed in page["mapRuns"]:
            arn = listed["mapRunArn"]
            children = []
            for children_page in sfn.get_paginator("list_executions").paginate(mapRunArn=arn):
                children.extend(children_page["executions"])
            kept["mapRuns"].append(
                {"listed": listed, "describe": _answer(sfn.describe_map_run(mapRunArn=arn)), "children": children}
            )
            for listed_child in children:
                _capture_execution(sfn, listed_child["executionArn"], into, child=True)
    into[execution_arn] = kept


# -- putting it back ---------------------------------------------------------------------------------
@contextmanager
def restored(aws: EmbeddedAws, state: LocalState) -> Iterator[None]:
    """Put ``state``'s items and objects back into a started ``aws``; answer for its executions.

    ``aws`` must run ``state.account`` (the same stack and tables). The Step Functions answers
    last as long as the body; the items and objects stay, as data does.
    """
    if aws.account != state.account:
        raise LocalStateError("the embedded AWS runs another account than the state was saved from")
    with unlogged():
        _put_items(aws, state.tables)
        _put_objects(aws, state.objects)
    aws.executions_started = max(aws.executions_started, state.executions_started)
    patches = _answer_for(state.executions)
    try:
        yield
    finally:
        patches.undo()


def _put_items(aws: EmbeddedAws, tables: dict[str, list[dict[str, Any]]]) -> None:
    dynamodb = aws.client("dynamodb")
    existing = {name for page in dynamodb.get_paginator("list_tables").paginate() for name in page["TableNames"]}
    missing = sorted(set(tables) - existing)
    if missing:
        raise LocalStateError(f"the state has tables this deployment does not: {', '.join(missing)}")
    for table, items in tables.items():
        for start in range(0, len(items), _BATCH):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH]]
            pending: dict[str, Any] = {table: requests}
            while pending:  # moto writes every item at once; AWS may hand some back
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _put_objects(aws: EmbeddedAws, objects: dict[str, dict[str, str]]) -> None:
    s3 = aws.client("s3")
    buckets = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for bucket, contents in objects.items():
        if bucket not in buckets:
            region = aws.account.region
            where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=bucket, **where)
        for key, body in contents.items():
            s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(body))


def _answer_for(executions: dict[str, dict[str, Any]]) -> moto_adapter.Patches:
    """Step Functions' read calls on a saved execution get the saved answers; the rest go to moto."""
    response_class = moto_adapter.StepFunctionResponse
    result = moto_adapter.ActionResult
    map_runs = {run["listed"]["mapRunArn"]: run for kept in executions.values() for run in kept["mapRuns"]}
    patches = moto_adapter.Patches()

    def answered(name: str, lookup: Any) -> None:
        original = patches.patch(response_class, name, lambda response: _or(lookup(response), original, response))

    def _or(answer: Any, original: Any, response: Any) -> Any:
        return result(answer) if answer is not None else original(response)

    def describe(response: Any) -> Any:
        kept = executions.get(response._get_param("executionArn"))
        return kept["describe"] if kept else None

    def history(response: Any) -> Any:
        kept = executions.get(response._get_param("executionArn"))
        if kept is None:
            return None
        events = kept["history"]
        return {"events": list(reversed(events)) if response._get_param("reverseOrder") else events}

    def list_map_runs(response: Any) -> Any:
        kept = executions.get(response._get_param("executionArn"))
        return {"mapRuns": [run["listed"] for run in kept["mapRuns"]]} if kept else None

    def describe_map_run(response: Any) -> Any:
        run = map_runs.get(response._get_param("mapRunArn"))
        return run["describe"] if run else None

    def list_children(response: Any) -> Any:
        run = map_runs.get(response._get_param("mapRunArn"))
        return {"executions": run["children"]} if run else None

    answered("describe_execution", describe)
    answered("get_execution_history", history)
    answered("list_map_runs", list_map_runs)
    answered("describe_map_run", describe_map_run)
    answered("list_executions", list_children)
    return patches


# -- timestamps and bytes in JSON ----------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {_DATE: value.isoformat()}
    if isinstance(value, bytes | bytearray):  # DynamoDB's B and BS values
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode(document: dict[str, Any]) -> Any:
    if len(document) == 1 and _DATE in document:
        return datetime.datetime.fromisoformat(document[_DATE])
    if len(document) == 1 and _BYTES in document:
        return base64.b64decode(document[_BYTES])
    return document
