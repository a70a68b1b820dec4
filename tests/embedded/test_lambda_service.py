"""The Lambda emulation over moto: versions, SnapStart, capacity providers, tags, as Lambda behaves.

Each test creates a function through the Lambda API (as a user would) and checks what the API
answers. The emulation's clock is a list the test moves forward, so ``Pending`` lasts exactly as
long as a test says.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.lambda_service import Invocation, LambdaEmulation, may_list_tags

REGION = "us-east-1"
ACCOUNT = "123456789012"
CAPACITY = {
    "LambdaManagedInstancesCapacityProviderConfig": {
        "CapacityProviderArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:capacity-provider:fleet-a"
    }
}


TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _zip(text: str = "# code\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", text)
    return buffer.getvalue()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulation(clock: Clock) -> Any:
    with mock_aws():
        emulated = LambdaEmulation(memory_quota_mb=3008, update_seconds=0.0, clock=clock)
        emulated.set_default_invoker(lambda fn, event: Invocation(payload=b'{"ok": true}', error_type=None, log=""))
        emulated.install()
        try:
            yield emulated
        finally:
            emulated.uninstall()


@pytest.fixture
def lam(emulation: LambdaEmulation) -> Any:
    return boto3.client("lambda", region_name=REGION)


def _role() -> str:
    iam = boto3.client("iam", region_name=REGION)
    trust = TRUST
    try:
        return iam.create_role(RoleName="target-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except ClientError:
        return iam.get_role(RoleName="target-role")["Role"]["Arn"]


def _create(lam: Any, name: str = "orders-api", **settings: Any) -> dict[str, Any]:
    return lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=_role(),
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        MemorySize=512,
        Tags={"autotune": "enabled"},
        **settings,
    )


def _error(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


# --- PublishVersion preconditions ------------------------------------------------------------------


def test_publish_version_with_a_stale_revision_id_is_refused_with_412(lam: Any) -> None:
    # Given a function whose RevisionId moved on after it was read
    _create(lam)
    read = lam.get_function(FunctionName="orders-api")["Configuration"]["RevisionId"]
    lam.update_function_configuration(FunctionName="orders-api", MemorySize=1024)
    # When a version is published with the RevisionId read before
    code, status, message = _error(lam.publish_version, FunctionName="orders-api", RevisionId=read)
    # Then Lambda refuses it as a failed precondition, and publishes nothing
    assert (code, status) == ("PreconditionFailedException", 412)
    assert "Revision Id provided does not match the latest Revision Id" in message
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="orders-api")["Versions"]] == ["$LATEST"]
    # And with the current RevisionId it is published, with the memory $LATEST has now
    current = lam.get_function(FunctionName="orders-api")["Configuration"]["RevisionId"]
    published = lam.publish_version(FunctionName="orders-api", RevisionId=current)
    assert (published["Version"], published["MemorySize"]) == ("1", 1024)


def test_publish_version_with_another_code_sha256_is_refused(lam: Any) -> None:
    # Given a function, and the hash of code that is not its code
    created = _create(lam)
    # When a version is published on the condition of the other hash
    code, status, message = _error(lam.publish_version, FunctionName="orders-api", CodeSha256="not-the-hash")
    # Then Lambda refuses it, naming both hashes
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "CodeSHA256 (not-the-hash) is different from current CodeSHA256 in $LATEST" in message
    assert created["CodeSha256"] in message
    # And with the function's own hash it is published
    assert lam.publish_version(FunctionName="orders-api", CodeSha256=created["CodeSha256"])["Version"] == "1"


def test_update_function_code_moves_the_revision_id_on_and_honours_it(lam: Any) -> None:
    # Given a function and its RevisionId
    _create(lam)
    before = lam.get_function(FunctionName="orders-api")["Configuration"]["RevisionId"]
    # When its code is updated
    updated = lam.update_function_code(FunctionName="orders-api", ZipFile=_zip("# new code\n"), RevisionId=before)
    # Then the RevisionId is a new one, in the answer and in GetFunction
    after = lam.get_function(FunctionName="orders-api")["Configuration"]["RevisionId"]
    assert updated["RevisionId"] == after != before
    # And a code update guarded by the old RevisionId is refused
    code, status, _ = _error(
        lam.update_function_code, FunctionName="orders-api", ZipFile=_zip("# third\n"), RevisionId=before
    )
    assert (code, status) == ("PreconditionFailedException", 412)
    # And a publish guarded by the old one too: the code changed since it was read
    assert _error(lam.publish_version, FunctionName="orders-api", RevisionId=before)[0] == "PreconditionFailedException"


def test_publishing_an_unchanged_latest_returns_the_latest_version(lam: Any) -> None:
    # Given a function updated once and published (moto would publish again after that first update)
    _create(lam)
    lam.update_function_configuration(FunctionName="orders-api", MemorySize=768)
    first = lam.publish_version(FunctionName="orders-api")["Version"]
    # When it is published again without any change
    again = lam.publish_version(FunctionName="orders-api")["Version"]
    # Then Lambda returns the same version rather than a new one
    assert again == first == "1"
    # And after a change it publishes a new one
    lam.update_function_configuration(FunctionName="orders-api", Description="changed")
    assert lam.publish_version(FunctionName="orders-api")["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="orders-api")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]


def test_ephemeral_storage_updates_are_kept_and_checked(lam: Any) -> None:
    # Given a function with the default 512 MB of /tmp
    _create(lam)
    # When its ephemeral storage is updated
    lam.update_function_configuration(FunctionName="orders-api", EphemeralStorage={"Size": 2048})
    # Then Lambda reports the new size, and refuses one out of range
    assert lam.get_function_configuration(FunctionName="orders-api")["EphemeralStorage"] == {"Size": 2048}
    code, _, message = _error(
        lam.update_function_configuration, FunctionName="orders-api", EphemeralStorage={"Size": 20_000}
    )
    assert code == "InvalidParameterValueException" and "ephemeralStorage.size" in message


def test_a_logging_config_update_is_answered_and_kept_as_changed(lam: Any) -> None:
    # Given a function that logs JSON at INFO
    _create(lam, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO"})
    # When only its level is updated
    answered = lam.update_function_configuration(
        FunctionName="orders-api", LoggingConfig={"ApplicationLogLevel": "DEBUG"}
    )["LoggingConfig"]
    # Then the update's answer and a later read both show the new level, still in JSON
    read = lam.get_function_configuration(FunctionName="orders-api")["LoggingConfig"]
    assert answered == read
    assert (read["LogFormat"], read["ApplicationLogLevel"]) == ("JSON", "DEBUG")
    # And a switch to Text that would leave a level behind is refused, as Lambda refuses it
    code, _, _ = _error(
        lam.update_function_configuration, FunctionName="orders-api", LoggingConfig={"LogFormat": "Text"}
    )
    assert code == "InvalidParameterValueException"


# --- SnapStart -------------------------------------------------------------------------------------


def test_a_snap_start_version_is_pending_until_its_snapshot_is_made(
    lam: Any, emulation: LambdaEmulation, clock: Clock
) -> None:
    # Given a function with SnapStart on published versions, whose snapshots take 30 s
    created = _create(lam, SnapStart={"ApplyOn": "PublishedVersions"})
    assert created["SnapStart"]["ApplyOn"] == "PublishedVersions"
    emulation.set_snapshot_seconds(ACCOUNT, REGION, "orders-api", 30)
    # When a version is published
    published = lam.publish_version(FunctionName="orders-api")
    # Then the version is Pending, being created, and its invocation is refused as Lambda refuses it
    assert (published["State"], published["StateReasonCode"]) == ("Pending", "Creating")
    config = lam.get_function(FunctionName="orders-api", Qualifier=published["Version"])["Configuration"]
    assert config["State"] == "Pending"
    code, status, message = _error(lam.invoke, FunctionName="orders-api", Qualifier=published["Version"])
    assert (code, status) == ("ResourceConflictException", 409)
    assert message == (
        "The operation cannot be performed at this time. The function is currently in the following state: Pending"
    )
    assert emulation.refused_invocations == [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api:1"]
    # And $LATEST itself is Active and invocable
    assert lam.get_function(FunctionName="orders-api")["Configuration"]["State"] == "Active"
    assert lam.invoke(FunctionName="orders-api")["StatusCode"] == 200
    # When the snapshot time has passed
    clock.now += 30
    # Then the version is Active with SnapStart on, and invocable
    config = lam.get_function_configuration(FunctionName="orders-api", Qualifier=published["Version"])
    assert config["State"] == "Active"
    assert config["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert lam.invoke(FunctionName="orders-api", Qualifier=published["Version"])["StatusCode"] == 200


def test_without_snap_start_a_published_version_is_active_at_once(lam: Any, emulation: LambdaEmulation) -> None:
    # Given a function without SnapStart (snapshot seconds set, but SnapStart is off)
    _create(lam)
    emulation.set_snapshot_seconds(ACCOUNT, REGION, "orders-api", 30)
    # When a version is published
    published = lam.publish_version(FunctionName="orders-api")
    # Then it is Active and invocable at once
    assert published["State"] == "Active"
    assert published["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert lam.invoke(FunctionName="orders-api", Qualifier=published["Version"])["StatusCode"] == 200


def test_an_unknown_snap_start_setting_is_refused(lam: Any) -> None:
    # When a function is created with SnapStart ApplyOn that Lambda does not know
    code, _, message = _error(
        lam.create_function,
        FunctionName="orders-api",
        Runtime="python3.13",
        Role=_role(),
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        SnapStart={"ApplyOn": "Always"},
    )
    # Then Lambda refuses it, naming the field and the allowed values
    assert code == "InvalidParameterValueException"
    assert "snapStart.applyOn" in message and "PublishedVersions" in message


# --- Lambda Managed Instances ---------------------------------------------------------------------------


def test_a_function_on_a_capacity_provider_reports_it(lam: Any) -> None:
    # Given a function created on a capacity provider (Lambda Managed Instances)
    _create(lam, CapacityProviderConfig=CAPACITY)
    # When its configuration is read
    config = lam.get_function(FunctionName="orders-api")["Configuration"]
    # Then it names the capacity provider, as Lambda does; a function without one does not
    assert config["CapacityProviderConfig"] == CAPACITY
    _create(lam, name="billing-api")
    assert "CapacityProviderConfig" not in lam.get_function(FunctionName="billing-api")["Configuration"]


# --- GetFunction's tags ---------------------------------------------------------------------------------


def _role_with(name: str, actions: list[str]) -> str:
    iam = boto3.client("iam", region_name=REGION)
    trust = TRUST
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(policy))
    return arn


def test_get_function_returns_tags_only_to_a_caller_allowed_list_tags(lam: Any, emulation: LambdaEmulation) -> None:
    # Given a tagged function and two roles: one may ListTags, one may only GetFunction
    _create(lam)
    reader = _role_with("reader", ["lambda:GetFunction", "lambda:ListTags"])
    blind = _role_with("blind", ["lambda:GetFunction"])
    caller = {"role": reader}
    emulation.tags_readable = lambda fn: may_list_tags(caller["role"], fn)
    # When the allowed role calls GetFunction
    # Then the answer has the tags
    assert lam.get_function(FunctionName="orders-api")["Tags"] == {"autotune": "enabled"}
    # When the other role calls it
    caller["role"] = blind
    answer = lam.get_function(FunctionName="orders-api")
    # Then the answer has no Tags, and the rest of it is unchanged
    assert "Tags" not in answer
    assert answer["Configuration"]["FunctionName"] == "orders-api"


def test_may_list_tags_reads_the_functions_own_tags_as_resource_tags(lam: Any) -> None:
    # Given a role allowed ListTags only on functions tagged autotune=enabled
    iam = boto3.client("iam", region_name=REGION)
    arn = _role_with("tag-scoped", ["lambda:GetFunction"])
    statement = {
        "Effect": "Allow",
        "Action": "lambda:ListTags",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/autotune": "enabled"}},
    }
    iam.put_role_policy(
        RoleName="tag-scoped",
        PolicyName="tags",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    _create(lam)
    lam.create_function(
        FunctionName="untagged", Runtime="python3.13", Role=_role(), Handler="app.handler", Code={"ZipFile": _zip()}
    )
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[ACCOUNT][REGION]
    # Then the tagged function's tags are readable and the other's are not
    assert may_list_tags(arn, backend.get_function("orders-api"))
    assert not may_list_tags(arn, backend.get_function("untagged"))


# --- listings in pages -----------------------------------------------------------------------------


def test_versions_are_listed_fifty_a_page_and_the_tuner_reads_every_page(lam: Any) -> None:
    from autotuner_core.aws.lambda_control import list_versions

    # Given a function with 54 versions ($LATEST and 53 published)
    _create(lam)
    for number in range(53):
        lam.update_function_configuration(FunctionName="orders-api", Description=f"v{number}")
        lam.publish_version(FunctionName="orders-api")
    # When its versions are listed, asking for more than Lambda gives
    first = lam.list_versions_by_function(FunctionName="orders-api", MaxItems=100)
    # Then one response holds 50 and a NextMarker, and the tuner's listing follows it to all 54
    assert len(first["Versions"]) == 50 and first["NextMarker"]
    requests: list[str] = []
    lam.meta.events.register("before-call.lambda", lambda model, **_: requests.append(model.name))
    versions = list_versions(lam, "orders-api")
    assert [version["Version"] for version in versions] == ["$LATEST", *(str(n) for n in range(1, 54))]
    assert requests == ["ListVersionsByFunction"] * 2


def test_aliases_are_listed_as_many_a_page_as_max_items_asks(lam: Any) -> None:
    # Given a function with three aliases
    _create(lam)
    version = lam.publish_version(FunctionName="orders-api")["Version"]
    for name in ("blue", "green", "live"):
        lam.create_alias(FunctionName="orders-api", Name=name, FunctionVersion=version)
    # When they are listed two at a time, and all at once
    first = lam.list_aliases(FunctionName="orders-api", MaxItems=2)
    second = lam.list_aliases(FunctionName="orders-api", MaxItems=2, Marker=first["NextMarker"])
    every = lam.list_aliases(FunctionName="orders-api")
    # Then the pages hold two and one, the last without a NextMarker, and one listing holds all three
    assert [alias["Name"] for alias in first["Aliases"] + second["Aliases"]] == ["blue", "green", "live"]
    assert "NextMarker" not in second and "NextMarker" not in every
    assert len(every["Aliases"]) == 3
