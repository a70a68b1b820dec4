"""The benchmarks' text tables: a header, a rule, then the rows; columns in ``right`` right-aligned."""

from __future__ import annotations


def text_table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(cells)).rstrip()

    return [line(rows[0]), rule(widths), *(line(row) for row in rows[1:])]


def rule(widths: list[int]) -> str:
    return "  ".join("-" * w for w in widths)
