"""Pacing: each worker spaces its Lambda control-plane calls to its share of the account's limit."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from autotuner_core.aws import pacing
from autotuner_core.aws.lambda_control import wait_until_settled
from autotuner_core.cost import run_cost
from autotuner_core.settings import Settings


class FakeClock:
    """time.monotonic / time.sleep for the pacing module: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(pacing, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep))
    yield fake
    pacing._local.__dict__.clear()


def test_a_worker_takes_its_share_of_the_control_plane_budget(clock: FakeClock) -> None:
    # Given a run of 4 workers sharing a 10 requests/second budget
    pacing.pace(4, Settings(CONTROL_PLANE_REQUESTS_PER_SECOND=10))
    # When one worker makes 11 control-plane calls
    for _ in range(11):
        pacing.before_lambda_request(operation_name="UpdateFunctionConfiguration")
    # Then they are spread at 2.5/s: the first at once, the next ten 0.4 s apart
    assert clock.now == pytest.approx(4.0)
    assert pacing.paced_seconds() == pytest.approx(4.0)


def test_get_function_has_its_own_bucket_and_invocations_are_not_paced(clock: FakeClock) -> None:
    # Given one worker with the whole budget
    pacing.pace(1, Settings(CONTROL_PLANE_REQUESTS_PER_SECOND=10, GET_FUNCTION_REQUESTS_PER_SECOND=50))
    # When it polls GetFunction 51 times and invokes 100 times
    for _ in range(51):
        pacing.before_lambda_request(operation_name="GetFunction")
    for _ in range(100):
        pacing.before_lambda_request(operation_name="Invoke")
    # Then only GetFunction waited, at its own 50/s, and the control-plane bucket is still full
    assert clock.now == pytest.approx(1.0)
    before = clock.now
    pacing.before_lambda_request(operation_name="PublishVersion")
    assert clock.now == before


def test_without_a_share_nothing_waits(clock: FakeClock) -> None:
    # Given a thread that never took a share (code outside a paced invocation)
    pacing._local.__dict__.clear()
    for _ in range(100):
        pacing.before_lambda_request(operation_name="UpdateFunctionConfiguration")
    assert clock.now == 0.0


def test_the_tuners_lambda_client_paces_each_request_it_makes(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from autotuner_core.aws.clients import _client

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        # Given the tuner's Lambda client and a worker with a 1 request/second share
        client = _client("lambda", "eu-north-1")
        pacing.pace(10, Settings(CONTROL_PLANE_REQUESTS_PER_SECOND=10))
        # When it makes three control-plane calls
        for _ in range(3):
            client.list_functions()
    # Then the second and third waited a second each
    assert clock.slept == [pytest.approx(1.0), pytest.approx(1.0)]


class _GetFunctionAnswers:
    """before-send for GetFunction: each request answered with the next LastUpdateStatus, nothing sent."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.sent = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        status = self.statuses[min(self.sent, len(self.statuses) - 1)]
        self.sent += 1
        configuration = {
            "FunctionArn": ORDERS,
            "MemorySize": 512,
            "Timeout": 30,
            "State": "Active",
            "LastUpdateStatus": status,
        }
        body = json.dumps({"Configuration": configuration}).encode()
        return AWSResponse(request.url, 200, {}, SimpleNamespace(stream=lambda **_: iter([body])))


ORDERS = "arn:aws:lambda:eu-north-1:123456789012:function:orders"


def test_every_poll_of_a_status_wait_is_paced_and_counted(clock: FakeClock) -> None:
    # Given the tuner's Lambda client, paced at 1 GetFunction a second and counted, whose function
    # is still updating for two polls
    import boto3

    client = boto3.client("lambda", region_name="eu-north-1", aws_access_key_id="x", aws_secret_access_key="x")
    pacing.install(client)
    answers = _GetFunctionAnswers(["InProgress", "InProgress", "Successful"])
    client.meta.events.register("before-send.lambda.GetFunction", answers)
    pacing.pace(1, Settings(GET_FUNCTION_REQUESTS_PER_SECOND=1))
    run_cost.count_control_plane_calls(client)
    # When the tuner waits for it to settle, polling without an interval of its own
    state = wait_until_settled(client, ORDERS, poll_interval_s=0.01, max_wait_s=10, sleep=lambda _: None)
    # Then the waiter's three GetFunction requests each went through the pacing (the second and third
    # waited for their token) and the control-plane count
    assert state.configuration.last_update_status == "Successful"
    assert answers.sent == 3
    assert clock.slept == [pytest.approx(1.0), pytest.approx(1.0)]
    assert run_cost.control_plane_calls() == 3
