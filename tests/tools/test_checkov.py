"""checkov on the template as CloudFormation receives it (SAM-expanded), with a written skip list.

checkov runs without any skip; the test then requires every failed check to be one that
checkov-skips.yaml explains for that resource type, and every entry there to still match a
finding, so the list cannot go stale. On the raw SAM template checkov cannot see the inline
Policies; on the expansion it checks the generated roles too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.stack import translate_template

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parents[1]
SKIPS: dict[str, dict[str, str]] = yaml.safe_load((TOOLS / "checkov-skips.yaml").read_text(encoding="utf-8"))
# `make tools` installs checkov into its own environment inside the project's virtualenv.
CHECKOV = Path(sys.prefix) / "checkov" / "bin" / "checkov"


def _pinned_version() -> str:
    for line in (TOOLS / "checkov-requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("checkov=="):
            return line.removeprefix("checkov==")
    raise AssertionError("checkov-requirements.txt pins no checkov version")


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not CHECKOV.is_file():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make tools` (`make test` does)")
    template = tmp_path_factory.mktemp("checkov") / "template.json"
    template.write_text(json.dumps(translate_template(ROOT / "template.yaml", "us-east-1"), indent=1, default=str))
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # no Prisma Cloud look-ups: offline and faster
    command = [str(CHECKOV), "--file", str(template), "--framework", "cloudformation", "--skip-download"]
    result = subprocess.run(
        [*command, "--compact", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    # Exit 1 means findings, which the tests judge; anything else is checkov failing to run.
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_is_the_pinned_version(checkov_report: dict[str, Any]) -> None:
    # Given the pinned checkov
    # Then the report comes from that version, with every resource parsed
    assert checkov_report["summary"]["checkov_version"] == _pinned_version()
    assert checkov_report["summary"]["parsing_errors"] == 0
    assert checkov_report["summary"]["resource_count"] > 0


def test_every_checkov_finding_is_explained_in_the_skip_list(checkov_report: dict[str, Any]) -> None:
    # Given checkov's findings on the expanded template
    failed = checkov_report["results"]["failed_checks"]
    # Then each is a check the skip list explains for that resource type
    unexplained = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in failed
        if c["check_id"] not in SKIPS or not c["resource"].startswith(SKIPS[c["check_id"]]["resource_type"] + ".")
    ]
    assert unexplained == []
    # And checkov did pass its other checks, IAM ones included
    passed_ids = {c["check_id"] for c in checkov_report["results"]["passed_checks"]}
    assert any(check_id in passed_ids for check_id in ("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_111"))


def test_every_skip_says_why_and_still_applies(checkov_report: dict[str, Any]) -> None:
    # Given the skip list
    found = {(c["check_id"], c["resource"].split(".", 1)[0]) for c in checkov_report["results"]["failed_checks"]}
    for check_id, entry in SKIPS.items():
        # Then each entry gives a reason
        assert len(entry.get("why", "").split()) >= 10, check_id
        # And still matches a finding (a check that passes now is removed from the list)
        assert (check_id, entry["resource_type"]) in found, f"{check_id} no longer fails: remove it from the list"
