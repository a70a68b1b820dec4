"""A Task's Lambda call refused with an error Lambda does not model fails as AWS fails it.

Step Functions names a Lambda API error after the SDK's exception class: modelled errors keep
their code (Lambda.ResourceNotFoundException), others, AccessDeniedException among them, arrive
as Lambda.AWSLambdaException with the status and code in the Cause. moto's interpreter names
every code as Lambda.<code>.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session

from emulator import moto_adapter

__all__ = ["install"]


def install() -> Callable[[], None]:
    """Patch moto's Lambda Task to name unmodelled errors Lambda.AWSLambdaException; returns the undo."""
    modelled = {shape.name for shape in botocore.session.get_session().get_service_model("lambda").error_shapes}
    task = moto_adapter.StateTaskServiceLambda
    original = task._error_cause_from_client_error

    def error_cause(client_error: Any) -> tuple[str, str]:
        error, cause = original(client_error)
        if client_error.response["Error"]["Code"] not in modelled:
            error = "Lambda.AWSLambdaException"
        return error, cause

    return moto_adapter.patch(task, "_error_cause_from_client_error", staticmethod(error_cause))
