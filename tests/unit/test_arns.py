"""ARNs read by botocore's ArnParser: a function ARN's name and qualifier, an execution's name."""

from __future__ import annotations

import pytest
from botocore.utils import InvalidArnException

from autotuner_core.aws.arns import function_arn_beside, function_name, parse_arn, parse_arn_or_none, unqualified

ORDERS = "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:tuner:run-2024-05-01"


def test_a_function_arn_names_the_function_qualified_or_not() -> None:
    # Given an unqualified function ARN, and the same function by an alias and a version
    # Then each names the function, and without its qualifier is the function's ARN
    for arn in (ORDERS, f"{ORDERS}:live", f"{ORDERS}:7"):
        assert function_name(arn) == "orders"
        assert unqualified(arn) == ORDERS


def test_the_parts_are_in_the_arns_order_and_name_is_the_last() -> None:
    parts = parse_arn(EXECUTION)
    assert (parts.partition, parts.service, parts.region, parts.account) == (
        "aws",
        "states",
        "eu-west-1",
        "123456789012",
    )
    assert parts.name == "run-2024-05-01"
    assert parse_arn(ORDERS).name == "orders"


def test_a_function_beside_another_keeps_its_partition_region_and_account() -> None:
    assert function_arn_beside(f"{ORDERS}:live", "autotuner-shadow-x") == ORDERS.replace("orders", "autotuner-shadow-x")


def test_text_that_is_not_an_arn() -> None:
    # Names and empty text are not ARNs: parse refuses them, the tolerant readers keep them
    with pytest.raises(InvalidArnException):
        parse_arn("orders")
    assert parse_arn_or_none("") is None
    assert parse_arn_or_none("orders:live") is None
    assert unqualified("orders") == "orders"
    assert unqualified("") == ""
