"""The permissions manifest: one declarative source for who calls what.

Over 400 lines on purpose: ``PRINCIPALS`` is one table, every role's grants read side by side.

step (ASL Task state) → function (template logical id) → role (the setting that carries its ARN
to pre-flight) → actions on resources (template resource kinds, tag-scoped or not). Which errors
each step retries is the error policy's (policy/errors.py), not the manifest's.

Every copy is checked against it by tests: the template's policies (tests/template), pre-flight's
checks (tests/unit/test_preflight.py), the ASL's Tasks, and the call log of executed scenarios
(tests/embedded/test_iam_manifest.py), so a new AWS call that is not declared here fails a test.
``benchmarks/permissions.py`` revokes each grant alone to prove it is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Resource(StrEnum):
    """The resources a grant names, as kinds; tests map each to the template's ARN pattern."""

    TARGET_FUNCTIONS = "target-functions"  # function:${TargetNamePrefix}*
    TARGET_VERSIONS = "target-versions"  # function:${TargetNamePrefix}*:*  (published versions only)
    MEASUREMENT_ALIASES = "measurement-aliases"  # function:${TargetNamePrefix}*:autotuner-*
    RUN_HISTORY_TABLE = "run-history-table"
    STATE_TABLE = "state-table"
    TARGET_LISTS = "target-lists"  # sweep bucket, runs/*
    PAYLOAD_OBJECTS = "payload-objects"  # every object of the PayloadBuckets parameter's buckets (none by default)
    PAYLOAD_PROCESSORS = "payload-processors"  # the PayloadProcessorArns parameter's functions (none by default)
    MAP_RESULTS = "map-results"  # sweep bucket, map-results/*
    RUN_REPORTS = "run-reports"  # sweep bucket, reports/*
    DEFAULT_EVENT_BUS = "default-event-bus"
    TUNER_ROLES = "tuner-roles"  # every role pre-flight simulates, its own and the state machine's included
    TUNER_FUNCTIONS = "tuner-functions"  # the functions the state machine's Tasks invoke
    STATE_MACHINE = "state-machine"  # the tuner's own state machine (Distributed Map children)
    STATE_MACHINE_EXECUTIONS = "state-machine-executions"  # its map runs' child executions
    SHADOW_FUNCTIONS = "shadow-functions"  # function:autotuner-shadow-*  (the tuner's copies of live targets)
    SHADOW_ALIASES = "shadow-aliases"  # function:autotuner-shadow-*:autotuner-*
    SHADOW_CODE = "shadow-code"  # sweep bucket, shadow-code/*
    SHADOW_LOG_GROUPS = "shadow-log-groups"  # log-group:/aws/lambda/autotuner-shadow-*  (what Lambda made for them)
    SHADOW_ROLES = "shadow-roles"  # the roles template parameter ShadowRoleArns lists
    LAYER_VERSIONS = "layer-versions"  # lambda:*:*:layer:*:*  (a target's layers, in any account)
    STATE_MACHINE_RUNS = "state-machine-runs"  # the tuner's own executions: execution:<stack>-tuner:*
    LOG_GROUPS = "log-groups"  # logs:...:log-group:*  (a target may log to any group its LoggingConfig names)
    ANY = "*"  # actions that accept no narrower resource


@dataclass(frozen=True)
class Grant:
    """Actions a role is allowed on one kind of resource, and why."""

    actions: tuple[str, ...]
    resource: Resource
    why: str
    tag_scoped: bool = False  # Condition aws:ResourceTag/autotune when the deployment is tag-scoped
    # How pre-flight covers it: True = simulated before the run; otherwise the reason it is not.
    preflight: bool | str = True
    # How the permission matrix exercises it: True = a scenario fails or degrades without it;
    # otherwise why revoking it cannot be observed in the embedded AWS (and AWS documents it).
    observable: bool | str = True
    # iam:PassRole's condition iam:PassedToService (the only condition besides the tag scope).
    passed_to: str | None = None


