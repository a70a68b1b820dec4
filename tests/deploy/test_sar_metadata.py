"""The Serverless Application Repository route: template.yaml's AWS::ServerlessRepo::Application metadata.

`sam publish` reads this metadata with SAM CLI's own parser (used here) and sends it to
CreateApplication; its limits are the ones the API documents (botocore's serverlessrepo model,
read here rather than copied). `sam package` uploads the files that LicenseUrl and ReadmeUrl name.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import botocore.session
import pytest
from samcli.vendor.serverlessrepo.parser import get_app_metadata, parse_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def metadata():  # type: ignore[no-untyped-def]
    return get_app_metadata(parse_template(TEMPLATE.read_text(encoding="utf-8")))


def _documented_limits(member: str) -> tuple[int | None, str | None]:
    """The maximum length and pattern CreateApplication documents for a field."""
    shape = botocore.session.get_session().get_service_model("serverlessrepo").operation_model("CreateApplication")
    text = shape.input_shape.members[member].documentation
    longest = re.search(r"Maximum length=(\d+)", text)
    pattern = re.search(r'Pattern:? "(.+?)";', text)
    return (int(longest.group(1)) if longest else None, pattern.group(1).replace("\\\\", "\\") if pattern else None)


def test_sam_publish_finds_everything_it_needs(metadata) -> None:  # type: ignore[no-untyped-def]
    # Given the metadata as sam publish parses it
    # Then it has what creating the application and its version requires
    assert metadata.validate(["name", "description", "author", "semantic_version"])
    # And the version is the package's
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert metadata.semantic_version == project["version"]


@pytest.mark.parametrize("member", ["Name", "Author", "Description", "Labels"])
def test_each_field_is_within_what_the_api_accepts(metadata, member: str) -> None:  # type: ignore[no-untyped-def]
    # Given the limits CreateApplication documents for the field
    longest, pattern = _documented_limits(member)
    assert longest is not None and (pattern is not None or member == "Description")  # read, not skipped
    values = metadata.template_dict[member]
    values = values if isinstance(values, list) else [values]
    if member == "Labels":
        assert 1 <= len(values) <= 10
    # Then each value is within them
    for value in values:
        assert 1 <= len(value) <= longest, value
        if pattern is not None:
            assert re.fullmatch(pattern, value), f"{member} {value!r} does not match {pattern}"


def test_readme_and_license_are_files_of_the_repository(metadata) -> None:  # type: ignore[no-untyped-def]
    # Given the files the metadata names (sam package uploads them to S3)
    for url in (metadata.readme_url, metadata.license_url):
        # Then each exists beside the template and is under SAR's 5 MB
        path = ROOT / url
        assert path.is_file(), url
        assert path.stat().st_size < 5 * 1024 * 1024
    # And no license is claimed that the LICENSE file does not grant (the owners have not chosen one)
    license_text = (ROOT / metadata.license_url).read_text(encoding="utf-8")
    if metadata.spdx_license_id is None:
        assert "No license has been chosen" in license_text
    else:
        assert "No license has been chosen" not in license_text
