"""Power Tuning's documented example inputs, run as they are through the real state machine.

Each file of events/power-tuning/ (sources in its README) is one execution on the embedded AWS,
in the account its README names: the run succeeds, tunes what the input asked for as its
translation says, prints that translation in its output, and names its result as Power Tuning's
output does (``results.power``, ``cost``, ``duration``, ``stateMachine``, ``stats``).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from autotuner.cli import main
from autotuner_core.power_tuning import translate
from emulator.account import load_account
from emulator.cloud import EmbeddedAws

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "events" / "power-tuning"
ACCOUNT = ROOT / "events" / "accounts" / "power-tuning-account.json"
FUNCTION = "your-lambda-function"
# The one that applies runs last: the others start from the account's own size.
ORDER = [
    "readme-quick-start.json",
    "sample-execution-input.json",
    "execute-console.json",
    "sar-console.json",
    "weighted-payloads.json",
    "s3-payload.json",
    "execute-ci-cd.json",
]


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Every example's input and run report, one execution each, in one embedded AWS."""
    assert sorted(ORDER) == sorted(path.name for path in EXAMPLES.glob("*.json")), "run every example"
    done = {}
    with EmbeddedAws(load_account(ACCOUNT)) as aws:
        for name in ORDER:
            raw = json.loads((EXAMPLES / name).read_text())
            done[name] = (raw, aws.run(raw, name=name.removesuffix(".json")).as_json())
        lam = aws.client("lambda")
        done["after"] = (
            {},
            {
                "memory": aws.function_configuration(FUNCTION)["MemorySize"],
                "aliases": {
                    alias["Name"]: alias["FunctionVersion"]
                    for alias in lam.list_aliases(FunctionName=FUNCTION)["Aliases"]
                },
                "versions": {
                    version["Version"]: version["MemorySize"]
                    for version in lam.list_versions_by_function(FunctionName=FUNCTION)["Versions"]
                },
            },
        )
        # `autotuner start --wait` against the same stack, as against a deployed one.
        printed = io.StringIO()
        arguments = ["start", "--stack", aws.account.stack_name, "--input", str(EXAMPLES / "sar-console.json")]
        with contextlib.redirect_stdout(printed):
            code = main([*arguments, "--name", "cli-start", "--wait", "--poll-interval", "0.05"])
        done["start --wait"] = ({"code": code}, {"out": printed.getvalue()})
    return done


@pytest.mark.parametrize("name", ORDER)
def test_the_example_runs_as_it_is_and_its_output_prints_the_translation(runs, name):
    raw, report = runs[name]
    # Then the run succeeds
    assert report["status"] == "SUCCEEDED", report.get("cause")
    output = report["output"]
    # And its output carries the translation of the very input, a row for each field given
    expected = [row.dump() for row in translate(raw).fields]
    assert output["powerTuning"] == expected
    assert {row["field"] for row in expected} >= set(raw)
    # And the run did what the translation says: the run record keeps the request it ran
    (record,) = report["records"]
    requested = record["requested"]
    assert requested["targets"] == [raw["lambdaARN"]]
    assert requested["invocations"] == int(raw["num"])
    assert requested["strategy"] == raw.get("strategy", "cost")
    assert requested["parallelInvocation"] is raw.get("parallelInvocation", False)
    assert requested["allowedExceptions"] == raw.get("allowedExceptions", [])
    assert requested["apply"] is raw.get("autoOptimize", False)
    if "powerValues" in raw:
        assert requested["memorySizes"] == sorted(raw["powerValues"])
    # And it stayed within the engine's budget: 3 x num invocations over all sizes
    (outcome,) = output["outcomes"]
    measured = sum(row["invocations"] for row in outcome["configurations"])
    assert 0 < measured <= 3 * int(raw["num"])


