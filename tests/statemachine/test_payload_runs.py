"""Payloads that fit each function: per-target payloads, S3 payloads, skips, the synthetic marker."""

from __future__ import annotations

import base64
import json

from emulator.account import PayloadObjectSpec, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

BUCKET = "team-payloads"
PARAMETERS = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5", "PayloadBuckets": BUCKET}
ORDER = {"httpMethod": "GET", "path": "/orders/o-1001"}
RESIZE = {"bucket": "uploads", "key": "cat.jpg", "width": 640}
MEASURE = {"memorySizes": [256, 1024], "invocations": 5}


def _fleet() -> list[SimulatedFunction]:
    return [
        SimulatedFunction(name="orders-api", memory_size=512, tags={"autotune": "enabled"}),
        SimulatedFunction(
            name="image-resizer",
            memory_size=512,
            tags={"autotune": "enabled", "autotuner:payload": f"s3://{BUCKET}/image-resizer.json"},
        ),
        SimulatedFunction(name="mailer", memory_size=512, tags={"autotune": "enabled"}),
    ]


def _account(**overrides) -> SimulatedAccount:
    fields = {
        "parameters": PARAMETERS,
        "functions": _fleet(),
        "payload_objects": [PayloadObjectSpec(uri=f"s3://{BUCKET}/image-resizer.json", body=RESIZE)],
    }
    return SimulatedAccount(**{**fields, **overrides})


def _received(aws: EmbeddedAws, name: str) -> list:
    return [record for record in aws.simulator.invocations if record.function_name == name]


def _records(report) -> dict[str, dict]:
    return {record["target"].rsplit(":", 1)[-1]: record for record in report.records}


def test_a_sweep_measures_each_function_with_its_own_payload_and_skips_the_one_without():
    with EmbeddedAws(_account()) as aws:
        # Given three tagged functions: one with a payload in the input's map, one whose tag names an
        # S3 object, one with neither (and no run-wide payload)
        # When a sweep measures them
        report = aws.run(
            {"select": {"tags": {"autotune": "enabled"}}, **MEASURE, "payloads": {"orders-api": {"payload": ORDER}}}
        )
        orders, resizer, mailer = (_received(aws, name) for name in ("orders-api", "image-resizer", "mailer"))
        mailer_versions = aws.client("lambda").list_versions_by_function(FunctionName="mailer")["Versions"]
    records = _records(report)
    # Then the first two were measured, each only with its own payload
    measured = {"RECOMMENDED", "UNCHANGED"}  # a dry run: a new size is recommended, or the current one kept
    assert records["orders-api"]["outcome"] in measured
    assert records["image-resizer"]["outcome"] in measured
    assert orders and {json.dumps(record.event, sort_keys=True) for record in orders} == {
        json.dumps(ORDER, sort_keys=True)
    }
    assert resizer and {json.dumps(record.event, sort_keys=True) for record in resizer} == {
        json.dumps(RESIZE, sort_keys=True)
    }
    # And each record says where the payload came from, never the payload itself
    assert records["orders-api"]["payloadSource"] == {"origin": "payloads", "entry": "orders-api"}
    assert records["image-resizer"]["payloadSource"] == {"origin": "tag", "s3": f"s3://{BUCKET}/image-resizer.json"}
    assert "payloads" not in records["orders-api"]["requested"]
    # And the third was never invoked, got no version, and is recorded SKIPPED with the reason
    assert mailer == []
    assert [version["Version"] for version in mailer_versions] == ["$LATEST"]
    assert records["mailer"]["outcome"] == "SKIPPED"
    assert records["mailer"]["errorType"] == "NoPayloadError"
    assert (
        "no payload: give payloads[<function>], tag autotuner:payload, or a run-wide payload"
        in records["mailer"]["errorMessage"]
    )
    # And the run itself succeeds: a skip is not a failure
    assert report.status == "SUCCEEDED"


def test_an_explicit_empty_payload_measures_every_function_of_a_sweep():
    with EmbeddedAws(_account(functions=[f for f in _fleet() if f.name != "image-resizer"])) as aws:
        # Given a sweep that says what every function without its own payload receives
        report = aws.run({"select": {"tags": {"autotune": "enabled"}}, **MEASURE, "payload": {}})
        events = [record.event for record in _received(aws, "mailer")]
    # Then none is skipped and they receive exactly that
    assert {record["outcome"] for record in report.records} <= {"RECOMMENDED", "UNCHANGED"}
    assert len(report.records) == 2
    assert events and all(event == {} for event in events)


