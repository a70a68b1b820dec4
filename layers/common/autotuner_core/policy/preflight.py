"""Pre-flight: validate the input, then prove every permission the run needs before using any.

Found at the mutating call, a missing permission ends a run minutes in, after it has changed
things. Here ``iam:SimulatePrincipalPolicy`` is asked, for the roles that will
act (their ARNs come from the template, never from an assumed-role ARN), about the exact
actions and resources of this run, and a single denial ends the run before anything runs.
"""

from __future__ import annotations

from typing import Any

from autotuner_core.aws.arns import function_name, parse_arn, parse_arn_or_none
from autotuner_core.aws.paging import every_page
from autotuner_core.documents.request import TargetRef, TuningRequest, parse_target
from autotuner_core.documents.target import PermissionCheck
from autotuner_core.measuring.measurement import alias_name, run_token
from autotuner_core.measuring.payloads import payload_objects, processor_arns, split_s3_uri
from autotuner_core.measuring.shadow import code_key, role_patterns, shadow_arn, shadow_name
from autotuner_core.measuring.shadow_cleanup import log_group_name
from autotuner_core.policy.errors import InvalidInputError, PermissionDeniedError
from autotuner_core.policy.permissions import Resource, actions_on
from autotuner_core.run.target_list import report_key, target_list_key
from autotuner_core.settings import Settings

SHADOWS, CODE, LOG_GROUPS = Resource.SHADOW_FUNCTIONS, Resource.SHADOW_CODE, Resource.SHADOW_LOG_GROUPS

# The Distributed Map's ResultWriter prefix (statemachine/autotuner.asl.json, TuneTargets).
MAP_RESULTS_PREFIX = "map-results"
# SimulatePrincipalPolicy evaluates every action against every resource passed; keep each
# call's result small and well under IAM's request size limits.
_RESOURCES_PER_CALL = 25
# Up to this many targets every one is simulated. A larger sweep simulates this many, spread
# evenly over the sorted list: a deployment missing a permission still fails in seconds, and a
# denial specific to one function later fails only that target (permanent, not retried).
FULLY_CHECKED_TARGETS = 50


def preflight_sample(targets: list[TargetRef]) -> list[TargetRef]:
    """The targets pre-flight simulates: all of a run, or an even spread over a large sweep."""
    if len(targets) <= FULLY_CHECKED_TARGETS:
        return targets
    step = (len(targets) - 1) / (FULLY_CHECKED_TARGETS - 1)
    return [targets[round(index * step)] for index in range(FULLY_CHECKED_TARGETS)]


def resolve_targets(request: TuningRequest, *, function_arn: str) -> list[TargetRef]:
    """Normalise the requested targets into ARNs in the tuner's own partition/region/account."""
    partition, _, region, account, _ = parse_arn(function_arn)
    targets: list[TargetRef] = []
    seen: dict[str, str] = {}
    problems = []
    for index, text in enumerate(request.targets or []):
        try:
            target = parse_target(text, partition=partition, region=region, account=account)
        except InvalidInputError as error:
            problems.append(f"targets[{index}]: {error}")
            continue
        if target.arn in seen:
            problems.append(f"targets[{index}]: {text!r} names the same function as {seen[target.arn]!r}")
            continue
        seen[target.arn] = text
        targets.append(target)
    if problems:
        raise InvalidInputError(
            f"invalid execution input ({len(problems)} problem{'s' if len(problems) > 1 else ''}): "
            + "; ".join(problems),
            problems,
        )
    return targets


