"""python -m benchmarks [--quick] [NAME ...]: run every benchmark module (or the ones named).

Each benchmark's goals are collected (benchmarks/_goals.py) and the run ends with all of them,
failing first; the exit status is 1 when one was not met or could not run. A benchmark that raises
is a goal that could not run, and the others still run. Each benchmark's results go to
``results/bench/<name>.json``, the source of the docs' tables (``python -m benchmarks docs``).

``python -m benchmarks [--quick] NAME ARG ...``: a benchmark whose ``main`` takes ``argv`` gets every
argument after its name (unless they are only more benchmark names) and runs alone, as an
experiment: no banner lines, no results file, and its goals on stderr, so its last line on stdout
may be JSON (``python -m benchmarks realcurves --curves PATH --json``).

``python -m benchmarks docs [--check]``: rewrite the docs' benchmark tables from the results files.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import benchmarks
from benchmarks import _goals
from benchmarks._goals import Goal, Result

Benchmark = Callable[[bool], Result]


def available() -> list[str]:
    """Modules of this package that define ``main``: the benchmarks."""
    names = []
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        if callable(getattr(module, "main", None)):
            names.append(info.name)
    return sorted(names)


def takes_arguments(name: str) -> bool:
    """Whether the benchmark's ``main`` accepts its own command-line arguments (an ``argv`` parameter)."""
    main = importlib.import_module(f"benchmarks.{name}").main
    return "argv" in inspect.signature(main).parameters


def run_one(name: str, benchmark: Benchmark, quick: bool) -> Result:
    """One benchmark, whatever it does: a raise (or an exit) is a goal that could not run, not a crash."""
    try:
        result = benchmark(quick)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        print(f"{name}: could not run: {type(error).__name__}: {error}", flush=True)
        return _goals.crashed(name, error)
    if not isinstance(result, Result):
        return _goals.crashed(name, TypeError(f"main returned {type(result).__name__}, not a Result"))
    if not result.goals:
        result.goals = [_goals.could_not_run("the benchmark judged a goal", "it returned no goal")]
    result.goals = [replace(goal, benchmark=name) for goal in result.goals]
    return result


def run_all(
    benchmarks_: dict[str, Benchmark], *, quick: bool, command: str, results: Path | None = _goals.RESULTS_DIR
) -> tuple[list[Goal], int]:
    """Run each benchmark in turn, write its results file, print the summary of every goal; the exit status."""
    goals: list[Goal] = []
    for name, benchmark in benchmarks_.items():
        started, clock = datetime.now(UTC), time.monotonic()
        print(f"== benchmark {name}{' (quick)' if quick else ''} ==", flush=True)
        result = run_one(name, benchmark, quick)
        seconds = time.monotonic() - clock
        if results is not None:
            _goals.write(name, result, command=f"{command} {name}", started=started, seconds=seconds, directory=results)
        goals += result.goals
        print(f"== {name}: {seconds:.0f} s ==", flush=True)
    print()
    print("\n".join(_goals.summary(goals)), flush=True)
    return goals, _goals.exit_code(goals)


def _loaded(name: str) -> Benchmark:
    main = importlib.import_module(f"benchmarks.{name}").main
    return lambda quick: main(quick=quick)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["docs"]:
        from benchmarks._docs import main as docs_main

        return docs_main(argv[1:])
    names = available()
    # Everything after the first benchmark that takes arguments is its own, unless it is only more names.
    forwarded: list[str] | None = None
    for index, token in enumerate(argv):
        if token in names and takes_arguments(token) and not set(argv[index + 1 :]) <= set(names):
            argv, forwarded = argv[: index + 1], argv[index + 1 :]
            break
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller suite (under a minute)")
    parser.add_argument("--results", type=Path, default=_goals.RESULTS_DIR, help="where the results files go")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {names})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; available: {', '.join(names)}")
    if forwarded:
        # One benchmark with its own arguments: its output is all there is on stdout (its last line may be JSON).
        result = importlib.import_module(f"benchmarks.{args.names[-1]}").main(quick=args.quick, argv=forwarded)
        if not result.goals:
            return 0  # a mode that judges nothing (realcurves --chart)
        goals = [replace(goal, benchmark=args.names[-1]) for goal in result.goals]
        print("\n".join(_goals.summary(goals)), file=sys.stderr, flush=True)
        return _goals.exit_code(goals)
    selected = {name: _loaded(name) for name in args.names or names}
    command = "python -m benchmarks" + (" --quick" if args.quick else "")
    _, status = run_all(selected, quick=args.quick, command=command, results=args.results)
    return status


def standalone(name: str) -> int:
    """``python -m benchmarks.NAME [ARG ...]``: the same as ``python -m benchmarks NAME [ARG ...]``."""
    if takes_arguments(name):
        return main([name, *sys.argv[1:]])
    return main([*sys.argv[1:], name])


if __name__ == "__main__":
    sys.exit(main())
