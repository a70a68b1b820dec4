"""Step Functions API limits moto does not enforce, checked where AWS checks them: at the API.

StartExecution's ``input`` has a length constraint of 262,144 (Step Functions API reference,
StartExecution). AWS refuses a longer input with a ``ValidationException`` and no execution is
created; moto starts it, and the run only fails later, at its first state, with
``States.DataLimitExceeded``. A client that tests against moto would never see the refusal.

Only the API request is checked (moto's response handler): executions the interpreter starts
itself (a Distributed Map's children) are not API requests of the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.moto_adapter import StepFunctionResponse
from emulator.moto_adapter import StepFunctionsValidationException as ValidationException

# StartExecution input: "Length Constraints: Maximum length of 262144" (API reference).
MAX_EXECUTION_INPUT_LENGTH = 262_144


def input_length(text: str) -> int:
    """The length AWS's constraint counts: UTF-16 code units (its services are Java), not code points."""
    return len(text.encode("utf-16-le")) // 2


def check_execution_input(text: str | None) -> None:
    """Refuse an input over the limit as AWS does; the message has AWS's validation form.

    ``input`` is sensitive data in the API model, so AWS leaves the value out of the message
    ("Value at 'input'", not "Value '…' at 'input'").
    """
    if text is not None and input_length(text) > MAX_EXECUTION_INPUT_LENGTH:
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_EXECUTION_INPUT_LENGTH}"
        )


def install() -> Callable[[], None]:
    """Check StartExecution requests until the returned function is called."""
    original = StepFunctionResponse.start_execution

    def start_execution(response: StepFunctionResponse) -> Any:
        check_execution_input(response._get_param("input"))
        return original(response)

    StepFunctionResponse.start_execution = start_execution  # type: ignore[method-assign]

    def uninstall() -> None:
        StepFunctionResponse.start_execution = original  # type: ignore[method-assign]

    return uninstall
