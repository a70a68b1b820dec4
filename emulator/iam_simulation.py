"""IAM's ``SimulatePrincipalPolicy`` in moto, answered from the principal's real policies.

:func:`install` teaches moto's IAM the action, so that
``boto3.client("iam").simulate_principal_policy(...)`` inside ``moto.mock_aws()`` is answered by
the evaluator (``iam_evaluation.evaluate``; documents parsed by ``iam_parsing``, condition
operators in ``iam_conditions``, the model in ``iam_policy``), which imports nothing from moto.

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
  :data:`iam_conditions.SUPPORTED_OPERATORS` raise :class:`PolicyEvaluationError` (``PolicyEvaluation`` through
  the API) — never a silent allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emulator.iam_conditions import to_date, to_number
from emulator.iam_evaluation import evaluate, most_restrictive
from emulator.iam_parsing import parse_policy
from emulator.iam_policy import (
    BOUNDARY_POLICY_TYPE,
    IDENTITY_POLICY_TYPE,
    Evaluation,
    MatchedStatement,
    ParsedPolicy,
    PolicyEvaluationError,
)

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
    "numeric": to_number,
    "date": to_date,
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
