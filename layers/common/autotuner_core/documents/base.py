"""Shared by every document: the base model, run outcomes, memory-size bounds and parsing a state's input.

JSON field names are camelCase (the execution input's style); a function's configuration keeps
Lambda's own PascalCase names so it reads like ``GetFunctionConfiguration``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from autotuner_core.policy.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
MAX_EXPLICIT_TARGETS = 50

# Lambda's FunctionName forms: name, partial ARN (account:function:name) or full ARN, each
# optionally qualified with a version, an alias or $LATEST. Stricter than Lambda's own pattern,
# which reads "arn:aws:lambda:REGION:ACCOUNT:function" as a function named "function": an ARN
# here has every part, and a partial ARN its "function:" segment.
_TARGET = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):(?P<account>\d{12}):function:"
    r"|(?P<partial_account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?\Z"
)
# The tuner's own aliases (temporary, one per measured size) are named autotuner-<run>-<size>;
# a user alias in this namespace could be deleted by a clean-up or mistaken for the tuner's.
RESERVED_ALIAS_PREFIX = "autotuner-"


def _reference_problem(text: str) -> str:
    """Why ``text`` is not a function reference, as precisely as its shape allows."""
    problem = f"{text!r:.80} is not a Lambda function name, partial ARN or ARN"
    if not text.startswith("arn:"):
        return problem
    from botocore.utils import ArnParser, InvalidArnException  # only on this error path: a heavy import

    expected = "arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]"
    try:
        parts = ArnParser().parse_arn(text)
    except InvalidArnException:
        return f"{problem}: an ARN has six parts or more ({expected})"
    if parts["service"] != "lambda":
        return f"{problem}: it is an ARN of service {parts['service']!r:.20}"
    if not re.fullmatch(r"[a-z]{2}(?:-gov)?-[a-z]+-\d", parts["region"]):
        return f"{problem}: its region part {parts['region']!r:.20} is not a region"
    if not re.fullmatch(r"\d{12}", parts["account"]):
        return f"{problem}: its account part {parts['account']!r:.20} is not a 12-digit account id"
    if not parts["resource"].startswith("function:") or parts["resource"] == "function:":
        return f"{problem}: an ARN's resource must be function:NAME[:QUALIFIER], got {parts['resource']!r:.40}"
    return f"{problem}: expected {expected}"


def names_a_function(text: str) -> bool:
    """Whether ``text`` has the shape of a Lambda function reference (it may still not exist)."""
    return _TARGET.match(text) is not None


class Document(BaseModel):
    """A JSON document between states: camelCase, no unknown fields."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Outcome(StrEnum):
    APPLIED = "APPLIED"  # the new configuration is live and verified
    UNCHANGED = "UNCHANGED"  # the target already had the desired configuration
    RECOMMENDED = "RECOMMENDED"  # dry run: what would be applied
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    # A deploy put the size an earlier run applied back; this run applied nothing (targets/drift.py).
    REVERTED_BY_DEPLOY = "REVERTED_BY_DEPLOY"


MemorySize = Annotated[int, Field(strict=True, ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)]


def _json_type(value: Any) -> str:
    # The input was written as JSON: name what arrived in JSON's words, not Python's (NoneType, str).
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "an array"}
    return names.get(type(value), type(value).__name__)


def _path(loc: tuple[Any, ...], nested: bool = False) -> str:
    path = ""
    for part in loc:
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # pydantic's validator/union branch labels, not field names
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path or nested else str(part))
    return path


def _describe(problem: Any) -> str:
    path = _path(problem["loc"])
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = "unknown field"
    elif problem["type"] == "missing":
        message = "required field is missing"
    value = problem.get("input")
    shown = "" if problem["type"] in ("missing", "value_error") else f" (got {value!r:.60})"
    return f"{path or '(input)'}: {message}{shown}"


def parse_event(model: type[M], event: Any) -> M:
    """Parse a state's input; a malformed document is permanent bad input, not a crash to retry."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise InvalidInputError(f"invalid {model.__name__} document: " + "; ".join(problems), problems) from None
