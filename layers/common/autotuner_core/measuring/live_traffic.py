"""Whether a target's ``$LATEST`` serves live traffic, and the evidence.

An unqualified invocation runs ``$LATEST``, and so does one through an alias that points at
``$LATEST`` (or routes a weight to it). Event source mappings (on the function, ``name:$LATEST`` or
such an alias), function URLs and resource-policy grants on the unqualified function or such an
alias send production requests there, and so does any caller that
invokes the bare name (seen as recent ``Invocations`` on the unqualified function). Measuring moves
``$LATEST`` through candidate sizes, so a live ``$LATEST`` must not be measured in place.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.lambda_control import list_aliases
from autotuner_core.aws.paging import every_page
from autotuner_core.documents.request import TargetRef
from autotuner_core.documents.target import RECENT_TRAFFIC_HOURS, LiveTrafficEvidence
from autotuner_core.policy.errors import FunctionNotFoundError, LiveTrafficError

RECENT_HOURS = RECENT_TRAFFIC_HOURS
_INVOKE_ACTIONS = {"lambda:invokefunction", "lambda:invokefunctionurl", "lambda:*", "*"}
_ACTIVE_MAPPING_STATES = {"Creating", "Enabling", "Enabled", "Updating"}


def find_live_traffic(
    lam: Any, cloudwatch: Any, target: TargetRef, *, now: datetime | None = None
) -> LiveTrafficEvidence:
    """Every way production reaches ``target``'s ``$LATEST`` that the account can show."""
    aliases = _aliases_on_latest(lam, target)
    # An alias on $LATEST runs $LATEST: its triggers are $LATEST's too.
    sources = [f"alias {name} points at $LATEST ({how})" for name, how in aliases.items()]
    sources += _event_source_mappings(lam, target, set(aliases))
    for qualifier in (None, *aliases):
        sources += [*_function_url(lam, target, qualifier), *_policy_grants(lam, target, qualifier)]
    now = now or datetime.now(UTC)
    # Unqualified invocations are counted under Resource = the bare function name.
    invocations = _invocations(cloudwatch, target, now, [{"Name": "Resource", "Value": target.name}])
    if invocations:
        sources.append(f"{invocations} invocations of the unqualified function in the last {RECENT_HOURS} h")
    # Under FunctionName alone Lambda counts every invocation of the function, whatever its qualifier.
    daily = _invocations(cloudwatch, target, now, [])
    return LiveTrafficEvidence(
        live=bool(sources), sources=sources, recent_invocations=invocations, daily_invocations=daily
    )


def refuse_live(target: TargetRef, evidence: LiveTrafficEvidence, *, how_to_allow: str = "") -> None:
    """A live ``$LATEST`` is not measured in place: every candidate size would serve production.

    ``how_to_allow`` says how this deployment could measure it anyway (a shadow copy, measureOnLive).
    """
    if evidence.live:
        raise LiveTrafficError(
            f"target {target.arn} serves live traffic on $LATEST ({'; '.join(evidence.sources)}); measuring would "
            "run those requests at every candidate size. Give a memorySize to apply without measuring, or move "
            "its triggers to an alias" + (f". {how_to_allow}" if how_to_allow else "")
        )


def _aliases_on_latest(lam: Any, target: TargetRef) -> dict[str, str]:
    """Each alias that sends any of its requests to ``$LATEST``, and how (all of them, or a weight)."""
    found = {}
    for alias in list_aliases(lam, target.arn):
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if alias.get("FunctionVersion") == "$LATEST":
            found[alias["Name"]] = "all its requests" if not weights else "the share not routed elsewhere"
        elif "$LATEST" in weights:
            found[alias["Name"]] = f"weight {weights['$LATEST']}"
    return found


def _event_source_mappings(lam: Any, target: TargetRef, latest_aliases: set[str]) -> list[str]:
    # Each qualifier that runs $LATEST is listed by its own ARN, so a listing that returns only the
    # mappings of the exact qualifier asked for still finds them all; UUIDs remove the overlap.
    qualified = [f"{target.arn}:$LATEST", *(f"{target.arn}:{alias}" for alias in sorted(latest_aliases))]
    found: dict[str, str] = {}
    for function_arn in (target.arn, *qualified):
        for mapping in _mappings(lam, target, function_arn):
            # A mapping runs the qualifier its FunctionArn names: $LATEST unqualified or by name, or an
            # alias on $LATEST; other aliases and versions are published code at their own size.
            arn = mapping.get("FunctionArn") or ""
            if arn != target.arn and arn not in qualified:
                continue
            if mapping.get("State") in _ACTIVE_MAPPING_STATES:
                source = mapping.get("EventSourceArn") or "a self-managed source"
                found[mapping.get("UUID") or arn] = (
                    f"event source mapping {mapping.get('UUID')} from {source} on {arn} ({mapping.get('State')})"
                )
    return list(found.values())


def _mappings(lam: Any, target: TargetRef, function_arn: str) -> list[dict[str, Any]]:
    pages = every_page(
        lam, "list_event_source_mappings", "lambda:ListEventSourceMappings", target.arn, FunctionName=function_arn
    )
    return [mapping for page in pages for mapping in page.get("EventSourceMappings", [])]


def _qualified(qualifier: str | None) -> dict[str, str]:
    return {"Qualifier": qualifier} if qualifier else {}


def _function_url(lam: Any, target: TargetRef, alias: str | None = None) -> list[str]:
    try:
        with aws_call("lambda:GetFunctionUrlConfig", target.arn):
            url = lam.get_function_url_config(FunctionName=target.arn, **_qualified(alias))
    except FunctionNotFoundError:  # the function exists (discovery read it): no URL on $LATEST or this alias
        return []
    on = f" on alias {alias}" if alias else ""
    return [f"function URL {url.get('FunctionUrl')}{on} (AuthType {url.get('AuthType')})"]


def _policy_grants(lam: Any, target: TargetRef, alias: str | None = None) -> list[str]:
    try:
        with aws_call("lambda:GetPolicy", target.arn):
            policy = json.loads(lam.get_policy(FunctionName=target.arn, **_qualified(alias))["Policy"])
    except FunctionNotFoundError:  # no resource policy on the unqualified function (or this alias)
        return []
    found = []
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if statement.get("Effect") != "Allow" or not _INVOKE_ACTIONS & {a.lower() for a in actions}:
            continue
        granted = {f"{target.arn}:{alias}"} if alias else {target.arn, f"{target.arn}:$LATEST"}
        if granted & set(resources):
            principal = statement.get("Principal")
            who = principal.get("Service") or principal.get("AWS") if isinstance(principal, dict) else principal
            how = f"through alias {alias}, which runs $LATEST" if alias else "unqualified"
            found.append(f"resource policy statement {statement.get('Sid', '?')!r} lets {who} invoke it {how}")
    return found


def _invocations(cloudwatch: Any, target: TargetRef, now: datetime, dimensions: list[dict[str, str]]) -> int:
    with aws_call("cloudwatch:GetMetricStatistics", target.arn):
        response = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            Dimensions=[{"Name": "FunctionName", "Value": target.name}, *dimensions],
            StartTime=now - timedelta(hours=RECENT_HOURS),
            EndTime=now,
            Period=RECENT_HOURS * 3600,
            Statistics=["Sum"],
        )
    return int(sum(point.get("Sum", 0) for point in response.get("Datapoints", [])))
