"""Where a function's size is declared (targets/iac.py), the event that says it, and `autotuner hold`."""

from __future__ import annotations

import argparse

import boto3
import pytest
from moto import mock_aws

from autotuner import holds
from autotuner_core.run.events import completed_detail
from autotuner_core.targets.drift import Hold, HoldStore
from autotuner_core.targets.iac import iac_change

CFN = {"aws:cloudformation:stack-name": "orders", "aws:cloudformation:logical-id": "OrdersFunction"}


@pytest.mark.parametrize(
    ("tags", "tool", "line"),
    [
        ({**CFN, "lambda:createdBy": "SAM"}, "sam", "MemorySize: 512"),
        (CFN, "cloudformation", "MemorySize: 512"),
        ({**CFN, "aws:cloudformation:logical-id": "OrdersHandler3BAA72D1"}, "cdk", "memorySize: 512"),
        (
            {"autotuner:iac": "terraform", "autotuner:iac-address": "module.api.aws_lambda_function.orders"},
            "terraform",
            "memory_size = 512",
        ),
    ],
)
def test_each_tool_gets_its_own_line(tags, tool, line):
    change = iac_change(tags, 512)
    assert change is not None
    assert (change.source.tool, change.line) == (tool, line)


def test_terraform_names_the_resource_address_and_cloudformation_the_stack_and_logical_id():
    terraform = iac_change({"autotuner:iac": "terraform", "autotuner:iac-address": "aws_lambda_function.orders"}, 640)
    assert terraform is not None and terraform.where == "in resource aws_lambda_function.orders"
    plain = iac_change(CFN, 640)
    assert plain is not None
    assert plain.where == "under Properties of OrdersFunction (AWS::Lambda::Function) in the template of stack orders"


def test_a_function_without_iac_tags_has_no_change_to_name():
    assert iac_change({"autotune": "enabled"}, 512) is None


def test_the_completed_event_carries_the_change_and_the_revert():
    change = iac_change({**CFN, "lambda:createdBy": "SAM"}, 512)
    assert change is not None
    record = {
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:tuner:run-2",
        "target": "arn:aws:lambda:us-east-1:123456789012:function:orders-api",
        "outcome": "REVERTED_BY_DEPLOY",
        "before": {"MemorySize": 1024},
        "after": {"MemorySize": 1024},
        "iac": change.dump(),
        "deployRevert": {"reverted": True, "held": False, "reverts": 1, "message": "a deploy put it back"},
    }
    detail = completed_detail(record)
    assert detail["outcome"] == "REVERTED_BY_DEPLOY"
    assert detail["iac"]["line"] == "MemorySize: 512"
    assert detail["iac"]["source"]["stack"] == "orders"
    assert detail["iac"]["source"]["logicalId"] == "OrdersFunction"
    assert detail["deployRevert"]["reverts"] == 1


def test_autotuner_hold_shows_and_clears_a_hold(capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="state",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        store = HoldStore(dynamodb, "state")
        store.write(arn, 0, Hold(reverts=2, held=True, counted_apply="run-3", tuned_memory=512, deployed_memory=1024))
        args = argparse.Namespace(
            function=arn,
            clear=False,
            stack="x",
            state_table="state",
            region="us-east-1",
            profile=None,
            endpoint_url=None,
        )
        assert holds.hold_command(args) == 0
        shown = capsys.readouterr().out
        args.clear = True
        assert holds.hold_command(args) == 0
        cleared = capsys.readouterr().out
        after = store.read(arn)

    assert "held: re-applying is stopped; 2 deploy revert(s) counted (tuned 512 MB, deploys put 1024 MB back)" in shown
    assert "hold cleared; the next run applies again" in cleared
    assert (after.held, after.reverts, after.counted_apply) == (False, 0, "run-3")
