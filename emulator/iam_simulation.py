"""IAM policy simulation for the embedded AWS.

Two layers:

* A pure evaluator (:func:`parse_policy`, :func:`evaluate`) that decides one action on one
  resource against identity policies and an optional permissions boundary, the way IAM does:
  an explicit Deny wins, otherwise an Allow is needed, and with a boundary the boundary must
  allow too. It imports nothing from moto, so it can run anywhere.
* :func:`install`, which teaches moto's IAM the ``SimulatePrincipalPolicy`` action so that
  ``boto3.client("iam").simulate_principal_policy(...)`` inside ``moto.mock_aws()`` is answered
  from the principal's real policies.

What the simulation reports, and where it chooses because AWS's behaviour is not fully
documented:

* One ``EvaluationResult`` per action. Without ``ResourceArns`` (or with just ``"*"``) the
  action is evaluated against ``"*"`` and the result carries its own ``MatchedStatements`` and
  ``MissingContextValues``. With resource ARNs, every resource gets a ``ResourceSpecificResult``
  and the top-level ``EvalDecision`` is the most restrictive one across them
  (explicitDeny > implicitDeny > allowed), so "allowed" at the top means allowed on every
  resource. With a single ARN the top level mirrors that resource's result (as AWS answers);
  with several, the top-level ``EvalResourceName`` is ``"*"`` (AWS shows the action's
  resource-type pattern, which this emulator does not know) and the top-level statement and
  missing-key lists are empty: the details are per resource, as AWS documents.
* ``MatchedStatements``: for ``allowed`` the identity Allow statements that matched; for
  ``explicitDeny`` only the Deny statements; for ``implicitDeny`` none. ``SourcePolicyType`` is
  ``"IAM Policy"`` (what AWS actually returns, not the model's enum), ``"PermissionsBoundaryPolicy"``
  for a boundary's Deny (not verified against AWS). ``SourcePolicyId`` is the managed policy's
  name, ``role_<role>_<policy>`` / ``user_<user>_<policy>`` / ``group_<group>_<policy>`` for inline
  policies, ``PolicyInputList.N`` for policies passed in the request. Positions are the line and
  column just after the statement's opening and closing brace, as AWS reports them.
* ``OrganizationsDecisionDetail.AllowedByOrganizations`` is always true (no SCPs here);
  ``PermissionsBoundaryDecisionDetail`` appears only when a boundary applies.
* Context: only ``ContextEntries`` are used (no global keys are filled in). A condition key
  that a relevant statement (action and resource match) needs but the context lacks is
  reported in ``MissingContextValues`` — also under ``...IfExists`` and negated operators,
  whose outcome depends on it, but not under ``Null``, whose question is the key's absence.
  A context entry without values counts as absent. A key with more than one value is multivalued:
  only ``ForAnyValue:`` / ``ForAllValues:`` compare it, a plain operator never matches it.
* Not supported, rejected with ``InvalidInput`` rather than ignored: ``ResourcePolicy``,
  ``PolicyExclusionList``, ``ResourceHandlingOption``. ``CallerArn`` and ``ResourceOwner``
  only matter with a resource policy and are ignored. Condition operators outside the list in
  :data:`SUPPORTED_OPERATORS` raise :class:`PolicyEvaluationError` (``PolicyEvaluation`` through
  the API) — never a silent allow.
"""

from __future__ import annotations

import ipaddress
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

Decision = Literal["allowed", "explicitDeny", "implicitDeny"]

ALLOWED: Decision = "allowed"
EXPLICIT_DENY: Decision = "explicitDeny"
IMPLICIT_DENY: Decision = "implicitDeny"

IDENTITY_POLICY_TYPE = "IAM Policy"
BOUNDARY_POLICY_TYPE = "PermissionsBoundaryPolicy"

# Policy variables are only substituted in documents of this version (IAM treats "${...}" as
# literal text in the older 2008-10-17 language).
_VARIABLES_VERSION = "2012-10-17"


class PolicyEvaluationError(ValueError):
    """A policy document could not be evaluated (malformed, or uses something unsupported)."""


