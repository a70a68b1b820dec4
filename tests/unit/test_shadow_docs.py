"""docs/measuring.md lists exactly what a shadow copies, leaves out and refuses, as shadow_spec.py does."""

from __future__ import annotations

import re
from pathlib import Path

from autotuner_core.measuring.shadow_spec import COPIED, NOT_COPIED, REFUSED

DOC = Path(__file__).resolve().parents[2] / "docs" / "measuring.md"


def tables() -> list[dict[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- shadow-fields:", 1)[1].split("<!-- /shadow-fields -->", 1)[0]
    found: list[dict[str, str]] = []
    for table in re.split(r"\n\n(?=\| field \| how \|)", block)[1:]:
        rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
        cells = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
        found.append({name.strip("`"): how for name, how in cells})
    return found


def test_the_docs_list_what_the_code_copies_leaves_out_and_refuses():
    # Given the three tables of docs/measuring.md's shadow section
    copied, not_copied, refused = tables()
    # Then each is the code's, field by field and reason by reason
    assert copied == COPIED
    assert not_copied == NOT_COPIED
    assert refused == REFUSED
