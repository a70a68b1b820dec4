"""ARNs, read with botocore's ``ArnParser``; what follows the account (``resource``) is each service's own.

A Lambda function's resource is ``function:<name>``, with ``:<qualifier>`` (a version or an alias)
when the ARN is qualified; a Step Functions execution's ends in the execution's name.
"""

from __future__ import annotations

from typing import NamedTuple

from botocore.utils import ArnParser

_PARSER = ArnParser()


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def name(self) -> str:
        """The resource's last part: an execution's name, an unqualified function's name."""
        return self.resource.rsplit(":", 1)[-1]


def parse_arn(arn: str) -> Arn:
    """The ARN's parts; not an ARN raises ``botocore.utils.InvalidArnException`` (a ValueError)."""
    return Arn(**_PARSER.parse_arn(arn))


def parse_arn_or_none(text: str) -> Arn | None:
    """The parts of ``text`` if it is an ARN (a name, or nothing, is None)."""
    return parse_arn(text) if ArnParser.is_arn(text) else None


def function_name(arn: str) -> str:
    """The function's name in a function ARN, qualified or not."""
    return parse_arn(arn).resource.split(":")[1]


def unqualified(arn: str) -> str:
    """A function ARN without its version or alias; text that is not an ARN is returned as it is."""
    parts = parse_arn_or_none(arn)
    if parts is None:
        return arn
    resource = ":".join(parts.resource.split(":")[:2])
    return f"arn:{parts.partition}:{parts.service}:{parts.region}:{parts.account}:{resource}"


def function_arn_beside(beside: str, name: str) -> str:
    """The ARN of function ``name`` in the partition, region and account of ``beside`` (an ARN)."""
    parts = parse_arn(beside)
    return f"arn:{parts.partition}:lambda:{parts.region}:{parts.account}:function:{name}"
