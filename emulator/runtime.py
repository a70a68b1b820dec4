"""Runs the tuner's own functions in-process, the way the Lambda service runs them: side by side.

Each function has a pool of execution environments. An invocation takes a free (warm)
environment of its function, or creates one (a cold start: the handler module is imported
again, into that environment, with that environment's variables); it gives the environment
back when it ends. Two invocations of one function at once therefore run in two environments,
each with its own module-level state, as in Lambda; invocations never wait for each other.

Each invocation gets a context object and its stdout captured as the function's log, and an
unhandled exception is reported as Lambda reports it: ``{"errorType": <exception class name>,
"errorMessage": …}`` — which is what the state machine's Retry and Catch match on.

What is per environment, and what is shared by every environment of this process:

- per environment: the handler module and its globals (``SETTINGS = Settings.from_env()``),
  ``os.environ`` (a thread-routed mapping: the invocation's thread sees its environment's
  variables, and what a handler sets stays in its environment), the log stream, stdout and
  stderr (routed by thread to the invocation's log);
- per environment too: the state Powertools keeps in its process-wide singletons between
  calls — the Logger's keys (request id, correlation id: ``LambdaPowertoolsFormatter.log_format``)
  and the Metrics set (metrics, dimensions, metadata, timestamp of ``AmazonCloudWatchEMFProvider``).
  In Lambda each environment is a process of its own; here one invocation's flush would
  otherwise emit (and clear) a neighbour's metrics and dimensions, and a log line carry a
  neighbour's request id (``PerEnvironmentState``). Each environment starts from the state the
  objects had when constructed at import;
- shared: modules imported by name (the shared package ``autotuner_core``, boto3, pydantic,
  Powertools): Python keeps one ``sys.modules`` per process, so an import is paid once per
  process, not once per environment (the AWS-time model charges each cold start its measured
  imports, aws_time.py). What else they hold does not change what a test can observe: the boto3
  clients cached by ``autotuner_core.aws.clients`` are thread-safe and identical for every tuner
  function (same region, same credentials; the interceptor attributes each request to the
  invoking thread, not to the client); the pacing buckets are per thread
  (``autotuner_core.aws.pacing``), i.e. per invocation; Powertools' cold-start flags are set once
  per process (the handlers do not emit the ColdStart metric; the REPORT line's Init Duration
  is per environment);
- threads a handler starts itself (the measurement's ThreadPoolExecutor) see the process's
  variables, not their environment's; they only use clients created on the handler's thread.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import json
import threading
import time
import traceback
import uuid
import weakref
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from emulator.account import WorkerTimeout
from emulator.aws_time import RequestTimer
from emulator.interceptor import Interceptor, calls_made_by
from emulator.lambda_service import Invocation, client_context
from emulator.stack import DeployedFunction
from emulator.thread_routing import OutputRouting, PerEnvironmentState, ThreadRoutedEnviron
from emulator.worker_timeouts import TIMED_OUT, InvocationTimedOut, WorkerTimeouts


def _peak_memory_mb() -> int:
    """Peak resident memory of this process (the embedded runtime shares one process)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


@dataclass(frozen=True)
class ClientContext:
    """``context.client_context`` of the Python runtime: the invoker's ClientContext, decoded."""

    custom: dict[str, Any] | None = None
    env: dict[str, Any] | None = None
    client: Any = None

    @classmethod
    def from_document(cls, document: dict[str, Any] | None) -> ClientContext | None:
        if document is None:
            return None
        return cls(custom=document.get("custom"), env=document.get("env"), client=document.get("client"))


