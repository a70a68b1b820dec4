"""Live traffic on simulated targets during a run: the requests production would serve, and at what size."""

from __future__ import annotations

import time

import pytest

from emulator.account import (
    EventSourceMappingSpec,
    FunctionProfile,
    FunctionUrlSpec,
    InvokePermissionSpec,
    LiveTrafficSpec,
    SimulatedAccount,
    SimulatedFunction,
)
from emulator.cloud import EmbeddedAws
from emulator.live_traffic import LiveTraffic, applying_sizes

TAGS = {"autotune": "enabled"}


def live_function(name: str = "orders-api", memory: int = 1024, aliases=(), **traffic) -> SimulatedFunction:
    return SimulatedFunction(
        name=name,
        memory_size=memory,
        aliases=list(aliases),
        timeout=30,
        architecture="arm64",
        tags=TAGS,
        profile=FunctionProfile(preset="io-bound", seed=3),
        live_traffic=LiveTrafficSpec(requests_per_second=5, **traffic),
    )


def test_an_applied_change_serves_live_requests_only_at_the_original_and_the_new_size():
    # Given a function at 1,024 MB whose users invoke it unqualified during the run
    with EmbeddedAws(SimulatedAccount(functions=[live_function()])) as aws:
        # When a run applies 512 MB
        report = aws.run({"targets": ["orders-api"], "memorySize": 512, "apply": True})
    # Then production was served throughout, at 1,024 MB before the change and 512 MB after it
    assert report.status == "SUCCEEDED"
    served = report.live_invocations["orders-api"]
    assert sum(served.values()) > 0
    assert set(served) <= {1024, 512}
    # And no live request ran at a size other than those two
    assert report.live_invocations_at_candidate_sizes == 0
    assert report.as_json()["liveInvocationsAtCandidateSizes"] == 0


def test_moving_latest_through_a_candidate_size_is_counted_as_live_requests_at_that_size():
    # Given a function serving live traffic, unqualified
    function = live_function()
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        lam = aws.client("lambda")
        live = LiveTraffic([function], client=lambda: aws.client("lambda"), aws_second=0.01)
        # When someone moves $LATEST to 256 MB for a while and back (what measuring on $LATEST does)
        with live:
            lam.update_function_configuration(FunctionName="orders-api", MemorySize=256)
            deadline = time.monotonic() + 10
            while not live.by_memory_size().get("orders-api", {}).get(256) and time.monotonic() < deadline:
                time.sleep(0.01)
            while lam.get_function_configuration(FunctionName="orders-api")["LastUpdateStatus"] != "Successful":
                time.sleep(0.01)
            lam.update_function_configuration(FunctionName="orders-api", MemorySize=1024)
    # Then the requests served at 256 MB are counted: neither the original size nor the final one
    served = live.by_memory_size()["orders-api"]
    assert served.get(256, 0) > 0
    assert live.at_candidate_sizes({"orders-api": 1024}, {"orders-api": 1024}) == served[256]
    # And had a run set out to apply 256 MB and rolled it back after a failure, those requests ran at
    # the change asked for, not at a candidate size
    assert live.at_candidate_sizes({"orders-api": 1024}, {"orders-api": 1024}, {"orders-api": {256}}) == 0


def test_the_sizes_a_run_set_out_to_apply_are_read_from_its_run_records():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    records = [
        # A fixed size asked for, applied then rolled back after a failure
        {"target": f"{arn}orders-api", "requested": {"apply": True, "memorySize": 512}, "outcome": "FAILED"},
        # A measured run that applied its recommendation
        {"target": f"{arn}billing", "requested": {"apply": True}, "recommendation": {"memorySize": 768}},
        # A dry run recommends, it applies nothing
        {"target": f"{arn}search", "requested": {"invocations": 5}, "recommendation": {"memorySize": 256}},
        # A run refused before its request was read has no request in its record
        {"target": f"{arn}reports", "outcome": "FAILED", "errorType": "InvalidInputError"},
    ]
    assert applying_sizes(records) == {"orders-api": {512}, "billing": {768}}


def test_traffic_to_an_alias_runs_that_alias_version_whatever_latest_does():
    # Given users who invoke the function's "live" alias
    function = live_function(qualifier="live", aliases=["live"])
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        # When a run applies another size to $LATEST (the alias is not moved)
        report = aws.run({"targets": ["orders-api"], "memorySize": 512, "apply": True})
    # Then every live request ran the alias's version, at the size it was published with
    assert report.status == "SUCCEEDED"
    assert set(report.live_invocations["orders-api"]) == {1024}
    assert report.live_invocations_at_candidate_sizes == 0


