"""Lambda's ListVersionsByFunction, ListEventSourceMappings and ListAliases in pages, as Lambda answers them.

moto answers each with every item at once. Lambda returns at most 50 versions and 100 event
source mappings per response (``MaxItems`` asks for fewer, never more) and as many aliases as
``MaxItems`` asks for, with a ``NextMarker`` while more are left; a caller has to follow it to
see them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulator.moto_adapter import LambdaResponse

# The API reference: "returns a maximum of 50 (100) items in each response".
VERSIONS_PAGE = 50
MAPPINGS_PAGE = 100


def install(patch: Callable[[type, str, Any], None]) -> None:
    """Page moto's listings; ``patch`` replaces a method and remembers it for uninstalling."""
    original_versions = LambdaResponse.list_versions_by_function
    original_mappings = LambdaResponse.list_event_source_mappings
    original_aliases = LambdaResponse.list_aliases

    def list_versions_by_function(response: LambdaResponse) -> str:
        every = json.loads(original_versions(response))["Versions"]
        return json.dumps(_paged("Versions", every, response.querystring, VERSIONS_PAGE))

    def list_event_source_mappings(response: LambdaResponse) -> str:
        every = json.loads(original_mappings(response))["EventSourceMappings"]
        return json.dumps(_paged("EventSourceMappings", every, response.querystring, MAPPINGS_PAGE))

    def list_aliases(response: LambdaResponse) -> Any:
        status, headers, body = original_aliases(response)
        every = json.loads(body)["Aliases"]
        return status, headers, json.dumps(_paged("Aliases", every, response.querystring, None))

    patch(LambdaResponse, "list_versions_by_function", list_versions_by_function)
    patch(LambdaResponse, "list_event_source_mappings", list_event_source_mappings)
    patch(LambdaResponse, "list_aliases", list_aliases)


def _paged(key: str, items: list[Any], querystring: dict[str, list[str]], largest: int | None) -> dict[str, Any]:
    """The page ``Marker`` starts (an offset here, opaque to callers): at most ``MaxItems``, and ``largest``."""
    start = int(querystring.get("Marker", ["0"])[0] or 0)
    asked = int(querystring.get("MaxItems", ["0"])[0] or 0) or len(items)
    size = max(1, min(asked, largest) if largest else asked)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["NextMarker"] = str(start + size)
    return answer
