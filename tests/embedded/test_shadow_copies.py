"""Measuring a live function on a shadow copy: production never runs at a candidate size, nothing is left behind."""

from __future__ import annotations

import math

import pytest

from autotuner_core.decision.engine import MEMORY_HEADROOM
from emulator.account import FunctionProfile, LiveTrafficSpec, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.interceptor import unlogged

TAGS = {"autotune": "enabled"}
TARGET_ROLE = "arn:aws:iam::123456789012:role/simulated-target-role"
FAST = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"}
SHADOWS_ALLOWED = {**FAST, "ShadowRoleArns": TARGET_ROLE}
MEASURE = {"targets": ["orders-api"], "memorySizes": [512, 1024, 2048], "invocations": 5}


def live_function(name: str = "orders-api", **fields) -> SimulatedFunction:
    defaults = {"profile": FunctionProfile(preset="io-bound", seed=3)}
    return SimulatedFunction(
        name=name,
        memory_size=1024,
        timeout=30,
        architecture="arm64",
        tags=TAGS,
        live_traffic=LiveTrafficSpec(requests_per_second=5),
        **{**defaults, **fields},
    )


def shadows(aws: EmbeddedAws) -> list[str]:
    with unlogged():
        pages = aws.client("lambda").get_paginator("list_functions").paginate()
        return [fn["FunctionName"] for page in pages for fn in page["Functions"] if "shadow" in fn["FunctionName"]]


def shadow_log_groups(aws: EmbeddedAws) -> list[str]:
    with unlogged():
        found = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/autotuner-shadow-")
        return [group["logGroupName"] for group in found["logGroups"]]


def test_a_live_target_is_measured_on_a_shadow_and_production_never_runs_at_a_candidate_size():
    # Given a function whose users invoke it unqualified, and a deployment that allows shadows of its role
    account = SimulatedAccount(parameters=SHADOWS_ALLOWED, functions=[live_function()])
    with EmbeddedAws(account) as aws:
        # When a dry run measures it
        report = aws.run(MEASURE)
        left = shadows(aws)
        target = aws.function_configuration("orders-api")
        downloads = aws.lambda_emulation.code_downloads
        writes = [record.call for record in aws.interceptor.log.mutating()]
        groups = shadow_log_groups(aws)
    # Then the run succeeds with a recommendation measured at the candidate sizes
    assert report.status == "SUCCEEDED", report.cause
    (record,) = report.records
    assert record["outcome"] == "RECOMMENDED"
    assert record["liveTraffic"]["measuredOn"] == "shadow"
    assert {row["memorySize"] for row in record["configurations"]} >= {512, 1024, 2048}
    # And production kept being served, only ever at the function's own size
    assert sum(report.live_invocations["orders-api"].values()) > 0
    assert set(report.live_invocations["orders-api"]) == {1024}
    assert report.live_invocations_at_candidate_sizes == 0
    # And the target itself was never changed: no update, version or alias on it
    target_changes = [call for call in report.mutating_calls if "function:orders-api" in str(call)]
    assert target_changes == []
    assert target["MemorySize"] == 1024
    # And the shadow's code was copied from the target's presigned Code.Location, and the shadow is gone
    assert downloads == 1
    assert left == []
    # And every write was counted: the code copy, CreateFunction, and the deletes of the copy, the log group, the shadow
    assert report.mutating_calls == writes
    assert {"lambda:CreateFunction", "s3:PutObject", "s3:DeleteObject", "logs:DeleteLogGroup"} <= set(writes)
    assert "lambda:DeleteFunction" in writes
    # And the log group Lambda made for the shadow went with it
    assert groups == []


