"""Runs the tuner's own functions in-process, the way the Lambda Python runtime runs them.

The handler module is imported once per function (its cold start) with the function's
environment set; each invocation gets a context object, its stdout captured as the
function's log, and an unhandled exception is reported as Lambda reports it:
``{"errorType": <exception class name>, "errorMessage": …}`` — which is what the state
machine's Retry and Catch match on.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from autotuner.embedded.account import WorkerTimeout
from autotuner.embedded.interceptor import Interceptor, calls_made_by
from autotuner.embedded.lambda_service import Invocation
from autotuner.embedded.stack import DeployedFunction
from autotuner.embedded.worker_timeouts import TIMED_OUT, InvocationTimedOut, WorkerTimeouts


class _ThreadRoutedStream(io.TextIOBase):
    """sys.stdout while the embedded AWS runs: a function's output goes to its invocation log."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        if buffer is not None:
            return buffer.write(text)
        return self.fallback.write(text)

    def flush(self) -> None:
        if getattr(self.local, "buffer", None) is None:
            self.fallback.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")


class _Routers:
    """sys.stdout and sys.stderr replaced once; Lambda sends both to the function's log."""

    stdout: _ThreadRoutedStream | None = None
    stderr: _ThreadRoutedStream | None = None

    @classmethod
    def install(cls) -> None:
        if cls.stdout is None or sys.stdout is not cls.stdout:
            cls.stdout = _ThreadRoutedStream(sys.stdout)
            sys.stdout = cls.stdout
        if cls.stderr is None or sys.stderr is not cls.stderr:
            cls.stderr = _ThreadRoutedStream(sys.stderr)
            sys.stderr = cls.stderr

    @classmethod
    def capture(cls, buffer: io.StringIO | None) -> None:
        cls.install()
        assert cls.stdout is not None and cls.stderr is not None
        cls.stdout.local.buffer = buffer
        cls.stderr.local.buffer = buffer


def _peak_memory_mb() -> int:
    """Peak resident memory of this process (the embedded runtime shares one process)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


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

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class InvocationLog:
    function: str
    request_id: str
    text: str
    error_type: str | None


class InProcessRuntime:
    """Invokes the tuner's functions; one at a time, as their environments share this process."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        self._local = threading.local()  # the invocation this thread runs, for paused()
        self.logs: list[InvocationLog] = []
        self.timeouts = WorkerTimeouts()
        _Routers.install()

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
        with (
            self._lock,
            self._environment(function),
            calls_made_by(function.logical_id),
            self.timeouts.watching(function.logical_id, function.timeout) as cut_off_at,
        ):
            self._local.function = function
            _Routers.capture(buffer)
            started = time.monotonic()
            deadline = started + (cut_off_at if cut_off_at is not None else function.timeout)
            init_ms = 0.0
            error_type = None
            try:
                if function.logical_id not in self._modules:
                    init_started = time.monotonic()
                    self._modules[function.logical_id] = self._load(function)
                    init_ms = (time.monotonic() - init_started) * 1000
                module = self._modules[function.logical_id]
                handler_name = function.handler.rpartition(".")[2]
                handler = getattr(module, handler_name)
                context = LambdaContext(
                    function_name=function.name,
                    function_version="$LATEST",
                    invoked_function_arn=function.arn,
                    memory_limit_in_mb=function.memory_size,
                    aws_request_id=request_id,
                    log_group_name=f"/aws/lambda/{function.name}",
                    log_stream_name=f"embedded/[$LATEST]{request_id[:8]}",
                    deadline=deadline,
                )
                result = handler(event, context)
                payload = json.dumps(result).encode("utf-8")
            except InvocationTimedOut:
                # Lambda answers when the timeout strikes, and says so (errorType Sandbox.Timedout).
                timed_out, error_type = True, TIMED_OUT
                self._modules.pop(function.logical_id, None)  # Lambda resets the environment: a cold start next
                message = f"RequestId: {request_id} Error: Task timed out after {function.timeout:.2f} seconds"
                payload = json.dumps({"errorType": error_type, "errorMessage": message}).encode("utf-8")
            except Exception as error:  # the Lambda runtime reports every unhandled exception
                error_type = type(error).__name__
                payload = json.dumps(
                    {
                        "errorMessage": str(error),
                        "errorType": error_type,
                        "requestId": request_id,
                        "stackTrace": traceback.format_tb(error.__traceback__)[-5:],
                    }
                ).encode("utf-8")
            finally:
                _Routers.capture(None)
                self._local.function = None
            duration_ms = (time.monotonic() - started) * 1000
        if timed_out:  # outside the lock: other functions run meanwhile, as they would in Lambda
            time.sleep(max(0.0, deadline - time.monotonic()))
            duration_ms = function.timeout * 1000
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, round(duration_ms))} ms\tMemory Size: {function.memory_size} MB\t"
            f"Max Memory Used: {min(function.memory_size, _peak_memory_mb())} MB"
            + (f"\tInit Duration: {init_ms:.2f} ms" if init_ms else "")
        )
        text = buffer.getvalue() + report + "\n"
        self.logs.append(
            InvocationLog(function=function.logical_id, request_id=request_id, text=text, error_type=error_type)
        )
        return Invocation(payload=payload, error_type=error_type, log=text)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Let other invocations run while this thread's invocation waits (a pacing wait).

        Invocations take turns because they share os.environ; a worker waiting for its share
        of the rate limit is idle in AWS, so it gives up its turn and, back, puts its
        function's environment in place again.
        """
        function = getattr(self._local, "function", None)
        if function is None:
            yield
            return
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            os.environ.update(self._environment(function).values)

    def _load(self, function: DeployedFunction) -> ModuleType:
        module_file, _, _ = function.handler.rpartition(".")
        path = function.code_dir / f"{module_file.replace('.', '/')}.py"
        spec = importlib.util.spec_from_file_location(f"embedded_{function.logical_id}_{module_file}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load handler module {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def _environment(self, function: DeployedFunction):
        runtime_env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        }
        return _patched_environ({**runtime_env, **function.environment})


class _patched_environ:
    """Set variables for the duration of an invocation; the last one to end puts back what was there.

    Invocations can interleave (``InProcessRuntime.paused``), so each does not restore what it
    found, which could be another invocation's values: the variables are restored once no
    invocation is running.
    """

    _active = 0
    _saved: dict[str, str | None] = {}
    _guard = threading.Lock()

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def __enter__(self) -> None:
        cls = type(self)
        with cls._guard:
            cls._active += 1
            for key, value in self.values.items():
                cls._saved.setdefault(key, os.environ.get(key))
                os.environ[key] = value

    def __exit__(self, *exc: object) -> None:
        cls = type(self)
        with cls._guard:
            cls._active -= 1
            if cls._active:
                return
            for key, value in cls._saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            cls._saved = {}
