"""Every request the embedded AWS receives passes here: it is logged, and faults are injected.

moto answers requests from a botocore ``before-send`` hook; wrapping that one entry point
sees every client in the process (handlers, the state machine's interpreter, the runner)
without the handlers knowing.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulator import moto_adapter
from emulator.account import Fault

# botocore service id -> IAM action prefix, for the names people read in call logs.
_PREFIX = {
    "sfn": "states",
    "cloudwatch-logs": "logs",
    "eventbridge": "events",
    "resource-groups-tagging-api": "tag",
}


@dataclass(frozen=True)
class Refusal:
    """The AWS error a request is answered with instead of being served."""

    code: str
    status: int
    message: str


# A gate sees each request (service id, operation, caller) before the faults and may refuse it:
# how the embedded AWS enforces behaviour AWS has and moto lacks (rate limits, IAM on the real call).
Gate = Callable[[str, str, str], Refusal | None]
# An observer sees each request (call, e.g. "lambda:UpdateFunctionConfiguration", and caller) after
# it was served: how the embedded runtime cuts a tuner function off right after a call (runtime.py).
Observer = Callable[[str, str], None]


class Authorizer(Protocol):
    """IAM on the real call (iam_enforcement.py): which principal a request is, and its decision."""

    def principal_of(self, caller: str, request: Any) -> str | None: ...

    def authorize(
        self, service: str, operation: str, principal: str, params: Mapping[str, Any], request: Any
    ) -> tuple[Any, Refusal | None]: ...


_PROTOCOL = {
    "lambda": "rest-json",
    "iam": "query",
    "sts": "query",
    "dynamodb": "json",
    "sfn": "json",
    "cloudwatch-logs": "json",
    "eventbridge": "json",
    "s3": "rest-xml",
    "sqs": "json",
    "resource-groups-tagging-api": "json",
    # botocore offers CloudWatch's CBOR, JSON and query protocols; the clients here speak JSON.
    "cloudwatch": "json",
}
# Calls that change a function: a permanent failure must reach FAILED without any of these.
MUTATING_CALLS = frozenset(
    {
        "lambda:UpdateFunctionConfiguration",
        "lambda:UpdateFunctionCode",
        "lambda:PublishVersion",
        "lambda:CreateAlias",
        "lambda:UpdateAlias",
        "lambda:DeleteAlias",
        "lambda:DeleteFunction",
        "lambda:PutFunctionConcurrency",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:CreateFunction",
        "lambda:DeleteFunctionConcurrency",
        "logs:DeleteLogGroup",
    }
)
# S3 writes that change what runs: the copy of a target's package a shadow is created from. The
# tuner's own bookkeeping (target lists, reports, map results) is not a change to the account.
_MUTATING_OBJECT_PREFIXES = ("shadow-code/",)
_S3_WRITES = frozenset({"s3:PutObject", "s3:DeleteObject"})

_local = threading.local()
# Callers that are not the tuner's functions: the state machine (it invokes the Tasks) and the test or CLI.
_NOT_TUNER = frozenset({"states", "client"})
_DATA_PLANE = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})


@dataclass
class CallRecord:
    call: str  # e.g. "lambda:UpdateFunctionConfiguration"
    caller: str  # the tuner function making it, "states" for the state machine, or "client"
    fault: str | None = None
    # botocore's amz-sdk-invocation-id / amz-sdk-request headers: one id per SDK call, and which
    # attempt of how many allowed this request is (retries of one call share the id).
    invocation: str | None = None
    attempt: int | None = None
    max_attempts: int | None = None
    # IAM on the call: the principal (caller logical id) whose role was evaluated, the
    # (action, resource) pairs authorised, and the one denied. None: not a tuner principal.
    principal: str | None = None
    authorized: tuple[tuple[str, str], ...] = ()
    denied: tuple[str, str] | None = None
    key: str | None = None  # an S3 call's object key

    @property
    def mutating(self) -> bool:
        if self.call in _S3_WRITES:
            return (self.key or "").startswith(_MUTATING_OBJECT_PREFIXES)
        return self.call in MUTATING_CALLS


@dataclass
class _ActiveFault:
    spec: Fault
    remaining: int | None
    rng: random.Random
    injected: int = 0


@dataclass
class RequestLog:
    """What the embedded AWS received and what it refused on purpose."""

    calls: list[CallRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(self) -> dict[str, int]:
        with self.lock:
            return dict(sorted(Counter(record.call for record in self.calls).items()))

    def mutating(self) -> list[CallRecord]:
        with self.lock:
            return [record for record in self.calls if record.mutating]

    def tuner_invocations(self) -> int:
        """Invocations of targets made by the tuner's functions (not the state machine's Tasks, not production)."""
        with self.lock:
            return sum(1 for record in self.calls if record.call == "lambda:Invoke" and record.caller not in _NOT_TUNER)

    def lambda_control_plane_calls(self) -> int:
        """Lambda requests other than invocations that the tuner's functions made (the account's shared bucket)."""
        with self.lock:
            return sum(
                1
                for record in self.calls
                if record.call.startswith("lambda:")
                and record.call.split(":", 1)[1] not in _DATA_PLANE
                and record.caller not in _NOT_TUNER
            )

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()


class Interceptor:
    """Installs itself around moto's request entry point for the life of the embedded AWS."""

    def __init__(self) -> None:
        self.log = RequestLog()
        self._faults: list[_ActiveFault] = []
        self.gates: list[Gate] = []
        self.observers: list[Observer] = []
        self.authorizer: Authorizer | None = None
        self._original: Any = None
        self._undo_api_call: Callable[[], None] | None = None
        self._undo_stubber: Callable[[], None] = lambda: None
        self._original_thread: Any = None
        self._lock = threading.Lock()

    def set_faults(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults = [
                _ActiveFault(spec=fault, remaining=fault.times, rng=random.Random(fault.seed)) for fault in faults
            ]
        for fault in faults:
            if fault.service not in _PROTOCOL:
                raise ValueError(f"fault for service {fault.service!r}: not one of {sorted(_PROTOCOL)}")

    def faults_injected(self) -> int:
        with self._lock:
            return sum(active.injected for active in self._faults)

    def install(self) -> None:
        if self._original is not None:
            return
        stubber = moto_adapter.BotocoreStubber
        self._original = stubber.__call__
        interceptor = self

        def intercepted(stub: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            if not stub.enabled:
                return None
            return interceptor._handle(stub, event_name, request, **kwargs)

        self._undo_stubber = moto_adapter.patch(stubber, "__call__", intercepted)
        # The request moto sees is serialised; IAM needs the call's parameters (FunctionName,
        # Qualifier, TableName, Bucket/Key…) to name the real resource. Capturing them where
        # every SDK call starts works for every client whenever it was created (an event hook
        # reaches only clients created after it is registered; parsing the serialised request
        # back would mean a parser per protocol), and a stack keeps nested calls apart (an
        # Invoke runs a tuner handler in-process, on the same thread).
        base_client = moto_adapter.BaseClient
        original_api_call = base_client._make_api_call

        def api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            stack = _params_stack()
            stack.append(api_params)
            try:
                return original_api_call(client, operation_name, api_params)
            finally:
                stack.pop()

        self._undo_api_call = moto_adapter.patch(base_client, "_make_api_call", api_call)
        # Every thread of a Lambda execution environment holds the function's credentials: a
        # thread a handler starts (a ThreadPoolExecutor's workers) makes its calls as the function.
        self._original_thread = original_start, original_run = threading.Thread.start, threading.Thread.run

        def start(thread: threading.Thread) -> None:
            thread._embedded_caller = current_caller()  # type: ignore[attr-defined]
            original_start(thread)

        def run(thread: threading.Thread) -> None:
            _local.caller = getattr(thread, "_embedded_caller", "client")
            original_run(thread)

        threading.Thread.start = start  # type: ignore[method-assign]
        threading.Thread.run = run  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            self._undo_stubber()
            self._original = None
        if self._undo_api_call is not None:
            self._undo_api_call()
            self._undo_api_call = None
        if self._original_thread is not None:
            threading.Thread.start, threading.Thread.run = self._original_thread  # type: ignore[method-assign]
            self._original_thread = None

    def _handle(self, stub: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        # event_name is "before-send.<service-id>.<Operation>"
        _, service, operation = [*event_name.split(".", 2), "", ""][:3]
        if getattr(_local, "quiet", False):
            return self._original(stub, event_name, request, **kwargs)
        call = f"{_PREFIX.get(service, service)}:{operation}"
        caller = current_caller()
        fault, iam = self._authorize(service, operation, caller, request)
        fault = fault or next((refusal for gate in self.gates if (refusal := gate(service, operation, caller))), None)
        fault = fault or self._matching_fault(service, operation, caller)
        params = _params_stack()
        key = params[-1].get("Key") if params and service == "s3" else None
        record = CallRecord(
            call=call,
            caller=caller,
            fault=fault.code if fault else None,
            **_sdk_attempt(request),
            **iam,
            key=str(key) if key else None,
        )
        with self.log.lock:
            self.log.calls.append(record)
        if fault is not None:
            return _error_response(request.url, service, fault)
        response = self._original(stub, event_name, request, **kwargs)
        for observer in list(self.observers):
            observer(call, caller)
        return response

    def _authorize(self, service: str, operation: str, caller: str, request: Any) -> tuple[Refusal | None, dict]:
        """IAM first, as AWS authorises a request before serving or throttling it."""
        authorizer = self.authorizer
        principal = authorizer.principal_of(caller, request) if authorizer else None
        if authorizer is None or principal is None:
            return None, {}
        stack = _params_stack()
        decision, refusal = authorizer.authorize(service, operation, principal, stack[-1] if stack else {}, request)
        return refusal, {
            "principal": principal,
            "authorized": tuple((item.action, item.resource) for item in decision.requests),
            "denied": (decision.denied.action, decision.denied.resource) if decision.denied else None,
        }

    def _matching_fault(self, service: str, operation: str, caller: str) -> Fault | None:
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if spec.service != service or spec.action not in ("*", operation):
                    continue
                if spec.caller is not None and spec.caller != caller:
                    continue
                if active.remaining is not None:
                    if active.remaining <= 0:
                        continue
                    active.remaining -= 1
                elif active.rng.random() >= (spec.probability or 0):
                    continue
                active.injected += 1
                return spec
        return None


def _sdk_attempt(request: Any) -> dict[str, Any]:
    """Which SDK call a request belongs to and its attempt number ("attempt=2; max=3")."""
    headers = getattr(request, "headers", None) or {}

    def text(name: str) -> str:
        value = headers.get(name) or ""
        return value.decode() if isinstance(value, bytes) else str(value)

    fields = dict(part.strip().split("=", 1) for part in text("amz-sdk-request").split(";") if "=" in part)
    return {
        "invocation": text("amz-sdk-invocation-id") or None,
        "attempt": int(fields["attempt"]) if "attempt" in fields else None,
        "max_attempts": int(fields["max"]) if "max" in fields else None,
    }


def _error_response(url: str, service: str, fault: Fault | Refusal) -> Any:
    protocol = _PROTOCOL[service]
    if protocol == "rest-xml":
        body = (
            f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></Error>"
        )
        headers = {"Content-Type": "application/xml", "x-amz-request-id": str(uuid.uuid4())}
    elif protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": str(uuid.uuid4())}
    else:
        content_type = "application/json" if protocol == "rest-json" else "application/x-amz-json-1.0"
        headers = {"Content-Type": content_type, "x-amzn-ErrorType": fault.code, "x-amzn-RequestId": str(uuid.uuid4())}
        body = json.dumps({"__type": fault.code, "message": fault.message, "Type": "User"})
    return moto_adapter.AWSResponse(url, fault.status, headers, moto_adapter.MockRawResponse(body))


def _params_stack() -> list[dict[str, Any]]:
    stack = getattr(_local, "params", None)
    if stack is None:
        stack = _local.params = []
    return stack


def current_caller() -> str:
    return getattr(_local, "caller", "client")


@contextmanager
def calls_made_by(caller: str) -> Iterator[None]:
    """Attribute the calls this thread makes to ``caller`` (a tuner function's logical id)."""
    previous = getattr(_local, "caller", "client")
    _local.caller = caller
    try:
        yield
    finally:
        _local.caller = previous


@contextmanager
def unlogged() -> Iterator[None]:
    """Calls the embedded AWS makes for its own bookkeeping: not logged, never faulted."""
    previous = getattr(_local, "quiet", False)
    _local.quiet = True
    try:
        yield
    finally:
        _local.quiet = previous