def test_the_shadow_is_a_copy_of_the_target_and_has_no_trigger():
    # Given a live target with a layer, a VPC, environment variables, tracing and a larger ephemeral storage
    vpc = {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]}
    function = live_function(ephemeral_storage=1024, layers=["shared-libs"], vpc=vpc)
    account = SimulatedAccount(parameters=SHADOWS_ALLOWED, functions=[function])
    with EmbeddedAws(account) as aws:
        lam = aws.client("lambda")
        with unlogged():
            settings = {"Environment": {"Variables": {"TABLE": "orders"}}, "TracingConfig": {"Mode": "Active"}}
            lam.update_function_configuration(FunctionName="orders-api", **settings)
            lam.get_waiter("function_updated_v2").wait(FunctionName="orders-api", WaiterConfig={"Delay": 0.05})
        seen: list[dict] = []
        original = aws.lambda_emulation._same_code_same_behaviour

        def spy(fn):  # the shadow's configuration as Lambda created it
            seen.append(fn.get_configuration())
            return original(fn)

        aws.lambda_emulation._same_code_same_behaviour = spy
        report = aws.run(MEASURE)
    # Then the shadow had the target's runtime, role, environment, architecture, timeout, storage and tracing
    assert report.status == "SUCCEEDED", report.cause
    (shadow,) = [config for config in seen if config["FunctionName"].startswith("autotuner-shadow-")]
    assert len(shadow["FunctionName"]) <= 64
    assert shadow["Role"] == TARGET_ROLE
    assert shadow["Runtime"] == "python3.13"
    assert shadow["Environment"]["Variables"] == {"TABLE": "orders"}
    assert shadow["Architectures"] == ["arm64"]
    assert shadow["Timeout"] == 30
    assert shadow["EphemeralStorage"] == {"Size": 1024}
    assert shadow["TracingConfig"] == {"Mode": "Active"}
    assert [layer["Arn"].split(":")[6] for layer in shadow["Layers"]] == ["shared-libs"]
    assert shadow["VpcConfig"]["SubnetIds"] == ["subnet-0a1b2c3d"]
    assert shadow["VpcConfig"]["SecurityGroupIds"] == ["sg-0a1b2c3d"]
    # And nothing but the tuner could invoke it: no URL, no mapping, no resource policy was created for it
    created = [call for call in report.mutating_calls if "autotuner-shadow-" in str(call)]
    assert not [call for call in created if any(word in str(call) for word in ("Url", "EventSource", "Permission"))]


def test_without_shadows_allowed_a_live_target_fails_with_live_traffic_error_saying_how_to_allow_them():
    # Given the default deployment (ShadowRoleArns empty)
    with EmbeddedAws(SimulatedAccount(functions=[live_function()])) as aws:
        # When a run would measure the live target
        report = aws.run(MEASURE)
    # Then it is refused at discovery, before any change, naming how to allow shadows
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    assert "ShadowRoleArns" in report.cause and "measureOnLive" in report.cause
    assert report.mutating_calls == []
    assert report.live_invocations_at_candidate_sizes == 0


def test_a_role_outside_shadow_role_arns_is_refused_too():
    # Given a deployment that allows shadows only for another role
    parameters = {**FAST, "ShadowRoleArns": "arn:aws:iam::123456789012:role/payments-*"}
    with EmbeddedAws(SimulatedAccount(parameters=parameters, functions=[live_function()])) as aws:
        report = aws.run(MEASURE)
    # Then the live target is refused, naming its role, with no change made
    assert report.error == "LiveTrafficError"
    assert "simulated-target-role is not among the deployment's ShadowRoleArns" in report.cause
    assert report.mutating_calls == []


def test_create_function_with_a_role_the_tuner_may_not_pass_is_access_denied_as_in_aws():
    # Given a deployment allowed to pass only payments-* roles, and a shadow attempted for another role
    parameters = {**FAST, "ShadowRoleArns": "arn:aws:iam::123456789012:role/payments-*"}
    with EmbeddedAws(SimulatedAccount(parameters=parameters, functions=[live_function()])) as aws:
        from botocore.exceptions import ClientError

        from emulator.interceptor import calls_made_by

        lam = aws.client("lambda")
        # When the prepare step's role calls CreateFunction with the target's role
        with calls_made_by("PrepareMeasurementFunction"), pytest.raises(ClientError) as denied:
            lam.create_function(
                FunctionName="autotuner-shadow-test",
                Role=TARGET_ROLE,
                Runtime="python3.13",
                Handler="app.handler",
                Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            )
    # Then Lambda refuses it as AWS does: AccessDenied naming iam:PassRole on that role
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"iam:PassRole on resource: {TARGET_ROLE}" in denied.value.response["Error"]["Message"]


