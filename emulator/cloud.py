"""The embedded AWS: moto plus what it lacks, with the tuner's stack deployed from template.yaml.

    with EmbeddedAws(account) as aws:
        report = aws.run(execution_input)

Handlers run unchanged: the environment changes, the code does not.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
from moto import mock_aws

from emulator import (
    aws_time,
    bucket_policies,
    cloudwatch_exact,
    deploys,
    dynamodb_atomic,
    iam_simulation,
    lambda_task_errors,
    map_runs,
    revocations,
    sdk_cache,
    sfn_limits,
    simulated_targets,
)
from emulator.account import RevokedPermission, SimulatedAccount
from emulator.iam_enforcement import STATE_MACHINE, IamEnforcement
from emulator.interceptor import Interceptor, current_caller, unlogged
from emulator.lambda_service import LambdaEmulation, may_list_tags
from emulator.limits import LambdaRateLimits
from emulator.live_sources import LiveSources
from emulator.live_traffic import LiveTraffic, applying_sizes
from emulator.logs_insights import LogsInsights
from emulator.run_report import RunReport
from emulator.runtime import InProcessRuntime
from emulator.simulated_function import LambdaSimulator
from emulator.stack import DeployedStack, deploy_stack, register_stack
from run_history import RunHistories, execution_history, execution_records, run_histories

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT_ROOT / "template.yaml"
_TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
# One embedded AWS at a time: moto's backends and the patches are process-wide.
_ACTIVE = threading.Lock()


class EmbeddedAws:
    """Starts moto, installs the emulation, deploys the stack and the simulated account."""

    def __init__(self, account: SimulatedAccount | None = None, *, template: Path = TEMPLATE) -> None:
        self.account = account or SimulatedAccount()
        self.template = template
        self.interceptor = Interceptor()
        self.lambda_emulation = LambdaEmulation(
            memory_quota_mb=self.account.memory_quota_mb, update_seconds=self.account.update_seconds
        )
        self.runtime = InProcessRuntime(self.account.region, self.account.account_id)
        self.simulator = LambdaSimulator()  # the simulated targets' invocations
        self.live_sources = LiveSources(self.client)
        self.stack: DeployedStack | None = None
        self.retry_wait_seconds = 0.0
        self.limits = LambdaRateLimits(time_scale=self.account.retry_time_scale)
        self.logs_insights = LogsInsights()  # StartQuery/GetQueryResults as strict as AWS (logs_insights.py)
        self.clock = aws_time.EmbeddedClock(self.account.retry_time_scale)  # the waits, for the AWS-time estimate
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._patched_sleeps: list[tuple[Any, Any]] = []
        self._undo: list[Any] = []  # restores what _start patched in moto
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.map_runs = map_runs.MapRuns()  # Distributed Map children: executions of their own
        self.executions_started = 0  # numbers the executions ``start`` names
        self.runs_finished = 0  # executions ``run`` waited for: the account's redeploys follow them

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> EmbeddedAws:
        if not _ACTIVE.acquire(timeout=600):
            raise RuntimeError("another embedded AWS is still running in this process")
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self) -> None:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "embedded",
            "AWS_SECRET_ACCESS_KEY": "embedded",
            "AWS_SESSION_TOKEN": "embedded",
            "AWS_DEFAULT_REGION": self.account.region,
            "AWS_REGION": self.account.region,
            "MOTO_ACCOUNT_ID": self.account.account_id,
        }.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        # moto's interpreter logs every caught task error at ERROR; the execution history has them.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        self._undo.append(sdk_cache.install())
        self._undo.append(dynamodb_atomic.install())
        self._undo.append(cloudwatch_exact.install())
        self._undo.append(self.logs_insights.install())
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        iam_simulation.install()
        self.interceptor.install()
        self.lambda_emulation.install()
        self.live_sources.install()
        self._scale_waits()
        self._undo.extend(map_runs.install(self.map_runs))
        self._undo.append(sfn_limits.install())
        with unlogged():
            self.stack = deploy_stack(
                self.template,
                stack_name=self.account.stack_name,
                parameters=dict(self.account.parameters),
                region=self.account.region,
                account_id=self.account.account_id,
            )
            register_stack(self.client("cloudformation"), self.stack, self.account.stack_name)
            for function in self.stack.functions.values():
                self.lambda_emulation.set_invoker(
                    self.account.account_id, self.account.region, function.name, self.runtime.invoker(function)
                )
            simulated_targets.create_targets(self)
            simulated_targets.create_payload_objects(self)
            self._revoke_permissions()
            self._undo.append(bucket_policies.skip_object_level_check())
            bucket_policies.put_whole(self.stack, self.client("s3"), self.account.region, self.account.account_id)
        self._enforce_iam()
        self.interceptor.set_faults(list(self.account.faults))
        self.runtime.request_timer.install(self.interceptor)
        self.runtime.set_worker_timeouts(
            list(self.account.worker_timeouts), interceptor=self.interceptor, time_scale=self.account.retry_time_scale
        )
        if self.account.rate_limits:
            self.interceptor.gates.append(self.limits)

    def _enforce_iam(self) -> None:
        """From here on every call of a tuner function or the state machine is authorised."""
        assert self.stack is not None
        self.interceptor.authorizer = IamEnforcement(
            region=self.account.region,
            account_id=self.account.account_id,
            partition=self.stack.state_machine_arn.split(":")[1],
            roles=self.principal_roles(),
            # Lambda names a function's session after the function; Step Functions uses an id.
            sessions={
                **{logical_id: function.name for logical_id, function in self.stack.functions.items()},
                STATE_MACHINE: uuid.uuid5(uuid.NAMESPACE_URL, self.stack.state_machine_arn).hex[:32],
            },
        )
        self._undo.append(lambda: setattr(self.interceptor, "authorizer", None))
        # GetFunction returns Tags only to a caller its role allows lambda:ListTags; the operator's
        # own clients (caller "client") are not a tuner principal and are not evaluated.
        roles = self.principal_roles()

        def tags_readable(fn: Any) -> bool:
            role = roles.get(current_caller())
            return role is None or may_list_tags(role, fn)

        self.lambda_emulation.tags_readable = tags_readable
        self._undo.append(lambda: setattr(self.lambda_emulation, "tags_readable", None))
        self._undo.append(lambda_task_errors.install())

    def principal_roles(self) -> dict[str, str]:
        """Each principal of the stack (function logical ids, the state machine) -> its role ARN."""
        assert self.stack is not None
        roles = {logical_id: function.role_arn for logical_id, function in self.stack.functions.items()}
        role_name = self.stack.resources.get(f"{STATE_MACHINE}Role")
        if role_name:
            partition = self.stack.state_machine_arn.split(":")[1]
            roles[STATE_MACHINE] = f"arn:{partition}:iam::{self.account.account_id}:role/{role_name}"
        return roles

    def _stop(self) -> None:
        for module, original in self._patched_sleeps:
            module.time = original
        self._patched_sleeps.clear()
        while self._undo:
            self._undo.pop()()
        self._clients.clear()
        self.live_sources.uninstall()
        self.lambda_emulation.uninstall()
        self.interceptor.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if _ACTIVE.locked():
            _ACTIVE.release()

    def _scale_waits(self) -> None:
        """The embedded AWS's clock runs at ``retry_time_scale`` speed wherever the tuner waits.

        State-machine retry waits, SDK backoff and the workers' pacing (autotuner_core.aws.pacing)
        are real ``time.sleep`` calls; scaled, a run keeps its shape (attempt counts, ordering,
        calls per second of AWS time) while a test takes milliseconds. The pacing also reads
        the scaled clock, as do the rate limits (limits.py), so pacing and limits agree.
        The unscaled total of the waits is kept in ``retry_wait_seconds``; ``clock`` (aws_time.py)
        counts them, the pacing's too, for the AWS-time estimate.
        """
        from autotuner_core.aws import pacing
        from emulator.moto_adapter import botocore_endpoint as endpoint
        from emulator.moto_adapter import retrier_decl

        lock = threading.Lock()

        def scaled_sleep(seconds: float) -> None:
            with lock:
                self.retry_wait_seconds += seconds
            self.clock.sleep(seconds, "retry")

        def shim(**replaced: Any) -> SimpleNamespace:
            names = {name: getattr(time, name) for name in dir(time) if not name.startswith("_")}
            return SimpleNamespace(**{**names, **replaced})

        clocks = {
            retrier_decl: shim(sleep=scaled_sleep),
            endpoint: shim(sleep=scaled_sleep),
            pacing: shim(sleep=self._pacing_sleep, monotonic=self.clock.now),
        }
        for module, clock in clocks.items():
            self._patched_sleeps.append((module, module.time))
            module.time = clock

    def _pacing_sleep(self, seconds: float) -> None:
        # A worker waiting for its share of the rate limit: a scaled wait like every other.
        self.clock.sleep(seconds, "pacing")

    # -- the simulated account ------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """The operator's client for ``service`` (one per service: botocore clients are thread-safe,
        and creating one costs tens of milliseconds)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=self.account.region)
            return self._clients[service]

    def _revoke_permissions(self) -> None:
        """Take actions out of a tuner role's inline policies, as if the template had never granted them."""
        revocations.apply_revocations(self.client("iam"), self.principal_roles(), self.account.revoke)

    @contextmanager
    def revoked(self, principal: str, actions: list[str]) -> Iterator[None]:
        """Revoke ``actions`` from a running stack's role for the body, then put the policies back.

        The permission matrix (benchmarks/permissions.py) revokes each grant in turn this way,
        on one deployed stack; errors are those of the account file's ``revoke``.
        """
        revoking = [RevokedPermission(function=principal, actions=actions)]
        originals = revocations.apply_revocations(self.client("iam"), self.principal_roles(), revoking)
        try:
            yield
        finally:
            revocations.restore(self.client("iam"), originals)

    # -- running executions ------------------------------------------------------------------------
    def start(self, execution_input: Any, name: str | None = None) -> str:
        """Start one execution; without ``name``, the account's next ``run-NNNN``.

        Numbered, not random: the name is part of the execution ARN, the records' keys and the
        names of what the run creates (its aliases, its shadows), so the same account and input
        give the same run.
        """
        assert self.stack is not None
        with unlogged():
            if name is None:
                self.executions_started += 1
                name = f"run-{self.executions_started:04d}"
            return self.client("stepfunctions").start_execution(
                stateMachineArn=self.stack.state_machine_arn, name=name, input=json.dumps(execution_input)
            )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 300) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        pause = 0.005
        with unlogged():
            while True:
                described = sfn.describe_execution(executionArn=execution_arn)
                if described["status"] in _TERMINAL:
                    return described
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{execution_arn} still {described['status']} after {timeout} s")
                time.sleep(pause)
                # Back off: each poll is a whole API call that holds the GIL the execution needs.
                pause = min(pause * 1.5, 0.1)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """The execution's own history (a Distributed Map's children have theirs: ``histories``)."""
        with unlogged():
            return execution_history(self.client("stepfunctions"), execution_arn)

    def histories(self, execution_arn: str) -> RunHistories:
        """The execution's history and its map runs' children's, read as an operator would."""
        with unlogged():
            return run_histories(self.client("stepfunctions"), execution_arn)

    def records(self, execution_arn: str) -> list[dict[str, Any]]:
        """The run records this execution wrote, read as the operator reads them (autotuner runs)."""
        assert self.stack is not None
        with unlogged():
            return execution_records(self.client("dynamodb"), self.stack.outputs["RunHistoryTableName"], execution_arn)

    def function_configuration(self, name: str) -> dict[str, Any]:
        with unlogged():
            return self.client("lambda").get_function_configuration(FunctionName=name)

    def run(self, execution_input: Any, name: str | None = None, *, timeout: float = 300) -> RunReport:
        """Start one execution, wait for its end, and report what happened."""
        self.interceptor.log.reset()
        self.retry_wait_seconds = 0.0
        live = LiveTraffic(
            list(self.account.functions), client=lambda: self.client("lambda"), aws_second=self.account.retry_time_scale
        )
        original = self._memory_sizes(live)
        self.clock.reset()
        first_invocation = len(self.runtime.logs)
        started = time.monotonic()
        # A scheduled caller's call that falls due during the run follows the tuner's own requests.
        self.interceptor.observers.append(live.observe)
        try:
            with live:
                execution_arn = self.start(execution_input, name)
                described = self.wait(execution_arn, timeout)
        finally:
            self.interceptor.observers.remove(live.observe)
        seconds = time.monotonic() - started
        self.runs_finished += 1
        deploys.after_run(self, self.runs_finished)  # a deploy after this run puts a declared size back
        histories = self.histories(execution_arn)
        records = self.records(execution_arn)
        # Every transition is billed and takes its latency, a child's as the parent's.
        events = [event for history in (histories.parent, *histories.children.values()) for event in history]
        estimate = aws_time.estimate_embedded_run(self, events, self.runtime.logs[first_invocation:])
        return RunReport(
            execution_arn=execution_arn,
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            output=json.loads(described["output"]) if described.get("output") else None,
            seconds=seconds,
            retry_wait_seconds=self.retry_wait_seconds,
            histories=histories,
            aws_calls=self.interceptor.log.counts(),
            tuner_invocations=self.interceptor.log.tuner_invocations(),
            lambda_control_plane_calls=self.interceptor.log.lambda_control_plane_calls(),
            mutating_calls=[record.call for record in self.interceptor.log.mutating()],
            records=records,
            live_invocations=live.by_memory_size(),
            live_invocations_at_candidate_sizes=live.at_candidate_sizes(
                original, self._memory_sizes(live), applying_sizes(records)
            ),
            aws_time=estimate,
        )

    def _memory_sizes(self, live: LiveTraffic) -> dict[str, int]:
        """The memory size each function's live traffic runs at now: its qualifier's (an alias's version
        keeps the size it was published with, whatever ``$LATEST`` has since), else ``$LATEST``'s."""
        sizes = {}
        with unlogged():
            for function in live.watched:
                spec = function.live_traffic
                kwargs = {"Qualifier": spec.qualifier} if spec is not None and spec.qualifier else {}
                configuration = self.client("lambda").get_function_configuration(FunctionName=function.name, **kwargs)
                sizes[function.name] = configuration["MemorySize"]
        return sizes
