"""``HistoryError``: a read of a run that failed, said for a person; ``aws_step`` turns botocore errors into it.

This is the operator side's one translation of botocore errors; the tuner's own, for the state
machine, is ``autotuner_core.aws.calls``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["HistoryError", "aws_step"]


class HistoryError(Exception):
    """The history cannot be read; the message says what was asked of what, and why not."""


@contextmanager
def aws_step(action: str, resource: str, *, missing: str | None = None) -> Iterator[None]:
    """One AWS call: a failure becomes a HistoryError naming the action, the resource and AWS's answer.

    ``missing`` is the message for "it does not exist" (DynamoDB's ResourceNotFoundException,
    CloudFormation's ValidationError "Stack with id … does not exist").
    """
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code, message = details.get("Code", "Error"), details.get("Message") or str(error)
        not_found = code == "ResourceNotFoundException" or (code == "ValidationError" and "does not exist" in message)
        if missing is not None and not_found:
            raise HistoryError(missing) from error
        raise HistoryError(f"{action} on {resource}: {code}: {message}") from error
    except BotoCoreError as error:
        raise HistoryError(f"{action} on {resource}: {error}") from error
