"""Writes the parts of the state machine that follow from the error policy and its shape.

    python -m statemachine.build           rewrite them (from the repository root; make asl does this)
    python -m statemachine.build --check   exit 1, naming the stale files, if they are not up to date

(``python statemachine/build.py`` works as well: it imports this tree's layer, not an installed one.)

What is written, and from what:

- In ``statemachine/autotuner.asl.json``, every Task's ``Retry`` list and every ``Catch``'s
  ``ErrorEquals``, from ``autotuner_core.policy.errors`` (``retriers``, ``CAUGHT``).
- In ``docs/reliability.md``, the error policy's table (between its markers), from the same policy.
- ``autotuner_core/cost/transitions.py``: the state transitions of a run, of a fixed and of a measured
  target, and of a measuring round, counted by walking the ASL's paths. The Lambda layer does not
  ship ``statemachine/``, so the counts are committed as a module rather than read at run time.

The ASL is rewritten in place rather than generated from a second source file: it stays the one
file a reader (and SAM, the emulator and the tests) opens, with everything else in it — the
states, where each Catch leads and with which ResultPath, the timeouts — hand-written there. The
rewrite is idempotent; tests/statemachine/test_asl_fresh.py runs it in memory and fails when the
committed files differ.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This tree's policy, not an installed copy of the layer.
sys.path.insert(0, str(ROOT / "layers" / "common"))

from autotuner_core.policy import errors  # noqa: E402

ASL_PATH = ROOT / "statemachine" / "autotuner.asl.json"
TRANSITIONS_PATH = ROOT / "layers" / "common" / "autotuner_core" / "cost" / "transitions.py"
DOCS_PATH = ROOT / "docs" / "reliability.md"
TABLE_START = "<!-- error policy table: written by python -m statemachine.build from policy/errors.py -->"
TABLE_END = "<!-- end of the error policy table -->"

# The branch each Choice takes on the path being counted (a Choice not named here is not on it).
RUN_PATH = {"AnyTargets": "TuneTargets"}
FIXED_TARGET_PATH = {"Plan": "UpdateConfiguration"}
# No measuring round yet: PlanMeasurements plans the first, and MeasureMore finds measuring done.
MEASURED_TARGET_PATH = {"Plan": "PlanMeasurements", "MeasureMore": "CleanupMeasurement"}
# One measuring round: MeasureConfigurations measures every size of it and plans the next, in one Task.
ROUND_PATH = {"MeasureMore": "PrepareMeasurement"}
ROUND_LOOP = "MeasureMore"  # a measuring round starts and ends at this Choice


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, at any depth (Map processors, Parallel branches)."""
    for name, body in definition["States"].items():
        yield name, body
        for key in ("ItemProcessor", "Iterator"):
            if key in body:
                yield from states(body[key])
        for branch in body.get("Branches", []):
            yield from states(branch)


def _retry(retrier: errors.Retrier) -> dict[str, Any]:
    fields: dict[str, Any] = {"Comment": retrier.comment, "ErrorEquals": list(retrier.errors)}
    if retrier.interval_seconds is not None:
        fields["IntervalSeconds"] = retrier.interval_seconds
    if retrier.backoff_rate is not None:
        fields["BackoffRate"] = retrier.backoff_rate
    fields["MaxAttempts"] = retrier.max_attempts
    if retrier.max_delay_seconds is not None:
        fields["MaxDelaySeconds"] = retrier.max_delay_seconds
    if retrier.full_jitter:
        fields["JitterStrategy"] = "FULL"
    return fields


