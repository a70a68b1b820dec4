"""IAM on every call: each request a tuner function or the state machine makes is authorised.

The interceptor (interceptor.py) hands every request here with the SDK call's own parameters
(captured per thread as the call starts, see ``interceptor.api_params``). iam_requests.py names
the IAM action and the real resource ARN the service would authorise; this module fills in the
context keys AWS supplies (``aws:ResourceTag/…`` from the resource's actual tags,
``aws:SecureTransport``, ``aws:PrincipalArn``, ``aws:RequestedRegion``, …), evaluates the
caller's role with the same evaluator as ``SimulatePrincipalPolicy`` (iam_evaluation.py), adds the bucket policy for S3
(same-account: either policy may allow, an explicit Deny in either wins), and answers a denial
with the service's own error shape and AWS's message form.

Who is calling: a tuner function's requests carry its logical id (``calls_made_by``); the state
machine's own requests (the Task invocations, a Distributed Map's ItemReader and ResultWriter)
are the ones moto's interpreter signs with its own credentials (``boto_client_for``'s access
key). Anything else is the operator or the embedded AWS itself and is not evaluated.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator import iam_evaluation, iam_policy, iam_requests, iam_simulation
from emulator.iam_requests import AuthorizationRequest
from emulator.interceptor import Refusal

# moto's Step Functions interpreter signs its SDK calls with this access key
# (moto/stepfunctions/parser/asl/utils/boto_client.py): the state machine's own calls.
INTERPRETER_ACCESS_KEY = "ak"
STATE_MACHINE = "TunerStateMachine"  # the caller name of the state machine's own calls

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")

# Error code and HTTP status of an authorisation failure, per botocore service id.
DENIED: dict[str, tuple[str, int]] = {
    "lambda": ("AccessDeniedException", 403),
    "dynamodb": ("AccessDeniedException", 400),
    "s3": ("AccessDenied", 403),
    "sfn": ("AccessDeniedException", 400),
    "iam": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
    "eventbridge": ("AccessDeniedException", 400),
    "cloudwatch-logs": ("AccessDeniedException", 400),
    "resource-groups-tagging-api": ("AccessDeniedException", 400),
    "sqs": ("AccessDenied", 403),
}


@dataclass(frozen=True)
class Decision:
    """What the enforcement decided for one request (kept in the call log)."""

    principal: str  # logical id of the caller whose role was evaluated
    role_arn: str
    requests: tuple[AuthorizationRequest, ...]
    denied: AuthorizationRequest | None = None
    reason: str = ""


class IamEnforcement:
    """Authorises requests against the deployed roles: a callable the interceptor consults."""

    def __init__(
        self,
        *,
        region: str,
        account_id: str,
        partition: str = "aws",
        roles: Mapping[str, str],
        sessions: Mapping[str, str],
    ) -> None:
        """``roles``: caller (logical id) -> role ARN; ``sessions``: caller -> role session name."""
        self.region = region
        self.account_id = account_id
        self.partition = partition
        self.roles = dict(roles)
        self.sessions = dict(sessions)
        self._lock = threading.Lock()

    def principal_of(self, caller: str, request: Any) -> str | None:
        """The caller whose role a request is evaluated for; None: not a tuner principal."""
        if caller in self.roles:
            return caller
        if caller == "client" and _access_key(request) == INTERPRETER_ACCESS_KEY:
            return STATE_MACHINE if STATE_MACHINE in self.roles else None
        return None

    def authorize(
        self, service: str, operation: str, principal: str, params: Mapping[str, Any], request: Any = None
    ) -> tuple[Decision, Refusal | None]:
        """Evaluate every action the request needs; the first denial refuses it.

        ``request`` is botocore's prepared request (its URL and signature give aws:SecureTransport
        and aws:RequestedRegion); None for a call the service makes itself without an SDK request,
        such as a Distributed Map starting its child executions (HTTPS, the stack's region).
        """
        role_arn = self.roles[principal]
        wanted = tuple(self.requests_for(service, operation, params))
        decision = Decision(principal=principal, role_arn=role_arn, requests=wanted)
        if not wanted:
            return decision, None
        identity, boundary = self._policies(role_arn)
        base_context = self._global_context(role_arn, request)
        for item in wanted:
            context = {**base_context, **self._resource_context(item.resource)}
            context.update({key: [value] for key, value in item.context})
            evaluation = iam_evaluation.evaluate(identity, item.action, item.resource, context, boundary)
            resource_effect = self._resource_policy_effect(item, role_arn, context)
            if resource_effect == "Deny":
                reason = "with an explicit deny in a resource-based policy"
            elif evaluation.decision == iam_policy.EXPLICIT_DENY:
                reason = "with an explicit deny in an identity-based policy"
            elif evaluation.allowed or (
                resource_effect == "Allow" and evaluation.allowed_by_permissions_boundary is not False
            ):
                continue
            elif evaluation.allowed_by_permissions_boundary is False:
                reason = f"because no permissions boundary allows the {item.action} action"
            else:
                reason = f"because no identity-based policy allows the {item.action} action"
            refusal = self.refusal(service, principal, item, reason)
            return Decision(principal, role_arn, wanted, item, reason), refusal
        if service == "s3" and operation in ("GetObject", "HeadObject"):
            return self._missing_object_without_list_bucket(principal, role_arn, decision, params, identity, boundary)
        return decision, None

    def _missing_object_without_list_bucket(
        self, principal: str, role_arn: str, decision: Decision, params: Mapping[str, Any], identity: Any, boundary: Any
    ) -> tuple[Decision, Refusal | None]:
        """S3 answers a missing object with 403, not 404, to a caller without s3:ListBucket on the bucket
        (S3 API reference, GetObject / HeadObject "Permissions")."""
        bucket, key = str(params.get("Bucket", "")), str(params.get("Key", ""))
        if _object_exists(bucket, key, self.account_id):
            return decision, None
        item = AuthorizationRequest("s3:ListBucket", f"arn:{self.partition}:s3:::{bucket}")
        if iam_evaluation.evaluate(identity, item.action, item.resource, {}, boundary).allowed:
            return decision, None
        reason = f"because no identity-based policy allows the {item.action} action (the object does not exist)"
        refusal = self.refusal("s3", principal, item, reason)
        return Decision(principal, role_arn, decision.requests, item, reason), refusal

    def refusal(self, service: str, principal: str, item: AuthorizationRequest, reason: str) -> Refusal:
        """The service's own AccessDenied answer, in AWS's message form."""
        code, status = DENIED.get(service, ("AccessDeniedException", 400))
        role_name = self.roles[principal].rsplit("/", 1)[-1]
        session = self.sessions.get(principal, principal)
        user = f"arn:{self.partition}:sts::{self.account_id}:assumed-role/{role_name}/{session}"
        message = f"User: {user} is not authorized to perform: {item.action} on resource: {item.resource} {reason}"
        return Refusal(code, status, message)

    # -- what a request asks for ------------------------------------------------------------------
    def requests_for(self, service: str, operation: str, params: Mapping[str, Any]) -> list[AuthorizationRequest]:
        """The (action, resource) pairs the service authorises for this operation and its parameters."""
        return iam_requests.requests_for(self, service, operation, params)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    def lambda_arn(self, name: str, qualifier: str | None = None) -> str:
        """A function's ARN from any form Lambda accepts: name, name:qualifier, partial or full ARN."""
        parts = name.split(":")
        if name.startswith("arn:"):
            # arn:partition:lambda:region:account:function:name[:qualifier]
            base, rest = ":".join(parts[:7]), parts[7:]
        elif len(parts) >= 3 and parts[1] == "function":  # account:function:name[:qualifier]
            base = f"arn:{self.partition}:lambda:{self.region}:{parts[0]}:function:{parts[2]}"
            rest = parts[3:]
        else:
            base, rest = self.arn("lambda", f"function:{parts[0]}"), parts[1:]
        qualifier = qualifier or (rest[0] if rest else None)
        return f"{base}:{qualifier}" if qualifier else base

    # -- context ---------------------------------------------------------------------------------
    def _global_context(self, role_arn: str, request: Any) -> dict[str, list[str]]:
        url = str(getattr(request, "url", "") or "https://") if request is not None else "https://"
        _, region = _credential_scope(request)
        now = time.time()
        return {
            "aws:SecureTransport": ["true" if url.startswith("https://") else "false"],
            "aws:PrincipalArn": [role_arn],
            "aws:PrincipalAccount": [self.account_id],
            "aws:PrincipalType": ["AssumedRole"],
            "aws:RequestedRegion": [region or self.region],
            "aws:CurrentTime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))],
            "aws:EpochTime": [str(int(now))],
        }

    def _resource_context(self, resource: str) -> dict[str, list[str]]:
        tags = _lambda_tags(resource, self.account_id, self.region) if ":lambda:" in resource else {}
        context = {f"aws:ResourceTag/{key}": [value] for key, value in tags.items()}
        if resource != "*":
            context["aws:ResourceAccount"] = [self.account_id]
        return context

    def _policies(self, role_arn: str) -> tuple[list[Any], Any]:
        from emulator.moto_adapter import iam_backends

        backend = iam_backends[self.account_id][self.partition]
        with self._lock:
            return iam_simulation.principal_policies(backend, role_arn)

    def _resource_policy_effect(
        self, item: AuthorizationRequest, role_arn: str, context: Mapping[str, list[str]]
    ) -> str | None:
        """ "Deny", "Allow" or None: what the bucket policy says about this request."""
        if not item.resource.startswith(f"arn:{self.partition}:s3:::"):
            return None
        bucket = item.resource.split(":::", 1)[1].split("/", 1)[0]
        document = _bucket_policy(bucket, self.account_id)
        if document is None:
            return None
        applicable = [
            {key: value for key, value in statement.items() if key != "Principal"}
            for statement in _statements(document)
            if _principal_matches(statement.get("Principal"), role_arn, self.account_id, self.partition)
        ]
        if not applicable:
            return None
        evaluation = iam_evaluation.evaluate(
            [{"Version": document.get("Version", "2012-10-17"), "Statement": applicable}],
            item.action,
            item.resource,
            context,
        )
        if evaluation.decision == iam_policy.EXPLICIT_DENY:
            return "Deny"
        return "Allow" if evaluation.allowed else None


# -- helpers ----------------------------------------------------------------------------------------


def _header(request: Any, name: str) -> str:
    headers = getattr(request, "headers", None) or {}
    value = headers.get(name) or ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _credential_scope(request: Any) -> tuple[str | None, str | None]:
    match = _CREDENTIAL.search(_header(request, "Authorization"))
    return (match.group(1), match.group(2)) if match else (None, None)


def _access_key(request: Any) -> str | None:
    return _credential_scope(request)[0]


def _lambda_tags(resource: str, account_id: str, region: str) -> dict[str, str]:
    """The tags of the function an ARN names (a version or alias carries its function's tags)."""
    from emulator.moto_adapter import UnknownFunctionException, lambda_backends

    parts = resource.split(":")
    if len(parts) < 7 or parts[5] != "function":
        return {}
    backend = lambda_backends[parts[4] or account_id][parts[3] or region]
    try:
        function = backend.get_function(parts[6])
    except UnknownFunctionException:  # the service answers NotFound after authorising
        return {}
    return dict(getattr(function, "tags", None) or {})


def _object_exists(bucket: str, key: str, account_id: str) -> bool:
    from emulator.moto_adapter import s3_backends

    found = s3_backends[account_id]["aws"].buckets.get(bucket)
    return found is None or key in found.keys  # a missing bucket is S3's own NoSuchBucket, not this case


def _bucket_policy(bucket: str, account_id: str) -> dict[str, Any] | None:
    from emulator.moto_adapter import s3_backends

    backend = s3_backends[account_id]["aws"]
    found = backend.buckets.get(bucket)
    if found is None or not found.policy:
        return None
    text = found.policy.decode() if isinstance(found.policy, bytes) else str(found.policy)
    return json.loads(text)


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def _principal_matches(principal: Any, role_arn: str, account_id: str, partition: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    listed = principal.get("AWS", [])
    listed = listed if isinstance(listed, list) else [listed]
    return any(value in ("*", role_arn, account_id, f"arn:{partition}:iam::{account_id}:root") for value in listed)