@dataclass(frozen=True)
class Principal:
    """A role of the stack: who assumes it, where pre-flight finds its ARN, what it may do."""

    logical_id: str  # the template's function (or state machine) logical id
    # The environment variable that carries its role ARN to pre-flight; None for a role with no grant.
    role_setting: str | None
    steps: tuple[str, ...]  # the ASL Task states it runs (empty for the state machine itself)
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def actions(self) -> set[str]:
        """Every action the role is granted."""
        return {action for grant in self.grants for action in grant.actions}


_SELECTION_BEFORE_PREFLIGHT = "a selector is resolved before pre-flight; a denial fails the run there"
_PREFLIGHT_ITSELF = "pre-flight's own call: a denial fails pre-flight with PermissionDeniedError"
_PAYLOAD_BUCKETS_ONLY = (
    "granted only when the PayloadBuckets parameter names buckets, which the matrix's deployment does not; "
    "tests/statemachine/test_payload_runs.py runs S3 payloads with and without it"
)
_PAYLOAD_PROCESSORS_ONLY = (
    "granted only when the PayloadProcessorArns parameter names functions, which the matrix's deployment does not; "
    "tests/statemachine/test_payload_runs.py runs processors with and without it"
)
_KNOWN_AT_DISCOVERY = (
    "needed only for a target with layers or a VPC, which discovery reads after pre-flight; a denial "
    "fails that target's CreateFunction before its shadow exists"
)
_DISTRIBUTED_MAP_INTERNAL = (
    "made by Step Functions inside a Distributed Map (multipart result upload, child executions); "
    "AWS documents it for the map run's role and the embedded interpreter does not make the call"
)