def test_a_crashed_runs_shadow_is_removed_by_its_own_summary_and_a_users_function_never_is():
    # Given a deployment that allows shadows, and a run whose clean-ups are all cut off (a crash)
    from emulator.account import WorkerTimeout

    account = SimulatedAccount(
        parameters=SHADOWS_ALLOWED,
        functions=[
            live_function(),
            # A user's function in the tuner's namespace, even tagged like a shadow: not the tuner's.
            SimulatedFunction(
                name="autotuner-shadow-users-own",
                tags={"autotuner:shadow-of": "arn:aws:lambda:us-east-1:123456789012:function:orders-api"},
            ),
        ],
        worker_timeouts=[
            WorkerTimeout(function="CleanupMeasurementFunction", after="lambda:GetFunction", times=50),
        ],
    )
    with EmbeddedAws(account) as aws:
        crashed = aws.run(MEASURE)
        left = shadows(aws)
        groups = shadow_log_groups(aws)
    # Then the run failed, but its summary's sweep deleted its shadow and the shadow's log group, and only those
    assert crashed.status == "FAILED"
    assert left == ["autotuner-shadow-users-own"]
    assert groups == []


def test_a_container_image_target_is_shadowed_from_the_digest_its_image_uri_resolved_to():
    # Given a live function packaged as a container image
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-api:v7"
    account = SimulatedAccount(parameters=SHADOWS_ALLOWED, functions=[live_function(image_uri=image)])
    with EmbeddedAws(account) as aws:
        seen: list[dict] = []
        original = aws.lambda_emulation._same_code_same_behaviour

        def spy(fn):
            seen.append(fn.get_code())
            return original(fn)

        aws.lambda_emulation._same_code_same_behaviour = spy
        # When a dry run measures it
        report = aws.run(MEASURE)
        downloads = aws.lambda_emulation.code_downloads
        left = shadows(aws)
        with unlogged():
            resolved = aws.client("lambda").get_function(FunctionName="orders-api")["Code"]["ResolvedImageUri"]
    # Then the shadow ran the same image, by its digest (no package was downloaded), and the run measured it
    assert report.status == "SUCCEEDED", report.cause
    (shadow,) = [code for code in seen if code["Configuration"]["FunctionName"].startswith("autotuner-shadow-")]
    assert shadow["Configuration"]["PackageType"] == "Image"
    assert resolved.startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-api@sha256:")
    assert shadow["Code"]["ImageUri"] == resolved
    assert downloads == 0
    assert report.live_invocations_at_candidate_sizes == 0
    assert left == []


def test_a_snap_start_targets_shadow_versions_are_invoked_only_once_active():
    # Given a live SnapStart function whose published versions take a while to become Active
    function = live_function(snap_start="PublishedVersions", pending_version_seconds=0.3)
    with EmbeddedAws(SimulatedAccount(parameters=SHADOWS_ALLOWED, functions=[function])) as aws:
        # When it is measured on its shadow
        report = aws.run(MEASURE)
        refused = list(aws.lambda_emulation.refused_invocations)
        snapshots = [key for key, _ in aws.lambda_emulation._version_pending_until if key[2].startswith("autotuner-")]
    # Then the shadow's versions were made with SnapStart too, and none was invoked while Pending
    assert report.status == "SUCCEEDED", report.cause
    assert snapshots, "the shadow's versions had no SnapStart snapshot"
    assert refused == []
    assert report.live_invocations_at_candidate_sizes == 0


def test_measure_on_live_never_sets_latest_below_what_the_function_uses():
    # Given a live function that needs about 460 MB, on a deployment that allows no shadows
    function = live_function(profile=FunctionProfile(preset="memory-hungry", seed=3))
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        # When the input opts in to measuring $LATEST in place, with 256 MB among the sizes
        report = aws.run({**MEASURE, "memorySizes": [256, 512, 2048], "measureOnLive": True})
        final = aws.function_configuration("orders-api")["MemorySize"]
    # Then it is measured in place, and production never ran at 256 MB, below 460 MB x headroom
    assert report.status == "SUCCEEDED", report.cause
    (record,) = report.records
    assert record["liveTraffic"]["measuredOn"] == "in-place"
    served = report.live_invocations["orders-api"]
    assert 256 not in served
    # The floor is 460 MB x the engine's headroom; the engine may set a size between ladder steps there.
    assert min(served) >= math.ceil(460 * MEMORY_HEADROOM)
    assert final == 1024  # a dry run leaves $LATEST as found


