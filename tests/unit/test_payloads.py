"""Which payload each target gets, the checks on payload input, and the synthetic ClientContext."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from autotuner_core.documents.request import PayloadSource, parse_request, parse_target
from autotuner_core.measuring.invocations import MAX_CLIENT_CONTEXT_BYTES, measurement_client_context
from autotuner_core.measuring.payloads import (
    check_object,
    check_payload_map,
    check_processors,
    payload_for,
    resolve_source,
)
from autotuner_core.policy.errors import InvalidConfigurationError, InvalidInputError, NoPayloadError

ACCOUNT, REGION = "123456789012", "eu-west-1"
PREFIX = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
TUNER = f"{PREFIX}autotuner-ValidatePermissions"
BUCKETS = ["team-payloads"]


def ref(name: str):
    return parse_target(name, partition="aws", region=REGION, account=ACCOUNT)


class FakeS3:
    """HeadObject / GetObject over a dict of objects, answering as S3 does (404 without a body on HEAD)."""

    def __init__(self, objects: dict[tuple[str, str], bytes]) -> None:
        self.objects = objects
        self.calls: list[str] = []

    def _find(self, operation: str, bucket: str, key: str) -> bytes:
        self.calls.append(operation)
        if (bucket, key) not in self.objects:
            code = "404" if operation == "HeadObject" else "NoSuchKey"
            raise ClientError(
                {"Error": {"Code": code, "Message": "Not Found"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                operation,
            )
        return self.objects[(bucket, key)]

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"ContentLength": len(self._find("HeadObject", Bucket, Key))}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self._find("GetObject", Bucket, Key))}


def test_a_targets_own_map_entry_wins_over_its_tag_and_the_run_wide_payload():
    request = parse_request(
        {
            "targets": ["orders", "billing"],
            "payload": {"run": 1},
            "payloads": {f"{PREFIX}orders": {"payload": {"own": 1}}},
        }
    )
    tags = {"autotuner:payload": "s3://team-payloads/orders.json"}
    # The map names orders by ARN: it is orders' payload, whatever its tag says
    assert resolve_source(request, ref("orders"), tags, BUCKETS) == PayloadSource(
        origin="payloads", entry=f"{PREFIX}orders"
    )
    # billing has a tag: the tag's object wins over the run-wide payload
    assert resolve_source(request, ref("billing"), tags, BUCKETS) == PayloadSource(
        origin="tag", s3="s3://team-payloads/orders.json"
    )
    # and without a tag, the run-wide payload
    assert resolve_source(request, ref("billing"), {}, BUCKETS) == PayloadSource(origin="run")


def test_a_sweep_without_a_payload_skips_but_one_named_target_gets_an_empty_object():
    sweep = parse_request({"select": {"tags": {"team": "shop"}}})
    several = parse_request({"targets": ["orders", "billing"]})
    one = parse_request({"targets": ["orders"]})
    for request in (sweep, several):
        with pytest.raises(NoPayloadError, match="no payload: give payloads"):
            resolve_source(request, ref("orders"), {}, BUCKETS)
    assert resolve_source(one, ref("orders"), {}, BUCKETS) == PayloadSource(origin="default")
    assert payload_for(one, PayloadSource(origin="default"), None, "exec") == {}


def test_a_tag_naming_a_bucket_the_deployment_does_not_allow_is_the_functions_configuration_error():
    request = parse_request({"targets": ["orders"]})
    with pytest.raises(InvalidConfigurationError, match="tag autotuner:payload: bucket 'elsewhere'"):
        resolve_source(request, ref("orders"), {"autotuner:payload": "s3://elsewhere/x.json"}, BUCKETS)
    with pytest.raises(InvalidConfigurationError, match="not an S3 object URI"):
        resolve_source(request, ref("orders"), {"autotuner:payload": "orders.json"}, BUCKETS)


def test_a_payload_map_must_name_targets_once_each():
    targets = [ref("orders"), ref("billing")]
    strays = parse_request(
        {
            "targets": ["orders", "billing"],
            "payloads": {
                "orders": {"payload": {}},
                "cart": {"payload": {}},
                "arn:aws:lambda:us-east-1:123456789012:function:billing": {"payload": {}},
            },
        }
    )
    with pytest.raises(InvalidInputError) as caught:
        check_payload_map(strays, targets, partition="aws", region=REGION, account=ACCOUNT)
    assert "2 entries name no target of this run: 'cart', 'arn:aws:lambda:us-east-1" in str(caught.value)
    twice = parse_request(
        {"targets": ["orders"], "payloads": {"orders": {"payload": {}}, f"{PREFIX}orders": {"payload": {}}}}
    )
    with pytest.raises(InvalidInputError, match="name the same function"):
        check_payload_map(twice, [ref("orders")], partition="aws", region=REGION, account=ACCOUNT)


def test_head_object_finds_missing_and_oversized_payloads_before_the_run():
    s3 = FakeS3({("team-payloads", "ok.json"): b"{}", ("team-payloads", "big.json"): b'"' + b"x" * 6_291_455 + b'"'})
    assert check_object(s3, "s3://team-payloads/ok.json", BUCKETS, "payloadS3") == 2
    with pytest.raises(InvalidInputError, match=r"payloadS3: s3://team-payloads/gone.json does not exist"):
        check_object(s3, "s3://team-payloads/gone.json", BUCKETS, "payloadS3")
    with pytest.raises(InvalidInputError, match="6291457 bytes, over Lambda's synchronous invoke limit of 6291456"):
        check_object(s3, "s3://team-payloads/big.json", BUCKETS, "payloadS3")
    with pytest.raises(InvalidInputError, match="deployment allows none"):
        check_object(s3, "s3://team-payloads/ok.json", [], "payloadS3")


def test_an_s3_payload_is_read_once_per_execution_and_must_be_json():
    s3 = FakeS3({("team-payloads", "p.json"): b'{"a": 1}', ("team-payloads", "bad.txt"): b"not json"})
    request = parse_request({"targets": ["orders"], "payloadS3": "s3://team-payloads/p.json"})
    source = PayloadSource(origin="run", s3="s3://team-payloads/p.json")
    first, again = payload_for(request, source, s3, "exec-1"), payload_for(request, source, s3, "exec-1")
    other_run = payload_for(request, source, s3, "exec-2")
    assert first == again == other_run == b'{"a": 1}'
    assert s3.calls == ["GetObject", "GetObject"]  # once for each execution
    with pytest.raises(InvalidConfigurationError, match="is not JSON"):
        payload_for(request, PayloadSource(origin="run", s3="s3://team-payloads/bad.txt"), s3, "exec-1")


def test_processors_must_be_listed_by_the_deployment():
    request = parse_request({"targets": ["orders"], "preProcessor": "seed", "postProcessor": f"{PREFIX}clean"})
    check_processors(request, [f"{PREFIX}seed", f"{PREFIX}clean"], function_arn=TUNER)
    with pytest.raises(InvalidInputError, match=r"postProcessor: .*clean is not a function this deployment may invoke"):
        check_processors(request, [f"{PREFIX}seed"], function_arn=TUNER)
    elsewhere = parse_request(
        {"targets": ["orders"], "preProcessor": "arn:aws:lambda:us-east-1:123456789012:function:seed"}
    )
    with pytest.raises(InvalidInputError, match=r"preProcessor: target .*region 'us-east-1'"):
        check_processors(elsewhere, [], function_arn=TUNER)


def test_sleep_between_runs_with_parallel_invocations_is_refused():
    with pytest.raises(
        InvalidInputError, match="sleepBetweenRunsMs: a wait between invocations needs parallelInvocation false"
    ):
        parse_request({"targets": ["orders"], "sleepBetweenRunsMs": 100, "parallelInvocation": True})


def test_the_client_context_marks_measurement_and_fits_lambdas_limit():
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:lambda-autotuner-TunerStateMachine:" + "r" * 80
    encoded = measurement_client_context(execution)
    assert json.loads(base64.b64decode(encoded)) == {"custom": {"autotuner": "measurement", "execution": execution}}
    assert len(encoded) <= MAX_CLIENT_CONTEXT_BYTES


def test_a_targets_own_weighted_payload_sets_the_size_of_its_rounds() -> None:
    # Given a sweep whose run-wide payload is one object, and one target with its own 1:2 weighted list
    from autotuner_core.decision import engine

    request = parse_request(
        {
            "targets": ["orders", "billing"],
            "payload": {"kind": "run"},
            "payloads": {
                "orders": {"payload": [{"payload": {"a": 1}, "weight": 1}, {"payload": {"b": 2}, "weight": 2}]}
            },
        }
    )
    own = PayloadSource(origin="payloads", entry="orders")
    # When the engine plans the first round for each target
    mine = engine.next_round(engine.planned_request(request, own), 1024, [], max_memory_mb=3008)
    theirs = engine.next_round(
        engine.planned_request(request, PayloadSource(origin="run")), 1024, [], max_memory_mb=3008
    )
    # Then the target with its own list is measured in whole units of its split (3 invocations: 1 + 2)
    assert mine and all(item.invocations % 3 == 0 for item in mine)
    # And the target on the run-wide payload keeps the engine's usual first round
    assert [item.invocations for item in theirs] == [engine.FIRST_ROUND_INVOCATIONS] * len(theirs)
