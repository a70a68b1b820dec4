"""Cold start: each handler's import time next to a bare ``import boto3``, on the same machine.

For every ``functions/<name>/app.py`` the module is imported in a fresh interpreter (this
venv's Python) with ``python -X importtime -c "import app"``, as the Lambda runtime imports it:

- ``PYTHONPATH`` = the function's folder, then ``layers/common`` (the layer's content on
  ``/opt/python``);
- the environment the template gives the function (Globals plus its own ``Environment``), with
  ``!Ref`` of a parameter resolved to the parameter's default and every other reference
  (tables, role ARNs, conditions) replaced by a dummy value of the same shape;
- the variables the Lambda runtime sets (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``,
  ``AWS_REGION``, ...), so Powertools behaves as in Lambda (its Tracer traces only there);
- nothing else of this process's environment.

The figure is the cumulative time ``-X importtime`` prints for the top-level module: ``app``, or
``boto3`` for the baseline (same runtime variables, an empty task root, no ``PYTHONPATH``).
Interpreter start-up (``site``) is outside both. Each handler and the baseline run ``rounds``
times, interleaved so that a noisy moment hits all of them alike, after one untimed round that
writes the bytecode caches; the table shows medians.

ratio = median(handler) / median(import boto3). Goal: no handler above 1.5.

The handlers create their boto3 clients on first use (autotuner_core.aws.clients), so a handler's
import does not include boto3. The "then boto3" columns show what a path that makes AWS calls
pays before its first call: ``import app; import boto3`` in one interpreter, both counted.

The embedded AWS's AWS-time model (emulator/aws_time.py) charges each cold start of a
tuner function its "then boto3" figure from ``aws_time.FUNCTION_INIT_MS``. The "model ms" column
shows that figure; "vs model" compares this run's "then boto3" ratio (to this run's bare boto3)
with the model's (to ``aws_time.FUNCTION_INIT_BASELINE_MS``, the bare boto3 of the run it came
from), so a machine that is slower overall is not a deviation. The second goal holds while every
handler is within ``MODEL_TOLERANCE`` of the model (otherwise measure again and update the table).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._goals import Goal, Result, judge
from benchmarks._table import text_table

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
LAYER_DIR = PROJECT_ROOT / "layers" / "common"
TEMPLATE = PROJECT_ROOT / "template.yaml"

GOAL_RATIO = 1.5
MODEL_TOLERANCE = 0.5  # the model's figure may be off this run's median by ±50 %: the machine is shared
ROUNDS = 7
QUICK_ROUNDS = 5  # "median of at least 5": the machine is shared and noisy
BASELINE = "import boto3"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "lambda-autotuner"


def handler_dirs() -> list[Path]:
    """Every function folder holding an ``app.py``, by name."""
    return sorted(path.parent for path in FUNCTIONS_DIR.glob("*/app.py"))


# ---------------------------------------------------------------------------------------------
# The environment a handler is imported with
# ---------------------------------------------------------------------------------------------


def _template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse  # understands !Ref, !GetAtt, !If

    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


def _resolve(name: str, value: Any, parameters: dict[str, Any]) -> str:
    """A template value as the deployed function would see it, or a dummy of the same shape."""
    if isinstance(value, str | int | float | bool):
        return str(value)
    reference = value.get("Ref") if isinstance(value, dict) else None
    if reference == "AWS::StackName":
        return STACK_NAME
    if reference == "AWS::Region":
        return REGION
    if reference in parameters and parameters[reference].get("Default") is not None:
        return str(parameters[reference]["Default"])
    if name.endswith("_ARN"):
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK_NAME}-dummy"
    return f"{STACK_NAME}-dummy"


def template_environment(function_dir: Path, template: dict[str, Any] | None = None) -> dict[str, str]:
    """The variables template.yaml sets for the function whose CodeUri is ``function_dir``."""
    template = template or _template()
    parameters = template.get("Parameters", {})
    variables = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    relative = function_dir.resolve().relative_to(PROJECT_ROOT).as_posix()
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if (
            resource.get("Type") == "AWS::Serverless::Function"
            and str(properties.get("CodeUri", "")).rstrip("/") == relative
        ):
            variables.update((properties.get("Environment") or {}).get("Variables", {}))
    return {name: _resolve(name, value, parameters) for name, value in variables.items()}


def runtime_environment(function_name: str, task_root: Path) -> dict[str, str]:
    """What the Lambda runtime sets for every function, plus a PATH to start the interpreter."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        # Powertools' Tracer traces (and patches) only where this is set: in Lambda.
        "LAMBDA_TASK_ROOT": str(task_root),
    }