def required_permissions(
    request: TuningRequest, targets: list[TargetRef], settings: Settings, *, execution_arn: str = ""
) -> list[PermissionCheck]:
    """Every (role, action, resource) this run will use, and nothing it will not.

    Changes are simulated as for a target carrying the tag the template requires (when it
    requires one); discovery then refuses an untagged target by name, before any change.
    """
    arns = sorted({target.arn for target in targets})
    read_arns = sorted({target.qualified_arn for target in targets} | set(arns))
    tagged = {f"aws:ResourceTag/{settings.target_tag_key}": settings.target_tag_value} if settings.tag_scoped else {}
    table, state = [settings.run_history_table_arn], [settings.state_table_arn]

    def check(
        role_setting: str, actions: list[str], resources: list[str], context: dict[str, str] | None = None
    ) -> PermissionCheck:
        # The setting is named after the environment variable that carries the role's ARN.
        return PermissionCheck(
            role_setting=role_setting,
            role_arn=getattr(settings, role_setting.lower()),
            actions=actions,
            resources=resources,
            context=context or {},
        )

    checks = [
        check("DISCOVER_ROLE_ARN", ["lambda:GetFunction"], read_arns),
        # Discovery decides on tags, and GetFunction returns them only with lambda:ListTags.
        check("DISCOVER_ROLE_ARN", ["lambda:ListTags"], arns),
        check("UPDATE_ROLE_ARN", ["lambda:GetFunction"], arns),
        check("RECORD_ROLE_ARN", ["dynamodb:PutItem"], table),
        # The breaker and the lease: read and written per target, settled and released by the recorder.
        check("GUARD_ROLE_ARN", ["dynamodb:GetItem", "dynamodb:PutItem"], state),
        check("RECORD_ROLE_ARN", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], state),
    ]
    if request.apply:
        # Before it applies, UpdateConfiguration reads the target's last APPLIED record and its
        # deploy-revert hold (targets/drift.py).
        checks.append(check("UPDATE_ROLE_ARN", ["dynamodb:Query"], table))
        checks.append(check("UPDATE_ROLE_ARN", ["dynamodb:GetItem"], state))
    # The run budget's reads of a measured run, right after this simulation (budget.py): configuration, Duration.
    if settings.validate_role_arn and not request.fixed:
        checks.append(check("VALIDATE_ROLE_ARN", ["lambda:GetFunction"], arns))
        checks.append(check("VALIDATE_ROLE_ARN", ["cloudwatch:GetMetricData"], ["*"]))
    # The summary reads the stored target list and each target's record at the end of the run.
    checks.append(check("SUMMARIZE_ROLE_ARN", ["dynamodb:BatchGetItem"], table))
    token = run_token(execution_arn)
    shadows = [shadow_arn(arn, shadow_name(token, arn)) for arn in arns]
    patterns = role_patterns(settings)
    codes = []
    if settings.sweep_bucket and shadows:
        name = function_name(shadows[0])
        codes = [f"arn:{parse_arn(arns[0]).partition}:s3:::{settings.sweep_bucket}/{code_key(name)}"]
    groups = [_log_group_arn(shadow) for shadow in shadows[:1]]
    # Every run ends with the orphan sweep, whatever ShadowRoleArns says now: shadows by tag, their
    # executions, deleting what is over.
    checks.append(check("SUMMARIZE_ROLE_ARN", ["tag:GetResources"], ["*"]))
    if execution_arn:
        checks.append(check("SUMMARIZE_ROLE_ARN", ["states:DescribeExecution"], [execution_arn]))
    if shadows:
        checks.append(check("SUMMARIZE_ROLE_ARN", actions_on("SUMMARIZE_ROLE_ARN", SHADOWS), shadows[:1]))
        checks.append(check("SUMMARIZE_ROLE_ARN", actions_on("SUMMARIZE_ROLE_ARN", LOG_GROUPS), groups))
    if codes:
        checks.append(check("SUMMARIZE_ROLE_ARN", actions_on("SUMMARIZE_ROLE_ARN", CODE), codes))
    if settings.sweep_bucket and execution_arn:
        execution = parse_arn(execution_arn)
        partition, name = execution.partition, execution.name
        target_list = f"arn:{partition}:s3:::{settings.sweep_bucket}/{target_list_key(name)}"
        checks += [
            # Pre-flight's own next call: it stores the list the Distributed Map reads.
            check("VALIDATE_ROLE_ARN", ["s3:PutObject"], [target_list]),
            check("SUMMARIZE_ROLE_ARN", ["s3:GetObject"], [target_list]),
            # The run's HTML report, and its presigned link (a GET S3 authorises as the summary's role).
            check(
                "SUMMARIZE_ROLE_ARN",
                actions_on("SUMMARIZE_ROLE_ARN", Resource.RUN_REPORTS),
                [f"arn:{partition}:s3:::{settings.sweep_bucket}/{report_key(name)}"],
            ),
            # The Distributed Map reads the list itself (ItemReader) and writes its results.
            check("STATE_MACHINE_ROLE_ARN", ["s3:GetObject"], [target_list]),
            check(
                "STATE_MACHINE_ROLE_ARN",
                ["s3:PutObject"],
                [f"arn:{partition}:s3:::{settings.sweep_bucket}/{MAP_RESULTS_PREFIX}/{name}/manifest.json"],
            ),
        ]
    if settings.task_function_arns:
        # Every Task the run may reach, its Catch paths included: a state machine that cannot
        # invoke one fails with Lambda.AWSLambdaException, which the transient retrier retries.
        checks.append(check("STATE_MACHINE_ROLE_ARN", ["lambda:InvokeFunction"], settings.task_function_arns))
    if settings.event_bus_name:
        bus = _event_bus_arn(settings.event_bus_name, settings.run_history_table_arn)
        checks.append(check("RECORD_ROLE_ARN", ["events:PutEvents"], [bus]))
    if not request.fixed:
        # Discovery looks for live traffic on $LATEST before a measurement moves it.
        checks += [
            check("DISCOVER_ROLE_ARN", ["lambda:GetFunctionUrlConfig", "lambda:GetPolicy", "lambda:ListAliases"], arns),
            check(
                "DISCOVER_ROLE_ARN",
                ["lambda:ListEventSourceMappings", "cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData"],
                ["*"],
            ),
            # The live-traffic re-checks while measuring on versions.
            check("PREPARE_ROLE_ARN", ["cloudwatch:GetMetricData"], ["*"]),
            check("MEASURE_ROLE_ARN", ["cloudwatch:GetMetricData"], ["*"]),
        ]
        # The first candidate's alias stands for all of them: they share the autotuner-<run>- prefix.
        aliases = [f"{arn}:{alias_name(token, request.memory_sizes[0])}" for arn in arns]
        create = ["lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:CreateAlias"]
        checks += [
            check("PREPARE_ROLE_ARN", ["lambda:GetFunction"], arns),
            check("PREPARE_ROLE_ARN", create, arns, tagged),
            check("MEASURE_ROLE_ARN", ["lambda:InvokeFunction"], aliases),
            check("CLEANUP_ROLE_ARN", ["lambda:DeleteAlias"], arns, tagged),
            # A published version, never the function itself.
            check("CLEANUP_ROLE_ARN", ["lambda:DeleteFunction"], [f"{arn}:1" for arn in arns], tagged),
        ]
        # S3 payloads the input names: pre-flight reads each one's head, the measuring function the object.
        # (A tag's object is known only at discovery; the same grant covers it: every object of PayloadBuckets.)
        execution_parts = parse_arn_or_none(execution_arn)
        partition = execution_parts.partition if execution_parts else "aws"
        objects = sorted({f"arn:{partition}:s3:::{'/'.join(split_s3_uri(uri))}" for _, uri in payload_objects(request)})
        if objects:
            checks += [
                check("VALIDATE_ROLE_ARN", ["s3:GetObject"], objects),
                check("MEASURE_ROLE_ARN", ["s3:GetObject"], objects),
            ]
        processors = sorted(set(processor_arns(request, function_arn=arns[0]).values())) if arns else []
        if processors:
            checks.append(check("MEASURE_ROLE_ARN", ["lambda:InvokeFunction"], processors))
        if patterns:
            # A live target is measured on a shadow copy running with its own (listed) execution role.
            passed = {"iam:PassedToService": "lambda.amazonaws.com"}
            checks += [
                check("PREPARE_ROLE_ARN", actions_on("PREPARE_ROLE_ARN", SHADOWS), shadows),
                check("PREPARE_ROLE_ARN", ["iam:PassRole"], patterns, passed),
                check(
                    "MEASURE_ROLE_ARN",
                    actions_on("MEASURE_ROLE_ARN", Resource.SHADOW_ALIASES),
                    [f"{s}:{alias_name(token, 128)}" for s in shadows],
                ),
                check("CLEANUP_ROLE_ARN", actions_on("CLEANUP_ROLE_ARN", SHADOWS), shadows),
                check("CLEANUP_ROLE_ARN", actions_on("CLEANUP_ROLE_ARN", LOG_GROUPS), groups),
            ]
            if codes:
                checks += [
                    check("PREPARE_ROLE_ARN", actions_on("PREPARE_ROLE_ARN", CODE), codes),
                    check("CLEANUP_ROLE_ARN", actions_on("CLEANUP_ROLE_ARN", CODE), codes),
                ]
        # Every round, refinement included, is prepared and measured by the two roles above;
        # PlanMeasurements and ChooseConfiguration call no AWS API and need no check.
    if not request.fixed or request.apply:
        # The clean-up restores $LATEST after measuring, and undoes an update a failed apply left.
        checks += [
            check(
                "CLEANUP_ROLE_ARN", ["lambda:GetFunction", "lambda:ListAliases", "lambda:ListVersionsByFunction"], arns
            ),
            check("CLEANUP_ROLE_ARN", ["lambda:UpdateFunctionConfiguration"], arns, tagged),
        ]
    if request.apply:
        changes = ["lambda:UpdateFunctionConfiguration"]
        if request.alias:
            changes += ["lambda:PublishVersion", "lambda:GetAlias", "lambda:CreateAlias", "lambda:UpdateAlias"]
        checks += [
            check("UPDATE_ROLE_ARN", changes, arns, tagged),
            # Powertools Idempotency keeps the update's record in the state table.
            check(
                "UPDATE_ROLE_ARN",
                ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                state,
            ),
        ]
    return checks


