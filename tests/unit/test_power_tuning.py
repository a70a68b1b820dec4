"""A Power Tuning execution input, translated field by field to ours; what cannot be honoured is refused.

Each Power Tuning field has a test of what it becomes (the request a run gets, and the row the
output prints), and each refusal a test that names the field and says why.
"""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.documents.request import MEMORY_PRESETS, TuningRequest, parse_request
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.power_tuning import is_power_tuning_input, render_rows, translate, translation_text

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
BASE = {"lambdaARN": ARN, "num": 10}


def parsed(**fields: Any) -> TuningRequest:
    return parse_request({**BASE, **fields})


def row(request: TuningRequest, field: str) -> dict[str, Any]:
    (found,) = [item.dump() for item in request.power_tuning or [] if item.field == field]
    return found


def refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(InvalidInputError) as caught:
        parse_request(raw)
    return str(caught.value)


# --- detection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"lambdaARN": ARN, "num": 10}, True),
        ({"num": 10, "powerValues": [128]}, True),  # forgot lambdaARN: still Power Tuning's form
        ({"targets": ["orders-api"]}, False),
        ({"targets": ["orders-api"], "num": 10}, False),  # ours, with a stray field of theirs
        ({"strategy": "cost"}, False),  # a field both have says nothing
        ([ARN], False),
    ],
)
def test_a_power_tuning_input_is_one_that_names_lambdaARN_or_only_its_fields(raw, expected):
    assert is_power_tuning_input(raw) is expected


# --- each field ------------------------------------------------------------------------------


def test_lambdaARN_is_the_one_target():
    request = parsed()
    assert request.targets == [ARN]
    assert row(request, "lambdaARN")["ours"] == {"targets": [ARN]}


def test_num_is_the_invocations_budget_and_the_note_says_how_it_differs():
    request = parsed(num=50)
    assert request.invocations == 50
    assert "3 x num invocations over all sizes" in row(request, "num")["note"]
    assert "num times at each size" in row(request, "num")["note"]


def test_num_as_digits_is_read_as_power_tuning_reads_it():
    request = parsed(num="25")
    assert request.invocations == 25
    assert "parseInt" in row(request, "num")["note"]


def test_power_values_are_the_search_range_sorted():
    request = parsed(powerValues=[1024, 128, "512"])
    assert request.memory_sizes == [128, 512, 1024]
    note = row(request, "powerValues")["note"]
    assert "search range" in note and "sizes given as text" in note


def test_power_values_all_is_every_64_mb_to_3008_as_there():
    request = parsed(powerValues="ALL")
    assert request.memory_sizes == list(range(128, 3009, 64)) == list(MEMORY_PRESETS["fine"])
    assert row(request, "powerValues")["ours"] == {"memorySizes": "fine"}


@pytest.mark.parametrize("given", [None, []], ids=["absent", "empty"])
def test_power_values_absent_or_empty_is_the_standard_preset_and_says_power_tunings_default(given):
    request = parsed() if given is None else parsed(powerValues=given)
    assert request.memory_sizes == list(MEMORY_PRESETS["standard"])
    assert "by default 128, 256, 512, 1024, 1536, 3008" in row(request, "powerValues")["note"]


def test_a_power_value_listed_twice_is_measured_once():
    request = parsed(powerValues=[512, 512, 1024])
    assert request.memory_sizes == [512, 1024]
    assert "listed twice" in row(request, "powerValues")["note"]


def test_an_object_payload_is_sent_as_it_is_and_described_not_copied():
    request = parsed(payload={"secret": "s3cr3t"})
    assert request.payload == {"secret": "s3cr3t"}
    shown = row(request, "payload")
    assert "s3cr3t" not in str(shown)
    assert shown["given"] == "an object of 1 keys"