def test_a_measured_run_on_a_live_latest_is_refused_before_any_change():
    # Given a function whose users invoke it unqualified, so every request runs $LATEST
    with EmbeddedAws(SimulatedAccount(functions=[live_function()])) as aws:
        # When a dry run would measure it (moving $LATEST through the candidate sizes)
        report = aws.run({"targets": ["orders-api"], "invocations": 5})
    # Then discovery refuses it permanently, naming what sends it live traffic, before any change
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    assert report.failed_state == "DiscoverResources"
    assert "invocations of the unqualified function" in report.cause
    assert report.mutating_calls == []
    # And production never ran at a size it was not left at
    assert set(report.live_invocations["orders-api"]) == {1024}
    assert report.live_invocations_at_candidate_sizes == 0
    (record,) = report.records
    assert record["errorType"] == "LiveTrafficError"


def test_live_traffic_rates_are_checked_when_the_account_is_loaded():
    # Given a rate of zero or a malformed qualifier
    # Then the simulated account is refused, naming the field
    with pytest.raises(ValueError, match=r"requests_per_second"):
        LiveTrafficSpec(requests_per_second=0)
    with pytest.raises(ValueError, match="qualifier"):
        LiveTrafficSpec(requests_per_second=1, qualifier="not an alias")


# -- what discovery reads to decide whether $LATEST is live ---------------------------------------------


def evidence_for(function: SimulatedFunction):
    from autotuner_core.documents.request import parse_target
    from autotuner_core.measuring.live_traffic import find_live_traffic

    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        ref = parse_target(function.name, partition="aws", region="us-east-1", account="123456789012")
        return find_live_traffic(aws.client("lambda"), aws.client("cloudwatch"), ref)


def idle(**fields) -> SimulatedFunction:
    return SimulatedFunction(name="orders-api", memory_size=1024, tags=TAGS, **fields)


@pytest.mark.parametrize(
    ("fields", "source"),
    [
        ({"event_source_mappings": [EventSourceMappingSpec()]}, "event source mapping"),
        ({"function_url": FunctionUrlSpec()}, "function URL"),
        (
            {"invoke_permissions": [InvokePermissionSpec(principal="apigateway.amazonaws.com")]},
            "apigateway.amazonaws.com",
        ),
        ({"recent_invocations": 1200}, "1200 invocations of the unqualified function"),
    ],
    ids=["event-source-mapping", "function-url", "resource-policy", "recent-invocations"],
)
def test_each_way_production_reaches_latest_is_evidence_of_live_traffic(fields: dict, source: str):
    # Given an otherwise idle function with one route from production to $LATEST
    # When discovery looks for live traffic
    evidence = evidence_for(idle(**fields))
    # Then it is live, and the evidence names the route
    assert evidence.live
    assert any(source in text for text in evidence.sources), evidence.sources


def test_routes_to_an_alias_or_a_disabled_mapping_leave_latest_idle():
    # Given triggers that all run a published version through an alias, and a disabled mapping
    function = idle(
        aliases=["live"],
        event_source_mappings=[EventSourceMappingSpec(qualifier="live"), EventSourceMappingSpec(enabled=False)],
        invoke_permissions=[InvokePermissionSpec(principal="s3.amazonaws.com", qualifier="live")],
    )
    # When discovery looks for live traffic
    evidence = evidence_for(function)
    # Then $LATEST is idle: measuring it on versions touches no production request
    assert not evidence.live
    assert evidence.sources == []
    assert evidence.recent_invocations == 0


def test_discovery_reads_a_days_traffic_of_every_qualifier_and_the_sweep_weighs_savings_by_it():
    # Given an idle $LATEST whose CloudWatch shows 1,200 unqualified invocations in the last day,
    # and a function whose users reach it only through its alias "live" (5 requests/s)
    assert evidence_for(idle(recent_invocations=1200)).daily_invocations == 1200
    aliased = live_function(aliases=["live"], qualifier="live")
    evidence = evidence_for(aliased)
    # When discovery reads its traffic
    # Then $LATEST is idle, and the day's traffic counts the alias's requests too
    assert not evidence.live
    assert evidence.daily_invocations == 5 * 3600 * 24
    # And an idle function with no history has no traffic, which is known, not unknown
    assert evidence_for(idle()).daily_invocations == 0


def test_an_applied_change_reports_its_savings_per_day_from_the_functions_traffic():
    # Given a function at 1,024 MB reached through its alias "live" at 5 requests/s
    function = live_function(aliases=["live"], qualifier="live")
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        # When a measured run applies the cheapest size
        report = aws.run({"targets": ["orders-api"], "invocations": 5, "apply": True, "refine": False})
    # Then the summary gives its savings per million and per day, weighted by that day's traffic
    assert report.status == "SUCCEEDED", report.cause
    (row,) = report.output["savings"]
    assert row["outcome"] == "APPLIED" and row["memoryAfter"] < 1024
    # (the day before the run, and the requests the run itself saw before discovery read it)
    assert 5 * 3600 * 24 <= row["dailyInvocations"] < 5 * 3600 * 24 + 1_000
    assert row["savingsPerDayUsd"] == pytest.approx(row["savingsPerMillionUsd"] * row["dailyInvocations"] / 1e6)
    assert report.output["projectedSavingsPerDayUsd"] == pytest.approx(row["savingsPerDayUsd"])
    assert report.output["projectedSavingsPerMonthUsd"] == pytest.approx(row["savingsPerDayUsd"] * 730 / 24)


