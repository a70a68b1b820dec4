"""Where a target's size is declared (its infrastructure as code), and what a deploy did to a tuned size.

The rules that fill these documents are in ``targets/drift.py``; docs/drift.md explains them.
"""

from __future__ import annotations

from typing import Literal

from autotuner_core.documents.base import Document

IacTool = Literal["sam", "cloudformation", "cdk", "terraform"]


class IacSource(Document):
    """The tool and the resource that declare the function, as its tags tell it."""

    tool: IacTool
    stack: str | None = None  # the CloudFormation stack (SAM, CloudFormation, CDK)
    logical_id: str | None = None  # the resource's logical id in that stack's template
    address: str | None = None  # the autotuner:iac-address tag: a Terraform address or a CDK construct path
    evidence: str  # the tags this was read from


class IacChange(Document):
    """Exactly what to change in the function's source so that its next deploy keeps ``memory_size``."""

    source: IacSource
    memory_size: int
    line: str  # e.g. "MemorySize: 512", "memorySize: 512", "memory_size = 512"
    where: str  # the resource the line goes under, in words


class DeployRevert(Document):
    """What UpdateConfiguration found of a deploy that put a tuned size back, and whether re-applying is held."""

    reverted: bool  # this run found a revert not counted before: outcome REVERTED_BY_DEPLOY, nothing applied
    held: bool  # re-applying is held: this run or an earlier one reached the limit
    reverts: int  # reverts counted since the hold was last cleared
    limit: int  # reverts that start the hold
    tuned_memory: int  # the size the tuner applied
    deployed_memory: int  # the size the deploy put back
    applied_by: str  # the execution whose apply was reverted
    modified_at: str | None = None  # the function's LastModified: when the deploy changed it
    message: str
