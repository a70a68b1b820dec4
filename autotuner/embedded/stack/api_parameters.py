"""Resolved template properties turned into the parameters the service APIs take."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from autotuner.embedded.stack.intrinsics import _scalar_str


def _coerce(shape: Any, value: Any) -> Any:
    """Convert resolved template values (numbers from Ref are strings) to what the API shape wants."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {key: _coerce(members[key], item) if key in members else item for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_coerce(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _coerce(shape.value, item) for key, item in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return int(float(value)) if value.strip() else value
    if kind in ("double", "float") and isinstance(value, (str, int)) and not isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, (int, float)):
        return _scalar_str(value)
    return value


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {key: _scalar_str(value) for key, value in tags.items()}
    return {tag["Key"]: _scalar_str(tag["Value"]) for tag in tags or []}


def _json_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _pick(properties: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}
