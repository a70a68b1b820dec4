"""The benchmarks' text tables: the CLI's (:func:`autotuner.tables.render`), given rows and column numbers.

The first row is the header; ``right`` numbers the columns aligned right. The result is a list of
lines (header, rule, rows), so a caller can repeat the rule above a total.
"""

from __future__ import annotations

from autotuner.tables import render


def text_table(rows: list[list[str]], right: set[int]) -> list[str]:
    headers = rows[0]
    names = {headers[i] for i in right}
    # render aligns by header: a name shared by a left and a right column would align both one way.
    mixed = {header for i, header in enumerate(headers) if i not in right and header in names}
    if mixed:
        raise ValueError(f"columns named {sorted(mixed)} are aligned both left and right")
    return render(headers, rows[1:], right=names).splitlines()
