"""Drift: where a function's size is declared, and a deploy that puts a tuned size back.

An applied size lives only in the function until its source says so: the next deploy of a
CloudFormation, SAM, CDK or Terraform stack puts the declared size back. So every record of an
IaC-managed target says exactly what to change (``iac.iac_change``), and UpdateConfiguration asks
``check`` before it applies: a function back at the size an earlier run changed, changed since
that apply, was reverted by someone else. That run records ``REVERTED_BY_DEPLOY`` and applies
nothing; after ``deploy_revert_limit`` reverts re-applying is held (an item in the state table,
``pk = DRIFT#<function ARN>``) until the function is found at another size or stack (its source
changed) or the hold is cleared (``autotuner hold FUNCTION --clear``). docs/drift.md has the rules.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.documents.base import Outcome
from autotuner_core.documents.drift import DeployRevert
from autotuner_core.documents.task import TargetTask
from autotuner_core.policy.errors import ConditionFailedError, ThrottledError
from autotuner_core.run.records import latest_records
from autotuner_core.settings import Settings
from autotuner_core.targets.iac import CFN_STACK_TAG, change_text

# How many of the target's latest records are read to find its last APPLIED one.
HISTORY_DEPTH = 20
CLEAR_COMMAND = "autotuner hold {} --clear"


# --- the hold -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """The target's deploy-revert count and hold, as kept in the state table."""

    reverts: int = 0
    held: bool = False
    counted_apply: str | None = None  # the execution whose apply's revert was counted last
    counted_by: str | None = None  # the execution that counted it (its retry gives the same answer)
    tuned_memory: int | None = None
    deployed_memory: int | None = None
    stack: str | None = None
    modified_at: str | None = None
    version: int = 0

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> Hold:
        if not item:
            return cls()

        def text(key: str) -> str | None:
            value: str | None = item.get(key, {}).get("S")
            return value

        def number(key: str) -> int | None:
            value = item.get(key, {}).get("N")
            return int(value) if value is not None else None

        return cls(
            reverts=number("reverts") or 0,
            held=bool(item.get("held", {}).get("BOOL", False)),
            counted_apply=text("countedApply"),
            counted_by=text("countedBy"),
            tuned_memory=number("tunedMemory"),
            deployed_memory=number("deployedMemory"),
            stack=text("stack"),
            modified_at=text("modifiedAt"),
            version=number("version") or 0,
        )


def hold_key(target: str) -> str:
    return f"DRIFT#{target}"


class HoldStore:
    """Reads and conditionally writes the hold items of one state table."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def read(self, target: str) -> Hold:
        with aws_call("dynamodb:GetItem", self.table):
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"pk": {"S": hold_key(target)}}, ConsistentRead=True
            ).get("Item")
        return Hold.from_item(item)

    def write(self, target: str, expected_version: int, new: Hold) -> None:
        """Replace the item only if nobody changed it since ``expected_version`` was read."""
        item: dict[str, Any] = {
            "pk": {"S": hold_key(target)},
            "kind": {"S": "deploy-hold"},
            "target": {"S": target},
            "reverts": {"N": str(new.reverts)},
            "held": {"BOOL": new.held},
            "version": {"N": str(expected_version + 1)},
        }
        for key, value in (
            ("countedApply", new.counted_apply),
            ("countedBy", new.counted_by),
            ("stack", new.stack),
            ("modifiedAt", new.modified_at),
        ):
            if value:
                item[key] = {"S": value}
        for key, number in (("tunedMemory", new.tuned_memory), ("deployedMemory", new.deployed_memory)):
            if number is not None:
                item[key] = {"N": str(number)}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_version == 0
            else {
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        try:
            with aws_call("dynamodb:PutItem", self.table):
                self.dynamodb.put_item(TableName=self.table, Item=item, **condition)
        except ConditionFailedError:
            # Another execution counted a revert of this target at the same moment: decide again.
            raise ThrottledError(f"the deploy-revert hold of {target} changed under this run; will retry") from None

    def clear(self, target: str) -> bool:
        """Lift the target's hold and forget its reverts. Returns whether it was held.

        Which applies were reverted stays: a revert already counted is not counted again, so the next
        run applies.
        """
        try:
            with aws_call("dynamodb:UpdateItem", self.table):
                answer = self.dynamodb.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": hold_key(target)}},
                    UpdateExpression="SET reverts = :zero, held = :no, #version = #version + :one REMOVE countedBy",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#version": "version"},
                    ExpressionAttributeValues={":zero": {"N": "0"}, ":no": {"BOOL": False}, ":one": {"N": "1"}},
                    ReturnValues="ALL_OLD",
                )
        except ConditionFailedError:
            return False  # no item: nothing was ever counted
        return bool(answer.get("Attributes", {}).get("held", {}).get("BOOL", False))


# --- the check before an apply ----------------------------------------------------------------


def _moment(text: str | None) -> datetime | None:
    """Lambda's LastModified (``2024-05-01T12:00:00.000+0000``) or an ISO time; None if unreadable."""
    if not text:
        return None
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", text.strip())
    if match is None:
        return None
    moment = datetime.fromisoformat(match[1]).replace(microsecond=int((match[2] or "0")[:6].ljust(6, "0")))
    zone = match[3]
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        return (moment.replace(tzinfo=UTC) - timedelta(minutes=offset)).astimezone(UTC)
    return moment.replace(tzinfo=UTC)


