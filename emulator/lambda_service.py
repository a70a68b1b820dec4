"""What the embedded AWS adds to moto's Lambda so the tuner meets Lambda's real behaviour.

Over 400 lines on purpose: every patch below is a closure over one ``LambdaEmulation`` (its lock,
and each function's revision, pending and busy state), so they are read and changed together.

moto accepts any memory size, never reports ``LastUpdateStatus: InProgress``, has no
RevisionId on functions and runs function code only in Docker. Here: RevisionId is issued
and enforced (PreconditionFailedException), each update leaves the function InProgress for
a while (ResourceConflictException on a second update or a publish), memory is checked
against 128-10,240 MB and the account's quota, ``Pending`` functions stay pending for a
while, and invocations run in-process (tuner functions) or are simulated (targets).

Versions: PublishVersion honours its ``RevisionId`` (412) and ``CodeSha256`` (400)
preconditions, returns the latest version instead of a new one when ``$LATEST`` has not changed
since it was published, and, with SnapStart on (``SnapStart: {ApplyOn: PublishedVersions}``),
leaves the new version ``Pending`` while its snapshot is made; invoking a ``Pending`` function
or version is refused (409). UpdateFunctionCode moves the RevisionId on, as configuration
updates do. A function on a capacity provider (Lambda Managed Instances) reports its
``CapacityProviderConfig``. GetFunction returns ``Tags`` only when ``tags_readable`` (the hook
IAM enforcement sets) allows the caller ``lambda:ListTags``.

Reserved concurrency: moto stores PutFunctionConcurrency but leaves ``Concurrency`` out of
GetFunction when the reservation is 0 (it tests the value for truth) and never throttles. Here
GetFunction shows a reservation of 0 as Lambda does, and every invocation of such a function,
any version or alias, is throttled: TooManyRequestsException (429), Reason
``ReservedFunctionConcurrentInvocationLimitExceeded``.

Code: GetFunction's ``Code.Location`` is a presigned URL valid for 10 minutes, as Lambda's is; an
HTTPS GET of it (``urllib.request.urlopen``, what a copy of a function does) is answered with the
function's package, and an expired or unknown signature with S3's 403. A function created with
the same code as another (the same package bytes, or the same image URI) behaves as that one:
the same simulated profile and SnapStart snapshot time (it is the same code). A function a tuner
principal creates is ``Pending`` for ``update_seconds`` first, as a new function is in Lambda.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
import urllib.error
import urllib.request
import urllib.response
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from moto.core.utils import iso_8601_datetime_with_nanoseconds

from emulator import lambda_listings
from emulator.interceptor import current_caller
from emulator.lambda_copies import CopyTraits
from emulator.moto_adapter import (
    ConflictException,
    InvalidParameterValueException,
    LambdaBackend,
    LambdaClientError,
    LambdaFunction,
    LambdaResponse,
    PreconditionFailedException,
)

LIST_FUNCTIONS_PAGE = 50  # Lambda's maximum MaxItems for ListFunctions
CODE_LOCATION_SECONDS = 600  # GetFunction's Code.Location is a presigned URL valid for 10 minutes
SNAP_START_APPLY_ON = ("PublishedVersions", "None")


class _ResourceConflict(LambdaClientError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


class _ReservedConcurrencyThrottle(LambdaClientError):
    """What Lambda answers an invocation of a function whose reserved concurrency is used up (0: always)."""

    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": "Rate Exceeded.",
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                "Type": "User",
            }
        )


@dataclass
class Invocation:
    """What an invoker returns: the payload, the error type if it failed, and its log text."""

    payload: bytes
    error_type: str | None
    log: str


Invoker = Callable[[LambdaFunction, Any], Invocation]
# Lambda's ClientContext limit: 3,583 bytes of base64-encoded JSON (Invoke API reference).
MAX_CLIENT_CONTEXT_BYTES = 3583
# The ClientContext of the invocation being served, decoded: what Lambda gives the function as
# context.client_context. Invokers read it with client_context(); set per invocation (thread-safe).
_CLIENT_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("client_context", default=None)


def client_context() -> dict[str, Any] | None:
    """The decoded ClientContext of the invocation an invoker is serving (None without one)."""
    return _CLIENT_CONTEXT.get()


class _InvalidRequestContent(LambdaClientError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


def _decode_client_context(header: str | None) -> dict[str, Any] | None:
    """The X-Amz-Client-Context header as Lambda checks it: at most 3,583 bytes, base64 of a JSON object."""
    if not header:
        return None
    if len(header) > MAX_CLIENT_CONTEXT_BYTES:
        raise _InvalidRequestContent(
            f"Client context must be at most {MAX_CLIENT_CONTEXT_BYTES} bytes of Base64-encoded data"
        )
    try:
        document = json.loads(base64.b64decode(header, validate=True))
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise _InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
    return document


FunctionKey = tuple[str, str, str]  # account, region, function name
# Whether the caller of the request being served may read this function's tags (lambda:ListTags).
TagsReadable = Callable[[LambdaFunction], bool]


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
        self._snap_start: dict[FunctionKey, str] = {}  # ApplyOn, as CreateFunction/UpdateFunctionConfiguration set it
        self._capacity_providers: dict[FunctionKey, dict[str, Any]] = {}  # CapacityProviderConfig
        self._snapshot_seconds: dict[FunctionKey, float] = {}  # how long a SnapStart version stays Pending
        self._version_pending_until: dict[tuple[FunctionKey, str], float] = {}
        self._published: dict[FunctionKey, tuple[str, str]] = {}  # $LATEST's RevisionId at the last publish, version
        # Invocations refused because the function or version was Pending (qualified ARNs): what a
        # test checks to prove the tuner waited for Active.
        self.refused_invocations: list[str] = []
        # None: every caller may read tags. IAM enforcement sets it (see may_list_tags).
        self.tags_readable: TagsReadable | None = None
        self._lock = threading.RLock()
        self._originals: dict[tuple[type, str], Any] = {}
        # Presigned Code.Location signatures -> (package bytes, expiry in wall-clock seconds).
        self._code_locations: dict[str, tuple[bytes, float]] = {}
        self._code_of: dict[FunctionKey, str] = {}  # each function's code identity (package digest or image URI)
        self._previous_opener: Any = None
        self.code_downloads = 0  # packages served from Code.Location
        self.copies = CopyTraits()  # what a copy must reproduce: KMS, image digests, logging, runtime version

    def copy_traits(self, account: str, region: str, name: str, **traits: bool) -> None:
        """The simulated function's KMS key usability, pinned runtime, signing and moved image tag."""
        self.copies.set_traits((account, region, name), **traits)

    # -- configuration of the emulation -------------------------------------------------
    def set_invoker(self, account: str, region: str, name: str, invoker: Invoker) -> None:
        self._invokers[(account, region, name)] = invoker

    def set_default_invoker(self, invoker: Invoker) -> None:
        self._default_invoker = invoker

    def set_snapshot_seconds(self, account: str, region: str, name: str, seconds: float) -> None:
        """How long each version published with SnapStart on stays ``Pending`` (its snapshot being made)."""
        with self._lock:
            self._snapshot_seconds[(account, region, name)] = seconds

    def version_pending(self, fn: LambdaFunction) -> bool:
        """Whether this published version's SnapStart snapshot is still being made."""
        with self._lock:
            return self.clock() < self._version_pending_until.get((_key(fn), str(fn.version)), 0.0)

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

    def is_pending(self, fn: LambdaFunction) -> bool:
        """Whether ``$LATEST`` of this function is still being created."""
        if str(fn.version) != "$LATEST":
            return False
        with self._lock:
            return self.clock() < self._pending_until.get(_key(fn), 0.0)

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
            config = emulation._overlay(fn, config)
            return emulation.copies.overlay(_key(fn), config, tuner_caller=current_caller() != "client")

        def update_function_configuration(
            backend: LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
        ) -> dict[str, Any] | None:
            fn = backend.get_function(function_name, qualifier)
            with emulation._lock:
                emulation._check_update(fn, body)
                emulation.copies.check_update(_key(fn), body)
                emulation.copies.updated(_key(fn), body)
                if "EphemeralStorage" in body:
                    fn.ephemeral_storage = body["EphemeralStorage"]["Size"]
                if "TracingConfig" in body:  # moto keeps only the tracing mode CreateFunction set
                    fn.tracing_config = {"Mode": body["TracingConfig"].get("Mode", "PassThrough")}
                emulation._remember_settings(fn, body)
                result = original_update(backend, function_name, qualifier, body)
                # moto keeps CreateFunction's LastModified; Lambda moves it with every configuration update.
                fn.last_modified = iso_8601_datetime_with_nanoseconds()
                if result:
                    result["LastModified"] = fn.last_modified
                emulation._revisions[_key(fn)] = str(uuid.uuid4())
                emulation._busy_until[_key(fn)] = emulation.clock() + emulation.update_seconds
            return emulation._overlay(fn, result) if result else result

        def publish_version(backend: LambdaBackend, function_name: str, description: str = "") -> Any:
            fn = backend.get_function(function_name)
            with emulation._lock:
                if emulation.is_busy(fn):
                    raise _ResourceConflict(
                        f"The operation cannot be performed at this time. An update is in progress for resource: "
                        f"{fn.function_arn}"
                    )
                return emulation._publish(backend, fn, function_name, description, original_publish)

        original_create = LambdaBackend.create_function

        def create_function(backend: LambdaBackend, spec: dict[str, Any]) -> LambdaFunction:
            emulation._check_settings(spec)
            emulation._check_function_name(str(spec.get("FunctionName", "")))
            emulation.copies.check(spec)
            fn = original_create(backend, spec)
            emulation.copies.created(_key(fn), spec)
            emulation._remember_settings(fn, spec)
            emulation._same_code_same_behaviour(fn)
            if current_caller() != "client":
                # A function a tuner principal creates (a shadow) is Pending for a while, as Lambda's is.
                with emulation._lock:
                    emulation._pending_until[_key(fn)] = emulation.clock() + emulation.update_seconds
            return fn

        original_update_code = LambdaBackend.update_function_code

        def update_function_code(
            backend: LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
        ) -> dict[str, Any] | None:
            # Code updates are updates too: RevisionId guarded and moved on, InProgress for a while.
            fn = backend.get_function(function_name, qualifier)
            with emulation._lock:
                emulation._check_revision(fn, body.get("RevisionId"))
                emulation._check_not_busy(fn)
                result = original_update_code(backend, function_name, qualifier, body)
                emulation._revisions[_key(fn)] = str(uuid.uuid4())
                emulation._busy_until[_key(fn)] = emulation.clock() + emulation.update_seconds
            return emulation._overlay(fn, result) if result else result

        original_publish_response = LambdaResponse.publish_version

        def publish_version_response(response: LambdaResponse) -> Any:
            # moto reads only the Description; Lambda checks the preconditions first, in this order.
            body = response.json_body or {}
            fn = response.backend.get_function(unquote(response.path.split("/")[-2]))
            with emulation._lock:
                emulation._check_revision(fn, body.get("RevisionId"))
                expected = body.get("CodeSha256")
                if expected and expected != fn.code_sha_256:
                    raise InvalidParameterValueException(
                        f"CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST "
                        f"({fn.code_sha_256}). Please try again with the CodeSHA256 in $LATEST."
                    )
                return original_publish_response(response)

        original_get_function_response = LambdaResponse.get_function

        def get_function_response(response: LambdaResponse) -> Any:
            answer = original_get_function_response(response)
            fn = response.backend.get_function(
                unquote(response.path.rsplit("/", 1)[-1]), response._get_param("Qualifier", None)
            )
            reserved = _reserved_concurrency(response.backend, fn)
            document = json.loads(answer)
            location = (document.get("Code") or {}).get("Location")
            if location:
                document["Code"]["Location"] = emulation._presign(location, fn)
            resolved = emulation.copies.resolved_image(_key(fn))
            if resolved and document.get("Code"):
                document["Code"]["ResolvedImageUri"] = resolved  # the digest it runs, whatever the tag names now
            if emulation.tags_readable is not None and not emulation.tags_readable(fn):
                # Lambda returns Tags only to callers allowed lambda:ListTags; the rest is unchanged.
                document.pop("Tags", None)
            if reserved is not None:  # the function's reservation, whichever version is asked for
                document["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
            return json.dumps(document)

        self._patch(LambdaBackend, "create_function", create_function)
        self._patch(LambdaBackend, "update_function_code", update_function_code)
        self._patch(LambdaResponse, "publish_version", publish_version_response)
        self._patch(LambdaResponse, "get_function", get_function_response)

        def invoke(
            backend: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            fn = backend.get_function(function_name, qualifier)
            if _reserved_concurrency(backend, fn) == 0:
                raise _ReservedConcurrencyThrottle()
            if emulation.version_pending(fn) or emulation.is_pending(fn):
                with emulation._lock:
                    latest = str(fn.version) == "$LATEST"
                    emulation.refused_invocations.append(fn.function_arn + (":$LATEST" if latest else ""))
                raise _ResourceConflict(
                    "The operation cannot be performed at this time. The function is currently in the following "
                    "state: Pending"
                )
            invoker = emulation._invokers.get(_key(fn), emulation._default_invoker)
            if invoker is None:
                raise InvalidParameterValueException(f"no behaviour is defined for {fn.function_arn}")
            event = json.loads(body) if body else {}
            # Lambda makes the function's log group when it first logs, and leaves it after the function goes.
            fn.logs_backend.ensure_log_group(emulation.copies.log_group(_key(fn)))
            context = _decode_client_context(headers.get("X-Amz-Client-Context"))
            token = _CLIENT_CONTEXT.set(context)
            try:
                result = invoker(fn, event)
            finally:
                _CLIENT_CONTEXT.reset(token)
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
        lambda_listings.install(self._patch)
        self._patch(LambdaResponse, "invoke", invoke_response)
        self._patch(LambdaFunction, "get_configuration", get_configuration)
        self._patch(LambdaBackend, "update_function_configuration", update_function_configuration)
        self._patch(LambdaBackend, "publish_version", publish_version)
        self._patch(LambdaBackend, "invoke", invoke)
        # Code.Location downloads: urlopen's default opener, with the presigned package URLs answered here.
        self._previous_opener = urllib.request._opener
        urllib.request.install_opener(urllib.request.build_opener(_CodeLocationHandler(self)))

    def uninstall(self) -> None:
        for (owner, name), original in self._originals.items():
            setattr(owner, name, original)
        if self._originals:
            urllib.request.install_opener(self._previous_opener)
        self._originals.clear()

    def _patch(self, owner: type, name: str, replacement: Any) -> None:
        self._originals[(owner, name)] = getattr(owner, name)
        setattr(owner, name, replacement)

    # -- code ----------------------------------------------------------------------------------
    def _presign(self, location: str, fn: LambdaFunction) -> str:
        """A presigned URL for ``fn``'s package, valid for CODE_LOCATION_SECONDS, as GetFunction returns."""
        signature = uuid.uuid4().hex + uuid.uuid4().hex
        with self._lock:
            self._code_locations[signature] = (bytes(getattr(fn, "code_bytes", b"") or b""), time.time())
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        return (
            f"{location}?versionId=null&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}"
            f"&X-Amz-Expires={CODE_LOCATION_SECONDS}&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        )

    def code_at(self, url: str) -> bytes | None:
        """The package a presigned Code.Location serves; None when unknown or expired (S3: 403)."""
        signature = parse_qs(urlparse(url).query).get("X-Amz-Signature", [""])[0]
        with self._lock:
            found = self._code_locations.get(signature)
            if found is None or time.time() - found[1] > CODE_LOCATION_SECONDS:
                return None
            self.code_downloads += 1
            return found[0]

    def _same_code_same_behaviour(self, fn: LambdaFunction) -> None:
        """A function with another one's code (a copy) behaves as that one: it is the same code."""
        # An image is the digest it resolved to: a copy by digest is the same code, a moved tag is not.
        image = self.copies.resolved_image(_key(fn))
        code_bytes = bytes(getattr(fn, "code_bytes", b"") or b"")
        digest = hashlib.sha256(code_bytes).hexdigest() if code_bytes else ""
        identity = f"image:{image}" if image else (f"zip:{digest}" if digest else "")
        if not identity:
            return
        key = _key(fn)
        with self._lock:
            self._code_of[key] = identity
            if key in self._invokers:
                return
            for other, other_identity in self._code_of.items():
                if other != key and other_identity == identity and other in self._invokers:
                    self._invokers[key] = self._invokers[other]
                    if other in self._snapshot_seconds:
                        self._snapshot_seconds[key] = self._snapshot_seconds[other]
                    return

    # -- behaviour -------------------------------------------------------------------------
    def _overlay(self, fn: LambdaFunction, config: dict[str, Any]) -> dict[str, Any]:
        config = dict(config)
        config["EphemeralStorage"] = {"Size": int(fn.ephemeral_storage)}
        with self._lock:
            apply_on = self._snap_start.get(_key(fn), "None")
            capacity = self._capacity_providers.get(_key(fn))
        if capacity is not None:
            config["CapacityProviderConfig"] = capacity
        # Lambda returns a LoggingConfig for every function (moto none), as updated: one store, the copies'.
        config["LoggingConfig"] = self.copies.logging_config(_key(fn))
        if str(fn.version) != "$LATEST":
            config["RevisionId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{fn.function_arn}:{fn.version}"))
            # OptimizationStatus says whether SnapStart is active for this version (API reference).
            snap_on = apply_on == "PublishedVersions" and getattr(fn, "snap_start_version", False)
            config["SnapStart"] = {"ApplyOn": apply_on, "OptimizationStatus": "On" if snap_on else "Off"}
            if self.version_pending(fn):
                config["State"] = "Pending"
                config["StateReason"] = "The function is being created."
                config["StateReasonCode"] = "Creating"
            return config
        config["SnapStart"] = {"ApplyOn": apply_on, "OptimizationStatus": "Off"}
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

    def _check_revision(self, fn: LambdaFunction, expected: str | None) -> None:
        if expected and expected != self.revision(fn):
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
            )

    def _check_not_busy(self, fn: LambdaFunction) -> None:
        now = self.clock()
        if now < self._busy_until.get(_key(fn), 0.0) or now < self._pending_until.get(_key(fn), 0.0):
            raise _ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress for resource: "
                f"{fn.function_arn}"
            )

    def _check_settings(self, body: dict[str, Any]) -> None:
        apply_on = (body.get("SnapStart") or {}).get("ApplyOn")
        if apply_on is not None and apply_on not in SNAP_START_APPLY_ON:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{apply_on}' at 'snapStart.applyOn' failed to satisfy "
                "constraint: Member must satisfy enum value set: [PublishedVersions, None]"
            )

    def _check_function_name(self, name: str) -> None:
        # The API accepts up to 140 characters for ARN forms; a plain name is limited to 64 (moto takes any).
        if not name.startswith("arn:") and len(name) > 64:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
                "Member must have length less than or equal to 64"
            )

    def _remember_settings(self, fn: LambdaFunction, body: dict[str, Any]) -> None:
        """The settings moto drops: SnapStart and the capacity provider (Lambda Managed Instances)."""
        with self._lock:
            if "SnapStart" in body:
                self._snap_start[_key(fn)] = body["SnapStart"].get("ApplyOn") or "None"
            if body.get("CapacityProviderConfig"):
                self._capacity_providers[_key(fn)] = body["CapacityProviderConfig"]

    def _publish(
        self, backend: LambdaBackend, fn: LambdaFunction, function_name: str, description: str, original: Any
    ) -> Any:
        """Publish ``$LATEST``, or return the latest version if ``$LATEST`` has not changed since it was published.

        moto decides "unchanged" from a flag its first publish never clears; the RevisionId is
        what changes with every update of code or configuration.
        """
        key = _key(fn)
        revision = self.revision(fn)
        published = self._published.get(key)
        if published is not None and published[0] == revision:
            listed = backend.list_versions_by_function(fn.function_name)
            versions = {str(version.version): version for version in listed}
            if published[1] in versions:
                return versions[published[1]]
        fn.code_or_config_updated = True  # moto publishes only when it thinks something changed
        version = original(backend, function_name, description)
        self._published[key] = (revision, str(version.version))
        if self._snap_start.get(key) == "PublishedVersions":
            version.snap_start_version = True
            self._version_pending_until[(key, str(version.version))] = self.clock() + self._snapshot_seconds.get(
                key, 0.0
            )
        return version

    def _check_update(self, fn: LambdaFunction, body: dict[str, Any]) -> None:
        """Lambda's checks, in Lambda's order: revision, concurrent update, value ranges."""
        self._check_revision(fn, body.get("RevisionId"))
        self._check_not_busy(fn)
        self._check_settings(body)
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