def handler_environment(function_dir: Path, template: dict[str, Any] | None = None) -> dict[str, str]:
    return {
        **runtime_environment(f"{STACK_NAME}-{function_dir.name}", function_dir),
        **template_environment(function_dir, template),
        "PYTHONPATH": os.pathsep.join([str(function_dir), str(LAYER_DIR)]),
    }


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def import_milliseconds(modules: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """``import`` each of ``modules`` in turn in one fresh interpreter; the cumulative ms of each.

    A module imported after another counts only what the earlier ones had not loaded yet.
    """
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "; ".join(f"import {module}" for module in modules)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"import {', '.join(modules)} in {cwd} failed (exit {completed.returncode}):\n{completed.stderr[-2000:]}"
        )
    found: dict[str, float] = {}
    # "import time: <self us> | <cumulative us> | <name>"; a top-level import has no indentation.
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.partition(":")[2].split("|")
        if name.strip() in modules and not name[1:].startswith(" "):
            found[name.strip()] = int(cumulative) / 1000
    missing = [module for module in modules if module not in found]
    if missing:
        raise RuntimeError(f"-X importtime printed no top-level line for {', '.join(missing)}")
    return found


def measure(rounds: int = ROUNDS, dirs: list[Path] | None = None) -> dict[str, dict[str, list[float]]]:
    """Samples in ms, ``rounds`` of each: ``{BASELINE: {"boto3": [...]}, <folder>: {"app": [...], "boto3": [...]}}``.

    For a handler, "boto3" is what ``import boto3`` adds after ``import app``: what a path that
    creates its first client pays on top of the import (autotuner_core.aws.clients imports it then).
    """
    dirs = handler_dirs() if dirs is None else dirs
    template = _template()
    with tempfile.TemporaryDirectory(prefix="coldstart-") as empty:
        jobs: dict[str, tuple[list[str], dict[str, str], Path]] = {
            BASELINE: (["boto3"], runtime_environment(f"{STACK_NAME}-baseline", Path(empty)), Path(empty)),
            **{path.name: (["app", "boto3"], handler_environment(path, template), path) for path in dirs},
        }
        samples: dict[str, dict[str, list[float]]] = {name: {m: [] for m in job[0]} for name, job in jobs.items()}
        for round_number in range(rounds + 1):
            for name, (modules, env, cwd) in jobs.items():
                timings = import_milliseconds(modules, env, cwd)
                if round_number:  # round 0 only writes the bytecode caches
                    for module, ms in timings.items():
                        samples[name][module].append(ms)
    return samples


