"""Progress for a person while ``autotuner start --wait`` follows a run: state lines and sweep bars."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from autotuner.runs.follow import FollowUpdate, MapRunProgress, StateEntered


@dataclass
class ProgressLog:
    """Progress lines for a person: one per state entered, and for a state entered many times
    between two polls (a Map's iterations: per target, per size), one line with the count.

    ``  12.3 s  TuneTargets/CheckCircuit x4 (12 in all)``: when the first of them was entered,
    how many this time, and how many so far.
    """

    totals: Counter[str] = field(default_factory=Counter)

    def lines(self, entered: list[StateEntered]) -> list[str]:
        batch: dict[str, list[StateEntered]] = {}
        for state in entered:
            batch.setdefault(state.path, []).append(state)
        lines = []
        for path, states in batch.items():
            self.totals[path] += len(states)
            line = f"{states[0].seconds:7.1f} s  {path}"
            if len(states) > 1:
                line += f" x{len(states)}"
            if self.totals[path] > len(states):
                line += f" ({self.totals[path]} in all)"
            lines.append(line)
        return lines


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}"


class FollowDisplay:
    """What ``autotuner start --wait`` shows: a line per state (``ProgressLog``) and a progress bar per sweep.

    The bar (rich) says how many of the sweep's children are done, how many failed, of how many,
    at what rate and with how much time left, from DescribeMapRun's counts. On a terminal it is
    redrawn in place below the state lines; elsewhere (a file, a pipe, a CI log) it is printed as
    a line whenever its counts change.
    """

    def __init__(self, stream: Any) -> None:
        self._console = Console(file=stream, markup=False, highlight=False, emoji=False)
        self._log = ProgressLog()
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}/{task.fields[all]} done, {task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("{task.fields[left]} left"),
            console=self._console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._shown: dict[str, tuple[int, int, int, str]] = {}
        self._live = False

    def show(self, update: FollowUpdate) -> None:
        # States entered after a sweep stopped (Summarize) follow its final bar.
        stops = [sweep.stopped_at for sweep in update.map_runs if sweep.stopped_at is not None]
        before = [state for state in update.states if not stops or state.seconds <= min(stops)]
        self._print(before)
        self._draw(update.map_runs)
        self._print(update.states[len(before) :])

    def _print(self, states: list[StateEntered]) -> None:
        for line in self._log.lines(states):
            self._console.print(line, soft_wrap=True)

    def _draw(self, sweeps: list[MapRunProgress]) -> None:
        for sweep in sweeps:
            fields = {
                "done": sweep.done,
                "all": sweep.total,
                "failed": sweep.failed,
                "rate": f"{sweep.rate:.1f}",
                "left": _clock(sweep.seconds_left),
            }
            task = self._tasks.get(sweep.map_run_arn)
            if task is None:
                task = self._bars.add_task(sweep.path, total=sweep.total, completed=sweep.done, **fields)
                self._tasks[sweep.map_run_arn] = task
            else:
                self._bars.update(task, total=sweep.total, completed=sweep.done, **fields)
            if self._console.is_terminal:
                if not self._live:
                    self._bars.start()
                    self._live = True
                continue
            counts = (sweep.done, sweep.failed, sweep.total, sweep.status)
            if self._shown.get(sweep.map_run_arn) != counts:
                self._shown[sweep.map_run_arn] = counts
                shown = [item for item in self._bars.tasks if item.id == task]
                self._console.print(self._bars.make_tasks_table(shown))

    def close(self) -> None:
        """Leave the bars as they ended (on a terminal, the live display stops)."""
        if self._live:
            self._bars.stop()
            self._live = False