def _event_bus_arn(bus: str, table_arn: str) -> str:
    if bus.startswith("arn:"):
        return bus
    partition, _, region, account, _ = parse_arn(table_arn)  # the bus is in the tuner's own account
    return f"arn:{partition}:events:{region}:{account}:event-bus/{bus}"


def simulate(iam: Any, checks: list[PermissionCheck]) -> int:
    """Run the simulations; raise PermissionDeniedError listing every denial. Returns calls made."""
    denials: list[str] = []
    calls = 0
    for check in checks:
        if not check.role_arn:
            raise PermissionDeniedError(
                f"{check.role_setting or 'a worker role ARN setting'} is empty: no role to check "
                f"{', '.join(check.actions)} for; the template passes each worker role's ARN to this function"
            )
        for start in range(0, len(check.resources), _RESOURCES_PER_CALL):
            resources = check.resources[start : start + _RESOURCES_PER_CALL]
            results, pages = _simulate_pages(iam, check, resources)
            calls += pages
            for result in results:
                denials.extend(_denials(check.role_arn, result))
    if denials:
        raise PermissionDeniedError(
            f"pre-flight denied {len(denials)} permission{'s' if len(denials) > 1 else ''}: " + "; ".join(denials)
        )
    return calls


def _simulate_pages(iam: Any, check: PermissionCheck, resources: list[str]) -> tuple[list[dict[str, Any]], int]:
    kwargs: dict[str, Any] = {
        "PolicySourceArn": check.role_arn,
        "ActionNames": check.actions,
        "ResourceArns": resources,
    }
    if check.context:
        kwargs["ContextEntries"] = [
            {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
            for key, value in check.context.items()
        ]
    results: list[dict[str, Any]] = []
    pages = 0
    for page in every_page(iam, "simulate_principal_policy", "iam:SimulatePrincipalPolicy", check.role_arn, **kwargs):
        pages += 1
        results.extend(page.get("EvaluationResults", []))
    return results, pages


def _denials(role_arn: str, result: dict[str, Any]) -> list[str]:
    action = result["EvalActionName"]
    per_resource = result.get("ResourceSpecificResults") or [
        {
            "EvalResourceName": result.get("EvalResourceName", "*"),
            "EvalResourceDecision": result["EvalDecision"],
            "PermissionsBoundaryDecisionDetail": result.get("PermissionsBoundaryDecisionDetail"),
        }
    ]
    organizations_allow = (result.get("OrganizationsDecisionDetail") or {}).get("AllowedByOrganizations", True)
    denials = []
    for item in per_resource:
        decision = item["EvalResourceDecision"]
        boundary_allow = (item.get("PermissionsBoundaryDecisionDetail") or {}).get("AllowedByPermissionsBoundary", True)
        if decision == "allowed" and organizations_allow and boundary_allow:
            continue
        if not organizations_allow:
            decision = f"{decision}, denied by an organizations policy"
        elif not boundary_allow:
            decision = f"{decision}, denied by the permissions boundary"
        missing = result.get("MissingContextValues") or []
        hint = f"; missing context {', '.join(missing)}" if missing else ""
        denials.append(f"role {role_arn} may not {action} on {item['EvalResourceName']} ({decision}{hint})")
    return denials


def _log_group_arn(function_arn: str) -> str:
    """The ARN IAM evaluates logs:DeleteLogGroup on: the function's default log group."""
    parts = parse_arn(function_arn)
    group = log_group_name(function_name(function_arn))
    return f"arn:{parts.partition}:logs:{parts.region}:{parts.account}:log-group:{group}:*"