def with_policy(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every Task's Retry and every Catch's ErrorEquals written from the policy."""

    def rebuilt(name: str, body: dict[str, Any]) -> dict[str, Any]:
        task = body.get("Type") == "Task"
        retry = [_retry(r) for r in errors.retriers(name)]
        out: dict[str, Any] = {}
        for key, value in body.items():
            if task and key in ("Catch", "Next", "End") and "Retry" not in out:
                out["Retry"] = retry  # a Task without one gets it where the others have it
            if key == "Retry":
                value = retry
            elif key == "Catch":
                value = [{"ErrorEquals": list(errors.CAUGHT)} | _without(c, "ErrorEquals") for c in value]
            elif key in ("ItemProcessor", "Iterator"):
                value = with_policy(value)
            elif key == "Branches":
                value = [with_policy(branch) for branch in value]
            out[key] = value
        if task and "Retry" not in out:
            out["Retry"] = retry
        return out

    return {
        key: {name: rebuilt(name, body) for name, body in value.items()} if key == "States" else value
        for key, value in definition.items()
    }


def _without(fields: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != key}


def walk(scope: dict[str, Any], start: str, choices: dict[str, str], *, stop: str | None = None) -> list[str]:
    """The states a path visits from ``start`` (each visit is one transition) to its end, or until
    it comes back to ``stop``; each Choice takes the branch ``choices`` names for it."""
    states = scope["States"]
    visited: list[str] = []
    name: str | None = start
    while name is not None:
        body = states[name]
        visited.append(name)
        if body["Type"] == "Choice":
            branches = [choice["Next"] for choice in body["Choices"]] + [body["Default"]]
            if choices.get(name) not in branches:
                raise ValueError(f"{name}: the path names no branch of it among {branches}")
            name = choices[name]
        else:
            name = body.get("Next")
        if name is not None and name == stop:
            break
    return visited


def _processor(definition: dict[str, Any]) -> dict[str, Any]:
    (tune,) = [body for body in definition["States"].values() if body["Type"] == "Map"]
    return tune["ItemProcessor"]


def transitions(definition: dict[str, Any]) -> dict[str, list[str]]:
    """Constant name -> the states whose transitions it counts."""
    processor = _processor(definition)
    return {
        "RUN_TRANSITIONS": walk(definition, definition["StartAt"], RUN_PATH),
        "FIXED_TARGET_TRANSITIONS": walk(processor, processor["StartAt"], FIXED_TARGET_PATH),
        "MEASURED_TARGET_TRANSITIONS": walk(processor, processor["StartAt"], MEASURED_TARGET_PATH),
        "ROUND_TRANSITIONS": walk(processor, ROUND_LOOP, ROUND_PATH, stop=ROUND_LOOP),
    }


_TRANSITIONS_HEADER = '''"""State transitions of each path of statemachine/autotuner.asl.json, counted from it.

Written by ``python -m statemachine.build``; do not edit (tests/statemachine/test_asl_fresh.py fails when
it is stale). A measured target's count is for no measuring round; each round adds ROUND_TRANSITIONS.
"""
'''


def transitions_module(definition: dict[str, Any]) -> str:
    lines = [_TRANSITIONS_HEADER]
    for constant, states in transitions(definition).items():
        comment = textwrap.wrap(", ".join(states) + ".", width=100, initial_indent="# ", subsequent_indent="# ")
        lines += [*comment, f"{constant} = {len(states)}"]
    return "\n".join(lines) + "\n"


def _retried(retrier: errors.Retrier) -> str:
    return (
        f"after {retrier.interval_seconds} s, x{retrier.backoff_rate}, at most {retrier.max_attempts} retries "
        f"<= {retrier.max_delay_seconds} s apart, full jitter"
    )


def policy_table() -> str:
    """The error policy as a Markdown table, from the class tree and the retriers it gives."""
    ordinary = errors.retriers("")[0]
    patient = errors.MUST_COMPLETE_ATTEMPTS
    unknown = errors.retriers("")[2]
    once = f"{unknown.max_attempts} more attempt after {unknown.interval_seconds} s (full jitter)"
    rows = ["| error | policy | category | retried by the state machine | raised when |", "|---|---|---|---|---|"]

    def row(shown: str, names: tuple[str, ...], retried: str, when: str) -> None:
        policies = dict.fromkeys(errors.classify(name)[0].value for name in names)
        categories = dict.fromkeys(errors.classify(name)[1].value for name in names)
        rows.append(f"| {shown} | {' / '.join(policies)} | {' / '.join(categories)} | {retried} | {when} |")

    for cls in errors.ERROR_CLASSES.values():
        name = cls.__name__
        if cls.policy is errors.RetryPolicy.PERMANENT:
            retried = "never"
            if name == errors.PermissionDeniedError.__name__:
                retried += " (as transient in a step that must complete after pre-flight)"
        elif cls.policy is errors.RetryPolicy.TRANSIENT:
            retried = f"{_retried(ordinary)} ({patient} in a step that must complete)"
        else:
            retried = once
        when = " ".join((cls.__doc__ or "").split("\n\n")[0].split())
        row(f"`{name}`", (name,), retried, when)
    lambda_errors = ", ".join(f"`{name}`" for name in errors.LAMBDA_SERVICE_ERRORS)
    row(lambda_errors, errors.LAMBDA_SERVICE_ERRORS, "as the transient classes", "the Lambda service failed")
    timeouts = ", ".join(f"`{name}`" for name in errors.TIMEOUT_ERRORS)
    row(timeouts, errors.TIMEOUT_ERRORS, f"{once}; as transient in a step that must complete", "out of time")
    row("anything else (`Runtime.*`, ...)", ("",), once, "")
    steps = ", ".join(
        f"`{name}`" + ("" if step.role_proven else " (a denial stays permanent)")
        for name, step in errors.STEP_POLICIES.items()
        if step.must_complete
    )
    rows += ["", f"Steps that must complete (`errors.STEP_POLICIES`): {steps}."]
    return "\n".join(rows)


def docs_text(current: str) -> str:
    """docs/reliability.md with the table between its markers written again."""
    before, found, rest = current.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not (found and end):
        raise ValueError(f"{DOCS_PATH.name} lacks the markers {TABLE_START!r} ... {TABLE_END!r}")
    return f"{before}{TABLE_START}\n{policy_table()}\n{TABLE_END}{after}"


def asl_text(definition: dict[str, Any]) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    """Each written file and the text it should have, from the committed ASL and the policy."""
    source = json.loads(ASL_PATH.read_text())
    tasks = {name for name, body in states(source) if body["Type"] == "Task"}
    if unknown := sorted(set(errors.STEP_POLICIES) - tasks):
        raise ValueError(f"errors.STEP_POLICIES names {unknown}, which are not Task states of {ASL_PATH.name}")
    definition = with_policy(source)
    return {
        ASL_PATH: asl_text(definition),
        TRANSITIONS_PATH: transitions_module(definition),
        DOCS_PATH: docs_text(DOCS_PATH.read_text()),
    }


def stale() -> list[Path]:
    return [path for path, text in outputs().items() if not path.exists() or path.read_text() != text]


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        paths = stale()
        for path in paths:
            print(f"{path.relative_to(ROOT)} is stale: run python -m statemachine.build", file=sys.stderr)
        return 1 if paths else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    for path, text in outputs().items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