@pytest.mark.parametrize("name", ORDER)
def test_the_output_names_power_cost_and_duration_as_power_tuning_does(runs, name):
    _, report = runs[name]
    output = report["output"]
    results = output["results"]
    (outcome,) = output["outcomes"]
    # Then power is the size the run chose, and cost and duration are that size's row of stats
    assert results["power"] == outcome["recommendation"]["memorySize"]
    rows = {row["memorySize"]: row for row in outcome["configurations"] if row.get("excluded") is None}
    assert [stat["value"] for stat in results["stats"]] == sorted(rows)
    for stat in results["stats"]:
        row = rows[stat["value"]]
        assert (stat["averagePrice"], stat["averageDuration"]) == (row["costPerInvocationUsd"], row["meanMs"])
    (chosen,) = [stat for stat in results["stats"] if stat["value"] == results["power"]]
    assert (results["cost"], results["duration"]) == (chosen["averagePrice"], chosen["averageDuration"])
    # And stateMachine is what the run counted: Step Functions, and the target's invocations
    counted = output["runCost"]["counted"]
    assert results["stateMachine"] == {
        "executionCost": counted["stepFunctionsUsd"],
        "lambdaCost": counted["targetInvocationsUsd"],
    }
    assert results["stateMachine"]["executionCost"] > 0 and results["stateMachine"]["lambdaCost"] > 0


def test_the_ci_cd_example_applies_the_cheapest_size_and_points_prod_at_it(runs):
    # Given an I/O-bound function at 1,024 MB (its Duration does not shrink with memory)
    _, report = runs["execute-ci-cd.json"]
    results = report["output"]["results"]
    (record,) = report["records"]
    # Then autoOptimize applied the cheapest size, 128 MB, to $LATEST
    assert results["power"] == 128
    assert record["outcome"] == "APPLIED"
    assert (record["before"]["MemorySize"], record["after"]["MemorySize"]) == (1024, 128)
    after = runs["after"][1]
    assert after["memory"] == 128
    # And autoOptimizeAlias points prod at a version with that size, the only alias left
    assert list(after["aliases"]) == ["prod"]
    assert after["versions"][after["aliases"]["prod"]] == 128


def test_the_s3_example_measures_with_the_object_and_the_weighted_one_with_its_mix(runs):
    s3_raw, s3_report = runs["s3-payload.json"]
    (record,) = s3_report["records"]
    assert record["requested"]["payloadS3"] == s3_raw["payloadS3"]
    assert record["payloadSource"] == {"origin": "run", "s3": s3_raw["payloadS3"]}
    _, weighted = runs["weighted-payloads.json"]
    (row,) = [item for item in weighted["output"]["powerTuning"] if item["field"] == "payload"]
    assert row["given"] == "a weighted list of 3 (weights 5, 15, 30)"
    assert "order" not in json.dumps(weighted["records"])  # payloads stay out of the records


def test_local_run_prints_the_translation_and_power_tunings_results(capsys):
    # When the CLI runs the sample script's input on the embedded AWS
    code = main(["local", "run", "--account", str(ACCOUNT), "--input", str(EXAMPLES / "sample-execution-input.json")])
    out = capsys.readouterr().out
    # Then it succeeds and prints the translation, field by field, before the run's lines
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "Power Tuning input, translated field by field:"
    assert "  num 5 → invocations 5" in lines
    assert "  powerValues [128, 256, 512, 3008] → memorySizes [128, 256, 512, 3008]" in lines
    assert "  parallelInvocation true → parallelInvocation true" in lines
    # And the result under Power Tuning's names
    (result,) = [line for line in lines if line.startswith("Power Tuning results: ")]
    assert "power 128 MB" in result and "stateMachine executionCost $" in result
    assert lines.index(result) < lines.index("status       SUCCEEDED")


def test_start_wait_prints_the_translation_before_the_summary(runs):
    # When `autotuner start --wait` ran the console input of Power Tuning's SAR page
    code, out = runs["start --wait"][0]["code"], runs["start --wait"][1]["out"]
    lines = out.splitlines()
    # Then it succeeded and printed the translation, then the result's names, then the summary
    assert code == 0, out
    start = lines.index("Power Tuning input, translated field by field:")
    assert '  payload "JSON text of 2 bytes" → payload "JSON text of 2 bytes"' in lines
    assert "  powerValues [128, 256, 512, 1024, 2048, 3008] → memorySizes [128, 256, 512, 1024, 2048, 3008]" in lines
    (result,) = [index for index, line in enumerate(lines) if line.startswith("Power Tuning results: power ")]
    (summary,) = [index for index, line in enumerate(lines) if line.startswith("status     SUCCEEDED")]
    assert start < result < summary
