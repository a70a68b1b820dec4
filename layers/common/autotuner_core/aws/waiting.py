"""Status waits: botocore's Lambda waiters judge each GetFunction answer; the tuner keeps the rest.

The tuner keeps its own poll interval and deadline (still busy at the deadline is transient, so
the state machine retries later instead of a function waiting longer) and its own errors (a
Failed function or version is permanent, with Lambda's reason). Each poll is the caller's
request on its own client, so it is paced, counted and translated like any other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple, TypeVar

from botocore.exceptions import WaiterError
from botocore.loaders import create_loader
from botocore.waiter import SingleWaiterConfig, Waiter

State = TypeVar("State")


class Timing(NamedTuple):
    poll_interval_s: float
    max_wait_s: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]


@cache
def settled() -> SingleWaiterConfig:
    """botocore's ``function_updated_v2``; a function still being created waits too, and one that
    reports no LastUpdateStatus is settled."""
    updated = _botocore_waiter("FunctionUpdatedV2")
    acceptors = [
        _acceptor("Configuration.State", "Pending", "retry"),
        *updated["acceptors"],
        _acceptor("Configuration.LastUpdateStatus", None, "success"),
    ]
    return SingleWaiterConfig({**updated, "acceptors": acceptors})


@cache
def version_active() -> SingleWaiterConfig:
    """botocore's ``function_active_v2``; a version without a State is Active.

    Not ``published_version_active``: it polls GetFunctionConfiguration, in the bucket every update
    shares; ``function_active_v2`` has the same acceptors and polls GetFunction.
    """
    active = _botocore_waiter("FunctionActiveV2")
    acceptors = [*active["acceptors"], _acceptor("Configuration.State", None, "success")]
    return SingleWaiterConfig({**active, "acceptors": acceptors})


def wait(
    config: SingleWaiterConfig,
    read: Callable[[], tuple[dict[str, Any], State]],
    refuse: Callable[[State], None],
    busy: Callable[[State], Exception],
    timing: Timing,
) -> State:
    """Poll ``read`` (the answer as sent, and as read) until ``config`` accepts it; return what was read.

    ``refuse`` raises on an answer that can never be accepted; ``busy`` is the error for still
    waiting at the deadline. The interval is slept here after the deadline is checked, so the
    waiter's own delay is 0 and its attempts only a backstop.
    """
    deadline = timing.clock() + timing.max_wait_s
    seen: list[State] = []

    def poll(**_: Any) -> dict[str, Any]:
        if seen:
            if timing.clock() >= deadline:
                raise busy(seen[-1])
            timing.sleep(timing.poll_interval_s)
        answer, state = read()
        refuse(state)
        seen[:] = [state]
        return answer

    attempts = math.floor(timing.max_wait_s / timing.poll_interval_s) + 2
    # The stubs declare the config a Mapping; botocore reads SingleWaiterConfig's attributes.
    waiter = Waiter(config.operation, config, poll)  # type: ignore[arg-type]
    try:
        waiter.wait(WaiterConfig={"Delay": 0, "MaxAttempts": attempts})
    except WaiterError as error:
        # ``refuse`` raises on a Failed answer before botocore's failure acceptors see it: only
        # the attempts running out (before the clock reached the deadline) end here.
        raise busy(seen[-1]) from error
    return seen[-1]


@cache
def _botocore_waiter(name: str) -> dict[str, Any]:
    return dict(create_loader().load_service_model("lambda", "waiters-2")["waiters"][name])


def _acceptor(argument: str, expected: str | None, state: str) -> dict[str, Any]:
    return {"matcher": "path", "argument": argument, "expected": expected, "state": state}
