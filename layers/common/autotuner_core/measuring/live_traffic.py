"""Whether a target's ``$LATEST`` serves live traffic, and the evidence; checked again while measuring.

An unqualified invocation runs ``$LATEST``, and so does one through an alias that points at
``$LATEST`` (or routes a weight to it). Event source mappings (on the function, ``name:$LATEST`` or
such an alias), function URLs and resource-policy grants on the unqualified function or such an
alias send production requests there. A caller authorised by IAM alone (a Step Functions task,
EventBridge Scheduler or Pipes, AppSync, an API Gateway credentials role, a Lambda destination)
leaves none of those: only CloudWatch shows it, as ``Invocations`` under ``Resource`` = the bare
name (or ``name:$LATEST``), or under an alias's ``Resource`` with ``ExecutedVersion`` = ``$LATEST``.
Those are read over the lookback (14 days: a weekly caller shows), and again, one GetMetricData
each time, right before measuring changes ``$LATEST`` and after each round (:func:`recheck`).
Evidence that cannot be read (denied, or throttled after the SDK's retries) counts as live.
Measuring moves ``$LATEST`` through candidate sizes, so a live ``$LATEST`` is not measured in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.lambda_control import list_aliases
from autotuner_core.aws.paging import every_page
from autotuner_core.documents.base import RESERVED_ALIAS_PREFIX
from autotuner_core.documents.request import TargetRef
from autotuner_core.documents.target import RECENT_TRAFFIC_HOURS, LiveTrafficEvidence
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    LiveTrafficError,
    PermissionDeniedError,
    TransientError,
)

RECENT_HOURS = RECENT_TRAFFIC_HOURS
DAY_HOURS = 24  # the function's traffic a sweep weighs savings by: the last day's invocations
_INVOKE_ACTIONS = {"lambda:invokefunction", "lambda:invokefunctionurl", "lambda:*", "*"}
_ACTIVE_MAPPING_STATES = {"Creating", "Enabling", "Enabled", "Updating"}
_QUERIES_PER_CALL = 500  # GetMetricData's limit
# What cannot be read is not evidence of silence: denied, or still throttled after the SDK's retries.
_UNREADABLE = (PermissionDeniedError, TransientError)
_T = TypeVar("_T")


def find_live_traffic(
    lam: Any, cloudwatch: Any, target: TargetRef, *, now: datetime | None = None
) -> LiveTrafficEvidence:
    """Every way production reaches ``target``'s ``$LATEST`` that the account can show."""
    sources: list[str] = []
    listed: list[dict[str, Any]] = _read(
        sources, "its aliases (lambda:ListAliases)", lambda: list_aliases(lam, target.arn), []
    )
    aliases = _aliases_on_latest(listed)
    # An alias on $LATEST runs $LATEST: its triggers are $LATEST's too.
    sources += [f"alias {name} points at $LATEST ({how})" for name, how in aliases.items()]
    sources += _read(
        sources,
        "its event source mappings (lambda:ListEventSourceMappings)",
        lambda: _event_source_mappings(lam, target, set(aliases)),
        [],
    )
    for qualifier in (None, *aliases):
        on = f" of alias {qualifier}" if qualifier else ""
        sources += _read(sources, f"the function URL{on}", partial(_function_url, lam, target, qualifier), [])
        sources += _read(sources, f"the resource policy{on}", partial(_policy_grants, lam, target, qualifier), [])
    now = now or datetime.now(UTC)
    # Our own temporary aliases (a crashed run's, not yet cleaned up) point at published versions.
    names = sorted(a["Name"] for a in listed if not str(a.get("Name", "")).startswith(RESERVED_ALIAS_PREFIX))
    counts: dict[str, int] = _read(
        sources,
        "its CloudWatch Invocations (cloudwatch:GetMetricData)",
        lambda: latest_invocations(cloudwatch, target, names, now=now),
        {},
    )
    sources += [f"{count} invocations {label} in the last {RECENT_HOURS} h" for label, count in counts.items() if count]
    # Under FunctionName alone Lambda counts every invocation of the function, whatever its qualifier.
    # It weighs savings only: unreadable, it is unknown (None), not evidence about $LATEST.
    try:
        daily: int | None = _daily_invocations(cloudwatch, target, now)
    except _UNREADABLE:
        daily = None
    return LiveTrafficEvidence(
        live=bool(sources),
        sources=sources,
        recent_invocations=sum(counts.values()),
        aliases=names,
        daily_invocations=daily,
    )


