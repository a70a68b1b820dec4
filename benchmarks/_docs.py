"""``python -m benchmarks docs [--check]``: the docs' benchmark tables, rewritten from the latest results.

A table the docs quote sits between two markers::

    <!-- bench sweep/sweep: written by python -m benchmarks docs from results/bench/sweep.json -->
    Measured 2026-12-08 by `python -m benchmarks sweep` (1,234 s): results/bench/sweep.json.

    ```
    (the table, as the benchmark printed it)
    ```
    <!-- end bench sweep/sweep -->

``sweep/sweep`` names the benchmark and its table (``Result.tables``). ``bench goals`` is every
goal of every results file, failing first, each with the date its benchmark last ran. A block whose
results file (or table) is absent is left as it is, with the date it was last measured: only a run
writes new figures. ``--check`` changes nothing and exits 1 when a block would change.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _goals

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
GOALS_KEY = "goals"
BLOCK = re.compile(
    r"<!-- bench (?P<key>[\w/-]+): written by python -m benchmarks docs(?: from [^>]*)? -->\n"
    r"(?P<body>.*?)"
    r"<!-- end bench (?P=key) -->",
    re.DOTALL,
)
# The first line of a block: the date, the command and the source of its figures.
HEADER = re.compile(
    r"Measured (?P<date>\d{4}-\d{2}-\d{2}) by `(?P<command>python -m benchmarks[^`]*)`"
    r"(?: \((?P<note>[^)]*)\))?: (?P<source>results/bench/[\w-]+\.json|results/bench/\*\.json)\.$"
)


@dataclass(frozen=True)
class Block:
    path: Path
    key: str
    body: str

    @property
    def benchmark(self) -> str:
        return self.key.split("/")[0]

    @property
    def table(self) -> str:
        return self.key.split("/")[1] if "/" in self.key else ""


def blocks(paths: Iterable[Path] = DOCS) -> list[Block]:
    return [
        Block(path, match["key"], match["body"])
        for path in paths
        for match in BLOCK.finditer(path.read_text(encoding="utf-8"))
    ]


def header(document: dict[str, Any], *, source: str | None = None) -> str:
    date = document["generated"][:10]
    seconds = f" ({round(document['seconds']):,} s)" if document.get("seconds") is not None else ""
    return f"Measured {date} by `{document['command']}`{seconds}: {source or _source(document['benchmark'])}."


def _source(name: str) -> str:
    return f"results/bench/{name}.json"


def table_body(document: dict[str, Any], table: str) -> str:
    return f"{header(document)}\n\n```\n{document['tables'][table].rstrip()}\n```\n"


def goals_body(documents: list[dict[str, Any]]) -> str:
    """Every goal of every results file as one Markdown table, failing first; each row's date its run's."""
    goals = [
        (_goals.Goal(**{**goal, "benchmark": document["benchmark"]}), document["generated"][:10])
        for document in documents
        for goal in document["goals"]
    ]
    dates = sorted({date for _, date in goals})
    span = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else "never"
    commands = {document["benchmark"]: document["command"] for document in documents}
    lines = [
        f"Measured {span} by `python -m benchmarks` (each row: its run's date and command): results/bench/*.json.",
        "",
        "| status | benchmark | goal | value | limit | measured | reason |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {id(goal): index for index, (goal, _) in enumerate(goals)}
    for goal, date in sorted(goals, key=lambda item: (_goals.STATUSES.index(item[0].status), order[id(item[0])])):
        measured = f"{date}, `{commands[goal.benchmark]}`"
        cells = [goal.status, goal.benchmark, goal.name, goal.value, goal.limit, measured, goal.reason or "-"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def render(key: str, old_body: str, results: Path) -> tuple[str, str]:
    """The block's new body and what happened: ``written``, or ``kept: <why>`` (the old body)."""
    if key == GOALS_KEY:
        documents = [_goals.read(path) for path in sorted(results.glob("*.json"))]
        if not documents:
            return old_body, f"kept: no results in {results}"
        return goals_body(documents), "written"
    name, _, table = key.partition("/")
    path = results / f"{name}.json"
    if not path.exists():
        return old_body, f"kept: no {path.name} in {results}"
    document = _goals.read(path)
    if table not in document.get("tables", {}):
        return old_body, f"kept: {path.name} has no table {table!r}"
    return table_body(document, table), "written"


def rewrite(path: Path, results: Path) -> tuple[str, list[str]]:
    """The file's text with every block rendered, and one line per block saying what happened."""
    notes: list[str] = []

    def replace(match: re.Match[str]) -> str:
        body, note = render(match["key"], match["body"], results)
        notes.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {match['key']}: {note}")
        source = "results/bench/*.json" if match["key"] == GOALS_KEY else _source(match["key"].split("/")[0])
        return (
            f"<!-- bench {match['key']}: written by python -m benchmarks docs from {source} -->\n"
            f"{body}<!-- end bench {match['key']} -->"
        )

    return BLOCK.sub(replace, path.read_text(encoding="utf-8")), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks docs", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=_goals.RESULTS_DIR, help="the results files' folder")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block would change")
    args = parser.parse_args(argv or [])
    stale = []
    for path in DOCS:
        text, notes = rewrite(path, args.results)
        for note in notes:
            print(note)
        if text != path.read_text(encoding="utf-8"):
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"stale: {', '.join(str(path) for path in stale)}", file=sys.stderr)
        return 1
    return 0
