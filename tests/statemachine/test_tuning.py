"""The tuning engine executed on the embedded AWS: measure, analyse, clean up, apply.

Targets are simulated functions (emulator/simulated_function.py) whose REPORT lines
follow documented Lambda behaviour; the state machine is the real ASL.
"""

from __future__ import annotations

from autotuner_core.cost import run_cost
from emulator.account import Fault, FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.simulated_function import PROFILES, expected_duration_ms

TAGS = {"autotune": "enabled"}


def function(name: str = "worker", preset: str = "cpu-bound", memory: int = 512, **profile) -> SimulatedFunction:
    return SimulatedFunction(
        name=name,
        memory_size=memory,
        timeout=120,
        architecture="arm64",
        tags=TAGS,
        profile=FunctionProfile(preset=preset, **profile),
    )


def regret_pct(profile: FunctionProfile, memory: int, strategy: str) -> float:
    """How much slower (speed) or costlier (cost) ``memory`` is than the true optimum over 128-3,008 MB."""

    def objective(size: int) -> float:
        duration = expected_duration_ms(profile, size)
        return duration if strategy == "speed" else duration * size

    best = min(objective(size) for size in range(128, 3009, 64))
    return (objective(memory) / best - 1) * 100


def leftovers(aws: EmbeddedAws, name: str) -> tuple[list[str], list[str]]:
    """Aliases and published versions the function has (it starts with none)."""
    lam = aws.client("lambda")
    aliases = [alias["Name"] for alias in lam.list_aliases(FunctionName=name)["Aliases"]]
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    return aliases, [version for version in versions if version != "$LATEST"]


def test_measures_adaptively_recommends_and_leaves_nothing_behind_in_a_dry_run():
    # Given a CPU-bound function at 512 MB
    with EmbeddedAws(SimulatedAccount(functions=[function()])) as aws:
        # When a dry run tunes it over the standard range (128 to 3,008 MB)
        report = aws.run({"targets": ["worker"], "invocations": 5, "strategy": "speed"})
        config = aws.function_configuration("worker")
        aliases, versions = leftovers(aws, "worker")
    # Then it succeeds with a recommendation and a table of every measured size
    assert report.status == "SUCCEEDED"
    (outcome,) = report.output["outcomes"]
    assert outcome["outcome"] == "RECOMMENDED"
    measured = [row["memorySize"] for row in outcome["configurations"]]
    assert 512 in measured and all(128 <= size <= 3008 for size in measured)
    # And it spent at most the engine's budget (3 x invocations), far less than the 7 standard sizes x 5
    assert sum(row["invocations"] for row in outcome["configurations"]) <= 3 * 5
    assert outcome["recommendation"]["strategy"] == "speed"
    # And the size it recommends is within 10 % of the fastest over the whole range (single-threaded:
    # no faster above one vCPU, 1,769 MB)
    assert regret_pct(PROFILES["cpu-bound"], outcome["recommendation"]["memorySize"], "speed") <= 10
    # And the function is exactly as it was: memory, description, no temporary versions or aliases
    assert config["MemorySize"] == 512
    assert (aliases, versions) == ([], [])
    # And the record carries the table and the recommendation
    (record,) = report.records
    assert record["recommendation"]["memorySize"] == outcome["recommendation"]["memorySize"]
    assert len(record["configurations"]) == len(measured)


def test_out_of_memory_sizes_are_excluded_with_the_reason_and_the_run_goes_on():
    # Given a function that needs about 460 MB
    with EmbeddedAws(SimulatedAccount(functions=[function(preset="memory-hungry", memory=1024)])) as aws:
        report = aws.run({"targets": ["worker"], "memorySizes": [128, 256, 512, 1024], "invocations": 5})
    assert report.status == "SUCCEEDED"
    rows = {row["memorySize"]: row for row in report.output["outcomes"][0]["configurations"]}
    # Then the sizes below its floor are excluded, naming the error, and the winner is one that fits
    for size in (128, 256):
        assert "Runtime.OutOfMemory" in rows[size]["excluded"]
    assert "excluded" not in rows[512]
    # (the engine may choose a size between the listed ones: the Max Memory Used seen plus 5 %)
    chosen = report.output["outcomes"][0]["recommendation"]["memorySize"]
    assert chosen >= 460
    assert "excluded" not in rows[chosen]


