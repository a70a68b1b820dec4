"""IAM condition operators: each operator's comparison, and parsing an operator's name.

Operators outside :data:`SUPPORTED_OPERATORS` raise :class:`PolicyEvaluationError`: never a silent allow.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from emulator.iam_policy import Operator, PolicyEvaluationError

_Comparator = Callable[[str, "PolicyValue"], bool]


@dataclass(frozen=True)
class _OperatorSpec:
    compare: _Comparator | None  # None for Null
    negated: bool
    variables: bool  # whether policy values may carry ${...} variables


@dataclass(frozen=True)
class PolicyValue:
    """A policy value after variable substitution: segments of (is_literal, text)."""

    segments: tuple[tuple[bool, str], ...]

    @property
    def text(self) -> str:
        return "".join(text for _, text in self.segments)


def _glob_to_regex(segments: Iterable[tuple[bool, str]]) -> str:
    parts: list[str] = []
    for literal, text in segments:
        if literal:
            parts.append(re.escape(text))
            continue
        for ch in text:
            parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return "".join(parts)


@lru_cache(maxsize=4096)
def _compiled(regex: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(regex, flags)


def glob_match(segments: Iterable[tuple[bool, str]], value: str, *, ignore_case: bool = False) -> bool:
    return _compiled(_glob_to_regex(segments), ignore_case).fullmatch(value) is not None


def _split_segments(segments: tuple[tuple[bool, str], ...], sep: str, limit: int) -> list[list[tuple[bool, str]]]:
    """Split segmented text on ``sep`` (only in pattern text, at most ``limit`` times)."""
    parts: list[list[tuple[bool, str]]] = [[]]
    splits = 0
    for literal, text in segments:
        if literal:
            parts[-1].append((True, text))
            continue
        current = ""
        for ch in text:
            if ch == sep and splits < limit:
                parts[-1].append((False, current))
                parts.append([])
                current = ""
                splits += 1
            else:
                current += ch
        parts[-1].append((False, current))
    return parts


def _arn_like(context_value: str, value: PolicyValue) -> bool:
    # IAM compares the six colon-separated ARN components one by one, each with wildcards, so a
    # pattern of fewer than six components matches no ARN: a "*" cannot span a colon here.
    # (docs: reference_policies_elements_condition_operators.html#Conditions_ARN)
    pattern_parts = _split_segments(value.segments, ":", 5)
    if len(pattern_parts) < 6:
        return False
    value_parts = context_value.split(":", 5)
    if len(value_parts) < 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def to_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_date(text: str) -> datetime | None:
    text = text.strip()
    number = to_number(text)
    try:
        if number is not None:  # IAM also accepts epoch seconds
            return datetime.fromtimestamp(float(number), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ordered(parse: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> _Comparator:
    def compare(context_value: str, value: PolicyValue) -> bool:
        wanted = parse(value.text)
        if wanted is None:
            raise PolicyEvaluationError(f"condition value {value.text!r} is not valid for this operator")
        got = parse(context_value)
        # A context value of the wrong type cannot satisfy the comparison.
        return got is not None and test(got, wanted)

    return compare


def _ip_address(context_value: str, value: PolicyValue) -> bool:
    try:
        network = ipaddress.ip_network(value.text.strip(), strict=False)
    except ValueError as exc:
        raise PolicyEvaluationError(f"condition value {value.text!r} is not an IP range") from exc
    try:
        return ipaddress.ip_address(context_value.strip()) in network
    except ValueError:
        return False


def _bool_equals(context_value: str, value: PolicyValue) -> bool:
    wanted = value.text.strip().lower()
    if wanted not in ("true", "false"):
        raise PolicyEvaluationError(f"Bool condition value {value.text!r} is not true/false")
    return context_value.strip().lower() == wanted


def _string_equals(context_value: str, value: PolicyValue) -> bool:
    return context_value == value.text


def _string_equals_ignore_case(context_value: str, value: PolicyValue) -> bool:
    return context_value.casefold() == value.text.casefold()


def _string_like(context_value: str, value: PolicyValue) -> bool:
    return glob_match(value.segments, context_value)


OPERATORS: dict[str, _OperatorSpec] = {
    "stringequals": _OperatorSpec(_string_equals, False, True),
    "stringnotequals": _OperatorSpec(_string_equals, True, True),
    "stringequalsignorecase": _OperatorSpec(_string_equals_ignore_case, False, True),
    "stringnotequalsignorecase": _OperatorSpec(_string_equals_ignore_case, True, True),
    "stringlike": _OperatorSpec(_string_like, False, True),
    "stringnotlike": _OperatorSpec(_string_like, True, True),
    # ArnEquals behaves like ArnLike in IAM: both accept wildcards per component.
    "arnequals": _OperatorSpec(_arn_like, False, True),
    "arnlike": _OperatorSpec(_arn_like, False, True),
    "arnnotequals": _OperatorSpec(_arn_like, True, True),
    "arnnotlike": _OperatorSpec(_arn_like, True, True),
    "numericequals": _OperatorSpec(_ordered(to_number, operator.eq), False, False),
    "numericnotequals": _OperatorSpec(_ordered(to_number, operator.eq), True, False),
    "numericlessthan": _OperatorSpec(_ordered(to_number, operator.lt), False, False),
    "numericlessthanequals": _OperatorSpec(_ordered(to_number, operator.le), False, False),
    "numericgreaterthan": _OperatorSpec(_ordered(to_number, operator.gt), False, False),
    "numericgreaterthanequals": _OperatorSpec(_ordered(to_number, operator.ge), False, False),
    "dateequals": _OperatorSpec(_ordered(to_date, operator.eq), False, False),
    "datenotequals": _OperatorSpec(_ordered(to_date, operator.eq), True, False),
    "datelessthan": _OperatorSpec(_ordered(to_date, operator.lt), False, False),
    "datelessthanequals": _OperatorSpec(_ordered(to_date, operator.le), False, False),
    "dategreaterthan": _OperatorSpec(_ordered(to_date, operator.gt), False, False),
    "dategreaterthanequals": _OperatorSpec(_ordered(to_date, operator.ge), False, False),
    "bool": _OperatorSpec(_bool_equals, False, False),
    "ipaddress": _OperatorSpec(_ip_address, False, False),
    "notipaddress": _OperatorSpec(_ip_address, True, False),
    "null": _OperatorSpec(None, False, False),
}

#: Base condition operators the evaluator understands (each also with ``IfExists`` and, except
#: ``Null``, with the ``ForAnyValue:`` / ``ForAllValues:`` qualifiers).
SUPPORTED_OPERATORS: frozenset[str] = frozenset(
    [
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals",
        "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
        "Bool", "IpAddress", "NotIpAddress", "Null",
    ]
)  # fmt: skip


def parse_operator(name: str) -> Operator:
    """Parse a condition operator name; raise :class:`PolicyEvaluationError` if unsupported."""
    rest = name
    qualifier: str | None = None
    prefix, sep, tail = name.partition(":")
    if sep:
        qualifier = prefix.lower()
        if qualifier not in ("foranyvalue", "forallvalues"):
            raise PolicyEvaluationError(f"unsupported condition operator qualifier in {name!r}")
        rest = tail
    base = rest.lower()
    if_exists = base.endswith("ifexists")
    if if_exists:
        base = base[: -len("ifexists")]
    if base not in OPERATORS:
        raise PolicyEvaluationError(
            f"unsupported condition operator {name!r} (supported: {', '.join(sorted(SUPPORTED_OPERATORS))})"
        )
    if base == "null" and (qualifier or if_exists):
        raise PolicyEvaluationError(f"unsupported condition operator {name!r}")
    return Operator(name=name, base=base, qualifier=qualifier, if_exists=if_exists)
