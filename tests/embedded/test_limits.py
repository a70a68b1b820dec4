"""The embedded AWS enforces Lambda's control-plane rate limits."""

from __future__ import annotations

from emulator.limits import LambdaRateLimits


def test_the_shared_bucket_throttles_above_fifteen_per_second_and_get_function_has_its_own() -> None:
    # Given the limits with a clock that barely moves (a million wall seconds per AWS second)
    limits = LambdaRateLimits(time_scale=1e6)
    # When 16 control-plane calls of different kinds arrive at once
    answers = [
        limits("lambda", operation, "client")
        for operation in ["UpdateFunctionConfiguration"] * 8 + ["PublishVersion"] * 8
    ]
    # Then 15 are served and the 16th is refused as AWS refuses it
    assert answers[:15] == [None] * 15
    refused = answers[15]
    assert refused is not None and (refused.code, refused.status) == ("TooManyRequestsException", 429)
    # And GetFunction still has its 100, invocations and other services are never limited
    assert all(limits("lambda", "GetFunction", "client") is None for _ in range(100))
    assert limits("lambda", "GetFunction", "client") is not None
    assert all(limits("lambda", "Invoke", "client") is None for _ in range(1000))
    assert limits("dynamodb", "PutItem", "client") is None
    assert (limits.admitted["control-plane"], limits.throttled["control-plane"]) == (15, 1)
    assert (limits.admitted["GetFunction"], limits.throttled["GetFunction"]) == (100, 1)


def test_the_bucket_refills_at_the_limit_in_aws_seconds() -> None:
    # Given an emptied bucket
    limits = LambdaRateLimits(time_scale=1.0)
    clock = [100.0]
    limits.now = lambda: clock[0]  # type: ignore[method-assign]
    for _ in range(15):
        assert limits("lambda", "ListFunctions", "client") is None
    assert limits("lambda", "ListFunctions", "client") is not None
    # When a tenth of a second passes, one and a half requests' worth has come back
    clock[0] += 0.1
    assert limits("lambda", "ListFunctions", "client") is None
    assert limits("lambda", "ListFunctions", "client") is not None
