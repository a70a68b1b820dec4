"""Benchmarks: numbers, not pass/fail. ``make bench`` (= ``python -m benchmarks``) runs every module.

A benchmark module is any module of this package whose name does not start with ``_`` and that
defines ``main(quick: bool = False) -> int``. ``--quick`` runs a smaller suite.
"""