@pytest.mark.parametrize("given", ["absent", None, 0, False, ""])
def test_no_payload_or_a_false_one_sends_json_null_as_power_tuning_does(given):
    request = parsed() if given == "absent" else parsed(payload=given)
    assert request.payload == "null"
    assert "JSON null" in row(request, "payload")["note"]


def test_json_text_is_sent_as_it_is_and_other_text_as_a_json_string():
    assert parsed(payload='{"id": 1}').payload == '{"id": 1}'
    request = parsed(payload="just a string")
    assert request.payload == '"just a string"'
    assert "sent as a JSON string" in row(request, "payload")["note"]


def test_a_weighted_payload_keeps_its_relative_weights():
    items = [{"payload": {"n": 1}, "weight": 5}, {"payload": "plain", "weight": 15}]
    request = parsed(payload=items)
    assert [(item.payload, item.weight) for item in request.payload] == [({"n": 1}, 5), ('"plain"', 15)]
    assert row(request, "payload")["given"] == "a weighted list of 2 (weights 5, 15)"


def test_a_list_that_is_not_weighted_is_the_payload_itself():
    request = parsed(payload=[1, 2, 3])
    (item,) = request.payload
    assert (item.payload, item.weight) == ([1, 2, 3], 1)
    assert "the payload itself in Power Tuning" in row(request, "payload")["note"]


def test_payload_s3_is_read_from_s3_with_its_key_decoded_as_power_tuning_does():
    request = parsed(payloadS3="s3://payloads/my%20event.json")
    assert request.payload_s3 == "s3://payloads/my event.json"
    assert request.payload is None
    assert "PayloadBuckets" in row(request, "payloadS3")["note"]


@pytest.mark.parametrize("strategy", ["cost", "speed", "balanced"])
def test_strategy_is_the_same_strategy(strategy):
    request = parsed(strategy=strategy)
    assert request.strategy.value == strategy
    assert "minImprovement" in row(request, "strategy")["note"]


def test_balanced_weight_is_the_same_score():
    request = parsed(strategy="balanced", balancedWeight=0.8)
    assert request.balanced_weight == 0.8
    assert row(request, "balancedWeight")["ours"] == {"balancedWeight": 0.8}


def test_auto_optimize_applies_and_says_when_ours_keeps_the_current_size():
    request = parsed(autoOptimize=True)
    assert request.apply is True
    assert "minImprovement" in row(request, "autoOptimize")["note"]
    assert parsed(autoOptimize=False).apply is False


def test_auto_optimize_alias_is_the_alias_moved():
    request = parsed(autoOptimize=True, autoOptimizeAlias="prod")
    assert (request.apply, request.alias) == (True, "prod")
    assert row(request, "autoOptimizeAlias")["ours"] == {"alias": "prod"}


def test_dry_run_is_the_smallest_real_run_that_changes_nothing():
    request = parsed(num=50, dryRun=True, autoOptimize=True, autoOptimizeAlias="prod")
    assert (request.invocations, request.apply, request.alias) == (5, False, None)
    assert row(request, "dryRun")["ours"] == {"invocations": 5, "apply": False}
    assert row(request, "num")["ours"] == {}
    assert "invokes each size once" in row(request, "dryRun")["note"]


def test_dry_run_false_is_a_normal_run():
    request = parsed(dryRun=False)
    assert request.invocations == 10
    assert row(request, "dryRun")["ours"] == {}


def test_parallel_invocation_is_the_same_with_its_limit_noted():
    request = parsed(parallelInvocation=True)
    assert request.parallel_invocation is True
    assert "at most 16" in row(request, "parallelInvocation")["note"]


def test_discard_top_bottom_is_the_same_fraction_of_each_end():
    request = parsed(discardTopBottom=0.1)
    assert request.discard_top_bottom == 0.1
    assert "floor(n x fraction) at each end" in row(request, "discardTopBottom")["note"]