def test_one_named_target_without_a_payload_receives_an_empty_object_as_in_power_tuning():
    with EmbeddedAws(_account()) as aws:
        report = aws.run({"targets": ["mailer"], **MEASURE})
        events = [record.event for record in _received(aws, "mailer")]
    assert report.status == "SUCCEEDED"
    assert events and all(event == {} for event in events)


def test_a_run_wide_payload_s3_is_read_by_the_measuring_function_never_passed_through_state():
    big = {"rows": ["x" * 100] * 3000}  # ~310 KB: more than a state (256 KB) could carry
    account = _account(payload_objects=[PayloadObjectSpec(uri=f"s3://{BUCKET}/big.json", body=big)])
    with EmbeddedAws(account) as aws:
        # When one target is measured with a payload kept in S3
        report = aws.run({"targets": ["mailer"], **MEASURE, "payloadS3": f"s3://{BUCKET}/big.json"})
        events = [record.event for record in _received(aws, "mailer")]
        reads = aws.interceptor.log.counts().get("s3:GetObject", 0)
    # Then the function received the object and the run succeeded with no state near the limit
    assert report.status == "SUCCEEDED"
    assert events and all(event == big for event in events)
    # And each measuring environment read it once per run, not once per invocation
    assert 1 <= reads < len(events)


def test_every_measurement_invocation_carries_a_client_context_marking_it_synthetic():
    with EmbeddedAws(_account()) as aws:
        report = aws.run({"targets": ["mailer"], **MEASURE, "payload": ORDER})
        contexts = [record.client_context for record in _received(aws, "mailer")]
    # Then a function can recognise each measurement invocation, and which execution made it
    assert contexts and all(
        context == {"custom": {"autotuner": "measurement", "execution": report.execution_arn}} for context in contexts
    )


def test_a_client_context_reaches_a_simulated_function_as_lambda_passes_it():
    with EmbeddedAws(_account()) as aws:
        lam = aws.client("lambda")
        marker = base64.b64encode(json.dumps({"custom": {"who": "test"}}).encode()).decode()
        lam.invoke(FunctionName="mailer", Payload=b"{}", ClientContext=marker)
        lam.invoke(FunctionName="mailer", Payload=b"{}")
        received = [record.client_context for record in _received(aws, "mailer")]
        # A context Lambda would refuse (not base64 JSON, over 3,583 bytes) is refused here too
        refused = []
        for bad in ("not base64!", base64.b64encode(b'{"custom": {"x": "' + b"y" * 3000 + b'"}}').decode()):
            try:
                lam.invoke(FunctionName="mailer", Payload=b"{}", ClientContext=bad)
            except lam.exceptions.InvalidRequestContentException as error:
                refused.append(error.response["Error"]["Code"])
    assert received == [{"custom": {"who": "test"}}, None]
    assert refused == ["InvalidRequestContentException"] * 2


def test_without_the_payload_read_grant_pre_flight_fails_before_anything_is_created():
    # Given a deployment that allows the bucket, but whose measuring role lost its read of it
    account = _account(revoke=[{"function": "MeasureConfigurationFunction", "actions": ["s3:GetObject"]}])
    with EmbeddedAws(account) as aws:
        # When a run names an S3 payload in that bucket
        report = aws.run({"targets": ["mailer"], **MEASURE, "payloadS3": f"s3://{BUCKET}/image-resizer.json"})
        invoked = _received(aws, "mailer")
    # Then pre-flight names the missing action and the object, and nothing was created or invoked
    assert (report.status, report.error) == ("FAILED", "PermissionDeniedError")
    assert "s3:GetObject" in report.cause and f"{BUCKET}/image-resizer.json" in report.cause
    assert report.mutating_calls == [] and invoked == []


# --- preProcessor / postProcessor and sleepBetweenRunsMs, as in Power Tuning ---------------------------

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def _processor_account(**overrides) -> SimulatedAccount:
    processors = [
        SimulatedFunction(name="seed-order", memory_size=256),
        SimulatedFunction(name="delete-order", memory_size=256),
        SimulatedFunction(name="broken-seed", memory_size=256, profile={"errorRate": 1.0, "errorType": "SeedFailed"}),
    ]
    parameters = {**PARAMETERS, "PayloadProcessorArns": ",".join(ARN + f.name for f in processors)}
    return _account(parameters=parameters, functions=[*_fleet(), *processors], **overrides)


