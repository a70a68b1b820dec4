"""Benchmarks: numbers, and the goals they judge. ``make bench`` (= ``python -m benchmarks``) runs every module.

A benchmark module is any module of this package whose name does not start with ``_`` and that
defines ``main(quick: bool = False) -> Result`` (benchmarks/_goals.py: its goals, met, not met or
could not run, and the tables the docs quote). ``--quick`` runs a smaller suite. The run ends with
every goal, failing first, and exits 1 when one failed or could not run.
"""
