"""A shadow is a faithful copy of its target, or the target is refused before anything is created."""

from __future__ import annotations

from typing import Any

from emulator.account import FunctionProfile, LiveTrafficSpec, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.interceptor import unlogged

TARGET_ROLE = "arn:aws:iam::123456789012:role/simulated-target-role"
SHADOWS_ALLOWED = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5", "ShadowRoleArns": TARGET_ROLE}
MEASURE = {"targets": ["orders-api"], "memorySizes": [512, 1024], "invocations": 5}
KEY = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-api:v7"


def live_function(**fields: Any) -> SimulatedFunction:
    return SimulatedFunction(
        name="orders-api",
        memory_size=1024,
        timeout=30,
        tags={"autotune": "enabled"},
        profile=FunctionProfile(preset="io-bound", seed=3),
        live_traffic=LiveTrafficSpec(requests_per_second=5),
        **fields,
    )


def measure(function: SimulatedFunction) -> dict[str, Any]:
    """The run's report, the shadows' CreateFunction requests, the target as its owner sees it, what is left."""
    with EmbeddedAws(SimulatedAccount(parameters=SHADOWS_ALLOWED, functions=[function])) as aws:
        created: list[dict[str, Any]] = []
        original = aws.lambda_emulation.copies.created

        def spy(key: Any, spec: dict[str, Any]) -> None:
            original(key, spec)
            if key[2].startswith("autotuner-shadow-"):
                created.append(spec)

        aws.lambda_emulation.copies.created = spy
        report = aws.run(MEASURE)
        with unlogged():
            lam = aws.client("lambda")
            target = lam.get_function(FunctionName="orders-api")
            left = [f["FunctionName"] for f in lam.list_functions()["Functions"] if "shadow" in f["FunctionName"]]
        writes = [(record.call, record.caller) for record in aws.interceptor.log.mutating()]
    return {"report": report, "created": created, "target": target, "left": left, "writes": writes}


def test_an_environment_the_tuner_cannot_decrypt_is_refused_before_any_change():
    # Given a live target whose environment is encrypted with a KMS key the tuner's roles may not use
    function = live_function(environment={"DB_PASSWORD": "s3cret"}, kms_key_arn=KEY, kms_key_usable=False)
    # When a dry run would measure it on a shadow
    seen = measure(function)
    report = seen["report"]
    # Then the target fails with InvalidConfigurationError naming the environment, and nothing was created
    assert report.status == "FAILED"
    (record,) = report.records
    assert record["errorType"] == "InvalidConfigurationError", record
    assert "environment could not be read" in seen["report"].cause
    assert seen["created"] == [] and seen["left"] == []
    assert not [call for call, _ in seen["writes"] if call in ("lambda:CreateFunction", "s3:PutObject")]
    # And the account's own clients still see the variables: only the tuner may not decrypt them
    assert seen["target"]["Configuration"]["Environment"]["Variables"] == {"DB_PASSWORD": "s3cret"}


def test_a_usable_key_and_the_environment_are_copied():
    # Given the same target, with a key the tuner may use
    seen = measure(live_function(environment={"DB_PASSWORD": "s3cret"}, kms_key_arn=KEY))
    # Then it is measured on a shadow with the same variables and key
    assert seen["report"].status == "SUCCEEDED", seen["report"].cause
    (spec,) = seen["created"]
    assert spec["Environment"] == {"Variables": {"DB_PASSWORD": "s3cret"}}
    assert spec["KMSKeyArn"] == KEY


def test_an_image_target_is_copied_by_the_digest_it_runs_even_after_its_tag_moved():
    # Given a live image function whose tag was pushed again after it was deployed
    seen = measure(live_function(image_uri=IMAGE, image_tag_moved=True))
    # Then the shadow was created from the digest the target runs, not from the tag
    assert seen["report"].status == "SUCCEEDED", seen["report"].cause
    (spec,) = seen["created"]
    resolved = seen["target"]["Code"]["ResolvedImageUri"]
    assert resolved.startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-api@sha256:")
    assert spec["Code"] == {"ImageUri": resolved}
    assert seen["left"] == []


def test_log_levels_and_the_reserved_concurrency_are_copied():
    # Given a live target logging JSON at WARN/DEBUG into a group of its own, with 40 reserved executions
    logging = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "DEBUG", "LogGroup": "/shared"}
    seen = measure(live_function(logging_config=logging, reserved_concurrency=40))
    # Then the shadow has the format and levels, logs to its own group, and the same reservation
    assert seen["report"].status == "SUCCEEDED", seen["report"].cause
    (spec,) = seen["created"]
    assert spec["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "DEBUG"}
    assert ("lambda:PutFunctionConcurrency", "PrepareMeasurementFunction") in seen["writes"]
    assert seen["left"] == []


def test_signed_code_is_refused_before_any_change():
    seen = measure(live_function(code_signed=True))
    (record,) = seen["report"].records
    assert record["errorType"] == "InvalidConfigurationError"
    assert "code is signed" in seen["report"].cause
    assert seen["created"] == []


def test_a_pinned_runtime_version_the_shadow_cannot_have_is_refused_and_the_shadow_deleted():
    # Given a target pinned to an older runtime version than a new function gets
    seen = measure(live_function(runtime_version_pinned=True))
    # Then the target fails naming the runtime version, and its shadow is gone
    (record,) = seen["report"].records
    assert record["errorType"] == "InvalidConfigurationError"
    assert "runtime version" in seen["report"].cause
    assert seen["left"] == []
