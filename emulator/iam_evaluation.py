"""Deciding one action on one resource against identity policies and an optional permissions boundary.

As IAM does: an explicit Deny wins, otherwise an Allow is needed, and with a boundary the
boundary must allow too. It imports nothing from moto, so it can run anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.iam_conditions import OPERATORS, PolicyValue, glob_match
from emulator.iam_parsing import parse_policy
from emulator.iam_policy import (
    ALLOWED,
    BOUNDARY_POLICY_TYPE,
    EXPLICIT_DENY,
    IDENTITY_POLICY_TYPE,
    IMPLICIT_DENY,
    ConditionClause,
    Decision,
    Evaluation,
    MatchedStatement,
    ParsedPolicy,
    PolicyEvaluationError,
    Statement,
)

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

    def substitute(self, text: str, variables: bool) -> PolicyValue | None:
        """Replace ``${key}`` variables with context values; None if one cannot be resolved."""
        if not variables or "${" not in text:
            return PolicyValue(((False, text),))
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
        return PolicyValue(tuple(segments))


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
        if resolved is not None and glob_match(resolved.segments, value, ignore_case=ignore_case):
            return True
    return False


def _clause_holds(clause: ConditionClause, request: _Request, variables: bool) -> bool:
    op = clause.operator
    spec = OPERATORS[op.base]
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
