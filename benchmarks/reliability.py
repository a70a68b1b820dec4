"""Reliability under faults: executions of the real state machine while AWS misbehaves, and what they left.

Every execution runs on one embedded AWS (moto executing ``statemachine/autotuner.asl.json``,
the handlers in-process) with one fault kind armed — or several, in the ``mixed`` rows:

``throttling 10 %`` / ``throttling 30 %``
    that share of every AWS request (every service, every caller, the state machine's own Lambda
    invokes included) answered with the service's throttling code (``fault_gates.Throttling``;
    Step Functions' own S3 reads and writes of the Distributed Map's items are not throttled).
``5xx bursts``
    runs of 3-6 consecutive Lambda, DynamoDB and IAM requests answered with a 5xx.
``InProgress windows``
    each update stays ``InProgress`` for 0.2-0.4 s, and someone else's update is in progress
    (``ForeignUpdate``) when the tuner discovers, updates or publishes.
``ResourceConflict``
    ResourceConflictException on the first 1-3 UpdateFunctionConfiguration or PublishVersion calls.
``RevisionId race``
    someone else changes the function (its memory, timeout or description) between the tuner's
    discovery and its update: right before the updater's update, or the measurement's first or
    second change of ``$LATEST`` (``RevisionRace``).
``IAM propagation lag``
    the pre-flight simulation allows an action, the real call is denied (AccessDeniedException)
    the first 1-2 times a worker makes it.
``DynamoDB throttling``
    ProvisionedThroughputExceededException on the run-history and state tables (records,
    breaker, lease, idempotency), in bursts or on 30-50 % of the requests.
``target timeouts/OOM``
    the targets themselves run out of memory or time out at some of the measured sizes.
``worker timeout``
    a tuner function is cut off by its timeout right after a call (``workerTimeouts``): the
    updater after it applied the change, the measurement after it changed ``$LATEST``, the
    recorder after it wrote the record, ...
``mixed``
    two or three of the above at once.

Runs are single targets and sweeps of 2-3, measuring and fixed-memory, dry run and apply. After
each execution the suite checks what an operator would check, and counts what fails:

records lost        a target without exactly one run record for the execution (missing or duplicated)
false successes     the execution SUCCEEDED while a target's record says FAILED
orphans             a temporary alias (``autotuner-…``) left, a version the run published and no alias points to,
                    or a shadow copy of the target left after its execution
inconsistent $LATEST  memory neither the original (after anyone else's change) nor the recorded new one;
                    or timeout/description not as found
inconsistent breakers the state table's breaker disagrees with the recorded outcomes (a model of the
                    documented rules replays them), or a lease is still held after the execution
attempts over bound a Task state entered more often than its retriers allow, or an SDK call sent more
                    requests than the clients' retry budget (``attempt_bounds``)
liveAtCandidateSizes live requests of the targets' users that ran at a memory size other than the
                    original or the one the execution left (the run report's
                    ``liveInvocationsAtCandidateSizes``)

Every loss column must be 0. ``main(quick=True)`` is the seed-fixed subset the tests run.

With live traffic (``run_suite(live=True)``, ``--live``; the default run does a plain pass, then
a live pass of the subset), every target's users invoke it during each execution that targets it
(``LIVE_REQUESTS_PER_SECOND`` per AWS second): the first target of each kind unqualified, so its
requests run ``$LATEST`` as an API Gateway integration's do; the other two through their alias
``live``. The live pass's deployment allows shadows of the targets' role (``ShadowRoleArns``),
so a measured run on the first measures a shadow copy of it, under the same faults; the others
are measured on versions while their alias serves. Only the execution's own targets are driven:
nothing else changes size, and driving 36 functions at once would starve the run of CPU.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from benchmarks._goals import Goal, Result, judge
from benchmarks._reliability_checks import Suite, TaskBound, Verdict, attempt_bounds
from benchmarks._reliability_kinds import ASL_FILE, KINDS, SHAPES, FaultKind, simulated_account
from benchmarks._table import text_table
from emulator.cloud import EmbeddedAws

# ---------------------------------------------------------------------------------------------
# The suite and its table
# ---------------------------------------------------------------------------------------------

COLUMNS = (
    ("executions", "executions"),
    ("failed runs", "failed"),
    ("faults injected", "injected"),
    ("records lost", "records_lost"),
    ("false successes", "false_successes"),
    ("orphans", "orphans"),
    ("inconsistent $LATEST", "inconsistent_latest"),
    ("inconsistent breakers", "inconsistent_breakers"),
    ("attempts over bound", "over_bound"),
    ("live requests", "live_requests"),
    ("liveAtCandidateSizes", "live_at_candidate_sizes"),
)
LOSS_COLUMNS = (
    "records_lost",
    "false_successes",
    "orphans",
    "inconsistent_latest",
    "inconsistent_breakers",
    "over_bound",
    "live_at_candidate_sizes",
)


def run_suite(
    *,
    quick: bool,
    seed: int = 6,
    kinds: Iterable[FaultKind] = KINDS,
    progress: Callable[[str], None] | None = None,
    live: bool = False,
    per_kind: int | None = None,
) -> list[Verdict]:
    """Run every kind's executions (``quick``: the subset) on one embedded AWS; a verdict per execution.

    ``live``: the targets' users invoke them during each execution (see the module docstring).
    ``per_kind``: at most this many executions of each kind.
    """
    kinds = list(kinds)
    rng = random.Random(seed)
    verdicts: list[Verdict] = []
    with EmbeddedAws(simulated_account(kinds, live=live)) as aws:
        suite = Suite(aws, attempt_bounds(json.loads(ASL_FILE.read_text())))
        for position, kind in enumerate(kinds):
            count = kind.quick if quick else kind.executions
            count = count if per_kind is None else min(count, per_kind)
            for index in range(count):
                # Each kind starts its cycle of shapes elsewhere, so a short subset still has every shape.
                shape = SHAPES[kind.shapes[(index + position) % len(kind.shapes)]]
                verdict = suite.execute(kind, shape, random.Random(rng.randrange(1 << 30)))
                verdicts.append(verdict)
                if progress:
                    progress(
                        f"{kind.name:20} {shape.name:21} {verdict.status:9} {verdict.error or '-':24} "
                        f"{verdict.failed_state or '-':20} {verdict.seconds:5.1f}s {' '.join(verdict.outcomes)} "
                        f"| {'; '.join(verdict.labels)}"
                        + "".join(f"\n    LOSS {problem}" for problem in verdict.problems)
                    )
    return verdicts


def table(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for verdict in verdicts:
        row = rows.setdefault(verdict.kind, {"kind": verdict.kind} | {key: 0 for _, key in COLUMNS})
        row["executions"] += 1
        row["failed"] += verdict.status != "SUCCEEDED"
        row["injected"] += verdict.injected
        row["live_requests"] += verdict.live_requests
        for key in LOSS_COLUMNS:
            row[key] += getattr(verdict, key)
    total = {"kind": "total"} | {key: sum(row[key] for row in rows.values()) for _, key in COLUMNS}
    return [*rows.values(), total]


def format_table(rows: list[dict[str, Any]]) -> str:
    headers = ["fault kind", *(title for title, _ in COLUMNS)]
    cells = [[str(row["kind"]), *(str(row[key]) for _, key in COLUMNS)] for row in rows]
    lines = text_table([headers, *cells], right=set(range(1, len(headers))))
    if cells and cells[-1][0] == "total":  # a rule above the total, as above the rows
        lines.insert(-1, lines[1])
    return "\n".join(lines)


def format_bounds(bounds: dict[str, TaskBound]) -> str:
    lines = ["state                     attempts  x SDK  = requests/call  max waits s  max seconds"]
    for bound in bounds.values():
        lines.append(
            f"{bound.state:24} {bound.attempts:9}  {bound.sdk_attempts:5}  {bound.requests_per_call:15}  "
            f"{bound.wait_seconds:11.0f}  {bound.seconds:11.0f}"
        )
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]], *, live: bool) -> list[str]:
    """The goal, stated: every loss column 0, the live-traffic one included; FAIL names the columns that are not."""
    total = rows[-1]
    lines = []
    if live:
        lines.append(
            f"liveAtCandidateSizes: {total['live_at_candidate_sizes']} of {total['live_requests']} live requests "
            "ran at a candidate size (must be 0)"
        )
    failing = [key for key in LOSS_COLUMNS if total[key]]
    lines.append(f"FAIL: {', '.join(failing)} not 0" if failing else "every loss column is 0")
    return lines


def main(quick: bool = False, argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(prog="python -m benchmarks reliability", description=__doc__.split("\n")[0])
    passes = parser.add_mutually_exclusive_group()
    passes.add_argument("--live", action="store_true", help="only the pass with live traffic on every target")
    passes.add_argument("--no-live", action="store_true", help="only the pass without live traffic")
    args = parser.parse_args(argv or [])
    started = time.monotonic()

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    goals: list[Goal] = []
    tables: dict[str, str] = {}
    # The plain pass at the requested size; the live pass is the subset unless asked for alone.
    plans = [(False, quick)] if args.no_live else [(True, quick)] if args.live else [(False, quick), (True, True)]
    for live, subset in plans:
        verdicts = run_suite(quick=subset, progress=progress, live=live)
        rows = table(verdicts)
        title = "with live traffic on every target" if live else "without live traffic"
        print(f"{'subset' if subset else 'full suite'} {title}:")
        text = format_table(rows)
        print(text)
        for line in summary(rows, live=live):
            print(line)
        print()
        what = f"{'subset' if subset else 'full suite'} {title}"
        tables["live" if live else "plain"] = "\n".join([f"{what}:", text, *summary(rows, live=live)])
        goals.append(loss_goal(rows, what))
    print("attempt bound per Task state (attempt_bounds: ASL retriers x clients.py total_max_attempts):")
    tables["bounds"] = format_bounds(attempt_bounds(json.loads(ASL_FILE.read_text())))
    print(tables["bounds"])
    print(f"\nexecutions in {time.monotonic() - started:.0f} s")
    return Result(goals=goals, tables=tables)


def loss_goal(rows: list[dict[str, Any]], what: str) -> Goal:
    """The suite's goal on one pass: every loss column of its total row is 0."""
    total = rows[-1]
    failing = [key for key in LOSS_COLUMNS if total[key]]
    return judge(
        f"every loss column 0, {what}",
        f"{sum(total[key] for key in LOSS_COLUMNS)} losses in {total['executions']} executions",
        "0 in each column, over at least one execution",
        not failing and total["executions"] > 0,
        ", ".join(f"{key} {total[key]}" for key in failing) or "no execution ran",
    )
