"""Following a run without AWS: autotuner.runs' progress log, history follower and sweep display on scripted histories.

(`autotuner start` and `autotuner report` on the embedded AWS: test_start_report.py.)
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from autotuner.runs import ExecutionFollower, FollowDisplay, MapRunProgress, ProgressLog, RunFollower, StateEntered

# --- progress (no AWS) ---------------------------------------------------------------------------


def test_progress_collapses_a_states_repeats_between_polls_into_a_count() -> None:
    # Given four targets' CheckCircuit entered between two polls, then two more
    log = ProgressLog()
    first = [
        StateEntered(0.4, "TuneTargets"),
        *(StateEntered(0.5 + i / 10, "TuneTargets/CheckCircuit") for i in range(4)),
    ]
    # When each poll's states are turned into lines
    # Then one line per state, with the count this time and so far
    assert log.lines(first) == ["    0.4 s  TuneTargets", "    0.5 s  TuneTargets/CheckCircuit x4"]
    assert log.lines([StateEntered(3.0, "TuneTargets/CheckCircuit")] * 2) == [
        "    3.0 s  TuneTargets/CheckCircuit x2 (6 in all)"
    ]
    assert log.lines([]) == []


class PagedHistory:
    """GetExecutionHistory as AWS pages it (nextToken), over a history that grows between polls."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.events: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []

    def get_execution_history(self, executionArn: str, maxResults: int, nextToken: str | None = None) -> Any:
        self.tokens.append(nextToken)
        start = int(nextToken or 0)
        page = {"events": self.events[start : start + self.page_size]}
        if start + self.page_size < len(self.events):
            page["nextToken"] = str(start + self.page_size)
        return page


def event(history: PagedHistory, previous: int, kind: str, name: str | None = None) -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    item: dict[str, Any] = {
        "id": len(history.events) + 1,
        "previousEventId": previous,
        "type": kind,
        "timestamp": started + timedelta(seconds=len(history.events)),
    }
    if name:
        item["stateEnteredEventDetails"] = {"name": name}
    history.events.append(item)


def test_the_follower_reads_only_new_pages_and_names_the_maps_around_each_state() -> None:
    # Given a history paged two events at a time, where a Map ends as AWS writes it (Exited after Succeeded)
    history = PagedHistory(page_size=2)
    follower = ExecutionFollower(history, "arn", datetime(2026, 1, 1, tzinfo=UTC))
    event(history, 0, "ExecutionStarted")
    event(history, 1, "MapStateEntered", "TuneTargets")
    event(history, 2, "MapStateStarted")
    event(history, 3, "MapIterationStarted")
    event(history, 4, "TaskStateEntered", "CheckCircuit")
    # When it polls, and polls again after the history has grown
    first = follower.poll()
    tokens_before = len(history.tokens)
    event(history, 5, "TaskStateExited")
    event(history, 6, "MapIterationSucceeded")
    event(history, 7, "MapStateSucceeded")
    event(history, 8, "MapStateExited")
    event(history, 9, "TaskStateEntered", "Summarize")
    second = follower.poll()
    # Then each state is reported once, under the Maps around it, with its time since the start
    assert first == [StateEntered(1.0, "TuneTargets"), StateEntered(4.0, "TuneTargets/CheckCircuit")]
    assert second == [StateEntered(9.0, "Summarize")]
    # And the second poll started from the last page already read, not from the first
    assert history.tokens[tokens_before] == "4"