def summarize(samples: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    """One row per import: median, spread, and the ratio of the median to bare boto3's."""
    baseline = statistics.median(samples[BASELINE]["boto3"])
    rows = []
    for name, timings in samples.items():
        values = timings.get("app", timings["boto3"])
        median = statistics.median(values)
        row: dict[str, Any] = {
            "import": name,
            "runs": len(values),
            "medianMs": median,
            "minMs": min(values),
            "maxMs": max(values),
            "ratio": median / baseline,
        }
        if name != BASELINE:
            then_boto3 = statistics.median(a + b for a, b in zip(values, timings["boto3"], strict=True))
            row |= {"withBoto3Ms": then_boto3, "withBoto3Ratio": then_boto3 / baseline}
        rows.append(row)
    return rows


def format_report(rows: list[dict[str, Any]]) -> str:
    header = [
        "import",
        "runs",
        "median ms",
        "min ms",
        "max ms",
        "ratio to boto3",
        f"goal ≤ {GOAL_RATIO}x",
        "then boto3: ms",
        "ratio",
        "model ms",
        "vs model",
    ]
    table = [header]
    for row in rows:
        is_baseline = row["import"] == BASELINE
        table.append(
            [
                row["import"] if is_baseline else f"functions/{row['import']}/app.py",
                str(row["runs"]),
                f"{row['medianMs']:.1f}",
                f"{row['minMs']:.1f}",
                f"{row['maxMs']:.1f}",
                f"{row['ratio']:.2f}x",
                "" if is_baseline else ("met" if row["ratio"] <= GOAL_RATIO else "NOT met"),
                "" if is_baseline else f"{row['withBoto3Ms']:.1f}",
                "" if is_baseline else f"{row['withBoto3Ratio']:.2f}x",
                "" if is_baseline else _model_cell(row),
                "" if is_baseline else _model_deviation_cell(row),
            ]
        )
    lines = text_table(table, right={1, 2, 3, 4, 5, 7, 8, 9, 10})
    handlers = [row for row in rows if row["import"] != BASELINE]
    worst = max(handlers, key=lambda row: row["ratio"])
    met = sum(1 for row in handlers if row["ratio"] <= GOAL_RATIO)
    lines.append("")
    lines.append(
        f"-X importtime cumulative ms of the top-level import, median of {rows[0]['runs']} fresh interpreters "
        f"(Python {sys.version.split()[0]}, this venv); ratio = median / median of a bare `{BASELINE}`"
    )
    lines.append(
        "then boto3: `import app; import boto3` in one interpreter, both counted: the import plus what the "
        "first AWS client adds (paths without AWS calls never pay it)"
    )
    lines.append(
        f"goal: no handler above {GOAL_RATIO}x bare boto3: {met}/{len(handlers)} met; "
        f"worst functions/{worst['import']}/app.py at {worst['ratio']:.2f}x"
    )
    close = [
        row for row in handlers if (deviation := model_deviation(row)) is not None and abs(deviation) <= MODEL_TOLERANCE
    ]
    lines.append(
        f"goal: the AWS-time model's cold starts (aws_time.FUNCTION_INIT_MS) within ±{MODEL_TOLERANCE:.0%} of "
        f"this run's 'then boto3' medians, each relative to its bare boto3: {len(close)}/{len(handlers)} — "
        + ("met" if len(close) == len(handlers) else "NOT met")
    )
    return "\n".join(lines)


def model_deviation(row: dict[str, Any]) -> float | None:
    """This run's 'then boto3' ratio to bare boto3 over the model's, minus 1; None if unmodelled."""
    from emulator.aws_time import FUNCTION_INIT_BASELINE_MS, FUNCTION_INIT_MS

    model = FUNCTION_INIT_MS.get(row["import"])
    return None if model is None else row["withBoto3Ratio"] / (model / FUNCTION_INIT_BASELINE_MS) - 1


def _model_cell(row: dict[str, Any]) -> str:
    from emulator.aws_time import FUNCTION_INIT_MS

    model = FUNCTION_INIT_MS.get(row["import"])
    return "none" if model is None else f"{model:.1f}"


def _model_deviation_cell(row: dict[str, Any]) -> str:
    deviation = model_deviation(row)
    return "-" if deviation is None else f"{deviation:+.0%}"


def goals(rows: list[dict[str, Any]]) -> list[Goal]:
    """The two goals the report's last lines state, judged on the same rows."""
    handlers = [row for row in rows if row["import"] != BASELINE]
    worst = max(handlers, key=lambda row: row["ratio"])
    slow = [row["import"] for row in handlers if row["ratio"] > GOAL_RATIO]
    far = [
        row["import"]
        for row in handlers
        if (deviation := model_deviation(row)) is None or abs(deviation) > MODEL_TOLERANCE
    ]
    return [
        judge(
            "no handler imports slower than bare boto3 by more than the ratio",
            f"worst {worst['import']} {worst['ratio']:.2f}x",
            f"≤ {GOAL_RATIO}x each",
            not slow,
            f"above {GOAL_RATIO}x: {', '.join(slow)}",
        ),
        judge(
            "the AWS-time model's cold starts within tolerance of this run's 'then boto3' medians",
            f"{len(handlers) - len(far)}/{len(handlers)} handlers",
            f"±{MODEL_TOLERANCE:.0%} each",
            not far,
            f"outside ±{MODEL_TOLERANCE:.0%} or unmodelled: {', '.join(far)}",
        ),
    ]


def main(quick: bool = False) -> Result:
    started = time.monotonic()
    rows = summarize(measure(QUICK_ROUNDS if quick else ROUNDS))
    report = format_report(rows)
    print(report, flush=True)
    print(f"({time.monotonic() - started:.0f} s)")
    return Result(goals=goals(rows), tables={"coldstart": report}, data={"rows": rows})
