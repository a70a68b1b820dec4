"""Resolved template properties turned into the parameters the service APIs take."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from emulator.stack.intrinsics import scalar_str


def coerce_to_shape(shape: Any, value: Any) -> Any:
    """Convert resolved template values (numbers from Ref are strings) to what the API shape wants."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {key: coerce_to_shape(members[key], item) if key in members else item for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [coerce_to_shape(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: coerce_to_shape(shape.value, item) for key, item in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return int(float(value)) if value.strip() else value
    if kind in ("double", "float") and isinstance(value, (str, int)) and not isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, (int, float)):
        return scalar_str(value)
    return value


def tag_dict(tags: Any) -> dict[str, str]:
    """Tags as a {key: value} mapping, from either form templates use (a mapping or Key/Value items)."""
    if isinstance(tags, dict):
        return {key: scalar_str(value) for key, value in tags.items()}
    return {tag["Key"]: scalar_str(tag["Value"]) for tag in tags or []}


def json_text(document: Any) -> str:
    """A JSON document as the text the APIs take (text is passed through as written)."""
    return document if isinstance(document, str) else json.dumps(document)


def pick(properties: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The named properties that are present, for the APIs whose parameters are named like them."""
    return {name: properties[name] for name in names if name in properties}