def test_prepare_with_a_live_floor_never_sets_a_smaller_size_and_says_why():
    # Given a live function at 1,024 MB whose own size was measured using 460 MB
    from autotuner_core.documents.request import parse_request
    from autotuner_core.documents.target import FunctionConfiguration, SizeObservation, SizeRequest
    from autotuner_core.measuring.measurement import live_floor, prepare_candidates
    from autotuner_core.settings import Settings

    used = [SizeObservation(memory_size=1024, durations_ms=[100.0], max_memory_used_mb=460)]
    plan = [SizeRequest(memory_size=size, invocations=5) for size in (256, 512, 2048)]
    # When the in-place round is planned before and after the function's own size is measured
    first, no_floor = live_floor(plan, 1024, [], 5)
    later, floor = live_floor(plan, 1024, used, 5)
    # Then the first round is the function's own size alone, and the floor is 460 MB x 1.05
    assert [item.memory_size for item in first] == [1024] and no_floor is None
    assert later == plan and floor == 483
    # And preparing that round never moves $LATEST below the floor
    function = live_function(profile=FunctionProfile(preset="memory-hungry", seed=3))
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        lam = aws.client("lambda")
        config = lam.get_function(FunctionName="orders-api")["Configuration"]
        original = FunctionConfiguration.from_lambda(config)
        request = parse_request({"targets": ["orders-api"], "measureOnLive": True})
        settings = Settings(STATUS_POLL_INTERVAL_MS=20, MAX_STATUS_WAIT_SECONDS=5)
        arn = config["FunctionArn"]
        candidates = prepare_candidates(
            lam,
            arn,
            original,
            request,
            "arn:aws:states:us-east-1:123456789012:execution:t:run",
            settings,
            sizes=[256, 512],
            floor_mb=floor,
        )
        versions = lam.list_versions_by_function(FunctionName="orders-api")["Versions"]
    by_size = {candidate.memory_size: candidate for candidate in candidates}
    assert "measureOnLive never sets a live $LATEST below it" in by_size[256].excluded
    assert by_size[512].excluded is None and by_size[512].aliases
    assert sorted(version["MemorySize"] for version in versions if version["Version"] != "$LATEST") == [512]


def test_the_demo_accounts_live_targets_are_measured_on_shadows():
    # Given the demo's tuning account: every target serves live traffic, and its stack allows shadows
    from emulator.account import load_account

    account = load_account("events/accounts/demo-tuning-account.json")
    assert all(function.live_traffic is not None for function in account.functions)
    with EmbeddedAws(account) as aws:
        # When one of them is measured (a few sizes, to stay quick)
        report = aws.run({"targets": ["orders-api"], "memorySizes": [512, 1024], "invocations": 5})
        left = shadows(aws)
    # Then it was measured on a shadow: production served throughout, never at a candidate size
    assert report.status == "SUCCEEDED", report.cause
    assert report.records[0]["liveTraffic"]["measuredOn"] == "shadow"
    assert sum(report.live_invocations["orders-api"].values()) > 0
    assert report.live_invocations_at_candidate_sizes == 0
    # And the live-traffic driver only ever called the account's own functions, never the shadow
    assert set(report.live_invocations) == {"image-resizer", "orders-api", "report-builder"}
    assert left == []


def test_code_location_serves_the_package_for_ten_minutes_like_a_presigned_url():
    # Given a function's Code.Location, as GetFunction returns it
    import urllib.error
    import urllib.request

    with EmbeddedAws(SimulatedAccount(functions=[live_function()])) as aws:
        location = aws.client("lambda").get_function(FunctionName="orders-api")["Code"]["Location"]
        # When it is downloaded over HTTPS, as a copy of the function does
        with urllib.request.urlopen(location, timeout=5) as response:
            package = response.read()
        # Then it is the function's package (a zip)
        assert location.startswith("https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/")
        assert "X-Amz-Expires=600" in location
        assert package.startswith(b"PK")
        # And once its ten minutes are over, S3 refuses it
        for signature, (body, issued) in list(aws.lambda_emulation._code_locations.items()):
            aws.lambda_emulation._code_locations[signature] = (body, issued - 601)
        with pytest.raises(urllib.error.HTTPError) as expired:
            urllib.request.urlopen(location, timeout=5)
    assert expired.value.code == 403
