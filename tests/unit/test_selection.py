"""Selecting a fleet: every page read, the tuner's own functions and exclusions left out."""

from __future__ import annotations

from typing import Any

import pytest
from fake_paging import Paginated

from autotuner_core.documents.request import TargetSelector
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.targets.selection import select_targets

PREFIX = "arn:aws:lambda:eu-west-1:123456789012:function:"
WHERE = {"partition": "aws", "region": "eu-west-1", "account": "123456789012", "max_targets": 50}


class Tagging(Paginated):
    """GetResources in pages of two, filtering by all tag filters like the Tagging API."""

    SERVICE = "resourcegroupstaggingapi"

    def __init__(self, functions: dict[str, dict[str, str]]) -> None:
        self.functions = functions
        self.calls = 0

    def get_resources(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        wanted = kwargs["TagFilters"]
        matches = [
            {"ResourceARN": PREFIX + name, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            for name, tags in sorted(self.functions.items())
            if all(f["Key"] in tags and (not f.get("Values") or tags[f["Key"]] in f["Values"]) for f in wanted)
        ]
        start = int(kwargs.get("PaginationToken") or 0)
        page = {"ResourceTagMappingList": matches[start : start + 2]}
        if start + 2 < len(matches):
            page["PaginationToken"] = str(start + 2)
        return page


class Lambda(Paginated):
    SERVICE = "lambda"

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def list_functions(self, **kwargs: Any) -> dict[str, Any]:
        start = int(kwargs.get("Marker") or 0)
        page: dict[str, Any] = {"Functions": [{"FunctionArn": PREFIX + n} for n in self.names[start : start + 2]]}
        if start + 2 < len(self.names):
            page["NextMarker"] = str(start + 2)
        return page


FLEET = {
    "a": {"autotune": "on"},
    "b": {"autotune": "on", "team": "x"},
    "c": {"autotune": "on"},
    "d": {"autotune": "on"},
    "e": {},
    "tuner-Update": {"autotune": "on", "lambda-autotuner:stack": "tuner"},
}


def test_tags_select_across_every_page_without_the_tuner_itself() -> None:
    tagging = Tagging(FLEET)
    targets = select_targets(tagging, Lambda([]), TargetSelector(tags={"autotune": "on"}), **WHERE)
    assert [target.name for target in targets] == ["a", "b", "c", "d"]
    assert tagging.calls == 3  # five matches, two per page


def test_all_tags_must_match_and_exclusions_are_left_out() -> None:
    selector = TargetSelector(tags={"autotune": "on", "team": "x"})
    assert [t.name for t in select_targets(Tagging(FLEET), Lambda([]), selector, **WHERE)] == ["b"]
    selector = TargetSelector(tags={"autotune": "on"}, exclude=["a", PREFIX + "c"])
    assert [t.name for t in select_targets(Tagging(FLEET), Lambda([]), selector, **WHERE)] == ["b", "d"]


def test_a_name_prefix_alone_lists_every_function_page() -> None:
    lam = Lambda(sorted(FLEET))
    selector = TargetSelector(name_prefix="t")
    assert select_targets(Tagging(FLEET), lam, selector, **WHERE) == []  # only the tuner starts with t
    assert [t.name for t in select_targets(Tagging(FLEET), lam, TargetSelector(name_prefix="e"), **WHERE)] == ["e"]


def test_more_matches_than_one_execution_tunes_is_a_clear_error() -> None:
    many = {f"fn-{i:03d}": {"autotune": "on"} for i in range(51)}
    with pytest.raises(
        InvalidInputError,
        match=r"select matched 51 functions; one execution tunes at most 50 \(the SweepMaxTargets parameter\)",
    ):
        select_targets(Tagging(many), Lambda([]), TargetSelector(tags={"autotune": "on"}), **WHERE)
