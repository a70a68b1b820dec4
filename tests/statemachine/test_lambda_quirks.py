"""Lambda behaviour moto lacks, met by the real state machine: SnapStart versions, capacity providers, hidden tags.

Each test runs the real ASL on the embedded AWS against simulated targets, and checks what a user
would: the run's end, what the tuner invoked or changed, and the run record.
"""

from __future__ import annotations

from emulator.account import Fault, FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.interceptor import unlogged

TAGS = {"autotune": "enabled"}
CAPACITY_PROVIDER = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet-a"


def function(name: str, **settings) -> SimulatedFunction:
    return SimulatedFunction(
        name=name,
        memory_size=512,
        timeout=60,
        tags=TAGS,
        profile=FunctionProfile(preset="cpu-bound", cpu_ms=200),
        **settings,
    )


def test_a_snap_start_target_is_measured_only_on_active_versions():
    # Given a function with SnapStart, whose new versions stay Pending for 1.5 s while the snapshot is made
    target = function("snappy", snap_start="PublishedVersions", pending_version_seconds=1.5)
    with EmbeddedAws(SimulatedAccount(functions=[target])) as aws:
        # When a dry run measures three sizes
        report = aws.run({"targets": ["snappy"], "invocations": 5, "memorySizes": [256, 1024], "refine": False})
        refused = list(aws.lambda_emulation.refused_invocations)
        invoked = [record for record in aws.simulator.invocations if record.function_name == "snappy"]
        versions_left = aws.client("lambda").list_versions_by_function(FunctionName="snappy")["Versions"]
    # Then it succeeds with every size measured
    assert report.status == "SUCCEEDED", report.cause
    (outcome,) = report.output["outcomes"]
    assert sorted(row["memorySize"] for row in outcome["configurations"]) == [256, 512, 1024]
    assert all(not row.get("excluded") for row in outcome["configurations"])
    # And Lambda never had to refuse an invocation of a Pending version: the tuner waited for Active
    assert refused == []
    # And every measurement ran on a published version, never on $LATEST: the engine's whole budget
    # over this range, half of Power Tuning's three sizes x 5
    assert len(invoked) == 3 * 5 // 2
    assert all(record.version != "$LATEST" for record in invoked)
    # And the temporary versions are gone
    assert [version["Version"] for version in versions_left] == ["$LATEST"]


def test_an_applied_alias_of_a_snap_start_function_moves_only_to_an_active_version():
    # Given a SnapStart function with a "live" alias, whose new versions are Pending for 1.5 s
    target = function("snappy", snap_start="PublishedVersions", pending_version_seconds=1.5, aliases=["live"])
    with EmbeddedAws(SimulatedAccount(functions=[target])) as aws:
        lam = aws.client("lambda")
        states_when_moved: list[str] = []

        def alias_moved(call: str, caller: str) -> None:
            # What the alias's users meet the moment it moves: the state of the version it points at.
            if call in ("lambda:UpdateAlias", "lambda:CreateAlias") and caller != "client":
                with unlogged():
                    version = lam.get_alias(FunctionName="snappy", Name="live")["FunctionVersion"]
                    states_when_moved.append(
                        lam.get_function_configuration(FunctionName="snappy", Qualifier=version)["State"]
                    )

        aws.interceptor.observers.append(alias_moved)
        # When a run applies 1024 MB and moves the alias
        report = aws.run({"targets": ["snappy"], "memorySize": 1024, "apply": True, "alias": "live"})
        version = lam.get_function_configuration(
            FunctionName="snappy", Qualifier=lam.get_alias(FunctionName="snappy", Name="live")["FunctionVersion"]
        )
    # Then the alias points at a version with the new size
    assert report.status == "SUCCEEDED", report.cause
    assert version["MemorySize"] == 1024
    # And it moved only once that version was Active: its users never met a Pending version
    assert states_when_moved == ["Active"]


