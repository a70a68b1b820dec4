"""Targets in odd states, each handled on purpose and shown on the embedded AWS.

- reserved concurrency 0: the owner switched the function off; Lambda throttles every invocation
  and the tuner refuses it in discovery, before any change;
- ``State: Failed`` or ``LastUpdateStatus: Failed``: refused in discovery, before any change;
- a function at the account's memory quota: sizes above the quota are excluded candidates (Lambda
  refuses them), the run goes on with the others and never leaves the function above the quota.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from autotuner_core.aws.lambda_control import FunctionState, get_function, refuse_switched_off
from autotuner_core.documents.target import FunctionConfiguration
from emulator.account import FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.interceptor import unlogged

TAGS = {"autotune": "enabled"}
ORDERS = SimulatedFunction(
    name="orders-api", memory_size=1024, timeout=30, tags=TAGS, profile=FunctionProfile(preset="io-bound", seed=3)
)
MEASURE = {"targets": ["orders-api"], "memorySizes": [512, 2048], "invocations": 5, "refine": False}
FIXED_APPLY = {"targets": ["orders-api"], "memorySize": 512, "apply": True}


def _switch_off(aws: EmbeddedAws, name: str = "orders-api") -> None:
    """What an owner does to stop a function without deleting it: PutFunctionConcurrency 0."""
    with unlogged():
        aws.client("lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)


# -- reserved concurrency 0 ---------------------------------------------------------------------------


def test_a_function_with_reserved_concurrency_0_is_throttled_on_every_invocation_as_lambda_does():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS.model_copy(update={"aliases": ["live"]})])) as aws:
        lam = aws.client("lambda")
        # Given its owner set its reserved concurrency to 0
        _switch_off(aws)
        # When anyone invokes it: unqualified, or through an alias
        errors = []
        for qualifier in (None, "live"):
            with pytest.raises(ClientError) as caught:
                lam.invoke(FunctionName="orders-api", **({"Qualifier": qualifier} if qualifier else {}))
            errors.append(caught.value.response)
        shown = lam.get_function(FunctionName="orders-api")
        # Then Lambda throttles each with the reason, and GetFunction shows the reservation of 0
        for error in errors:
            assert error["Error"]["Code"] == "TooManyRequestsException"
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert shown["Concurrency"] == {"ReservedConcurrentExecutions": 0}
        # And once the reservation is removed the function runs again
        lam.delete_function_concurrency(FunctionName="orders-api")
        assert lam.invoke(FunctionName="orders-api")["StatusCode"] == 200
        assert "Concurrency" not in lam.get_function(FunctionName="orders-api")


def test_a_reservation_above_0_is_shown_and_does_not_throttle():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        lam = aws.client("lambda")
        # Given a reservation of 5
        lam.put_function_concurrency(FunctionName="orders-api", ReservedConcurrentExecutions=5)
        # Then GetFunction shows it, the tuner reads it, and invocations run
        assert lam.get_function(FunctionName="orders-api")["Concurrency"] == {"ReservedConcurrentExecutions": 5}
        assert get_function(lam, "orders-api").reserved_concurrency == 5
        assert lam.invoke(FunctionName="orders-api")["StatusCode"] == 200


@pytest.mark.parametrize("execution_input", [MEASURE, FIXED_APPLY], ids=["measure", "fixed-apply"])
def test_a_function_switched_off_with_reserved_concurrency_0_is_refused_before_any_change(execution_input):
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given its owner switched it off
        _switch_off(aws)
        # When a run would measure it, or apply a size to it
        report = aws.run(execution_input)
        after = aws.function_configuration("orders-api")
    # Then discovery refuses it permanently, naming the reservation, and nothing was changed or invoked
    assert (report.status, report.error, report.failed_state) == (
        "FAILED",
        "InvalidConfigurationError",
        "DiscoverResources",
    )
    assert "reserved concurrency 0" in report.cause
    assert report.mutating_calls == []
    assert not {"PrepareMeasurement", "MeasureConfigurations", "UpdateConfiguration"} & set(report.states_entered)
    assert after["MemorySize"] == 1024
    (record,) = report.records
    assert (record["outcome"], record["errorType"]) == ("FAILED", "InvalidConfigurationError")
    # And the attempt was not retried: the state machine treats it as permanent
    assert report.task_attempts["DiscoverResources"] == 1


def test_only_a_reservation_of_exactly_0_is_refused():
    def state(reserved: int | None) -> FunctionState:
        configuration = FunctionConfiguration.from_lambda({"MemorySize": 1024, "Timeout": 30})
        return FunctionState(configuration=configuration, tags={}, arn="arn", reserved_concurrency=reserved)

    # Given no reservation, or one above 0: nothing to refuse
    refuse_switched_off(state(None))
    refuse_switched_off(state(1))
    # Given 0: refused, naming the setting
    with pytest.raises(Exception, match=r"reserved concurrency 0 \(Concurrency.ReservedConcurrentExecutions\)"):
        refuse_switched_off(state(0))


# -- State: Failed ------------------------------------------------------------------------------------


def test_a_function_in_state_failed_is_refused_before_any_change():
    from emulator.moto_adapter import lambda_backends

    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given Lambda reports the function State Failed (as when its creation could not finish)
        account = aws.account
        lambda_backends[account.account_id][account.region].get_function("orders-api").state = "Failed"
        assert aws.function_configuration("orders-api")["State"] == "Failed"
        # When a run would apply a size to it
        report = aws.run(FIXED_APPLY)
    # Then discovery refuses it permanently, and nothing was changed
    assert (report.status, report.error, report.failed_state) == (
        "FAILED",
        "InvalidConfigurationError",
        "DiscoverResources",
    )
    assert "is in State Failed and cannot be tuned" in report.cause
    assert report.mutating_calls == []
    assert report.task_attempts["DiscoverResources"] == 1


def test_a_function_whose_last_update_failed_is_refused_before_any_change():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given Lambda reports the function's last update Failed (moto always says Successful, so the
        # configuration Lambda returns is overlaid for this function only)
        overlay = aws.lambda_emulation._overlay

        def failed_update(fn, config):
            config = overlay(fn, config)
            if fn.function_name == "orders-api" and str(fn.version) == "$LATEST":
                config.update(LastUpdateStatus="Failed", LastUpdateStatusReasonCode="SubnetOutOfIPAddresses")
            return config

        aws.lambda_emulation._overlay = failed_update
        assert aws.function_configuration("orders-api")["LastUpdateStatus"] == "Failed"
        # When a run would measure it
        report = aws.run(MEASURE)
    # Then discovery refuses it permanently, and nothing was changed
    assert (report.status, report.error, report.failed_state) == (
        "FAILED",
        "InvalidConfigurationError",
        "DiscoverResources",
    )
    assert "failed (LastUpdateStatus Failed)" in report.cause
    assert report.mutating_calls == []
    assert report.task_attempts["DiscoverResources"] == 1


# -- at the account's memory quota ---------------------------------------------------------------------


def test_a_function_at_the_accounts_memory_quota_is_measured_without_the_sizes_above_it():
    # Given an account whose per-function memory quota is 3,008 MB and a CPU-bound function already at it
    at_quota = ORDERS.model_copy(update={"memory_size": 3008, "profile": FunctionProfile(preset="cpu-bound", seed=3)})
    with EmbeddedAws(SimulatedAccount(functions=[at_quota], memory_quota_mb=3008)) as aws:
        # When a run for speed measures sizes on both sides of the quota, and may apply
        report = aws.run(
            {
                "targets": ["orders-api"],
                "memorySizes": [1024, 4096, 6144],
                "strategy": "speed",
                "invocations": 5,
                "refine": False,
                "apply": True,
            }
        )
        after = aws.function_configuration("orders-api")
    # Then the run finished, and the sizes above the quota are excluded candidates, never invoked,
    # with Lambda's reason naming the limit
    assert report.status == "SUCCEEDED", report.cause
    (record,) = report.records
    rows = {row["memorySize"]: row for row in record["configurations"]}
    above = sorted(size for size in rows if size > 3008)
    assert 6144 in above  # the top of the range is in the first round of a speed search
    for size in above:
        assert rows[size]["invocations"] == 0
        assert "Lambda rejected it" in rows[size]["excluded"]
        assert "less than or equal to 3008" in rows[size]["excluded"]
    # And the sizes Lambda accepts were measured, the quota's own among them
    measured = sorted(size for size, row in rows.items() if not row.get("excluded"))
    assert measured[-1] == 3008 and len(measured) >= 2
    assert all(rows[size]["invocations"] > 0 for size in measured)
    # And the function stays at a size within the quota: kept at 3,008 MB, the fastest it may have
    assert (record["outcome"], record["recommendation"]["memorySize"]) == ("UNCHANGED", 3008)
    assert after["MemorySize"] == 3008
