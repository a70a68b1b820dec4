"""ASL definitions walked and rewritten: every state at any depth, and the stack whose every Task retries everything
(AWS Lambda Power Tuning's Executor retrier), which the fail-fast benchmark runs against ours.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT_ROOT / "template.yaml"
STATEMACHINE_DIR = PROJECT_ROOT / "statemachine"

# AWS Lambda Power Tuning's Executor retrier; BackoffRate is the ASL default it leaves implicit.
RETRY_EVERYTHING: dict[str, Any] = {
    "ErrorEquals": ["States.ALL"],
    "IntervalSeconds": 3,
    "MaxAttempts": 2,
    "BackoffRate": 2.0,
}


# ---------------------------------------------------------------------------------------------
# The retry-everything variant of the stack
# ---------------------------------------------------------------------------------------------


def states_of(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of an ASL definition, at any depth (Map item processors, Parallel branches)."""
    stack: list[Any] = [definition]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for name, state in (node.get("States") or {}).items():
                if isinstance(state, dict):
                    yield name, state
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def retry_everything(definition: dict[str, Any], retrier: dict[str, Any] = RETRY_EVERYTHING) -> dict[str, Any]:
    """A copy of an ASL definition in which every Task state, at any depth, has only ``retrier``."""
    result = copy.deepcopy(definition)
    for _, state in list(states_of(result)):
        if state.get("Type") == "Task":
            state["Retry"] = [copy.deepcopy(retrier)]
    return result


def task_retriers(definition: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Retry of every Task state in ``definition``, by state name (nested states included)."""
    return {name: state.get("Retry", []) for name, state in states_of(definition) if state.get("Type") == "Task"}


@contextmanager
def retry_everything_template() -> Iterator[Path]:
    """template.yaml in a temporary folder whose statemachine/*.asl.json retry everything.

    The template's local paths (CodeUri, ContentUri, DefinitionUri) are relative to its folder:
    the other top-level folders are linked, so the functions and the layer are the project's own.
    """
    with tempfile.TemporaryDirectory(prefix="retry-everything-") as folder:
        root = Path(folder)
        shutil.copy2(TEMPLATE, root / TEMPLATE.name)
        for entry in PROJECT_ROOT.iterdir():
            if entry.is_dir() and entry.name != STATEMACHINE_DIR.name and not entry.name.startswith("."):
                (root / entry.name).symlink_to(entry, target_is_directory=True)
        shutil.copytree(STATEMACHINE_DIR, root / STATEMACHINE_DIR.name)
        for path in (root / STATEMACHINE_DIR.name).rglob("*.asl.json"):
            definition = json.loads(path.read_text(encoding="utf-8"))
            path.write_text(json.dumps(retry_everything(definition), indent=2) + "\n", encoding="utf-8")
        yield root / TEMPLATE.name