PRINCIPALS: tuple[Principal, ...] = (
    Principal(
        "ValidatePermissionsFunction",
        "VALIDATE_ROLE_ARN",
        ("ValidatePermissions",),
        (
            Grant(("s3:PutObject",), Resource.TARGET_LISTS, "stores the run's target list"),
            Grant(
                ("s3:GetObject",),
                Resource.PAYLOAD_OBJECTS,
                "HeadObject on each S3 payload the input names: it exists, may be read, fits 6 MB",
                observable=_PAYLOAD_BUCKETS_ONLY,
            ),
            Grant(
                ("lambda:GetFunction",),
                Resource.TARGET_FUNCTIONS,
                "the run budget reads each target's memory and timeout before anything is created",
            ),
            Grant(
                ("lambda:GetFunction",),
                Resource.PAYLOAD_PROCESSORS,
                "the run budget reads each processor's memory and timeout: they run beside every target invocation",
                observable=_PAYLOAD_PROCESSORS_ONLY,
            ),
            Grant(
                ("cloudwatch:GetMetricData",),
                Resource.ANY,
                "the run budget reads the targets' recent Duration in one call; it accepts only *",
            ),
            Grant(
                ("tag:GetResources", "lambda:ListFunctions"),
                Resource.ANY,
                "fleet sweeps select targets by tag and list functions; both accept only *",
                preflight=_SELECTION_BEFORE_PREFLIGHT,
            ),
            Grant(
                ("iam:SimulatePrincipalPolicy",),
                Resource.TUNER_ROLES,
                "pre-flight simulates every role the run depends on",
                preflight=_PREFLIGHT_ITSELF,
            ),
        ),
    ),
    Principal(
        "DiscoverResourcesFunction",
        "DISCOVER_ROLE_ARN",
        ("DiscoverResources",),
        (
            Grant(
                ("lambda:GetFunction",),
                Resource.TARGET_FUNCTIONS,
                "reads each target's configuration",
            ),
            Grant(
                ("lambda:ListTags",),
                Resource.TARGET_FUNCTIONS,
                "GetFunction returns Tags only to callers allowed lambda:ListTags; discovery decides on tags",
            ),
            Grant(
                ("lambda:GetFunctionUrlConfig", "lambda:GetPolicy", "lambda:ListAliases"),
                Resource.TARGET_FUNCTIONS,
                "before measuring: an alias on $LATEST, or a function URL or resource-policy grant on $LATEST "
                "or on such an alias, means live traffic",
            ),
            Grant(
                ("lambda:ListEventSourceMappings", "cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData"),
                Resource.ANY,
                "before measuring: event source mappings and invocations that ran $LATEST; these accept only *",
            ),
            Grant(
                ("logs:StartQuery",),
                Resource.LOG_GROUPS,
                "telemetry mode: a Logs Insights query of the REPORT lines in the target's log group",
                preflight="the log group is named by the target's LoggingConfig, read at discovery after pre-flight",
            ),
            Grant(
                ("logs:GetQueryResults",),
                Resource.ANY,
                "telemetry mode: the query's results (GetMetricData above reads the metrics); accepts only *",
                preflight="read only in telemetry mode, at discovery",
            ),
            Grant(
                ("s3:GetObject",),
                Resource.PAYLOAD_OBJECTS,
                "HeadObject on a target's autotuner:payload object: it exists, may be read, fits 6 MB",
                preflight="the object is named by the target's tag, read at discovery after pre-flight",
                observable=_PAYLOAD_BUCKETS_ONLY,
            ),
        ),
    ),
    Principal(
        "UpdateConfigurationFunction",
        "UPDATE_ROLE_ARN",
        ("UpdateConfiguration",),
        (
            Grant(("lambda:GetFunction",), Resource.TARGET_FUNCTIONS, "reads the revision it guards the update with"),
            Grant(
                (
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:PublishVersion",
                    "lambda:GetAlias",
                    "lambda:CreateAlias",
                    "lambda:UpdateAlias",
                ),
                Resource.TARGET_FUNCTIONS,
                "applies the configuration; with an alias, publishes and points the alias",
                tag_scoped=True,
            ),
            # No GetItem: Powertools reads a conflicting record from the failed conditional put
            # (ReturnValuesOnConditionCheckFailure), which boto3 >= 1.26.164 supports.
            Grant(
                ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
                Resource.STATE_TABLE,
                "Powertools Idempotency: a retried update returns the first result; a failed one is forgotten",
            ),
            Grant(
                ("dynamodb:GetItem",),
                Resource.STATE_TABLE,
                "reads the target's deploy-revert count and hold before applying (targets/drift.py)",
            ),
            Grant(
                ("dynamodb:Query",),
                Resource.RUN_HISTORY_TABLE,
                "reads the target's last APPLIED record: a deploy that put its size back is not fought",
            ),
        ),
    ),
    Principal(
        "PrepareMeasurementFunction",
        "PREPARE_ROLE_ARN",
        ("PrepareMeasurement",),
        (
            Grant(("lambda:GetFunction",), Resource.TARGET_FUNCTIONS, "reads the target before preparing"),
            Grant(
                ("lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:CreateAlias"),
                Resource.TARGET_FUNCTIONS,
                "one version and temporary alias per candidate size",
                tag_scoped=True,
            ),
            Grant(
                ("cloudwatch:GetMetricData",),
                Resource.ANY,
                "right before each change of $LATEST: whether anything ran it since discovery; accepts only *",
            ),
            Grant(
                (
                    "lambda:CreateFunction",
                    "lambda:TagResource",
                    "lambda:GetFunction",
                    "lambda:ListTags",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:PublishVersion",
                    "lambda:CreateAlias",
                    "lambda:PutFunctionConcurrency",
                ),
                Resource.SHADOW_FUNCTIONS,
                "a live target is measured on a tagged shadow copy in the tuner's namespace",
            ),
            Grant(
                ("lambda:GetLayerVersion",),
                Resource.LAYER_VERSIONS,
                "CreateFunction of a shadow of a target with layers: the caller must be able to read them",
                preflight=_KNOWN_AT_DISCOVERY,
            ),
            Grant(
                ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"),
                Resource.ANY,
                "CreateFunction of a shadow of a target in a VPC describes its subnets and groups; accept only *",
                preflight=_KNOWN_AT_DISCOVERY,
            ),
            Grant(
                ("s3:PutObject", "s3:GetObject"),
                Resource.SHADOW_CODE,
                "the shadow's zip is copied through the tuner's bucket; CreateFunction reads it as the caller",
            ),
            Grant(
                ("iam:PassRole",),
                Resource.SHADOW_ROLES,
                "the shadow runs with the target's execution role (iam:PassedToService lambda.amazonaws.com)",
                passed_to="lambda.amazonaws.com",
            ),
        ),
    ),
    Principal(
        "MeasureConfigurationFunction",
        "MEASURE_ROLE_ARN",
        ("MeasureConfigurations",),
        (
            Grant(
                ("lambda:InvokeFunction",),
                Resource.MEASUREMENT_ALIASES,
                "invokes the tuner's own temporary aliases only",
            ),
            Grant(
                ("cloudwatch:GetMetricData",),
                Resource.ANY,
                "after each round: whether anything ran $LATEST while it was moved; accepts only *",
            ),
            Grant(
                ("s3:GetObject",),
                Resource.PAYLOAD_OBJECTS,
                "reads S3 payloads (payloadS3, payloads[...], the autotuner:payload tag), never passed through state",
                observable=_PAYLOAD_BUCKETS_ONLY,
            ),
            Grant(
                ("lambda:InvokeFunction",),
                Resource.PAYLOAD_PROCESSORS,
                "invokes preProcessor / postProcessor around each measured invocation",
                observable=_PAYLOAD_PROCESSORS_ONLY,
            ),
            Grant(
                ("lambda:InvokeFunction",),
                Resource.SHADOW_ALIASES,
                "invokes the temporary aliases of a live target's shadow copy",
            ),
        ),
    ),
    # The measuring loop's pure steps: they read the state document and call no AWS API, so their
    # roles hold nothing beyond logs and tracing and pre-flight has nothing to check for them.
    Principal("PlanMeasurementsFunction", None, ("PlanMeasurements",)),
    Principal("ChooseConfigurationFunction", None, ("ChooseConfiguration",)),
    Principal(
        "CleanupMeasurementFunction",
        "CLEANUP_ROLE_ARN",
        ("CleanupMeasurement", "CleanupAfterFailure"),
        (
            Grant(
                ("lambda:GetFunction", "lambda:ListAliases", "lambda:ListVersionsByFunction"),
                Resource.TARGET_FUNCTIONS,
                "finds the run's temporary aliases and versions",
            ),
            Grant(
                ("lambda:DeleteAlias", "lambda:UpdateFunctionConfiguration"),
                Resource.TARGET_FUNCTIONS,
                "deletes the aliases and restores $LATEST",
                tag_scoped=True,
            ),
            Grant(
                ("lambda:DeleteFunction",),
                Resource.TARGET_VERSIONS,
                "deletes published versions, never a whole function",
                tag_scoped=True,
            ),
            Grant(
                ("lambda:GetFunction", "lambda:ListTags", "lambda:DeleteFunction"),
                Resource.SHADOW_FUNCTIONS,
                "deletes the run's shadow copy, whole, once its name and tags say this run made it",
            ),
            Grant(("s3:DeleteObject",), Resource.SHADOW_CODE, "deletes the shadow's code copy"),
            Grant(("logs:DeleteLogGroup",), Resource.SHADOW_LOG_GROUPS, "deletes the log group Lambda made for it"),
        ),
    ),
    Principal(
        "RecordResultFunction",
        "RECORD_ROLE_ARN",
        ("RecordNoTargets", "RecordTargetResult", "RecordTargetFailure", "RecordRunFailure"),
        (
            Grant(("dynamodb:PutItem",), Resource.RUN_HISTORY_TABLE, "one run record per target per execution"),
            Grant(
                ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
                Resource.STATE_TABLE,
                "settles the breaker and releases the lease",
            ),
            Grant(("events:PutEvents",), Resource.DEFAULT_EVENT_BUS, "one Tuning Completed event per target"),
        ),
    ),
    Principal(
        "SummarizeRunFunction",
        "SUMMARIZE_ROLE_ARN",
        ("Summarize",),
        (
            Grant(("s3:GetObject",), Resource.TARGET_LISTS, "reads the run's target list back"),
            Grant(("dynamodb:BatchGetItem",), Resource.RUN_HISTORY_TABLE, "reads each target's record"),
            Grant(("tag:GetResources",), Resource.ANY, "the orphan sweep finds shadow copies by tag; accepts only *"),
            Grant(
                ("states:DescribeExecution",),
                Resource.STATE_MACHINE_RUNS,
                "the orphan sweep keeps a shadow whose execution is still RUNNING",
            ),
            Grant(
                ("lambda:DeleteFunction",),
                Resource.SHADOW_FUNCTIONS,
                "the orphan sweep deletes shadows crashed runs left",
            ),
            Grant(("s3:DeleteObject",), Resource.SHADOW_CODE, "and their code copies"),
            Grant(("logs:DeleteLogGroup",), Resource.SHADOW_LOG_GROUPS, "and their log groups"),
            Grant(("s3:PutObject",), Resource.RUN_REPORTS, "writes the run's HTML report"),
            Grant(
                ("s3:GetObject",),
                Resource.RUN_REPORTS,
                "the output's presigned link to the report: S3 authorises its GET as this role",
                observable=(
                    "the link is used by a browser, not by a run; tests/statemachine/test_run_report.py "
                    "evaluates this role for the link's GET"
                ),
            ),
        ),
    ),
    Principal(
        "CheckCircuitFunction",
        "GUARD_ROLE_ARN",
        ("CheckCircuit",),
        (
            Grant(
                ("dynamodb:GetItem", "dynamodb:PutItem"),
                Resource.STATE_TABLE,
                "reads the breaker, takes the lease",
            ),
        ),
    ),
    Principal(
        "TunerStateMachine",
        "STATE_MACHINE_ROLE_ARN",
        (),
        (
            Grant(("lambda:InvokeFunction",), Resource.TUNER_FUNCTIONS, "runs each Task"),
            Grant(("s3:GetObject",), Resource.TARGET_LISTS, "the Distributed Map's ItemReader"),
            Grant(("s3:PutObject",), Resource.MAP_RESULTS, "the Distributed Map's ResultWriter"),
            Grant(
                ("s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"),
                Resource.MAP_RESULTS,
                "large result files are uploaded in parts",
                preflight=_DISTRIBUTED_MAP_INTERNAL,
                observable=_DISTRIBUTED_MAP_INTERNAL,
            ),
            Grant(
                ("states:StartExecution",),
                Resource.STATE_MACHINE,
                "the Distributed Map starts one child execution per target",
                preflight=_DISTRIBUTED_MAP_INTERNAL,
                observable=_DISTRIBUTED_MAP_INTERNAL,
            ),
            Grant(
                ("states:DescribeExecution", "states:StopExecution"),
                Resource.STATE_MACHINE_EXECUTIONS,
                "the map run follows and stops its children",
                preflight=_DISTRIBUTED_MAP_INTERNAL,
                observable=_DISTRIBUTED_MAP_INTERNAL,
            ),
            Grant(
                (
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ),
                Resource.ANY,
                "execution logging to CloudWatch Logs (AWS requires these with Resource *)",
                preflight="used by Step Functions when the state machine is created or updated, not by a run",
                observable="used at deployment, not by a run",
            ),
        ),
    ),
)