def test_only_cold_starts_discards_nothing_as_power_tuning_sets_it():
    request = parsed(onlyColdStarts=True, discardTopBottom=0.3)
    assert (request.only_cold_starts, request.discard_top_bottom) == (True, 0)
    assert row(request, "discardTopBottom")["ours"] == {"discardTopBottom": 0}
    assert row(request, "onlyColdStarts")["ours"] == {"onlyColdStarts": True}


@pytest.mark.parametrize(
    ("field", "ours"), [("preProcessorARN", "pre_processor"), ("postProcessorARN", "post_processor")]
)
def test_processors_are_ours(field, ours):
    processor = "arn:aws:lambda:us-east-1:123456789012:function:seed-orders"
    request = parsed(**{field: processor})
    assert getattr(request, ours) == processor
    assert "PayloadProcessorArns" in row(request, field)["note"]


def test_sleep_between_runs_is_the_same_wait():
    request = parsed(sleepBetweenRunsMs="250")
    assert request.sleep_between_runs_ms == 250
    assert row(request, "sleepBetweenRunsMs")["ours"] == {"sleepBetweenRunsMs": 250}


def test_allowed_exceptions_count_as_results_and_other_errors_exclude_a_size():
    request = parsed(allowedExceptions=["HandledError"])
    assert request.allowed_exceptions == ["HandledError"]
    assert "excludes that size" in row(request, "allowedExceptions")["note"]


@pytest.mark.parametrize("field", ["includeOutputResults", "disablePayloadLogs"])
@pytest.mark.parametrize("value", [True, False])
def test_output_only_fields_are_accepted_and_say_what_the_output_does(field, value):
    request = parsed(**{field: value})
    assert row(request, field)["ours"] == {}
    assert row(request, field)["given"] is value


def test_a_parent_executions_link_is_kept():
    parent = "arn:aws:states:us-east-1:123456789012:execution:deploy:run-1"
    assert parsed(AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID=parent).started_by == parent


def test_the_translation_travels_with_the_request_through_state():
    # Given a translated request, dumped as a state document carries it
    request = parsed(powerValues="ALL", autoOptimize=True)
    # When the next state parses it back
    again = TuningRequest.model_validate(request.dump())
    # Then the rows are intact
    assert again.power_tuning == request.power_tuning
    assert [item.field for item in again.power_tuning] == ["lambdaARN", "num", "powerValues", "payload", "autoOptimize"]


