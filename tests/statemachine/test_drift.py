"""A deploy that puts a tuned size back: recorded REVERTED_BY_DEPLOY, then held, executed on the embedded AWS."""

from __future__ import annotations

from autotuner_core.targets.drift import HoldStore
from emulator.account import DeployedBySpec, RedeploySpec, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.deploys import redeploy
from emulator.interceptor import unlogged

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
APPLY = {"targets": ["orders-api"], "memorySize": 512, "apply": True}


def orders(redeploy_after: list[int]) -> SimulatedFunction:
    return SimulatedFunction(
        name="orders-api",
        memory_size=1024,
        timeout=30,
        tags={"autotune": "enabled"},
        deployed_by=DeployedBySpec(stack="orders-stack", logical_id="OrdersFunction", sam=True),
        redeploys=[RedeploySpec(after_run=run) for run in redeploy_after],
    )


def updates_by_tuner(report) -> int:
    return report.aws_calls.get("lambda:UpdateFunctionConfiguration", 0)


def test_a_deploy_revert_is_recorded_then_held_until_cleared():
    with EmbeddedAws(SimulatedAccount(functions=[orders(redeploy_after=[1, 3])])) as aws:
        # Given a run applies 512 MB and the stack's deploy puts 1024 MB back
        first = aws.run(APPLY)
        after_deploy = aws.function_configuration("orders-api")["MemorySize"]
        # When the next run comes
        second = aws.run(APPLY)
        memory_after_second = aws.function_configuration("orders-api")["MemorySize"]
        # And a third applies again, and the deploy reverts again, and a fourth and a fifth come
        third = aws.run(APPLY)
        fourth = aws.run(APPLY)
        fifth = aws.run(APPLY)
        held_memory = aws.function_configuration("orders-api")["MemorySize"]
        # And the operator clears the hold
        with unlogged():
            cleared = HoldStore(aws.client("dynamodb"), aws.stack.outputs["StateTableName"]).clear(ARN)
        sixth = aws.run(APPLY)
        final_memory = aws.function_configuration("orders-api")["MemorySize"]

    # Then the first run applied and said exactly what to change in the SAM template
    (applied,) = first.records
    assert applied["outcome"] == "APPLIED"
    assert applied["iac"]["line"] == "MemorySize: 512"
    assert applied["iac"]["source"] == {
        "tool": "sam",
        "stack": "orders-stack",
        "logicalId": "OrdersFunction",
        "evidence": "tags aws:cloudformation:stack-name, aws:cloudformation:logical-id, lambda:createdBy=SAM",
    }
    assert "OrdersFunction (AWS::Serverless::Function)" in applied["iac"]["where"]
    assert after_deploy == 1024
    # And the second run recorded the revert with the stack, the logical id and the line, and applied nothing
    (reverted,) = second.records
    assert second.status == "SUCCEEDED"
    assert reverted["outcome"] == "REVERTED_BY_DEPLOY"
    assert reverted["iac"]["line"] == "MemorySize: 512"
    assert reverted["iac"]["source"]["stack"] == "orders-stack"
    assert reverted["iac"]["source"]["logicalId"] == "OrdersFunction"
    revert = reverted["deployRevert"]
    assert (revert["reverts"], revert["limit"], revert["held"]) == (1, 2, False)
    assert (revert["tunedMemory"], revert["deployedMemory"]) == (512, 1024)
    assert revert["appliedBy"] == first.execution_arn
    assert "`MemorySize: 512`" in revert["message"] and "orders-stack" in revert["message"]
    assert updates_by_tuner(second) == 0
    assert memory_after_second == 1024
    # And the third applied again; the fourth counted the second revert and started the hold
    assert third.records[0]["outcome"] == "APPLIED"
    assert fourth.records[0]["outcome"] == "REVERTED_BY_DEPLOY"
    assert (fourth.records[0]["deployRevert"]["reverts"], fourth.records[0]["deployRevert"]["held"]) == (2, True)
    # And the fifth is held: skipped with the hold's own message, nothing changed
    (skipped,) = fifth.records
    assert skipped["outcome"] == "SKIPPED"
    assert skipped["deployRevert"]["held"] is True and skipped["deployRevert"]["reverted"] is False
    assert "re-applying is held" in skipped["deployRevert"]["message"]
    assert "autotuner hold orders-api --clear" in skipped["deployRevert"]["message"]
    assert updates_by_tuner(fifth) == 0
    assert held_memory == 1024
    # And once the hold is cleared the next run applies again
    assert cleared is True
    assert sixth.records[0]["outcome"] == "APPLIED"
    assert final_memory == 512


def test_a_size_changed_by_hand_to_another_value_is_not_a_deploy_revert():
    with EmbeddedAws(SimulatedAccount(functions=[orders(redeploy_after=[])])) as aws:
        aws.run(APPLY)
        # Someone sets another size than the one the tuner changed (and waits for the update)
        redeploy(aws, "orders-api", 768)
        second = aws.run(APPLY)

    # Then nothing says a deploy put the old size back: the tuner applies again
    (record,) = second.records
    assert record["outcome"] == "APPLIED"
    assert "deployRevert" not in record


def test_a_deploy_that_puts_back_the_size_before_two_applies_is_a_revert():
    with EmbeddedAws(SimulatedAccount(functions=[orders(redeploy_after=[2])])) as aws:
        # Given one run applies 512 MB and the next 640 MB, and then the stack's deploy puts 1024 MB back
        aws.run(APPLY)
        aws.run({**APPLY, "memorySize": 640})
        # When the next run comes
        third = aws.run({**APPLY, "memorySize": 640})

    # Then it is the deploy's revert of the tuned size, not a size to apply over
    (record,) = third.records
    assert record["outcome"] == "REVERTED_BY_DEPLOY"
    assert (record["deployRevert"]["tunedMemory"], record["deployRevert"]["deployedMemory"]) == (640, 1024)
    assert record["iac"]["line"] == "MemorySize: 640"