def test_processors_run_around_each_measured_invocation_and_are_not_measured():
    with EmbeddedAws(_processor_account()) as aws:
        # When a target is measured with a pre- and a post-processor and a wait between runs
        report = aws.run(
            {
                "targets": ["orders-api"],
                **MEASURE,
                "payload": ORDER,
                "preProcessor": "seed-order",
                "postProcessor": ARN + "delete-order",
                "sleepBetweenRunsMs": 5,
            }
        )
        target, pre, post = (_received(aws, name) for name in ("orders-api", "seed-order", "delete-order"))
    (record,) = report.records
    # Then each invocation had one pre-processor run (given the original payload) and one post-processor run
    assert report.status == "SUCCEEDED" and target
    assert len(pre) == len(post) == len(target)
    assert all(run.event == ORDER for run in pre)
    # And the target received the pre-processor's output, the post-processor the target's output
    assert all(run.event.get("function") == "seed-order" for run in target)
    assert all(run.event.get("function") == "orders-api" for run in post)
    # And only the target's invocations are in the measurement
    assert sum(size["invocations"] for size in record["configurations"]) == len(target)


def test_a_failing_processor_stops_the_targets_measurement_and_the_run_cleans_up():
    with EmbeddedAws(_processor_account()) as aws:
        report = aws.run({"targets": ["orders-api"], **MEASURE, "payload": ORDER, "preProcessor": "broken-seed"})
        versions = aws.client("lambda").list_versions_by_function(FunctionName="orders-api")["Versions"]
        measured = _received(aws, "orders-api")
    (record,) = report.records
    assert (record["outcome"], record["errorType"]) == ("FAILED", "ProcessorFailedError")
    assert "preProcessor" in record["errorMessage"] and "SeedFailed" in record["errorMessage"]
    assert measured == []
    assert [version["Version"] for version in versions] == ["$LATEST"]


def test_a_processor_the_deployment_does_not_allow_is_refused_before_anything_is_created():
    with EmbeddedAws(_account(functions=[*_fleet(), SimulatedFunction(name="seed-order")])) as aws:
        report = aws.run({"targets": ["orders-api"], **MEASURE, "payload": ORDER, "preProcessor": "seed-order"})
        invoked = _received(aws, "seed-order") + _received(aws, "orders-api")
    assert (report.status, report.error) == ("FAILED", "InvalidInputError")
    assert "preProcessor" in report.cause and "PayloadProcessorArns" in report.cause
    assert report.mutating_calls == [] and invoked == []


def test_without_the_processor_invoke_grant_pre_flight_names_it():
    account = _processor_account(
        revoke=[{"function": "MeasureConfigurationFunction", "actions": ["lambda:InvokeFunction"]}]
    )
    with EmbeddedAws(account) as aws:
        report = aws.run({"targets": ["orders-api"], **MEASURE, "payload": ORDER, "postProcessor": "delete-order"})
    assert (report.status, report.error) == ("FAILED", "PermissionDeniedError")
    assert "lambda:InvokeFunction" in report.cause and "delete-order" in report.cause
    assert report.mutating_calls == []


def test_a_missing_payload_object_is_403_to_the_tuner_as_s3_answers_a_caller_without_list_bucket():
    from botocore.exceptions import ClientError

    from emulator.interceptor import calls_made_by

    with EmbeddedAws(_account()) as aws:
        s3 = aws.client("s3")
        answers = {}
        for key in ("image-resizer.json", "missing.json"):
            with calls_made_by("MeasureConfigurationFunction"):
                try:
                    s3.head_object(Bucket=BUCKET, Key=key)
                    answers[key] = 200
                except ClientError as error:
                    answers[key] = error.response["ResponseMetadata"]["HTTPStatusCode"]
        # A caller outside the tuner's roles (the test itself) holds every permission: it sees the 404
        try:
            s3.head_object(Bucket=BUCKET, Key="missing.json")
        except ClientError as error:
            answers["unrestricted"] = error.response["ResponseMetadata"]["HTTPStatusCode"]
    # The tuner's roles have s3:GetObject on the bucket's objects but not s3:ListBucket
    assert answers == {"image-resizer.json": 200, "missing.json": 403, "unrestricted": 404}


def test_a_tag_naming_a_missing_object_fails_that_target_at_discovery_before_any_version():
    with EmbeddedAws(_account(payload_objects=[])) as aws:
        # Given a function whose autotuner:payload tag names an object that is not in the bucket
        # When it is measured
        report = aws.run({"targets": ["image-resizer"], **MEASURE})
        invoked = _received(aws, "image-resizer")
        versions = aws.client("lambda").list_versions_by_function(FunctionName="image-resizer")["Versions"]
    # Then the target fails at discovery, naming the tag and the object, with nothing published or invoked
    (record,) = report.records
    assert report.status == "FAILED"
    assert record["errorType"] == "InvalidConfigurationError"
    assert f"tag autotuner:payload: s3://{BUCKET}/image-resizer.json" in record["errorMessage"]
    assert record["failedStage"] == "DiscoverResources"
    assert invoked == []
    assert [version["Version"] for version in versions] == ["$LATEST"]
