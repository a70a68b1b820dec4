"""What a run's invocations send: a payload inline, as JSON text, weighted, or in S3, and where a target's came from."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from autotuner_core.documents.base import Document, _path

MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous Invoke request limit


class WeightedPayload(Document):
    model_config = ConfigDict(frozen=True)

    payload: Any
    weight: Annotated[float, Field(gt=0, allow_inf_nan=False)]


_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.{1,1024})\Z", re.DOTALL)


def _s3_uri(uri: str) -> str:
    if not _S3_URI.match(uri):
        raise ValueError(f"{uri!r:.80} is not an S3 object URI (s3://BUCKET/KEY)")
    return uri


def _validated_payload(payload: Any) -> Any:
    """A payload as given: a JSON value, JSON text, or a weighted list (checked item by item)."""
    if isinstance(payload, list):
        # A list is a weighted payload, as in AWS Lambda Power Tuning; a JSON array meant
        # as the payload itself is written as [{"payload": [...], "weight": 1}].
        if not payload:
            raise ValueError("a weighted payload list needs at least one {payload, weight} item")
        items, problems = [], []
        for index, item in enumerate(payload):
            try:
                items.append(WeightedPayload.model_validate(item))
            except ValidationError as error:
                problems += [
                    f"[{index}]{_path(problem['loc'], nested=True)}: {problem['msg']}" for problem in error.errors()
                ]
        if problems:
            raise ValueError("weighted payload " + "; ".join(problems))
        payload = items
    for at, text in _string_payloads(payload):
        try:
            json.loads(text)
        except ValueError:
            where = f"[{at}].payload: " if at is not None else ""
            raise ValueError(
                f"{where}a string payload is the JSON text sent to the function and must parse as JSON "
                f"(got {text!r:.40}); to send a JSON string, quote it inside the string"
            ) from None
    return payload


def _checked_payload(payload: Any) -> Any:
    payload = _validated_payload(payload)
    size = len(json.dumps(_plain_payload(payload)).encode("utf-8"))
    if size > MAX_INVOKE_PAYLOAD_BYTES:
        raise ValueError(f"{size} bytes is over Lambda's synchronous invoke limit of {MAX_INVOKE_PAYLOAD_BYTES} bytes")
    return payload


class TargetPayload(Document):
    """One function's own payload in a sweep: inline, or an S3 object (exactly one of the two)."""

    model_config = ConfigDict(frozen=True)

    payload: Any = Field(
        default=None,
        description="What this function's invocations receive, as the run-wide payload field (JSON value, "
        "JSON text or a weighted list).",
    )
    payload_s3: Annotated[str, AfterValidator(_s3_uri)] | None = Field(
        default=None,
        alias="payloadS3",
        description="An s3://BUCKET/KEY object holding this function's payload (JSON, at most 6,291,456 bytes); "
        "the bucket must be one the deployment's PayloadBuckets parameter names.",
    )

    @field_validator("payload")
    @classmethod
    def _payload(cls, payload: Any) -> Any:
        return None if payload is None else _checked_payload(payload)

    @model_validator(mode="after")
    def _one_source(self) -> TargetPayload:
        if (self.payload is None) == (self.payload_s3 is None):
            raise ValueError("give exactly one of payload and payloadS3")
        return self


class PayloadSource(Document):
    """Where a target's payload comes from, as discovery resolved it (the payload itself stays out of state)."""

    model_config = ConfigDict(frozen=True)

    origin: str  # "payloads" (the input's map), "tag" (autotuner:payload), "run" (payload/payloadS3), "default" ({})
    entry: str | None = None  # the payloads map's key, for origin "payloads"
    s3: str | None = None  # the object to read, for an S3 payload


def _string_payloads(payload: Any) -> list[tuple[int | None, str]]:
    if isinstance(payload, str):
        return [(None, payload)]
    if isinstance(payload, list):
        return [(index, item.payload) for index, item in enumerate(payload) if isinstance(item.payload, str)]
    return []


def _plain_payload(payload: Any) -> Any:
    if isinstance(payload, list):
        return [item.model_dump() if isinstance(item, BaseModel) else item for item in payload]
    return payload