def _last_applied(dynamodb: Any, table: str, target: str) -> tuple[dict[str, Any] | None, set[int]]:
    """The target's last APPLIED record, and every size the tuner moved it away from in the applies
    that led up to it (1024 → 512, then 512 → 640: a deploy may put 1024 back)."""
    applied = [
        record
        for record in latest_records(dynamodb, table, target, HISTORY_DEPTH)
        if record.get("outcome") == Outcome.APPLIED and record.get("before") and record.get("after")
    ]
    if not applied:
        return None, set()
    sizes = {int(applied[0]["before"]["MemorySize"])}
    for newer, older in itertools.pairwise(applied):
        if older["after"]["MemorySize"] != newer["before"]["MemorySize"]:
            break  # someone else set the size between these two applies: the chain ends there
        sizes.add(int(older["before"]["MemorySize"]))
    return applied[0], sizes


def _report(hold: Hold, limit: int, *, reverted: bool, name: str, tags: dict[str, str], desired: int) -> DeployRevert:
    tuned = hold.tuned_memory or 0
    deployed = hold.deployed_memory or 0
    applied_by = hold.counted_apply or ""
    change = change_text(tags, desired)
    by = f"the apply of execution {applied_by.rsplit(':', 1)[-1]}"
    if reverted:
        message = (
            f"a deploy put {name} back to {deployed} MB after {by} set {tuned} MB "
            f"(LastModified {hold.modified_at}); not re-applied in this run (revert {hold.reverts} of {limit}). "
        )
    else:
        message = (
            f"not applying {desired} MB to {name}: re-applying is held, deploys put {deployed} MB back "
            f"{hold.reverts} times. "
        )
    if hold.held:
        message += (
            f"The hold stays until the function's source declares another size or the hold is cleared "
            f"({CLEAR_COMMAND.format(name)}). To keep {desired} MB, {change}."
        )
    else:
        message += f"The next run applies it again; to keep {desired} MB, {change}."
    return DeployRevert(
        reverted=reverted,
        held=hold.held,
        reverts=hold.reverts,
        limit=limit,
        tuned_memory=tuned,
        deployed_memory=deployed,
        applied_by=applied_by,
        modified_at=hold.modified_at,
        message=message,
    )


def check(dynamodb: Any, task: TargetTask, desired: int, settings: Settings) -> DeployRevert | None:
    """Before an apply: has a deploy put an earlier run's size back, or is re-applying held? None: apply.

    Reverted means: the target's last APPLIED record changed ``before`` → ``after`` MB, the function
    is at ``before`` again (or at the size an earlier apply of the same chain moved it from), and its
    LastModified is later than that apply's. The function's size as
    discovery read it is the one judged (UpdateConfiguration re-reads it before changing anything).
    """
    current = task.target.configuration
    if not task.request.apply or current.memory_size == desired:
        return None
    arn = task.target.ref.arn
    name = task.target.ref.name
    tags = task.target.tags
    limit = settings.deploy_revert_limit
    store = HoldStore(dynamodb, settings.state_table)
    hold = store.read(arn)
    if hold.counted_by == task.execution.arn:
        # A retry of this task: the same answer.
        return _report(hold, limit, reverted=True, name=name, tags=tags, desired=desired)
    stack = tags.get(CFN_STACK_TAG)
    if hold.held:
        if current.memory_size == hold.deployed_memory and stack == hold.stack:
            return _report(hold, limit, reverted=False, name=name, tags=tags, desired=desired)
        store.clear(arn)  # the source changed (another size, another stack): the hold has served
        hold = store.read(arn)
    previous, replaced = _last_applied(dynamodb, settings.run_history_table, arn)
    if previous is None:
        return None
    after = int(previous["after"]["MemorySize"])
    if current.memory_size == after or current.memory_size not in replaced:
        return None  # the apply holds, or the size is one the tuner never moved away from: no revert
    if previous["executionArn"] == hold.counted_apply:
        return None  # this revert was counted: the next apply is due
    modified = _moment(current.last_modified)
    applied = _moment(previous["after"].get("LastModified") or previous.get("recordedAt"))
    if modified is None or (applied is not None and modified <= applied):
        return None
    reverts = hold.reverts + 1
    new = replace(
        hold,
        reverts=reverts,
        held=reverts >= limit,
        counted_apply=previous["executionArn"],
        counted_by=task.execution.arn,
        tuned_memory=after,
        deployed_memory=current.memory_size,
        stack=stack,
        modified_at=current.last_modified,
    )
    store.write(arn, hold.version, new)
    return _report(new, limit, reverted=True, name=name, tags=tags, desired=desired)
