"""The CLI's text tables: rich tables rendered to plain text.

No colour and no terminal codes, whatever stdout is, so a test, a pipe and ``--json``'s stderr
see the same characters. A table is as wide as its cells (nothing wraps) unless a width is given;
then only the last column wraps, since it holds the free text (a reason, a saving).
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Collection, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["render", "terminal_width"]

# Wide enough for the demo's tables on one line each; also the width when stdout is not a terminal.
MIN_WIDTH = 120
_UNBOUNDED = 100_000  # a console this wide measures a table's natural width


def terminal_width() -> int:
    """The terminal's width, at least ``MIN_WIDTH``; ``MIN_WIDTH`` when stdout is captured or piped."""
    if not sys.stdout.isatty():
        return MIN_WIDTH
    return max(MIN_WIDTH, shutil.get_terminal_size((MIN_WIDTH, 24)).columns)


def _console(width: int, buffer: io.StringIO) -> Console:
    return Console(
        file=buffer,
        width=width,
        force_terminal=False,
        no_color=True,
        color_system=None,
        markup=False,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[str] = (),
    width: int | None = None,
) -> str:
    """A header line, a rule, one line per row; columns two spaces apart, lines without trailing blanks.

    ``right`` names the columns aligned right (numbers). With ``width``, the last column wraps
    to keep each line within it; without, the table takes the width its cells need.
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for index, header in enumerate(headers):
        wraps = width is not None and index == len(headers) - 1
        table.add_column(header, justify="right" if header in right else "left", no_wrap=not wraps, overflow="fold")
    for row in rows:
        table.add_row(*row)
    if width is None:
        width = _console(_UNBOUNDED, io.StringIO()).measure(table).maximum
    buffer = io.StringIO()
    _console(width, buffer).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