# -- aliases on $LATEST and mappings on a qualified $LATEST ------------------------------------------------


def latest_alias_function(**traffic) -> SimulatedFunction:
    """Users reach the function only through a mapping on alias "prod", which points at $LATEST itself."""
    return SimulatedFunction(
        name="orders-api",
        memory_size=1024,
        timeout=30,
        architecture="arm64",
        tags=TAGS,
        latest_aliases=["prod"],
        event_source_mappings=[EventSourceMappingSpec(qualifier="prod")],
        profile=FunctionProfile(preset="io-bound", seed=3),
        live_traffic=LiveTrafficSpec(requests_per_second=5, qualifier="prod"),
    )


def test_a_mapping_on_an_alias_that_points_at_latest_is_live_and_refused_before_any_change():
    # Given a function whose only trigger is a mapping on alias "prod", and "prod" points at $LATEST
    with EmbeddedAws(SimulatedAccount(functions=[latest_alias_function()])) as aws:
        # When a dry run would measure it on versions (moving $LATEST through the candidate sizes)
        report = aws.run({"targets": ["orders-api"], "invocations": 5, "memorySizes": [256, 1024]})
    # Then discovery refuses it, naming the alias and the mapping on it, before any change
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    assert report.failed_state == "DiscoverResources"
    assert "alias prod points at $LATEST" in report.cause
    assert "event source mapping" in report.cause and ":prod" in report.cause
    assert report.mutating_calls == []
    # And production (through the alias, so on $LATEST) never ran at a candidate size
    assert set(report.live_invocations["orders-api"]) == {1024}
    assert report.live_invocations_at_candidate_sizes == 0


def test_a_target_live_through_an_alias_on_latest_is_measured_on_a_shadow_when_allowed():
    # Given the same function, and a deployment that allows shadows of its role
    parameters = {
        "StatusPollIntervalMs": "20",
        "MaxStatusWaitSeconds": "5",
        "ShadowRoleArns": "arn:aws:iam::123456789012:role/simulated-target-role",
    }
    account = SimulatedAccount(parameters=parameters, functions=[latest_alias_function()])
    with EmbeddedAws(account) as aws:
        # When a dry run measures it
        report = aws.run({"targets": ["orders-api"], "invocations": 5, "memorySizes": [256, 1024]})
    # Then it is measured on a shadow, the record names the evidence, and production stayed at its size
    assert report.status == "SUCCEEDED", report.cause
    (record,) = report.records
    assert record["liveTraffic"]["measuredOn"] == "shadow"
    assert any("alias prod points at $LATEST" in text for text in record["liveTraffic"]["sources"])
    assert set(report.live_invocations["orders-api"]) == {1024}
    assert report.live_invocations_at_candidate_sizes == 0


def test_a_mapping_on_the_qualified_latest_is_live_and_refused_before_any_change():
    # Given a function whose only trigger is a mapping on "orders-api:$LATEST"
    function = idle(event_source_mappings=[EventSourceMappingSpec(qualifier="$LATEST")])
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        # When a dry run would measure it on versions
        report = aws.run({"targets": ["orders-api"], "invocations": 5, "memorySizes": [256, 1024]})
    # Then discovery refuses it, naming the mapping, before any change
    assert report.status == "FAILED"
    assert report.error == "LiveTrafficError"
    assert "event source mapping" in report.cause and ":$LATEST" in report.cause
    assert report.mutating_calls == []
    (record,) = report.records
    assert record["errorType"] == "LiveTrafficError"


def test_an_alias_on_latest_is_evidence_even_with_no_trigger_on_it():
    # Given an alias that points at $LATEST, with no trigger on it
    function = idle(latest_aliases=["prod"])
    # When discovery looks for live traffic
    evidence = evidence_for(function)
    # Then it is live, naming the alias
    assert evidence.live
    assert any("alias prod points at $LATEST" in text for text in evidence.sources), evidence.sources


def test_an_alias_cannot_be_both_published_and_on_latest():
    # Given an alias named in both aliases and latestAliases
    # Then the simulated account is refused, naming the field
    with pytest.raises(ValueError, match="latest_aliases"):
        idle(aliases=["prod"], latest_aliases=["prod"])
