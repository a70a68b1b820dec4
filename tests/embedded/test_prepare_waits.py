"""Preparing candidates waits for an update only while Lambda says it is still in progress."""

from __future__ import annotations

from autotuner_core.cost import run_cost
from autotuner_core.documents.request import parse_request
from autotuner_core.documents.target import FunctionConfiguration
from autotuner_core.measuring.measurement import prepare_candidates
from autotuner_core.settings import Settings
from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

SIZES = [256, 512, 1024]


def prepare(update_seconds: float) -> tuple[int, list[str]]:
    """Prepare three sizes of one function; the Lambda requests it took and the GetFunction calls among them."""
    account = SimulatedAccount(
        functions=[SimulatedFunction(name="orders-api", memory_size=128, tags={"autotune": "enabled"})],
        update_seconds=update_seconds,
    )
    with EmbeddedAws(account) as aws:
        lam = aws.client("lambda")
        config = lam.get_function(FunctionName="orders-api")["Configuration"]
        reads: list[str] = []
        lam.meta.events.register(
            "before-call.lambda.GetFunction", lambda **kwargs: reads.append(kwargs["params"].get("FunctionName", ""))
        )
        run_cost.count_control_plane_calls(lam)
        candidates = prepare_candidates(
            lam,
            config["FunctionArn"],
            FunctionConfiguration.from_lambda(config),
            parse_request({"targets": ["orders-api"]}),
            "arn:aws:states:us-east-1:123456789012:execution:t:run",
            Settings(STATUS_POLL_INTERVAL_MS=20, MAX_STATUS_WAIT_SECONDS=5),
            sizes=SIZES,
        )
        assert sorted(c.memory_size for c in candidates if c.aliases) == SIZES
        return run_cost.control_plane_calls(), reads


def test_an_update_lambda_answers_as_done_is_not_waited_for() -> None:
    # Given three sizes prepared where Lambda's answer to each update already says Successful,
    # and the same where an update stays InProgress for a while
    fast_calls, fast_reads = prepare(0.0)
    slow_calls, slow_reads = prepare(0.05)
    # Then where the answer says done, no size is read back after its update: the only reads are
    # the one before the first update and restoring $LATEST's, and a size takes three requests
    # (update, publish, alias)
    assert len(fast_reads) == 3
    assert fast_calls == 3 * len(SIZES) + 4
    # And where it says InProgress, every size is waited for
    assert len(slow_reads) >= len(fast_reads) + len(SIZES)
    assert slow_calls > fast_calls
