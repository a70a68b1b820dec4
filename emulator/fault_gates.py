"""Faults that need more than a static ``Fault``: bursts, races and updates by someone else.

Each is a gate (``Interceptor.gates``): it sees every request (service id, operation, caller)
before the static faults and may refuse it, or, for the races, change the account out of band
first. Gates keep their own counters, so make a new one for each execution.

Also here: the AWS error codes each service answers with when it throttles or fails, so a
suite can inject "throttle 10 % of every request" in one line (``Throttling``).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

from emulator.interceptor import Refusal, unlogged

# What each service answers when it throttles: (error code, HTTP status). DynamoDB throttles a
# table's reads and writes with ProvisionedThroughputExceededException (on-demand tables too).
THROTTLING: dict[str, tuple[str, int]] = {
    "lambda": ("TooManyRequestsException", 429),
    "dynamodb": ("ProvisionedThroughputExceededException", 400),
    "iam": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "sfn": ("ThrottlingException", 400),
    "eventbridge": ("ThrottlingException", 400),
    "cloudwatch-logs": ("ThrottlingException", 400),
    "s3": ("SlowDown", 503),
    "sqs": ("ThrottlingException", 400),
}
# What each service answers when it fails on its side (5xx).
SERVER_ERRORS: dict[str, tuple[str, int]] = {
    "lambda": ("ServiceException", 500),
    "dynamodb": ("InternalServerError", 500),
    "iam": ("ServiceFailure", 500),
    "sts": ("InternalFailure", 500),
    "sfn": ("InternalFailure", 500),
    "eventbridge": ("InternalException", 500),
    "cloudwatch-logs": ("ServiceUnavailableException", 503),
    "s3": ("InternalError", 500),
    "sqs": ("InternalError", 500),
}


class Throttling:
    """Throttle this share of every request, each service answering with its own throttling code.

    Every caller is throttled — the tuner's functions and the state machine's invocations of
    them — except Step Functions' own S3 reads and writes of a Distributed Map's items and
    results: AWS makes those inside the service, while moto's interpreter tries them once and
    ends the execution with an uncatchable States.Runtime, which AWS does not do.
    """

    def __init__(self, probability: float, seed: int) -> None:
        self.probability = probability
        self.rng = random.Random(seed)
        self.faults = {
            service: Refusal(code, status, "Rate exceeded") for service, (code, status) in THROTTLING.items()
        }
        self.injected = 0
        self._lock = threading.Lock()

    def __call__(self, service: str, operation: str, caller: str) -> Refusal | None:
        fault = self.faults.get(service)
        if fault is None or (service == "s3" and caller == "client"):
            return None
        with self._lock:
            if self.rng.random() >= self.probability:
                return None
            self.injected += 1
        return fault


class Bursts:
    """Fail runs of consecutive requests to a service with a 5xx: ``length`` requests from each start.

    ``starts`` count the service's requests from 0 (any caller, any operation), so a burst lands
    wherever the execution happens to be then.
    """

    def __init__(self, service: str, starts: list[int], length: int) -> None:
        code, status = SERVER_ERRORS[service]
        self.service = service
        self.failing = {start + offset for start in starts for offset in range(length)}
        self.fault = Refusal(code, status, "injected 5xx burst")
        self.seen = 0
        self.injected = 0
        self._lock = threading.Lock()

    def __call__(self, service: str, operation: str, caller: str) -> Refusal | None:
        if service != self.service:
            return None
        with self._lock:
            index, self.seen = self.seen, self.seen + 1
            if index not in self.failing:
                return None
            self.injected += 1
        return self.fault


class _Once:
    """Fires once, on the ``nth`` request of ``operation`` by ``caller`` (a tuner function's logical id)."""

    def __init__(self, operation: str, caller: str, nth: int = 1) -> None:
        self.operation = operation
        self.caller = caller
        self.nth = nth
        self.seen = 0
        self.fired = False
        self._lock = threading.Lock()

    def __call__(self, service: str, operation: str, caller: str) -> Refusal | None:
        if service != "lambda" or operation != self.operation or caller != self.caller:
            return None
        with self._lock:
            self.seen += 1
            if self.fired or self.seen < self.nth:
                return None
            self.fired = True
        self.fire()
        return None

    def fire(self) -> None:
        raise NotImplementedError


class RevisionRace(_Once):
    """Someone else changes the function right before the tuner's ``nth`` call: its RevisionId goes stale.

    The change is made with an ordinary UpdateFunctionConfiguration (unlogged, never faulted), so
    the function also reports InProgress for a moment, as after any update. ``changes`` holds
    what was set, for the checks afterwards.
    """

    def __init__(
        self, region: str, function: str, changes: dict[str, Any], *, operation: str, caller: str, nth: int = 1
    ) -> None:
        super().__init__(operation, caller, nth)
        self.region = region
        self.function = function
        self.changes = changes

    def fire(self) -> None:
        client = boto3.client("lambda", region_name=self.region)
        deadline = time.monotonic() + 5
        with unlogged():
            while True:
                try:
                    client.update_function_configuration(FunctionName=self.function, **self.changes)
                    return
                except ClientError as error:
                    # The tuner's own update may still be settling: wait for it, as a person would.
                    if error.response["Error"]["Code"] != "ResourceConflictException" or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)


class ForeignUpdate(_Once):
    """Someone else's update of the function is in progress when the tuner's call arrives.

    The function reports ``LastUpdateStatus: InProgress`` and refuses updates and publishes
    (ResourceConflictException) for ``seconds``; its configuration does not change.
    """

    def __init__(
        self, emulation: Any, account: str, region: str, function: str, seconds: float, *, operation: str, caller: str
    ) -> None:
        super().__init__(operation, caller)
        self.emulation = emulation
        self.key = (account, region, function)
        self.seconds = seconds

    def fire(self) -> None:
        self.emulation.set_busy(*self.key, self.seconds)
