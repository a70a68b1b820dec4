"""Parsing an IAM policy document into :class:`ParsedPolicy`, with each statement's position in the text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from emulator.iam_conditions import parse_operator
from emulator.iam_policy import (
    IDENTITY_POLICY_TYPE,
    ConditionClause,
    ParsedPolicy,
    PolicyEvaluationError,
    Position,
    Statement,
)


def _as_tuple(value: Any, element: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise PolicyEvaluationError(f"{element} must be a string or a non-empty list of strings")
    return tuple(items)


def _condition_value_text(value: Any) -> str:
    # JSON booleans and numbers are compared by their IAM text form ("true", "10").
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise PolicyEvaluationError(f"condition value {value!r} must be a string, number or boolean")


def _parse_conditions(block: Any) -> tuple[ConditionClause, ...]:
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        raise PolicyEvaluationError("Condition must be an object")
    clauses: list[ConditionClause] = []
    for op_name, keys in block.items():
        parsed_operator = parse_operator(op_name)
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyEvaluationError(f"condition {op_name!r} must map keys to values")
        for key, raw in keys.items():
            raw_values = raw if isinstance(raw, list) else [raw]
            values = tuple(_condition_value_text(v) for v in raw_values)
            if not values:
                raise PolicyEvaluationError(f"condition {op_name!r} on {key!r} has no values")
            clauses.append(ConditionClause(parsed_operator, key, values))
    return tuple(clauses)


def _parse_statement(index: int, raw: Any, span: tuple[Position, Position] | None) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyEvaluationError(f"statement {index} is not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyEvaluationError(f"statement {index}: Effect must be Allow or Deny, not {effect!r}")
    if "Principal" in raw or "NotPrincipal" in raw:
        raise PolicyEvaluationError(f"statement {index}: identity policies cannot name a Principal")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyEvaluationError(f"statement {index}: needs exactly one of Action / NotAction")
    if ("Resource" in raw) == ("NotResource" in raw):
        raise PolicyEvaluationError(f"statement {index}: needs exactly one of Resource / NotResource")
    action_key = "Action" if "Action" in raw else "NotAction"
    resource_key = "Resource" if "Resource" in raw else "NotResource"
    sid = raw.get("Sid")
    return Statement(
        index=index,
        sid=str(sid) if sid is not None else None,
        effect=effect,
        actions=_as_tuple(raw[action_key], action_key),
        actions_negated=action_key == "NotAction",
        resources=_as_tuple(raw[resource_key], resource_key),
        resources_negated=resource_key == "NotResource",
        conditions=_parse_conditions(raw.get("Condition")),
        start=span[0] if span else None,
        end=span[1] if span else None,
    )


_WS = re.compile(r"[ \t\n\r]*")


def _position_after(text: str, offset: int) -> Position:
    """1-based (line, column) of ``offset``: the character after a token ending there."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _statement_spans(text: str) -> list[tuple[Position, Position]] | None:
    """Where each statement sits in the policy text, as AWS reports it; None if unsure."""
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr] - the pattern always matches

    try:
        i = skip(0)
        if text[i] != "{":
            return None
        i = skip(i + 1)
        spans: list[tuple[int, int]] | None = None
        while text[i] != "}":
            key, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] != ":":
                return None
            start = skip(i + 1)
            value, end = decoder.raw_decode(text, start)
            if key == "Statement":  # a repeated key wins, as with json.loads
                if isinstance(value, list):
                    spans = []
                    j = skip(start + 1)
                    for _ in value:
                        _, element_end = decoder.raw_decode(text, j)
                        spans.append((j, element_end))
                        j = skip(element_end)
                        if text[j] == ",":
                            j = skip(j + 1)
                else:
                    spans = [(start, end)]
            i = skip(end)
            if text[i] == ",":
                i = skip(i + 1)
    except (ValueError, IndexError):
        return None
    if spans is None:
        return None
    # AWS reports the position just after the opening brace and just after the closing one.
    return [(_position_after(text, s + 1), _position_after(text, e)) for s, e in spans]


def parse_policy(
    document: Mapping[str, Any] | str,
    policy_id: str = "PolicyInputList.1",
    policy_type: str = IDENTITY_POLICY_TYPE,
) -> ParsedPolicy:
    """Validate and normalise a policy document (a dict or its JSON text).

    ``policy_id`` / ``policy_type`` are what matched statements report as their source.
    Raises :class:`PolicyEvaluationError` for malformed documents and unsupported operators,
    so a policy the evaluator cannot judge is never silently treated as allowing anything.
    """
    if isinstance(document, str):
        text = document
        try:
            parsed: Any = json.loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyEvaluationError(f"policy {policy_id} is not valid JSON: {exc}") from exc
    else:
        parsed = document
        text = json.dumps(document)
    if not isinstance(parsed, Mapping):
        raise PolicyEvaluationError(f"policy {policy_id} is not a JSON object")
    raw_statements = parsed.get("Statement")
    if raw_statements is None:
        raise PolicyEvaluationError(f"policy {policy_id} has no Statement")
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyEvaluationError(f"policy {policy_id}: Statement must be an object or a list")
    spans = _statement_spans(text)
    if spans is not None and len(spans) != len(raw_statements):
        spans = None
    try:
        statements = tuple(
            _parse_statement(i, raw, spans[i] if spans else None) for i, raw in enumerate(raw_statements)
        )
    except PolicyEvaluationError as exc:
        raise PolicyEvaluationError(f"policy {policy_id}: {exc}") from exc
    version = parsed.get("Version")
    return ParsedPolicy(
        policy_id=policy_id,
        policy_type=policy_type,
        version=version if isinstance(version, str) else None,
        statements=statements,
    )