def recheck(cloudwatch: Any, target: TargetRef, evidence: LiveTrafficEvidence, *, at: str) -> None:
    """LiveTrafficError when anything ran ``$LATEST`` since discovery found it idle (one GetMetricData).

    Discovery found no invocation of ``$LATEST`` in the lookback that ended then, so any in the
    lookback that ends now came since (or reached CloudWatch late): from a caller that started
    mid-run, a trigger added, an alias moved to ``$LATEST``. ``at`` says where measuring stops.
    """
    try:
        counts = latest_invocations(cloudwatch, target, evidence.aliases, now=datetime.now(UTC))
    except _UNREADABLE as error:
        seen = [unreadable("its CloudWatch Invocations (cloudwatch:GetMetricData)", error)]
    else:
        seen = [f"{count} invocations {label}" for label, count in counts.items() if count]
    if seen:
        raise LiveTrafficError(
            f"target {target.arn}: $LATEST, idle at discovery, served requests while this run measured it "
            f"({'; '.join(seen)}; CloudWatch AWS/Lambda Invocations of the last {RECENT_HOURS} h); measuring "
            f"stopped {at}. A caller that needs no trigger or resource policy (IAM alone) reaches $LATEST: "
            "point it at an alias, or allow shadow copies (ShadowRoleArns)"
        )


def latest_invocations(cloudwatch: Any, target: TargetRef, aliases: list[str], *, now: datetime) -> dict[str, int]:
    """Invocations that ran ``$LATEST`` in the lookback ending ``now``, by the series Lambda counts them in.

    ``Resource`` is the name as invoked: the bare name (or ``name:$LATEST``) runs ``$LATEST``;
    through an alias, ``ExecutedVersion`` says which version ran. Each series is one query of
    one GetMetricData call (500 queries a call).
    """
    series: dict[str, list[dict[str, str]]] = {
        "of the unqualified function": [{"Name": "Resource", "Value": target.name}],
        f"of {target.name}:$LATEST": [{"Name": "Resource", "Value": f"{target.name}:$LATEST"}],
    }
    for alias in aliases:
        series[f"through alias {alias} that ran $LATEST"] = [
            {"Name": "Resource", "Value": f"{target.name}:{alias}"},
            {"Name": "ExecutedVersion", "Value": "$LATEST"},
        ]
    labels = list(series)
    counts = dict.fromkeys(labels, 0)
    # CloudWatch counts by the minute: the window ends after the current one, so this minute's requests count.
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for first in range(0, len(labels), _QUERIES_PER_CALL):
        queries = [
            {
                "Id": f"q{first + offset}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Invocations",
                        "Dimensions": [{"Name": "FunctionName", "Value": target.name}, *series[label]],
                    },
                    "Period": RECENT_HOURS * 3600,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for offset, label in enumerate(labels[first : first + _QUERIES_PER_CALL])
        ]
        request = {"MetricDataQueries": queries, "StartTime": end - timedelta(hours=RECENT_HOURS), "EndTime": end}
        for page in every_page(cloudwatch, "get_metric_data", "cloudwatch:GetMetricData", target.arn, **request):
            for result in page.get("MetricDataResults", []):
                counts[labels[int(result["Id"][1:])]] += int(sum(result.get("Values") or []))
    return counts


def unreadable(what: str, error: Exception) -> str:
    """The evidence an unreadable source gives: it is treated as live."""
    return f"{what} could not be read ({type(error).__name__}: {error}), so it counts as live traffic"


def _read(sources: list[str], what: str, read: Callable[[], _T], default: _T) -> _T:
    """``read()``; where it is denied or throttled, ``default`` and the unreadable source as evidence."""
    try:
        return read()
    except _UNREADABLE as error:
        sources.append(unreadable(what, error))
        return default


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


def _aliases_on_latest(listed: list[dict[str, Any]]) -> dict[str, str]:
    """Each alias that sends any of its requests to ``$LATEST``, and how (all of them, or a weight)."""
    found = {}
    for alias in listed:
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


def _daily_invocations(cloudwatch: Any, target: TargetRef, now: datetime) -> int:
    with aws_call("cloudwatch:GetMetricStatistics", target.arn):
        response = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            Dimensions=[{"Name": "FunctionName", "Value": target.name}],
            StartTime=now - timedelta(hours=DAY_HOURS),
            EndTime=now,
            Period=DAY_HOURS * 3600,
            Statistics=["Sum"],
        )
    return int(sum(point.get("Sum", 0) for point in response.get("Datapoints", [])))
