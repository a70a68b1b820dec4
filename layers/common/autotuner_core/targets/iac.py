"""Where a function's size is declared: the tool and resource its tags name, and the line to change there.

CloudFormation tags what it creates with ``aws:cloudformation:stack-name`` and ``logical-id``;
SAM adds ``lambda:createdBy=SAM``; CDK deploys through CloudFormation and adds no tag of its own,
but names resources by construct path plus an 8-digit hash. Terraform leaves no mark: the
``autotuner:iac`` / ``autotuner:iac-address`` tags are this project's convention (docs/drift.md).
"""

from __future__ import annotations

import re

from autotuner_core.documents.drift import IacChange, IacSource, IacTool

CFN_STACK_TAG = "aws:cloudformation:stack-name"
CFN_LOGICAL_ID_TAG = "aws:cloudformation:logical-id"
SAM_TAG = "lambda:createdBy"  # SAM tags the functions it generates lambda:createdBy=SAM
IAC_TAG = "autotuner:iac"  # the convention for what the tags above cannot tell: terraform, cdk
IAC_ADDRESS_TAG = "autotuner:iac-address"  # a Terraform resource address or a CDK construct path
# CDK names a construct's resource by its path plus an 8-digit uppercase hex hash.
_CDK_LOGICAL_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*[0-9A-F]{8}$")
_TOOLS: tuple[IacTool, ...] = ("sam", "cloudformation", "cdk", "terraform")
_LINES: dict[str, str] = {
    "sam": "MemorySize: {}",
    "cloudformation": "MemorySize: {}",
    "cdk": "memorySize: {}",
    "terraform": "memory_size = {}",
}


def iac_source(tags: dict[str, str]) -> IacSource | None:
    """The tool and resource that declare the function, from its tags; None when they do not say."""
    stack = tags.get(CFN_STACK_TAG)
    logical_id = tags.get(CFN_LOGICAL_ID_TAG)
    address = tags.get(IAC_ADDRESS_TAG) or None
    declared = (tags.get(IAC_TAG) or "").strip().lower()
    for tool in _TOOLS:
        if declared == tool:
            return IacSource(
                tool=tool, stack=stack, logical_id=logical_id, address=address, evidence=f"tag {IAC_TAG}={tool}"
            )
    if not stack:
        return None
    evidence = f"tags {CFN_STACK_TAG}, {CFN_LOGICAL_ID_TAG}"
    if tags.get(SAM_TAG) == "SAM":
        return IacSource(tool="sam", stack=stack, logical_id=logical_id, evidence=f"{evidence}, {SAM_TAG}=SAM")
    if logical_id and _CDK_LOGICAL_ID.match(logical_id):
        return IacSource(
            tool="cdk",
            stack=stack,
            logical_id=logical_id,
            address=address,
            evidence=f"{evidence}; the logical id ends in the 8-digit hash CDK gives its resources",
        )
    return IacSource(tool="cloudformation", stack=stack, logical_id=logical_id, evidence=evidence)


def _where(source: IacSource) -> str:
    logical = source.logical_id or "(logical id unknown)"
    if source.tool == "sam":
        return f"under Properties of {logical} (AWS::Serverless::Function) in the template of stack {source.stack}"
    if source.tool == "cloudformation":
        return f"under Properties of {logical} (AWS::Lambda::Function) in the template of stack {source.stack}"
    if source.tool == "cdk":
        construct = f"the Function construct {source.address}" if source.address else "the Function construct"
        stack = f" (logical id {logical} in stack {source.stack})" if source.stack else ""
        return f"in the props of {construct}{stack}"
    if source.address:
        return f"in resource {source.address}"
    return f"in the function's aws_lambda_function resource (tag {IAC_ADDRESS_TAG} would name its address)"


def iac_change(tags: dict[str, str], memory_size: int) -> IacChange | None:
    """Exactly what to change in the function's source to keep ``memory_size``; None for an unknown source."""
    source = iac_source(tags)
    if source is None:
        return None
    return IacChange(
        source=source, memory_size=memory_size, line=_LINES[source.tool].format(memory_size), where=_where(source)
    )


def change_text(tags: dict[str, str], memory_size: int) -> str:
    """The change in words, for messages: the line and where it goes."""
    change = iac_change(tags, memory_size)
    if change is None:
        return (
            f"declare {memory_size} MB in the function's source (no {CFN_STACK_TAG} or {IAC_TAG} tag says which "
            "tool deploys it)"
        )
    return f"set `{change.line}` {change.where}"