def test_a_size_over_the_account_quota_is_excluded_and_the_others_are_measured():
    with EmbeddedAws(SimulatedAccount(functions=[function(preset="io-bound")])) as aws:
        # A speed tuning's first round spans the whole range, up to the 4,096 MB the quota refuses
        run_input = {"targets": ["worker"], "memorySizes": [256, 1024, 4096], "invocations": 5, "strategy": "speed"}
        report = aws.run(run_input)
        aliases, versions = leftovers(aws, "worker")
    assert report.status == "SUCCEEDED"
    outcome = report.output["outcomes"][0]
    rows = {row["memorySize"]: row for row in outcome["configurations"]}
    assert "3008" in rows[4096]["excluded"]
    assert all(row["invocations"] >= 2 for size, row in rows.items() if size != 4096)
    assert outcome["recommendation"]["memorySize"] <= 3008
    assert (aliases, versions) == ([], [])


def test_a_measurement_failure_leaves_the_function_exactly_as_found():
    # Given invoking the candidates is denied (a permanent error) while measuring
    fault = Fault(
        service="lambda",
        action="Invoke",
        code="AccessDeniedException",
        status=403,
        times=1000,
        caller="MeasureConfigurationFunction",
    )
    with EmbeddedAws(SimulatedAccount(functions=[function()], faults=[fault])) as aws:
        report = aws.run({"targets": ["worker"], "invocations": 5, "apply": True})
        config = aws.function_configuration("worker")
        aliases, versions = leftovers(aws, "worker")
    # Then the run fails with the measurement's error, after cleaning up
    assert report.status == "FAILED"
    assert report.error == "PermissionDeniedError"
    assert "CleanupAfterFailure" in report.states_entered
    # And $LATEST has its original memory, and no temporary version or alias is left
    assert config["MemorySize"] == 512
    assert (aliases, versions) == ([], [])
    # And the failure is recorded at the measurement stage, with what clean-up removed
    (record,) = report.records
    assert record["failedStage"] == "MeasureConfigurations"
    # (the engine's first round: four sizes)
    assert record["cleanup"]["aliasesDeleted"] >= 4
    assert record["cleanup"]["versionsDeleted"] >= 4
    assert "lambda:UpdateFunctionConfiguration" not in [
        call.call for call in aws.interceptor.log.calls if call.caller == "UpdateConfigurationFunction"
    ]


def test_apply_with_alias_points_the_alias_at_a_version_with_the_new_memory():
    with EmbeddedAws(SimulatedAccount(functions=[function(preset="io-bound", memory=2048)])) as aws:
        # When the run applies the cheapest size and moves alias "live"
        report = aws.run({"targets": ["worker"], "invocations": 5, "apply": True, "alias": "live"})
        lam = aws.client("lambda")
        alias = lam.get_alias(FunctionName="worker", Name="live")
        version = lam.get_function_configuration(FunctionName="worker", Qualifier=alias["FunctionVersion"])
        latest = lam.get_function_configuration(FunctionName="worker")
        aliases, _ = leftovers(aws, "worker")
    # Then $LATEST and the alias's version both have the recommended memory, below the old 2048 MB
    assert report.status == "SUCCEEDED"
    chosen = report.output["outcomes"][0]["recommendation"]["memorySize"]
    assert chosen < 2048
    assert latest["MemorySize"] == chosen
    assert version["MemorySize"] == chosen
    # And only the user's alias remains
    assert aliases == ["live"]
    assert report.records[0]["alias"] == "live"