@dataclass
class LambdaContext:
    """The attributes and method of the Lambda runtime's context object that handlers use."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False)
    client_context: ClientContext | None = None  # the invoker's ClientContext, as the Python runtime gives it

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class InvocationLog:
    function: str
    request_id: str
    text: str
    error_type: str | None
    environment: str = ""  # the execution environment that ran it (its log stream's suffix)
    cold: bool = False  # the invocation created its environment (an INIT phase ran first)
    init_ms: float = 0.0  # in-process time of that INIT (the handler module's import)
    duration_ms: float = 0.0  # the REPORT line's Duration (INIT included here: it ran in the invocation)
    request_ms: float = 0.0  # time inside AWS requests the invocation made (aws_time.RequestTimer)


@dataclass
class ExecutionEnvironment:
    """One execution environment of a function: its variables, and its handler module once loaded."""

    function: DeployedFunction
    id: str
    variables: dict[str, str]
    module: ModuleType | None = None
    invocations: int = 0
    # Its copies of library state (PerEnvironmentState), by object; weak: objects may be short-lived.
    library_state: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)

    @property
    def log_stream_name(self) -> str:
        return f"embedded/[$LATEST]{self.id}"


class InProcessRuntime:
    """Invokes the tuner's functions concurrently, each invocation in an execution environment of its own."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self._free: dict[str, list[ExecutionEnvironment]] = {}
        self._pool_lock = threading.Lock()  # guards the pools and counters only, never an invocation
        self._numbers = itertools.count(1)
        self._running: Counter = Counter()
        self.environments_created: Counter = Counter()  # function -> cold starts so far
        self.peak_concurrency: Counter = Counter()  # function -> most invocations in flight at once
        self.logs: list[InvocationLog] = []
        self.timeouts = WorkerTimeouts()
        self.request_timer = RequestTimer()  # installed into the interceptor by EmbeddedAws
        self.environ = ThreadRoutedEnviron.install()
        PerEnvironmentState.install()
        OutputRouting.install()

    def set_worker_timeouts(
        self, timeouts: list[WorkerTimeout], *, interceptor: Interceptor, time_scale: float
    ) -> None:
        """Arm SimulatedAccount.workerTimeouts (worker_timeouts.py); an empty list disarms."""
        self.timeouts.arm(timeouts, interceptor=interceptor, time_scale=time_scale)

    def invoker(self, function: DeployedFunction):
        """An invoker for the Lambda emulation: runs ``function``'s handler with the event."""

        def invoke(_fn: Any, event: Any) -> Invocation:
            return self.invoke(function, event)

        return invoke

    def invoke(self, function: DeployedFunction, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        buffer = io.StringIO()
        timed_out = False
        environment = self._acquire(function)
        keep = True
        try:
            with (
                self.environ.routed(environment.variables),
                calls_made_by(function.logical_id),
                self.timeouts.watching(function.logical_id, function.timeout) as cut_off_at,
                self.request_timer.measuring() as in_requests,
            ):
                OutputRouting.capture(buffer)
                started = time.monotonic()
                deadline = started + (cut_off_at if cut_off_at is not None else function.timeout)
                cold = environment.module is None
                init_ms = 0.0
                error_type = None
                try:
                    if environment.module is None:
                        init_started = time.monotonic()
                        environment.module = self._load(function, environment)
                        init_ms = (time.monotonic() - init_started) * 1000
                    handler = getattr(environment.module, function.handler.rpartition(".")[2])
                    context = LambdaContext(
                        function_name=function.name,
                        function_version="$LATEST",
                        invoked_function_arn=function.arn,
                        memory_limit_in_mb=function.memory_size,
                        aws_request_id=request_id,
                        log_group_name=f"/aws/lambda/{function.name}",
                        log_stream_name=environment.log_stream_name,
                        deadline=deadline,
                        client_context=ClientContext.from_document(client_context()),
                    )
                    environment.invocations += 1
                    with PerEnvironmentState.scope(environment.library_state):
                        result = handler(event, context)
                    payload = json.dumps(result).encode("utf-8")
                except InvocationTimedOut:
                    # Lambda answers when the timeout strikes, and says so (errorType Sandbox.Timedout).
                    timed_out, error_type = True, TIMED_OUT
                    keep = False  # Lambda resets the environment: the next invocation starts cold
                    message = f"RequestId: {request_id} Error: Task timed out after {function.timeout:.2f} seconds"
                    payload = json.dumps({"errorType": error_type, "errorMessage": message}).encode("utf-8")
                except Exception as error:  # the Lambda runtime reports every unhandled exception
                    error_type = type(error).__name__
                    if environment.module is None:
                        keep = False  # a failed INIT leaves no environment to reuse
                    payload = json.dumps(
                        {
                            "errorMessage": str(error),
                            "errorType": error_type,
                            "requestId": request_id,
                            "stackTrace": traceback.format_tb(error.__traceback__)[-5:],
                        }
                    ).encode("utf-8")
                finally:
                    OutputRouting.capture(None)
                duration_ms = (time.monotonic() - started) * 1000
            if timed_out:  # the environment stays busy until the deadline, as a timed-out one does in Lambda
                time.sleep(max(0.0, deadline - time.monotonic()))
                duration_ms = function.timeout * 1000
        finally:
            self._release(environment, keep=keep)
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, round(duration_ms))} ms\tMemory Size: {function.memory_size} MB\t"
            f"Max Memory Used: {min(function.memory_size, _peak_memory_mb())} MB"
            + (f"\tInit Duration: {init_ms:.2f} ms" if init_ms else "")
        )
        text = buffer.getvalue() + report + "\n"
        log = InvocationLog(
            function=function.logical_id,
            request_id=request_id,
            text=text,
            error_type=error_type,
            environment=environment.id,
            cold=cold,
            init_ms=init_ms,
            duration_ms=duration_ms,
            request_ms=in_requests[0] * 1000,
        )
        with self._pool_lock:
            self.logs.append(log)
        return Invocation(payload=payload, error_type=error_type, log=text)

    def environments(self, function: str) -> int:
        """How many execution environments ``function`` has had (its cold starts)."""
        with self._pool_lock:
            return self.environments_created[function]

    def _acquire(self, function: DeployedFunction) -> ExecutionEnvironment:
        """A free warm environment of ``function``, or a new one (its module is loaded on first use)."""
        with self._pool_lock:
            name = function.logical_id
            self._running[name] += 1
            self.peak_concurrency[name] = max(self.peak_concurrency[name], self._running[name])
            free = self._free.setdefault(name, [])
            if free:
                return free.pop()
            self.environments_created[name] += 1
            number = next(self._numbers)
        environment_id = f"{number:04d}{uuid.uuid4().hex[:12]}"
        return ExecutionEnvironment(function=function, id=environment_id, variables=self._variables(function))

    def _release(self, environment: ExecutionEnvironment, *, keep: bool) -> None:
        with self._pool_lock:
            name = environment.function.logical_id
            self._running[name] -= 1
            if keep and environment.module is not None:
                self._free.setdefault(name, []).append(environment)

    def _load(self, function: DeployedFunction, environment: ExecutionEnvironment) -> ModuleType:
        """Import the handler module into ``environment``: a module object of its own, run once."""
        module_file, _, _ = function.handler.rpartition(".")
        path = function.code_dir / f"{module_file.replace('.', '/')}.py"
        spec = importlib.util.spec_from_file_location(
            f"embedded_{function.logical_id}_{environment.id}_{module_file}", path
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load handler module {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def _variables(self, function: DeployedFunction) -> dict[str, str]:
        """An environment's variables: the process's (credentials), the runtime's, the function's."""
        runtime_env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        }
        return {**self.environ.base, **runtime_env, **function.environment}
