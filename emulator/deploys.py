"""Simulated deploys: a function's stack is deployed again and puts its declared MemorySize back.

This is what happens to a tuned size whose source was not changed: CloudFormation (or Terraform)
updates the function to the template's value. The account file schedules them
(``functions[].redeploys``, docs/simulated-account.md); a test may also call ``redeploy``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from emulator.interceptor import unlogged

if TYPE_CHECKING:
    from emulator.cloud import EmbeddedAws

__all__ = ["after_run", "redeploy"]

_SETTLE_SECONDS = 30.0


def redeploy(aws: EmbeddedAws, name: str, memory_size: int) -> None:
    """UpdateFunctionConfiguration to ``memory_size`` as the stack's deploy makes it, waited until Successful."""
    lam = aws.client("lambda")
    with unlogged():
        lam.update_function_configuration(FunctionName=name, MemorySize=memory_size)
        deadline = time.monotonic() + _SETTLE_SECONDS
        while lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") == "InProgress":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulated deploy of {name} is still InProgress after {_SETTLE_SECONDS} s")
            time.sleep(0.01)


def after_run(aws: EmbeddedAws, run_number: int) -> list[str]:
    """The deploys the account schedules after run ``run_number``; returns the functions redeployed."""
    done = []
    for function in aws.account.functions:
        for spec in function.redeploys:
            if spec.after_run == run_number:
                redeploy(aws, function.name, spec.memory_size or function.memory_size)
                done.append(function.name)
    return done