# --- following a map run (no AWS) --------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class MapRunAccount:
    """A parent whose history starts a map run, and the map run's DescribeMapRun / children as they move on."""

    def __init__(self, items: int) -> None:
        self.parent = PagedHistory(page_size=100)
        event(self.parent, 0, "ExecutionStarted")
        event(self.parent, 1, "MapStateEntered", "TuneTargets")
        event(self.parent, 2, "MapStateStarted")
        self.parent.events.append(
            {
                "id": 4,
                "previousEventId": 3,
                "type": "MapRunStarted",
                "timestamp": T0 + timedelta(seconds=3),
                "mapRunStartedEventDetails": {"mapRunArn": "maprun-1"},
            }
        )
        self.items = items
        self.counts = {"total": items, "pending": items, "running": 0, "succeeded": 0, "failed": 0}
        self.status = "RUNNING"
        self.stop: datetime | None = None
        self.child = PagedHistory(page_size=100)
        self.asked: list[str] = []

    def get_paginator(self, operation: str) -> Any:
        account = self

        class Pages:
            def paginate(self, **request: Any) -> Any:
                account.asked.append(operation)
                if operation == "list_executions":
                    assert request == {"mapRunArn": "maprun-1"}
                    return [{"executions": [{"executionArn": "child-1", "startDate": T0}]}]
                raise AssertionError(operation)

        return Pages()

    def get_execution_history(self, executionArn: str, **request: Any) -> Any:
        return (self.child if executionArn == "child-1" else self.parent).get_execution_history(executionArn, **request)

    def describe_map_run(self, mapRunArn: str) -> Any:
        self.asked.append("describe_map_run")
        answer = {
            "mapRunArn": mapRunArn,
            "status": self.status,
            "startDate": T0 + timedelta(seconds=3),
            "itemCounts": dict(self.counts),
            "executionCounts": dict(self.counts),
        }
        if self.stop is not None:
            answer["stopDate"] = self.stop
        return answer


def test_a_map_run_over_one_item_is_followed_into_its_child_execution() -> None:
    # Given a map run over one item whose child has entered two states
    account = MapRunAccount(items=1)
    event(account.child, 0, "ExecutionStarted")
    event(account.child, 1, "TaskStateEntered", "CheckCircuit")
    event(account.child, 2, "TaskStateExited")
    event(account.child, 3, "TaskStateEntered", "DiscoverResources")
    follower = RunFollower(account, "parent", T0)
    # When the run is polled
    update = follower.poll()
    # Then the child's states are named under the Map and come after it, and no bar is drawn
    assert [state.path for state in update.states] == [
        "TuneTargets",
        "TuneTargets/CheckCircuit",
        "TuneTargets/DiscoverResources",
    ]
    assert update.map_runs == []
    assert "list_executions" in account.asked


def test_a_sweeps_bar_counts_done_failed_total_rate_and_time_left() -> None:
    # Given a map run over four items, one done and one failed 10 s after it started
    account = MapRunAccount(items=4)
    account.counts.update(pending=1, running=1, succeeded=1, failed=1)
    follower = RunFollower(account, "parent", T0)
    update = follower.poll()
    (sweep,) = update.map_runs
    # Then the children are counted, not listed or read
    assert "list_executions" not in account.asked
    assert (sweep.path, sweep.done, sweep.failed, sweep.total) == ("TuneTargets", 2, 1, 4)
    # And with the clock 10 s into the map run: 0.2 children a second, 10 s left for the other two
    later = MapRunProgress.of(
        account.describe_map_run("maprun-1"), "TuneTargets", execution_started=T0, now=T0 + timedelta(seconds=13)
    )
    assert (later.rate, later.seconds_left) == (0.2, 10.0)


def test_the_display_draws_a_sweep_as_a_bar_line_per_change_and_summarize_after_it() -> None:
    # Given a sweep of four that ends, then Summarize
    account = MapRunAccount(items=4)
    follower = RunFollower(account, "parent", T0)
    stream = io.StringIO()
    display = FollowDisplay(stream)
    display.show(follower.poll())
    display.show(follower.poll())  # nothing changed: no new line
    account.counts.update(pending=0, succeeded=3, failed=1)
    account.status, account.stop = "SUCCEEDED", T0 + timedelta(seconds=5)  # 2 s after its start
    event(account.parent, 4, "MapRunSucceeded")
    event(account.parent, 5, "MapStateSucceeded")
    event(account.parent, 6, "MapStateExited")
    event(account.parent, 7, "TaskStateEntered", "Summarize")
    display.show(follower.poll())
    display.close()
    lines = stream.getvalue().splitlines()
    # Then: the Map's line, its bar at 0/4, the final bar at 4/4 with one failed, then Summarize
    assert lines[0] == "    1.0 s  TuneTargets"
    assert re.fullmatch(r"TuneTargets +━* 0/4 done, 0 failed +0\.0/s +-:--:-- left", lines[1].rstrip())
    assert re.fullmatch(r"TuneTargets +━+ 4/4 done, 1 failed +2\.0/s +0:00:00 left", lines[2].rstrip())
    assert lines[3:] == ["    7.0 s  Summarize"]
    # And the map run is not asked about again once it has stopped
    asked = account.asked.count("describe_map_run")
    display.show(follower.poll())
    assert account.asked.count("describe_map_run") == asked
