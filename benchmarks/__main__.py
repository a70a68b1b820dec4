"""python -m benchmarks [--quick] [NAME ...]: run every benchmark module (or the ones named)."""

from __future__ import annotations

import argparse
import importlib
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


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller suite (under a minute)")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {names})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; available: {', '.join(names)}")
    status = 0
    for name in args.names or names:
        started = time.monotonic()
        print(f"== benchmark {name}{' (quick)' if args.quick else ''} ==", flush=True)
        status |= importlib.import_module(f"benchmarks.{name}").main(quick=args.quick)
        print(f"== {name}: {time.monotonic() - started:.0f} s ==", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