def test_the_measuring_loop_runs_the_engines_rounds_and_counts_them():
    with EmbeddedAws(SimulatedAccount(functions=[function(preset="memory-hungry", memory=1024)])) as aws:
        report = aws.run({"targets": ["worker"], "memorySizes": [128, 256, 512, 1024, 1536, 3008], "invocations": 5})
        callers = [call.caller for call in aws.interceptor.log.calls]
    outcome = report.output["outcomes"][0]
    measured = [row["memorySize"] for row in outcome["configurations"]]
    # Then the sizes measured after the engine's first round are reported as such
    first = {size for size in measured if size not in (outcome.get("refinedSizes") or [])}
    assert len(first) == 4
    # And each round is one pass of the measuring loop: the planner's step ran once (the first
    # round; the measuring step plans the others), Prepare and Measure once a round, the decision once
    attempts = report.task_attempts
    assert attempts["PlanMeasurements"] == 1
    assert attempts["MeasureConfigurations"] == attempts["PrepareMeasurement"] >= 2
    assert attempts["ChooseConfiguration"] == 1
    # And neither the planner nor the decision called any AWS API
    assert "PrepareMeasurementFunction" in callers
    assert not {"PlanMeasurementsFunction", "ChooseConfigurationFunction"} & set(callers)
    # And the run's own cost counts exactly the transitions the execution history shows, within the estimate
    cost = report.output["runCost"]
    assert cost["counted"]["stateTransitions"] == report.state_transitions
    assert cost["estimated"]["stateTransitions"] >= report.state_transitions
    assert cost["counted"]["targetInvocations"] == sum(row["invocations"] for row in outcome["configurations"])
    # And the target's run record keeps what tuning it cost: all of the run's but the run's own states
    # (Prepare to Summarize) and its two own tuner invocations
    (record,) = report.records
    mine = record["cost"]
    assert mine["stateTransitions"] == report.state_transitions - run_cost.RUN_TRANSITIONS
    assert mine["targetInvocations"] == cost["counted"]["targetInvocations"]
    assert mine["tunerInvocations"] == cost["counted"]["tunerInvocations"] - run_cost.RUN_TUNER_INVOCATIONS
    assert mine["controlPlaneCalls"] == cost["counted"]["controlPlaneCalls"] > 0
    assert 0 < mine["totalUsd"] < cost["counted"]["totalUsd"]


def test_only_cold_starts_measures_every_invocation_on_a_fresh_environment():
    with EmbeddedAws(SimulatedAccount(functions=[function(preset="light")])) as aws:
        report = aws.run(
            {
                "targets": ["worker"],
                "memorySizes": [256, 512],
                "invocations": 5,
                "onlyColdStarts": True,
                "refine": False,
            }
        )
        aliases, versions = leftovers(aws, "worker")
    assert report.status == "SUCCEEDED"
    rows = report.output["outcomes"][0]["configurations"]
    assert {row["memorySize"] for row in rows} == {256, 512}
    for row in rows:
        assert row["invocations"] >= 2 and (row["coldStarts"], row["coldStartShare"]) == (row["invocations"], 1.0)
    # And the one-version-per-invocation copies are all gone again
    assert (aliases, versions) == ([], [])


def test_json_log_format_and_parallel_invocations_are_measured_like_text_logs():
    target = function(preset="light", log_format="JSON")
    with EmbeddedAws(SimulatedAccount(functions=[target])) as aws:
        report = aws.run(
            {"targets": ["worker"], "memorySizes": [256, 1024], "invocations": 8, "parallelInvocation": True}
        )
    assert report.status == "SUCCEEDED"
    rows = report.output["outcomes"][0]["configurations"]
    assert all(row["invocations"] >= 2 and row["meanMs"] > 0 for row in rows)
    # Concurrent invocations need several environments, so more than one cold start per size
    assert max(row["coldStarts"] for row in rows) > 1