def principal(logical_id: str) -> Principal:
    """The manifest entry of a function (or the state machine) by its template logical id."""
    for entry in PRINCIPALS:
        if entry.logical_id == logical_id:
            return entry
    raise KeyError(f"{logical_id} is not in the permissions manifest")


def by_role_setting() -> dict[str, Principal]:
    """Manifest entries keyed by the environment variable carrying their role ARN."""
    return {entry.role_setting: entry for entry in PRINCIPALS if entry.role_setting is not None}


def actions_on(role_setting: str, resource: Resource) -> list[str]:
    """The actions the role whose ARN ``role_setting`` carries is granted on ``resource`` and
    pre-flight simulates, in the manifest's order (pre-flight's checks read them from here)."""
    entry = by_role_setting()[role_setting]
    return [
        action
        for grant in entry.grants
        if grant.resource is resource and grant.preflight is True
        for action in grant.actions
    ]


def by_step() -> dict[str, str]:
    """ASL Task state -> the function (logical id) it invokes."""
    return {step: entry.logical_id for entry in PRINCIPALS for step in entry.steps}


def control_plane_actions(step: str) -> list[str]:
    """The Lambda control-plane actions the role running ``step`` is granted, each once, in the
    manifest's order (InvokeFunction is data plane; the run budget counts control-plane calls)."""
    (entry,) = [entry for entry in PRINCIPALS if step in entry.steps]
    found: list[str] = []
    for grant in entry.grants:
        for action in grant.actions:
            if action.startswith("lambda:") and action != "lambda:InvokeFunction" and action not in found:
                found.append(action)
    return found
