"""What sends production requests to a simulated function, as Lambda and CloudWatch show it.

A simulated function can have event source mappings, a function URL and resource-policy grants
(docs/simulated-account.md), and the embedded Lambda counts every invocation in CloudWatch's
``AWS/Lambda`` ``Invocations`` metric with the dimension sets Lambda publishes: ``FunctionName``
alone (every invocation of the function); ``FunctionName`` + ``Resource`` (the name as invoked,
qualifier included; the bare name for an unqualified or ``$LATEST`` call); and, for a call through
an alias only, ``FunctionName`` + ``Resource`` + ``ExecutedVersion`` (the version the alias ran,
``$LATEST`` for an alias on it). A function's scheduled callers (IAM alone, no trigger) leave their
past calls there, over the lookback and a day more, and nothing else.
moto publishes no Lambda metrics, filters ListEventSourceMappings by the name as given (an ARN
or another qualifier finds nothing) and drops an alias's qualifier from a mapping's FunctionArn;
here Lambda's behaviour is added: a mapping's FunctionArn names its qualifier, and a listing by
name or ARN returns the mappings of exactly that qualifier.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.account import SimulatedFunction
from emulator.interceptor import unlogged
from emulator.moto_adapter import LambdaBackend, Patches

_HISTORY_HOURS = 24
# CloudWatch keeps 1-minute data 15 days: the scheduled callers' past calls as far back as that.
_SCHEDULE_HISTORY_HOURS = 15 * 24


def _qualified_arn(backend: LambdaBackend, function_name: str) -> str:
    """The function's unqualified ARN, with the qualifier ``function_name`` names (a name or ARN)."""
    parts = function_name.split(":")
    qualifier = parts[7] if function_name.startswith("arn:") and len(parts) > 7 else None
    if not function_name.startswith("arn:") and len(parts) == 2:
        qualifier = parts[1]
    name = parts[6] if function_name.startswith("arn:") else parts[0]
    arn = backend.get_function(name).function_arn.split(":")
    return ":".join([*arn[:7], *([qualifier] if qualifier else [])])


class LiveSources:
    """Installs the metric and listing behaviour; creates each function's declared triggers."""

    def __init__(self, client: Any) -> None:
        self._client = client  # a factory: client("cloudwatch") in the embedded AWS's region (shared)
        self._patches = Patches()

    def install(self) -> None:
        sources = self

        def invoke(backend: LambdaBackend, function_name: str, qualifier: str | None, *args: Any, **kw: Any) -> Any:
            result = original_invoke(backend, function_name, qualifier, *args, **kw)
            fn = backend.get_function(function_name, qualifier)
            sources.count_invocation(fn.function_name, qualifier, str(fn.version))
            return result

        def list_event_source_mappings(backend: LambdaBackend, event_source_arn: str, function_name: str) -> Any:
            mappings = original_list(backend, event_source_arn, "")
            if not function_name:
                return mappings
            # Lambda lists the mappings of exactly the qualifier named (none: the unqualified function).
            wanted = _qualified_arn(backend, function_name)
            return [mapping for mapping in mappings if _qualified_arn(backend, mapping.function_name) == wanted]

        def create_event_source_mapping(backend: LambdaBackend, spec: dict[str, Any]) -> Any:
            mapping = original_create(backend, spec)
            # Lambda's FunctionArn names the qualifier mapped; moto drops an alias's (or $LATEST's).
            mapping.function_arn = _qualified_arn(backend, spec["FunctionName"])
            return mapping

        original_invoke = self._patches.patch(LambdaBackend, "invoke", invoke)
        original_list = self._patches.patch(LambdaBackend, "list_event_source_mappings", list_event_source_mappings)
        original_create = self._patches.patch(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)

    def uninstall(self) -> None:
        self._patches.undo()

    def _cloudwatch(self) -> Any:
        return self._client("cloudwatch")

    def count_invocation(self, name: str, qualifier: str | None, executed_version: str, *, count: int = 1) -> None:
        """One Invocations datum, as Lambda publishes it for a call of ``name[:qualifier]``."""
        self._put(name, qualifier, executed_version, count, datetime.now(UTC))

    def _put(self, name: str, qualifier: str | None, executed: str, count: int, when: datetime) -> None:
        unqualified = qualifier in (None, "", "$LATEST")
        dimension_sets = [[{"Name": "FunctionName", "Value": name}]]
        dimension_sets.append(
            [
                {"Name": "FunctionName", "Value": name},
                {"Name": "Resource", "Value": name if unqualified else f"{name}:{qualifier}"},
            ]
        )
        if not unqualified and not str(qualifier).isdigit():
            # ExecutedVersion is published for alias invocations only.
            dimension_sets.append(
                [
                    {"Name": "FunctionName", "Value": name},
                    {"Name": "Resource", "Value": f"{name}:{qualifier}"},
                    {"Name": "ExecutedVersion", "Value": executed},
                ]
            )
        data = [
            {"MetricName": "Invocations", "Dimensions": dims, "Value": float(count), "Unit": "Count", "Timestamp": when}
            for dims in dimension_sets
        ]
        with unlogged():
            self._cloudwatch().put_metric_data(Namespace="AWS/Lambda", MetricData=data)

    def create(self, lam: Any, sqs: Any, function: SimulatedFunction) -> None:
        """The triggers ``function`` declares, and the invocation history its live traffic implies."""
        for index, mapping in enumerate(function.event_source_mappings):
            queue = sqs.create_queue(QueueName=f"{function.name}-source-{index}")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            target = f"{function.name}:{mapping.qualifier}" if mapping.qualifier else function.name
            lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=target, Enabled=mapping.enabled)
        if function.function_url is not None:
            lam.create_function_url_config(FunctionName=function.name, AuthType=function.function_url.auth_type)
        for index, grant in enumerate(function.invoke_permissions):
            lam.add_permission(
                FunctionName=function.name,
                StatementId=f"simulated-{index}",
                Action="lambda:InvokeFunction",
                Principal=grant.principal,
                **({"Qualifier": grant.qualifier} if grant.qualifier else {}),
                **({"SourceArn": grant.source_arn} if grant.source_arn else {}),
            )
        history = function.recent_invocations
        when = datetime.now(UTC) - timedelta(hours=1)
        if function.live_traffic is not None:
            # Traffic that is live during a run was live before it: a day of it at the same rate.
            day = int(function.live_traffic.requests_per_second * 3600 * _HISTORY_HOURS)
            qualifier = function.live_traffic.qualifier
            if qualifier in (None, "$LATEST"):
                history += day
            elif day:
                # Through an alias: counted under its Resource, and the version it ran (one published at
                # creation, or $LATEST for an alias on it).
                executed = "$LATEST" if qualifier in function.latest_aliases else "1"
                self._put(function.name, qualifier, executed, day, when)
        if history:
            self._put(function.name, None, "$LATEST", history, when)
        now = datetime.now(UTC)
        for caller in function.scheduled_callers:
            if caller.last_call_hours_ago is None:
                continue  # it starts during the run (live_traffic.py)
            hours = caller.last_call_hours_ago
            # Through one of the aliases published at creation it ran version 1; otherwise $LATEST.
            executed = "1" if caller.qualifier in function.aliases else "$LATEST"
            while hours <= _SCHEDULE_HISTORY_HOURS:
                self._put(function.name, caller.qualifier, executed, caller.requests, now - timedelta(hours=hours))
                hours += caller.every_hours