def test_allowed_exceptions_count_as_results_and_other_errors_exclude_the_size():
    # The engine measures a size twice at first: 0.05**2, a size without an error is rare
    flaky = function(preset="light", error_rate=0.95, error_type="OrderRejected")
    with EmbeddedAws(SimulatedAccount(functions=[flaky])) as aws:
        strict = aws.run({"targets": ["worker"], "memorySizes": [256, 512], "invocations": 10, "refine": False})
        tolerant = aws.run(
            {
                "targets": ["worker"],
                "memorySizes": [256, 512],
                "invocations": 10,
                "refine": False,
                "allowedExceptions": ["OrderRejected"],
            }
        )
    # Without allowedExceptions every size is excluded, so there is nothing to recommend
    assert strict.status == "FAILED"
    assert strict.error == "InvalidConfigurationError"
    assert "OrderRejected" in strict.cause
    # With it, the errors count as results and a size is chosen
    assert tolerant.status == "SUCCEEDED"
    assert all("excluded" not in row for row in tolerant.output["outcomes"][0]["configurations"])


def test_a_planner_that_never_says_done_stops_after_the_round_limit(monkeypatch):
    from autotuner_core.decision import engine

    # Given a planner that always asks for the current size once more
    def endless(request, current_memory_mb, observed, *, max_memory_mb):
        return [engine.SizeRequest(memory_size=current_memory_mb, invocations=5)]

    monkeypatch.setattr(engine, "next_round", endless)
    with EmbeddedAws(SimulatedAccount(functions=[function(memory=512)])) as aws:
        # When a dry run tunes the function
        report = aws.run({"targets": ["worker"], "invocations": 5})
        aliases, versions = leftovers(aws, "worker")

    # Then measuring stopped after MAX_ROUNDS rounds, each reusing the size prepared in the first
    assert report.status == "SUCCEEDED"
    rounds = engine.MAX_ROUNDS
    attempts = report.task_attempts
    assert (attempts["PlanMeasurements"], attempts["PrepareMeasurement"], attempts["MeasureConfigurations"]) == (
        1,
        rounds,
        rounds,
    )
    (row,) = report.output["outcomes"][0]["configurations"]
    assert (row["memorySize"], row["invocations"]) == (512, 5 * rounds)
    # And the run cost counts those rounds exactly as the execution history does
    assert report.output["runCost"]["counted"]["stateTransitions"] == report.state_transitions
    # And nothing is left behind
    assert (aliases, versions) == ([], [])


def test_below_min_improvement_an_apply_run_keeps_the_current_size_and_records_why():
    # Given an I/O-bound function at 2,048 MB, far above what it needs (smaller sizes are much cheaper)
    with EmbeddedAws(SimulatedAccount(functions=[function(preset="io-bound", memory=2048)])) as aws:
        # When an apply run asks for at least a 100 % improvement (more than any change can bring)
        run_input = {"targets": ["worker"], "memorySizes": [256, 1024], "invocations": 5, "apply": True}
        report = aws.run({**run_input, "minImprovement": 1})
        memory = aws.function_configuration("worker")["MemorySize"]
        updates = [
            call.call
            for call in aws.interceptor.log.calls
            if call.caller == "UpdateConfigurationFunction" and call.call == "lambda:UpdateFunctionConfiguration"
        ]

    # Then the current size is kept: no update, outcome UNCHANGED
    assert report.status == "SUCCEEDED"
    assert (memory, updates) == (2048, [])
    (record,) = report.records
    assert record["outcome"] == "UNCHANGED"
    # And the record says what was measured best, by how much, with its interval, and why it was not applied
    recommendation = record["recommendation"]
    assert recommendation["keptCurrent"] is True and recommendation["memorySize"] == 2048
    assert recommendation["bestMemorySize"] < 2048 and recommendation["costChangePct"] < 0
    low, high = recommendation["changeIntervalPct"]
    assert low <= recommendation["projectedChangePct"] <= high
    assert recommendation["confidence"] == 0.9 and "90 % CI" in recommendation["summary"]
    assert "below the minimum improvement of 100%" in recommendation["summary"]
