"""The benchmarks' one goal protocol: every benchmark's ``main`` returns a :class:`Result`.

A :class:`Goal` is what a benchmark judged: its name, the value it found, the limit it held the
value to, and one of three statuses: met, NOT met, or could not run (with the reason). A goal that
could not run is a failing goal: ``python -m benchmarks`` exits non-zero on it as on one not met.
:func:`summary` orders every goal of a run failing first, so the goal that failed is not one line
among hundreds. A Result also carries the tables the docs quote (``python -m benchmarks docs``
writes them from the results file, ``results/bench/<name>.json``) and the benchmark's raw data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._table import text_table

MET = "met"
NOT_MET = "NOT met"
COULD_NOT_RUN = "could not run"
STATUSES = (COULD_NOT_RUN, NOT_MET, MET)  # the summary's order: failing first
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results" / "bench"


@dataclass(frozen=True)
class Goal:
    name: str
    value: str
    limit: str
    status: str
    reason: str = ""  # why a goal is not met or could not run, in a sentence
    benchmark: str = ""  # set by the runner

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status: {self.status!r} is not one of {STATUSES}")

    @property
    def failing(self) -> bool:
        return self.status != MET


def judge(name: str, value: object, limit: str, met: bool, reason: str = "") -> Goal:
    """A goal the benchmark could run: met or not, by its own comparison of ``value`` with ``limit``."""
    return Goal(name=name, value=str(value), limit=limit, status=MET if met else NOT_MET, reason="" if met else reason)


def could_not_run(name: str, reason: str, limit: str = "") -> Goal:
    return Goal(name=name, value="-", limit=limit, status=COULD_NOT_RUN, reason=reason)


@dataclass
class Result:
    """What one benchmark run gives back: its goals, the tables the docs quote, and its raw data."""

    goals: list[Goal]
    tables: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def exit_code(goals: list[Goal]) -> int:
    """0 when every goal was met; 1 when one was not met or could not run, or when none was judged."""
    return 0 if goals and not any(goal.failing for goal in goals) else 1


def crashed(benchmark: str, error: BaseException) -> Result:
    """A benchmark that raised: one goal that could not run, naming the error, so the others still run."""
    reason = f"{type(error).__name__}: {error}".strip().rstrip(":")
    return Result(goals=[replace(could_not_run("the benchmark ran to the end", reason), benchmark=benchmark)])


def ordered(goals: list[Goal]) -> list[Goal]:
    """Could-not-run goals first, then those not met, then those met; within a status, in run order."""
    return sorted(goals, key=lambda goal: STATUSES.index(goal.status))


def summary(goals: list[Goal]) -> list[str]:
    """The closing lines of ``python -m benchmarks``: every goal judged, failing first, and a verdict."""
    if not goals:
        return ["goals: none judged (a benchmark run that judges nothing fails)"]
    rows = [["status", "benchmark", "goal", "value", "limit", "reason"]]
    rows += [[goal.status, goal.benchmark, goal.name, goal.value, goal.limit, goal.reason] for goal in ordered(goals)]
    failing = sum(goal.failing for goal in goals)
    counts = ", ".join(f"{sum(g.status == s for g in goals)} {s}" for s in STATUSES)
    verdict = f"{failing} of {len(goals)} goals failing" if failing else f"all {len(goals)} goals met"
    return [f"goals: {verdict} ({counts})", *text_table(rows, right=set())]


def write(
    name: str, result: Result, *, command: str, started: datetime, seconds: float, directory: Path = RESULTS_DIR
) -> Path:
    """``results/bench/<name>.json``: the run's date, command, goals, tables and data (the docs' source)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    document = {
        "benchmark": name,
        "generated": started.astimezone(UTC).isoformat(timespec="seconds"),
        "command": command,
        "seconds": round(seconds, 1),
        "goals": [asdict(goal) for goal in result.goals],
        "tables": result.tables,
        "data": result.data,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document
