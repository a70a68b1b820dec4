"""Listings read by the client's paginator: every page, each page's error translated, pages read as needed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from fake_paging import Paginated

from autotuner_core.aws.paging import every_page
from autotuner_core.policy.errors import ThrottledError


class Aliases(Paginated):
    """ListAliases in pages of one; ``fail_at`` throttles that call."""

    SERVICE = "lambda"

    def __init__(self, names: list[str], fail_at: int | None = None) -> None:
        self.names = names
        self.fail_at = fail_at
        self.requests: list[dict[str, Any]] = []

    def list_aliases(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if len(self.requests) == self.fail_at:
            error = {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 429}}, "ListAliases")
        start = int(request.get("Marker") or 0)
        page: dict[str, Any] = {"Aliases": [{"Name": name} for name in self.names[start : start + 1]]}
        if start + 1 < len(self.names):
            page["NextMarker"] = str(start + 1)
        return page


def test_every_page_is_read_following_next_marker() -> None:
    client = Aliases(["a", "b", "c"])
    pages = list(every_page(client, "list_aliases", "lambda:ListAliases", "fn", FunctionName="fn"))
    assert [alias["Name"] for page in pages for alias in page["Aliases"]] == ["a", "b", "c"]
    assert client.requests == [
        {"FunctionName": "fn"},
        {"FunctionName": "fn", "Marker": "1"},
        {"FunctionName": "fn", "Marker": "2"},
    ]


def test_a_later_page_failing_is_translated_naming_the_action_and_pages_are_read_as_needed() -> None:
    client = Aliases(["a", "b", "c"], fail_at=2)
    pages = every_page(client, "list_aliases", "lambda:ListAliases", "fn", FunctionName="fn")
    assert next(pages)["Aliases"] == [{"Name": "a"}]
    assert len(client.requests) == 1  # the next page is asked for only when it is wanted
    with pytest.raises(ThrottledError) as caught:
        next(pages)
    assert str(caught.value).startswith("lambda:ListAliases on fn: TooManyRequestsException: Rate exceeded")