def test_the_translation_is_printed_one_line_per_field():
    text = translation_text({**BASE, "powerValues": [512, 1024], "autoOptimize": True})
    assert text is not None
    assert text.splitlines()[0] == "Power Tuning input, translated field by field:"
    assert "  num 10 → invocations 10" in text
    assert "  powerValues [512, 1024] → memorySizes [512, 1024]" in text
    assert "  autoOptimize true → apply true" in text
    assert '  payload (not given) → payload "null"' in text
    assert translation_text({"targets": ["orders-api"]}) is None
    assert translation_text({"lambdaARN": ARN}) is None  # refused: the run names the problem
    assert render_rows([]) == "Power Tuning input, translated field by field:"


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"num": 10}, "lambdaARN: required field is missing"),
        ({"lambdaARN": ARN}, "num: required field is missing"),
        ({**BASE, "num": 4}, "num: 4 is below 5"),
        ({**BASE, "num": 5000}, "num: 5000 is over 1000"),
        ({**BASE, "num": "ten"}, "num: "),
        ({**BASE, "powerValues": [64, 512]}, "powerValues[0]: 64 MB is outside Lambda's memory sizes"),
        ({**BASE, "powerValues": [512, 20480]}, "powerValues[1]: 20480 MB is outside"),
        ({**BASE, "powerValues": "fine"}, "powerValues: 'fine' is not \"ALL\""),
        ({**BASE, "powerValues": list(range(128, 128 + 49 * 64, 64))}, "powerValues: at most 48 memory sizes"),
        ({**BASE, "payload": {"a": 1}, "payloadS3": "s3://b/k.json"}, "payload: Power Tuning ignores payload when"),
        ({**BASE, "payloadS3": "https://b/k.json"}, "payloadS3: "),
        (
            {**BASE, "num": 5, "payload": [{"payload": {"n": n}, "weight": 1} for n in range(6)]},
            "payload: 6 weighted payloads need num of at least 6",
        ),
        ({**BASE, "payload": [{"payload": {"n": 1}, "weight": -1}]}, "payload: every weight must be a number above 0"),
        ({**BASE, "strategy": "cheapest"}, "strategy: "),
        ({**BASE, "balancedWeight": 1.5}, "balancedWeight: 1.5 is outside 0-1 (Power Tuning would silently use 1)"),
        ({**BASE, "discardTopBottom": 20}, "discardTopBottom: 20 is outside 0-0.4"),
        ({**BASE, "autoOptimizeAlias": "prod"}, "autoOptimizeAlias: Power Tuning ignores it unless autoOptimize"),
        ({**BASE, "autoOptimize": True, "autoOptimizeAlias": "7"}, "autoOptimizeAlias: '7' is not a Lambda alias"),
        ({**BASE, "autoOptimize": "yes"}, "autoOptimize: Input should be a valid boolean"),
        ({**BASE, "dryRun": 1}, "dryRun: Input should be a valid boolean"),
        ({**BASE, "sleepBetweenRunsMs": 100, "parallelInvocation": True}, "sleepBetweenRunsMs: Power Tuning ignores"),
        ({**BASE, "sleepBetweenRunsMs": 60000}, "sleepBetweenRunsMs: 60000 ms is over 10,000 ms"),
        ({**BASE, "lambdaARN": "not a function!"}, "lambdaARN: 'not a function!' is not a Lambda function name"),
        ({**BASE, "lambdaARN": "orders:autotuner-x"}, "lambdaARN: 'orders:autotuner-x' names alias"),
        ({**BASE, "preProcessorARN": "arn:aws:s3:::bucket"}, "preProcessorARN: "),
        ({**BASE, "allowedExceptions": [""]}, "allowedExceptions[0]: "),
        ({**BASE, "numm": 10}, "numm: not a field of Power Tuning's input (nor of ours)"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_value_that_cannot_be_honoured_is_refused_naming_the_field(raw, expected):
    message = refusal(raw)
    assert message.startswith("invalid Power Tuning input")
    assert expected in message


@pytest.mark.parametrize(
    ("ours", "named"),
    [("targets", "Power Tuning's is lambdaARN"), ("invocations", "Power Tuning's is num"), ("apply", "autoOptimize")],
)
def test_a_power_tuning_input_with_fields_of_ours_is_refused(ours, named):
    message = refusal({**BASE, ours: ["orders-api"] if ours == "targets" else 10 if ours == "invocations" else True})
    assert f"{ours}: a field of ours in a Power Tuning input" in message
    assert named in message


@pytest.mark.parametrize("theirs", ["num", "powerValues", "autoOptimize", "dryRun", "lambdaARN"])
def test_an_input_of_ours_with_a_field_of_power_tunings_is_refused_as_mixing(theirs):
    raw = {"targets": ["orders-api"], theirs: 10}
    message = refusal(raw)
    assert (
        f"{theirs}: a field of Power Tuning's input in an input of ours" in message or "a field of ours in a" in message
    )
    assert "unknown field" not in message


def test_the_translation_field_cannot_be_written_by_a_user():
    assert "powerTuning: the tuner sets it" in refusal({"targets": ["orders-api"], "powerTuning": []})
    assert "powerTuning: a field of ours in a Power Tuning input" in refusal({**BASE, "powerTuning": []})


def test_every_problem_is_named_at_once():
    message = refusal({**BASE, "num": 4, "balancedWeight": 3, "autoOptimizeAlias": "prod"})
    assert "(3 problems)" in message
    assert translate  # the module's entry point, used by parse_request