def _reserved_concurrency(backend: LambdaBackend, fn: LambdaFunction) -> int | None:
    """The function's reserved concurrency (kept on ``$LATEST`` by moto; it applies to every version)."""
    latest = fn if str(fn.version) == "$LATEST" else backend.get_function(fn.function_name)
    reserved = getattr(latest, "reserved_concurrency", None)
    return None if reserved is None else int(reserved)


def may_list_tags(role_arn: str, fn: LambdaFunction) -> bool:
    """Whether ``role_arn``'s policies allow ``lambda:ListTags`` on ``fn``: what GetFunction's Tags depend on.

    Evaluated with the simulation's evaluator and the function's own tags as
    ``aws:ResourceTag/…``, as IAM evaluates the real request. For IAM enforcement to use as
    ``tags_readable``, with the role of the caller of the request being served.
    """
    from emulator import iam_evaluation, iam_simulation
    from emulator.moto_adapter import get_partition, iam_backends

    backend = iam_backends[fn.account_id][get_partition(fn.region)]
    identity, boundary = iam_simulation.principal_policies(backend, role_arn)
    context = {f"aws:ResourceTag/{key}": value for key, value in (fn.tags or {}).items()}
    arn = fn.function_arn if str(fn.version) == "$LATEST" else fn.function_arn.rsplit(":", 1)[0]
    return iam_evaluation.evaluate(identity, "lambda:ListTags", arn, context, permissions_boundary=boundary).allowed


class _CodeLocationHandler(urllib.request.HTTPSHandler):
    """Answers HTTPS GETs of presigned Code.Location URLs (Lambda's package bucket) with the package."""

    def __init__(self, emulation: LambdaEmulation) -> None:
        super().__init__()
        self._emulation = emulation

    def https_open(self, req: urllib.request.Request) -> Any:
        host = urlparse(req.full_url).hostname or ""
        if not (host.startswith("awslambda-") and "-tasks.s3." in host and host.endswith(".amazonaws.com")):
            return super().https_open(req)
        body = self._emulation.code_at(req.full_url)
        headers = Message()
        if body is None:
            headers["Content-Type"] = "application/xml"
            error = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            raise urllib.error.HTTPError(req.full_url, 403, "Forbidden", headers, io.BytesIO(error))
        headers["Content-Type"] = "application/zip"
        headers["Content-Length"] = str(len(body))
        response = urllib.response.addinfourl(io.BytesIO(body), headers, req.full_url, 200)
        response.msg = "OK"  # what http.client's responses carry and urllib's processors read
        return response