def test_a_snap_start_version_still_pending_at_the_deadline_is_a_transient_error():
    # Given a function whose snapshots take far longer than the tuner waits (MaxStatusWaitSeconds 1)
    target = function("glacial", snap_start="PublishedVersions", pending_version_seconds=600)
    account = SimulatedAccount(
        functions=[target], parameters={"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "1"}
    )
    with EmbeddedAws(account) as aws:
        # When a dry run measures it
        report = aws.run({"targets": ["glacial"], "invocations": 5, "memorySizes": [256], "refine": False})
        refused = list(aws.lambda_emulation.refused_invocations)
        config = aws.function_configuration("glacial")
    # Then no Pending version was ever invoked, and the run names the wait that ran out
    assert refused == []
    assert report.status == "FAILED"
    (record,) = report.records
    assert record["errorType"] == "UpdateInProgressError"
    assert "still State=Pending" in record["errorMessage"]
    # And the function is as it was found
    assert config["MemorySize"] == 512


def test_a_function_on_a_capacity_provider_is_refused_before_any_change_and_recorded():
    # Given a function on Lambda Managed Instances
    target = function("fleet-worker", capacity_provider=CAPACITY_PROVIDER)
    with EmbeddedAws(SimulatedAccount(functions=[target])) as aws:
        # When a run would apply a new memory size to it
        report = aws.run({"targets": ["fleet-worker"], "memorySize": 1024, "apply": True})
        config = aws.function_configuration("fleet-worker")
    # Then it fails permanently at discovery, naming the capacity provider and why
    assert (report.status, report.error) == ("FAILED", "InvalidConfigurationError")
    assert report.failed_state == "DiscoverResources"
    assert report.task_attempts.get("DiscoverResources") == 1
    # And nothing was changed
    assert report.mutating_calls == []
    assert config["MemorySize"] == 512
    # And the record says so
    (record,) = report.records
    assert (record["outcome"], record["errorType"]) == ("FAILED", "InvalidConfigurationError")
    assert CAPACITY_PROVIDER in record["errorMessage"]
    assert "not GB-seconds" in record["errorMessage"]


def test_tags_that_get_function_leaves_out_are_read_with_list_tags_not_taken_as_none():
    # Given a tagged function, and GetFunction answering every caller without its Tags (no lambda:ListTags)
    with EmbeddedAws(SimulatedAccount(functions=[function("orders-api")])) as aws:
        aws.lambda_emulation.tags_readable = lambda fn: False
        # When a run applies a memory size (tag-scoped: the tag decides whether it may)
        report = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        # Then discovery read the tags with ListTags and the run applied the size
        assert report.status == "SUCCEEDED", report.cause
        assert report.aws_calls.get("lambda:ListTags", 0) >= 1
        assert aws.function_configuration("orders-api")["MemorySize"] == 1024


def test_tags_hidden_and_list_tags_denied_fail_as_a_missing_permission():
    # Given GetFunction without Tags, and ListTags denied to the discovery function
    denied = Fault(
        service="lambda",
        action="ListTags",
        code="AccessDeniedException",
        status=403,
        message="User is not authorized to perform: lambda:ListTags",
        probability=1.0,
        caller="DiscoverResourcesFunction",
    )
    with EmbeddedAws(SimulatedAccount(functions=[function("orders-api")], faults=[denied])) as aws:
        aws.lambda_emulation.tags_readable = lambda fn: False
        # When a run would apply a memory size
        report = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        config = aws.function_configuration("orders-api")
    # Then it fails as a missing permission naming lambda:ListTags, not as an untagged function
    assert (report.status, report.error) == ("FAILED", "PermissionDeniedError")
    assert report.failed_state == "DiscoverResources"
    (record,) = report.records
    assert "lambda:ListTags" in record["errorMessage"]
    assert "is not tagged" not in record["errorMessage"]
    # And nothing was changed
    assert report.mutating_calls == []
    assert config["MemorySize"] == 512
