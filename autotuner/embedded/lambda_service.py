"""What the embedded AWS adds to moto's Lambda so the tuner meets Lambda's real behaviour.

moto accepts any memory size, never reports ``LastUpdateStatus: InProgress``, has no
RevisionId on functions and runs function code only in Docker. Here: RevisionId is issued
and enforced (PreconditionFailedException), each update leaves the function InProgress for
a while (ResourceConflictException on a second update or a publish), memory is checked
against 128-10,240 MB and the account's quota, ``Pending`` functions stay pending for a
while, and invocations run in-process (tuner functions) or are simulated (targets).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moto.awslambda.exceptions import (
    ConflictException,
    InvalidParameterValueException,
    LambdaClientError,
    PreconditionFailedException,
)
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse

LIST_FUNCTIONS_PAGE = 50  # Lambda's maximum MaxItems for ListFunctions


class _ResourceConflict(LambdaClientError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


@dataclass
class Invocation:
    """What an invoker returns: the payload, the error type if it failed, and its log text."""

    payload: bytes
    error_type: str | None
    log: str


Invoker = Callable[[LambdaFunction, Any], Invocation]
FunctionKey = tuple[str, str, str]  # account, region, function name


def _key(fn: LambdaFunction) -> FunctionKey:
    return (fn.account_id, fn.region, fn.function_name)


class LambdaEmulation:
    """Patches moto's Lambda model while installed; state is per function."""

    def __init__(self, *, memory_quota_mb: int, update_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.memory_quota_mb = memory_quota_mb
        self.update_seconds = update_seconds
        self.clock = clock
        self._revisions: dict[FunctionKey, str] = {}
        self._busy_until: dict[FunctionKey, float] = {}
        self._pending_until: dict[FunctionKey, float] = {}
        self._invokers: dict[FunctionKey, Invoker] = {}
        self._default_invoker: Invoker | None = None
        self._lock = threading.RLock()
        self._originals: dict[tuple[type, str], Any] = {}

    # -- configuration of the emulation -------------------------------------------------
    def set_invoker(self, account: str, region: str, name: str, invoker: Invoker) -> None:
        self._invokers[(account, region, name)] = invoker

    def set_default_invoker(self, invoker: Invoker) -> None:
        self._default_invoker = invoker

    def set_pending(self, account: str, region: str, name: str, seconds: float) -> None:
        with self._lock:
            self._pending_until[(account, region, name)] = self.clock() + seconds

    def set_busy(self, account: str, region: str, name: str, seconds: float) -> None:
        """Someone else's update is in progress: InProgress, and updates conflict, for ``seconds``."""
        with self._lock:
            key = (account, region, name)
            self._busy_until[key] = max(self._busy_until.get(key, 0.0), self.clock() + seconds)

    def revision(self, fn: LambdaFunction) -> str:
        with self._lock:
            return self._revisions.setdefault(_key(fn), str(uuid.uuid4()))

    def is_busy(self, fn: LambdaFunction) -> bool:
        with self._lock:
            return self.clock() < self._busy_until.get(_key(fn), 0.0)

    # -- patches -------------------------------------------------------------------------
    def install(self) -> None:
        if self._originals:
            return
        emulation = self
        original_get_configuration = LambdaFunction.get_configuration
        original_update = LambdaBackend.update_function_configuration
        original_publish = LambdaBackend.publish_version

        def get_configuration(fn: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
            config = original_get_configuration(fn, on_create)
            return emulation._overlay(fn, config)

        def update_function_configuration(
            backend: LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
        ) -> dict[str, Any] | None:
            fn = backend.get_function(function_name, qualifier)
            with emulation._lock:
                emulation._check_update(fn, body)
                if "EphemeralStorage" in body:
                    fn.ephemeral_storage = body["EphemeralStorage"]["Size"]
                result = original_update(backend, function_name, qualifier, body)
                emulation._revisions[_key(fn)] = str(uuid.uuid4())
                emulation._busy_until[_key(fn)] = emulation.clock() + emulation.update_seconds
            return emulation._overlay(fn, result) if result else result

        def publish_version(backend: LambdaBackend, function_name: str, description: str = "") -> Any:
            fn = backend.get_function(function_name)
            if emulation.is_busy(fn):
                raise _ResourceConflict(
                    f"The operation cannot be performed at this time. An update is in progress for resource: "
                    f"{fn.function_arn}"
                )
            return original_publish(backend, function_name, description)

        def invoke(
            backend: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            fn = backend.get_function(function_name, qualifier)
            invoker = emulation._invokers.get(_key(fn), emulation._default_invoker)
            if invoker is None:
                raise InvalidParameterValueException(f"no behaviour is defined for {fn.function_arn}")
            event = json.loads(body) if body else {}
            result = invoker(fn, event)
            if result.error_type is not None:
                response_headers["x-amz-function-error"] = "Unhandled"
            if headers.get("X-Amz-Log-Type") == "Tail":
                tail = result.log.encode("utf-8")[-4096:]
                response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
            response_headers["x-amz-executed-version"] = str(fn.version)
            response_headers["Content-Length"] = str(len(result.payload))
            return result.payload

        original_invoke_response = LambdaResponse.invoke

        def invoke_response(response: LambdaResponse) -> Any:
            # moto reads the query parameter as "qualifier"; botocore sends "Qualifier", so an
            # invoke of a version or alias would silently run $LATEST.
            if "Qualifier" in response.querystring:
                response.querystring.setdefault("qualifier", response.querystring["Qualifier"])
            return original_invoke_response(response)

        def by_function_name(method_name: str) -> Any:
            original = getattr(LambdaBackend, method_name)

            # moto keys these listings by bare name and does not URL-decode the path, so a
            # function ARN (what the tuner passes, as AWS allows) would find nothing.
            def listing(backend: LambdaBackend, function_name: str) -> Any:
                name = backend.get_function(unquote(function_name)).function_name
                return original(backend, name)

            return listing

        original_list_functions = LambdaResponse.list_functions

        def list_functions(response: LambdaResponse) -> str:
            # moto returns every function at once; Lambda returns pages of at most 50 (MaxItems)
            # and a NextMarker, and a sweep has to follow it.
            everything = json.loads(original_list_functions(response))["Functions"]
            start = int(response.querystring.get("Marker", ["0"])[0] or 0)
            size = max(1, min(LIST_FUNCTIONS_PAGE, int(response.querystring.get("MaxItems", [LIST_FUNCTIONS_PAGE])[0])))
            page: dict[str, Any] = {"Functions": everything[start : start + size]}
            if start + size < len(everything):
                page["NextMarker"] = str(start + size)
            return json.dumps(page)

        self._patch(LambdaResponse, "list_functions", list_functions)
        original_create_alias = LambdaBackend.create_alias

        def create_alias(backend: LambdaBackend, *args: Any, **kwargs: Any) -> Any:
            # Lambda answers an existing alias name with ResourceConflictException (409); moto says ConflictException.
            try:
                return original_create_alias(backend, *args, **kwargs)
            except ConflictException as error:
                raise _ResourceConflict(error.message) from None

        self._patch(LambdaBackend, "create_alias", create_alias)
        for method_name in ("list_aliases", "list_versions_by_function"):
            self._patch(LambdaBackend, method_name, by_function_name(method_name))
        self._patch(LambdaResponse, "invoke", invoke_response)
        self._patch(LambdaFunction, "get_configuration", get_configuration)
        self._patch(LambdaBackend, "update_function_configuration", update_function_configuration)
        self._patch(LambdaBackend, "publish_version", publish_version)
        self._patch(LambdaBackend, "invoke", invoke)

    def uninstall(self) -> None:
        for (owner, name), original in self._originals.items():
            setattr(owner, name, original)
        self._originals.clear()

    def _patch(self, owner: type, name: str, replacement: Any) -> None:
        self._originals[(owner, name)] = getattr(owner, name)
        setattr(owner, name, replacement)

    # -- behaviour -------------------------------------------------------------------------
    def _overlay(self, fn: LambdaFunction, config: dict[str, Any]) -> dict[str, Any]:
        config = dict(config)
        config["EphemeralStorage"] = {"Size": int(fn.ephemeral_storage)}
        if str(fn.version) != "$LATEST":
            config["RevisionId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{fn.function_arn}:{fn.version}"))
            return config
        config["RevisionId"] = self.revision(fn)
        now = self.clock()
        with self._lock:
            pending = now < self._pending_until.get(_key(fn), 0.0)
            busy = now < self._busy_until.get(_key(fn), 0.0)
        if pending:
            config["State"] = "Pending"
            config["StateReason"] = "The function is being created."
            config["StateReasonCode"] = "Creating"
            config.pop("LastUpdateStatus", None)
        elif busy:
            config["LastUpdateStatus"] = "InProgress"
            config["LastUpdateStatusReason"] = "The function is being updated."
            config["LastUpdateStatusReasonCode"] = "Updating"
        return config

    def _check_update(self, fn: LambdaFunction, body: dict[str, Any]) -> None:
        """Lambda's checks, in Lambda's order: revision, concurrent update, value ranges."""
        expected = body.get("RevisionId")
        if expected and expected != self.revision(fn):
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        now = self.clock()
        if now < self._busy_until.get(_key(fn), 0.0) or now < self._pending_until.get(_key(fn), 0.0):
            raise _ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress for resource: "
                f"{fn.function_arn}"
            )
        memory = body.get("MemorySize")
        if memory is not None:
            if memory < 128:
                raise InvalidParameterValueException(
                    f"1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy constraint: "
                    "Member must have value greater than or equal to 128"
                )
            if memory > min(self.memory_quota_mb, 10_240):
                raise InvalidParameterValueException(
                    f"1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy constraint: "
                    f"Member must have value less than or equal to {min(self.memory_quota_mb, 10_240)}"
                )
        storage = (body.get("EphemeralStorage") or {}).get("Size")
        if storage is not None and not 512 <= storage <= 10_240:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{storage}' at 'ephemeralStorage.size' failed to satisfy "
                "constraint: Member must have value between 512 and 10240"
            )
        timeout = body.get("Timeout")
        if timeout is not None and not 1 <= timeout <= 900:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy constraint: "
                "Member must have value between 1 and 900"
            )
