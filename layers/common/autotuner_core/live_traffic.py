"""Whether a target's ``$LATEST`` serves live traffic, and the evidence.

An unqualified invocation runs ``$LATEST``. Event source mappings, function URLs and resource-policy
grants on the unqualified function send production requests there, and so does any caller that
invokes the bare name (seen as recent ``Invocations`` on the unqualified function). Measuring moves
``$LATEST`` through candidate sizes, so a live ``$LATEST`` must not be measured in place.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from autotuner_core.aws_errors import aws_call
from autotuner_core.errors import FunctionNotFoundError, LiveTrafficError
from autotuner_core.models import RECENT_TRAFFIC_HOURS, LiveTrafficEvidence, TargetRef

RECENT_HOURS = RECENT_TRAFFIC_HOURS
_INVOKE_ACTIONS = {"lambda:invokefunction", "lambda:invokefunctionurl", "lambda:*", "*"}
_ACTIVE_MAPPING_STATES = {"Creating", "Enabling", "Enabled", "Updating"}


def find_live_traffic(
    lam: Any, cloudwatch: Any, target: TargetRef, *, now: datetime | None = None
) -> LiveTrafficEvidence:
    """Every way production reaches ``target``'s ``$LATEST`` that the account can show."""
    sources = [*_event_source_mappings(lam, target), *_function_url(lam, target), *_policy_grants(lam, target)]
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


def _event_source_mappings(lam: Any, target: TargetRef) -> list[str]:
    found, marker = [], None
    while True:
        kwargs: dict[str, Any] = {"FunctionName": target.arn, **({"Marker": marker} if marker else {})}
        with aws_call("lambda:ListEventSourceMappings", target.arn):
            page = lam.list_event_source_mappings(**kwargs)
        for mapping in page.get("EventSourceMappings", []):
            # A mapping on an alias or version runs that qualifier, not $LATEST.
            if mapping.get("FunctionArn") == target.arn and mapping.get("State") in _ACTIVE_MAPPING_STATES:
                source = mapping.get("EventSourceArn") or "a self-managed source"
                found.append(f"event source mapping {mapping.get('UUID')} from {source} ({mapping.get('State')})")
        marker = page.get("NextMarker")
        if not marker:
            return found


def _function_url(lam: Any, target: TargetRef) -> list[str]:
    try:
        with aws_call("lambda:GetFunctionUrlConfig", target.arn):
            url = lam.get_function_url_config(FunctionName=target.arn)
    except FunctionNotFoundError:  # the function exists (discovery read it): no URL on $LATEST
        return []
    return [f"function URL {url.get('FunctionUrl')} (AuthType {url.get('AuthType')})"]


def _policy_grants(lam: Any, target: TargetRef) -> list[str]:
    try:
        with aws_call("lambda:GetPolicy", target.arn):
            policy = json.loads(lam.get_policy(FunctionName=target.arn)["Policy"])
    except FunctionNotFoundError:  # no resource policy on the unqualified function
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
        if target.arn in resources or f"{target.arn}:$LATEST" in resources:
            principal = statement.get("Principal")
            who = principal.get("Service") or principal.get("AWS") if isinstance(principal, dict) else principal
            found.append(f"resource policy statement {statement.get('Sid', '?')!r} lets {who} invoke it unqualified")
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
