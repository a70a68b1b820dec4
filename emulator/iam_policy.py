"""IAM policies as the embedded AWS evaluates them: the parsed documents, decisions and results.

The model under ``iam_parsing`` (documents in), ``iam_conditions`` (condition operators),
``iam_evaluation`` (a decision) and ``iam_simulation`` (SimulatePrincipalPolicy in moto).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
