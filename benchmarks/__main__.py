"""python -m benchmarks [--quick] [NAME ...]: run every benchmark module (or the ones named).

``python -m benchmarks [--quick] NAME ARG ...``: a benchmark whose ``main`` takes ``argv`` gets every
argument after its name and runs alone, without the banner lines
(``python -m benchmarks realcurves --curves PATH --json``).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import time

import benchmarks


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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    # Everything after the first benchmark that takes arguments is its own.
    forwarded: list[str] = []
    for index, token in enumerate(argv):
        if token in names and takes_arguments(token):
            argv, forwarded = argv[: index + 1], argv[index + 1 :]
            break
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller suite (under a minute)")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {names})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; available: {', '.join(names)}")
    if forwarded:
        # One benchmark with its own arguments: its output is all there is (its last line may be JSON).
        return importlib.import_module(f"benchmarks.{args.names[-1]}").main(quick=args.quick, argv=forwarded)
    status = 0
    for name in args.names or names:
        started = time.monotonic()
        print(f"== benchmark {name}{' (quick)' if args.quick else ''} ==", flush=True)
        status |= importlib.import_module(f"benchmarks.{name}").main(quick=args.quick)
        print(f"== {name}: {time.monotonic() - started:.0f} s ==", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