# --------------------------------------------------------------------------------------------
# Parsed policies
# --------------------------------------------------------------------------------------------

Position = tuple[int, int]


@dataclass(frozen=True)
class Operator:
    """A parsed condition operator such as ``ForAnyValue:StringLikeIfExists``."""

    name: str  # as written in the policy
    base: str  # lower-case base operator, e.g. "stringlike"
    qualifier: str | None  # "foranyvalue" | "forallvalues" | None
    if_exists: bool


@dataclass(frozen=True)
class ConditionClause:
    """One ``operator → key → values`` entry of a Condition block."""

    operator: Operator
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One normalised policy statement."""

    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    actions_negated: bool  # True for NotAction
    resources: tuple[str, ...]
    resources_negated: bool  # True for NotResource
    conditions: tuple[ConditionClause, ...]
    start: Position | None = None
    end: Position | None = None


@dataclass(frozen=True)
class ParsedPolicy:
    """A validated policy document plus the identity the simulation reports for it."""

    policy_id: str
    policy_type: str
    version: str | None
    statements: tuple[Statement, ...]

    @property
    def uses_variables(self) -> bool:
        """Whether ``${...}`` policy variables are substituted in this document."""
        return self.version == _VARIABLES_VERSION


@dataclass(frozen=True)
class MatchedStatement:
    """A statement that determined a decision."""

    source_policy_id: str
    source_policy_type: str
    statement_index: int
    sid: str | None
    effect: str
    start: Position | None = None
    end: Position | None = None

    @property
    def statement_id(self) -> str:
        """The statement's Sid, or ``<policy id>#<index>`` when it has none."""
        return self.sid if self.sid else f"{self.source_policy_id}#{self.statement_index}"


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating one action on one resource."""

    decision: Decision
    matched_statements: tuple[MatchedStatement, ...] = ()
    missing_context_keys: tuple[str, ...] = ()
    # None when no permissions boundary applies.
    allowed_by_permissions_boundary: bool | None = None

    @property
    def allowed(self) -> bool:
        """True when the decision is ``allowed``."""
        return self.decision == ALLOWED

    @property
    def matched_statement_ids(self) -> list[str]:
        """Sids (or ``<policy id>#<index>``) of the statements that decided the outcome."""
        return [m.statement_id for m in self.matched_statements]


# --------------------------------------------------------------------------------------------
# Condition operators
# --------------------------------------------------------------------------------------------

_Comparator = Callable[[str, "_Value"], bool]


@dataclass(frozen=True)
class _OperatorSpec:
    compare: _Comparator | None  # None for Null
    negated: bool
    variables: bool  # whether policy values may carry ${...} variables


@dataclass(frozen=True)
class _Value:
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


def _glob_match(segments: Iterable[tuple[bool, str]], value: str, *, ignore_case: bool = False) -> bool:
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


def _arn_like(context_value: str, value: _Value) -> bool:
    # IAM compares the six colon-separated ARN components one by one, each with wildcards, so a
    # pattern of fewer than six components matches no ARN: a "*" cannot span a colon here.
    # (docs: reference_policies_elements_condition_operators.html#Conditions_ARN)
    pattern_parts = _split_segments(value.segments, ":", 5)
    if len(pattern_parts) < 6:
        return False
    value_parts = context_value.split(":", 5)
    if len(value_parts) < 6:
        return False
    return all(_glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _to_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _to_date(text: str) -> datetime | None:
    text = text.strip()
    number = _to_number(text)
    try:
        if number is not None:  # IAM also accepts epoch seconds
            return datetime.fromtimestamp(float(number), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ordered(parse: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> _Comparator:
    def compare(context_value: str, value: _Value) -> bool:
        wanted = parse(value.text)
        if wanted is None:
            raise PolicyEvaluationError(f"condition value {value.text!r} is not valid for this operator")
        got = parse(context_value)
        # A context value of the wrong type cannot satisfy the comparison.
        return got is not None and test(got, wanted)

    return compare


def _ip_address(context_value: str, value: _Value) -> bool:
    try:
        network = ipaddress.ip_network(value.text.strip(), strict=False)
    except ValueError as exc:
        raise PolicyEvaluationError(f"condition value {value.text!r} is not an IP range") from exc
    try:
        return ipaddress.ip_address(context_value.strip()) in network
    except ValueError:
        return False


def _bool_equals(context_value: str, value: _Value) -> bool:
    wanted = value.text.strip().lower()
    if wanted not in ("true", "false"):
        raise PolicyEvaluationError(f"Bool condition value {value.text!r} is not true/false")
    return context_value.strip().lower() == wanted


def _string_equals(context_value: str, value: _Value) -> bool:
    return context_value == value.text


def _string_equals_ignore_case(context_value: str, value: _Value) -> bool:
    return context_value.casefold() == value.text.casefold()


def _string_like(context_value: str, value: _Value) -> bool:
    return _glob_match(value.segments, context_value)


_OPERATORS: dict[str, _OperatorSpec] = {
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
    "numericequals": _OperatorSpec(_ordered(_to_number, operator.eq), False, False),
    "numericnotequals": _OperatorSpec(_ordered(_to_number, operator.eq), True, False),
    "numericlessthan": _OperatorSpec(_ordered(_to_number, operator.lt), False, False),
    "numericlessthanequals": _OperatorSpec(_ordered(_to_number, operator.le), False, False),
    "numericgreaterthan": _OperatorSpec(_ordered(_to_number, operator.gt), False, False),
    "numericgreaterthanequals": _OperatorSpec(_ordered(_to_number, operator.ge), False, False),
    "dateequals": _OperatorSpec(_ordered(_to_date, operator.eq), False, False),
    "datenotequals": _OperatorSpec(_ordered(_to_date, operator.eq), True, False),
    "datelessthan": _OperatorSpec(_ordered(_to_date, operator.lt), False, False),
    "datelessthanequals": _OperatorSpec(_ordered(_to_date, operator.le), False, False),
    "dategreaterthan": _OperatorSpec(_ordered(_to_date, operator.gt), False, False),
    "dategreaterthanequals": _OperatorSpec(_ordered(_to_date, operator.ge), False, False),
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
    if base not in _OPERATORS:
        raise PolicyEvaluationError(
            f"unsupported condition operator {name!r} (supported: {', '.join(sorted(SUPPORTED_OPERATORS))})"
        )
    if base == "null" and (qualifier or if_exists):
        raise PolicyEvaluationError(f"unsupported condition operator {name!r}")
    return Operator(name=name, base=base, qualifier=qualifier, if_exists=if_exists)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{\s*([^,}]+?)\s*(?:,\s*'([^']*)'\s*)?\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass
class _Request:
    """The simulated request: context keyed case-insensitively, and the keys found missing."""

    context: dict[str, list[str]]
    missing: dict[str, str] = field(default_factory=dict)  # lower-case key → spelling in policy

    def values(self, key: str) -> list[str] | None:
        return self.context.get(key.lower())

    def note_missing(self, key: str) -> None:
        self.missing.setdefault(key.lower(), key)

    def substitute(self, text: str, variables: bool) -> _Value | None:
        """Replace ``${key}`` variables with context values; None if one cannot be resolved."""
        if not variables or "${" not in text:
            return _Value(((False, text),))
        segments: list[tuple[bool, str]] = []
        pos = 0
        for match in _VARIABLE.finditer(text):
            segments.append((False, text[pos : match.start()]))
            name, default = match.group(1), match.group(2)
            if name in _ESCAPES:
                resolved: str | None = _ESCAPES[name]
            else:
                found = self.values(name)
                if found is not None and len(found) == 1:
                    resolved = found[0]
                elif default is not None:
                    resolved = default
                else:
                    # IAM cannot substitute a missing (or multi-valued) key: the element
                    # does not match. Tell the caller which key it should have provided.
                    if found is None:
                        self.note_missing(name)
                    resolved = None
            if resolved is None:
                return None
            segments.append((True, resolved))  # context values are literal, never wildcards
            pos = match.end()
        segments.append((False, text[pos:]))
        return _Value(tuple(segments))


def _normalise_context(context: Mapping[str, Sequence[str] | str] | None) -> dict[str, list[str]]:
    normalised: dict[str, list[str]] = {}
    for key, raw in (context or {}).items():
        values = [raw] if isinstance(raw, str) else [str(v) for v in raw]
        if values:  # an entry without values is the same as no entry
            normalised.setdefault(key.lower(), []).extend(values)
    return normalised


def _patterns_match(
    patterns: tuple[str, ...], value: str, request: _Request, variables: bool, *, ignore_case: bool
) -> bool:
    for pattern in patterns:
        resolved = request.substitute(pattern, variables)
        if resolved is not None and _glob_match(resolved.segments, value, ignore_case=ignore_case):
            return True
    return False


def _clause_holds(clause: ConditionClause, request: _Request, variables: bool) -> bool:
    op = clause.operator
    spec = _OPERATORS[op.base]
    context_values = request.values(clause.key)

    if spec.compare is None:  # Null: "true" asks for the key's absence, "false" for its presence
        wanted_absent = {v.strip().lower() for v in clause.values}
        if not wanted_absent <= {"true", "false"}:
            raise PolicyEvaluationError(f"Null condition on {clause.key!r} needs true/false")
        absent = context_values is None
        return ("true" in wanted_absent and absent) or ("false" in wanted_absent and not absent)

    if context_values is None:
        request.note_missing(clause.key)
        # ForAnyValue needs one value that matches: an absent key has none, and IfExists does not
        # change that (docs: reference_policies_condition-single-vs-multi-valued-context-keys).
        if op.qualifier == "foranyvalue":
            return False
        if op.if_exists or op.qualifier == "forallvalues":
            return True
        # IAM: an absent key fails positive operators and satisfies negated ones.
        return spec.negated

    policy_values = [request.substitute(v, variables and spec.variables) for v in clause.values]
    resolved = [v for v in policy_values if v is not None]

    def matches(context_value: str) -> bool:
        return any(spec.compare(context_value, value) for value in resolved)  # type: ignore[misc]

    if op.qualifier is None:
        if len(context_values) > 1:
            # A multivalued key needs ForAnyValue/ForAllValues; a plain operator (negated or not)
            # matches no set of values (docs: reference_policies_condition-single-vs-multi-valued-context-keys).
            return False
        hit = matches(context_values[0])
        return not hit if spec.negated else hit
    per_value = [(not matches(cv)) if spec.negated else matches(cv) for cv in context_values]
    return all(per_value) if op.qualifier == "forallvalues" else any(per_value)


def _statement_applies(statement: Statement, action: str, resource: str, request: _Request, variables: bool) -> bool:
    """Whether the statement applies; conditions are all evaluated so every missing key is seen."""
    action_hit = _patterns_match(statement.actions, action, request, False, ignore_case=True)
    if action_hit == statement.actions_negated:
        return False
    resource_hit = _patterns_match(statement.resources, resource, request, variables, ignore_case=False)
    if resource_hit == statement.resources_negated:
        return False
    results = [_clause_holds(clause, request, variables) for clause in statement.conditions]
    return all(results)


def _matching(
    policies: Iterable[ParsedPolicy], action: str, resource: str, request: _Request
) -> Iterator[tuple[ParsedPolicy, Statement]]:
    for policy in policies:
        for statement in policy.statements:
            if _statement_applies(statement, action, resource, request, policy.uses_variables):
                yield policy, statement


def _matched(policy: ParsedPolicy, statement: Statement) -> MatchedStatement:
    return MatchedStatement(
        source_policy_id=policy.policy_id,
        source_policy_type=policy.policy_type,
        statement_index=statement.index,
        sid=statement.sid,
        effect=statement.effect,
        start=statement.start,
        end=statement.end,
    )


def _as_parsed(policy: ParsedPolicy | Mapping[str, Any] | str, policy_id: str, policy_type: str) -> ParsedPolicy:
    if isinstance(policy, ParsedPolicy):
        return policy
    return parse_policy(policy, policy_id=policy_id, policy_type=policy_type)


def evaluate(
    policies: Sequence[ParsedPolicy | Mapping[str, Any] | str],
    action: str,
    resource: str = "*",
    context: Mapping[str, Sequence[str] | str] | None = None,
    permissions_boundary: ParsedPolicy | Mapping[str, Any] | str | None = None,
) -> Evaluation:
    """Decide ``action`` on ``resource`` as IAM would for a principal with these policies.

    ``policies`` are identity policy documents (dicts, JSON text or :class:`ParsedPolicy`);
    ``context`` maps condition keys (case-insensitive) to their values. Returns the decision,
    the statements that determined it, the condition keys the relevant statements needed but
    the context lacked, and — when a boundary is given — whether the boundary allows the
    action. Raises :class:`PolicyEvaluationError` for documents it cannot judge.
    """
    identity = [_as_parsed(p, f"PolicyInputList.{i}", IDENTITY_POLICY_TYPE) for i, p in enumerate(policies, start=1)]
    boundary = (
        None
        if permissions_boundary is None
        else _as_parsed(permissions_boundary, "PermissionsBoundaryPolicyInputList.1", BOUNDARY_POLICY_TYPE)
    )
    request = _Request(_normalise_context(context))

    identity_hits = list(_matching(identity, action, resource, request))
    boundary_hits = list(_matching([boundary], action, resource, request)) if boundary else []

    denies = [_matched(p, s) for p, s in identity_hits + boundary_hits if s.effect == "Deny"]
    allows = [_matched(p, s) for p, s in identity_hits if s.effect == "Allow"]
    allowed_by_boundary: bool | None = None
    if boundary is not None:
        allowed_by_boundary = any(s.effect == "Allow" for _, s in boundary_hits) and not any(
            s.effect == "Deny" for _, s in boundary_hits
        )

    missing = tuple(request.missing.values())
    if denies:
        return Evaluation(EXPLICIT_DENY, tuple(denies), missing, allowed_by_boundary)
    if allows and allowed_by_boundary is not False:
        return Evaluation(ALLOWED, tuple(allows), missing, allowed_by_boundary)
    return Evaluation(IMPLICIT_DENY, (), missing, allowed_by_boundary)


_RESTRICTIVENESS = {ALLOWED: 0, IMPLICIT_DENY: 1, EXPLICIT_DENY: 2}


def most_restrictive(decisions: Iterable[Decision]) -> Decision:
    """Combine decisions: explicitDeny beats implicitDeny beats allowed (allowed if none)."""
    return max(decisions, key=_RESTRICTIVENESS.__getitem__, default=ALLOWED)


# --------------------------------------------------------------------------------------------
# moto: SimulatePrincipalPolicy
# --------------------------------------------------------------------------------------------

_PRINCIPAL_ARN = re.compile(r"^arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):(?P<kind>role|user|group)/.+$")
_DEFAULT_MAX_ITEMS = 100


def _statement_xml(matched: MatchedStatement) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "SourcePolicyId": matched.source_policy_id,
        "SourcePolicyType": matched.source_policy_type,
    }
    if matched.start and matched.end:
        entry["StartPosition"] = {"Line": matched.start[0], "Column": matched.start[1]}
        entry["EndPosition"] = {"Line": matched.end[0], "Column": matched.end[1]}
    return entry


def simulation_result(
    action: str,
    resources: Sequence[str],
    evaluations: Sequence[Evaluation],
) -> dict[str, Any]:
    """Build one ``EvaluationResult`` (botocore's shape) from per-resource evaluations.

    ``resources`` and ``evaluations`` are parallel. ``["*"]`` means no resource was named.
    """
    boundary_flags = [e.allowed_by_permissions_boundary for e in evaluations]
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalDecision": most_restrictive(e.decision for e in evaluations),
        "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
    }
    if any(flag is not None for flag in boundary_flags):
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": all(boundary_flags)}

    if list(resources) == ["*"]:
        only = evaluations[0]
        result["EvalResourceName"] = "*"
        result["MatchedStatements"] = [_statement_xml(m) for m in only.matched_statements]
        result["MissingContextValues"] = list(only.missing_context_keys)
        return result

    specific = []
    for resource, evaluation in zip(resources, evaluations, strict=True):
        entry: dict[str, Any] = {
            "EvalResourceName": resource,
            "EvalResourceDecision": evaluation.decision,
            "MatchedStatements": [_statement_xml(m) for m in evaluation.matched_statements],
            "MissingContextValues": list(evaluation.missing_context_keys),
        }
        if evaluation.allowed_by_permissions_boundary is not None:
            entry["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": evaluation.allowed_by_permissions_boundary
            }
        specific.append(entry)
    result["ResourceSpecificResults"] = specific
    if len(specific) == 1:
        result["EvalResourceName"] = resources[0]
        result["MatchedStatements"] = specific[0]["MatchedStatements"]
        result["MissingContextValues"] = specific[0]["MissingContextValues"]
    else:
        result["EvalResourceName"] = "*"
        result["MatchedStatements"] = []
        result["MissingContextValues"] = []
    return result


def _default_document(policy: Any) -> str:
    """The document of a moto managed policy's default version."""
    for version in policy.versions:
        if version.version_id == policy.default_version_id:
            return version.document
    raise PolicyEvaluationError(f"managed policy {policy.arn} has no default version")


def _principal_policies(backend: Any, arn: str) -> tuple[list[ParsedPolicy], ParsedPolicy | None]:
    """Identity policies and permissions boundary of a moto IAM user, group or role."""
    from emulator.moto_adapter import InvalidInput, NotFoundException

    if ":sts::" in arn:
        # AWS simulates entities, not sessions: pass the role ARN instead of the assumed-role ARN.
        raise InvalidInput(f"Invalid Entity Arn: {arn} does not clearly define entity type and name.")
    match = _PRINCIPAL_ARN.match(arn)
    if not match:
        raise InvalidInput(f"Invalid Entity Arn: {arn} does not clearly define entity type and name.")
    kind = match.group("kind")

    def managed(owner: Any) -> list[ParsedPolicy]:
        return [
            parse_policy(_default_document(p), policy_id=p.name, policy_type=IDENTITY_POLICY_TYPE)
            for p in owner.managed_policies.values()
        ]

    def inline(owner: Any, prefix: str) -> list[ParsedPolicy]:
        return [
            parse_policy(doc, policy_id=f"{prefix}_{owner.name}_{name}", policy_type=IDENTITY_POLICY_TYPE)
            for name, doc in owner.policies.items()
        ]

    if kind == "role":
        owner = next((r for r in backend.roles.values() if r.arn == arn), None)
        groups: list[Any] = []
    elif kind == "user":
        owner = next((u for u in backend.users.values() if u.arn == arn), None)
        groups = [g for g in backend.groups.values() if owner is not None and owner in g.users]
    else:
        owner = next((g for g in backend.groups.values() if g.arn == arn), None)
        groups = []
    if owner is None:
        name = arn.rsplit("/", 1)[-1]
        raise NotFoundException(f"The {kind} with name {name} cannot be found.")

    identity = inline(owner, kind) + managed(owner)
    seen = set(owner.managed_policies)
    for group in groups:
        identity += inline(group, "group")
        for policy_arn, policy in group.managed_policies.items():
            if policy_arn in seen:  # a policy attached twice is still one policy
                continue
            seen.add(policy_arn)
            identity.append(
                parse_policy(_default_document(policy), policy_id=policy.name, policy_type=IDENTITY_POLICY_TYPE)
            )

    boundary = None
    boundary_arn = getattr(owner, "permissions_boundary_arn", None)
    if boundary_arn:
        policy = backend.managed_policies.get(boundary_arn)
        if policy is None:
            raise NotFoundException(f"Permissions boundary policy {boundary_arn} does not exist.")
        boundary = parse_policy(_default_document(policy), policy_id=policy.name, policy_type=BOUNDARY_POLICY_TYPE)
    return identity, boundary


def _to_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    return lowered == "true" if lowered in ("true", "false") else None


# Context values AWS would reject for their declared ContextKeyType (others are free text).
_CONTEXT_VALUE_CHECKS: dict[str, Callable[[str], Any]] = {
    "numeric": _to_number,
    "date": _to_date,
    "boolean": _to_bool,
}


def _context_from_entries(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, list[str]]:
    from emulator.moto_adapter import InvalidInput

    context: dict[str, list[str]] = {}
    for entry in entries or []:
        name = entry.get("ContextKeyName")
        if not name:
            raise InvalidInput("Each ContextEntries member needs a ContextKeyName.")
        values = [str(v) for v in entry.get("ContextKeyValues") or []]
        key_type = (entry.get("ContextKeyType") or "string").lower()
        check = _CONTEXT_VALUE_CHECKS.get(key_type.removesuffix("list"))
        for value in values:
            if check is not None and check(value) is None:
                raise InvalidInput(f"Context key {name} has value {value!r} not valid for type {key_type}.")
        context.setdefault(name, []).extend(values)
    return context


def _simulate_principal_policy(self: Any) -> Any:
    """``IamResponse.simulate_principal_policy``: evaluate the principal's real policies."""
    from emulator.moto_adapter import ActionResult, IAMException, InvalidInput

    for unsupported in ("ResourcePolicy", "PolicyExclusionList", "ResourceHandlingOption"):
        if self._get_param(unsupported):
            raise InvalidInput(f"{unsupported} is not supported by the embedded IAM simulator.")
    actions: list[str] = self._get_param("ActionNames") or []
    resources: list[str] = self._get_param("ResourceArns") or ["*"]
    context = _context_from_entries(self._get_param("ContextEntries"))
    max_items = self._get_int_param("MaxItems", _DEFAULT_MAX_ITEMS)
    marker = self._get_param("Marker")
    if not 1 <= max_items <= 1000:
        raise InvalidInput("MaxItems must be between 1 and 1000.")
    try:
        start = int(marker) if marker else 0
    except ValueError as exc:
        raise InvalidInput(f"Invalid Marker: {marker}") from exc

    try:
        identity, boundary = _principal_policies(self.backend, self._get_param("PolicySourceArn") or "")
        extra = self._get_param("PolicyInputList") or []
        identity += [parse_policy(doc, policy_id=f"PolicyInputList.{i}") for i, doc in enumerate(extra, 1)]
        # A boundary passed in the request replaces the entity's own, as in AWS.
        boundary_inputs = self._get_param("PermissionsBoundaryPolicyInputList") or []
        if boundary_inputs:
            boundary = parse_policy(
                boundary_inputs[0],
                policy_id="PermissionsBoundaryPolicyInputList.1",
                policy_type=BOUNDARY_POLICY_TYPE,
            )
        page = actions[start : start + max_items]
        results = [
            simulation_result(
                action,
                resources,
                [evaluate(identity, action, resource, context, boundary) for resource in resources],
            )
            for action in page
        ]
    except PolicyEvaluationError as exc:
        raise IAMException("PolicyEvaluation", str(exc)) from exc

    truncated = start + max_items < len(actions)
    body: dict[str, Any] = {"EvaluationResults": results, "IsTruncated": truncated}
    if truncated:
        body["Marker"] = str(start + max_items)
    return ActionResult(body)


def install() -> None:
    """Add ``SimulatePrincipalPolicy`` to moto's IAM (idempotent).

    Call before (or inside) ``moto.mock_aws()``; it patches moto's ``IamResponse`` class, so it
    holds for every mock in the process.
    """
    from emulator.moto_adapter import IamResponse

    if getattr(IamResponse, "simulate_principal_policy", None) is _simulate_principal_policy:
        return
    # moto dispatches an action to the IamResponse method of the same snake_case name.
    IamResponse.simulate_principal_policy = _simulate_principal_policy  # type: ignore[attr-defined]


def principal_policies(backend: Any, arn: str) -> tuple[list[ParsedPolicy], ParsedPolicy | None]:
    """Identity policies and permissions boundary of a principal in moto's IAM ``backend``.

    The same documents ``SimulatePrincipalPolicy`` evaluates: IAM on the real calls
    (iam_enforcement.py) decides with exactly what the simulation decides with.
    """
    return _principal_policies(backend, arn)
