"""docs/deploy.md's parameter table: every template parameter, under the name each route takes it by."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "terraform"))

import generate  # noqa: E402


def test_the_parameter_table_lists_every_parameter_with_its_terraform_variable_and_default() -> None:
    # Given the template's parameters and the guide's table rows
    parameters = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))["Parameters"]
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \| .+ \|$", text, flags=re.MULTILINE))
    # Then each parameter has a row naming its Terraform variable, and no row names anything else
    assert rows == {name: generate.variable_name(name) for name in parameters}
    # And the defaults shown are the template's (the long schedule input is described, not quoted)
    for name, declaration in parameters.items():
        (row,) = re.findall(rf"^\| `{name}` \| `\w+` \| (.+) \|$", text, flags=re.MULTILINE)
        default = str(declaration["Default"]) or '""'
        assert row.startswith(f"`{default}`") or name == "ScheduleInput", name
