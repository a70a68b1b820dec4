"""Every page of a listing, read by the client's own paginator (boto3 knows each call's tokens).

Each page's request is translated by ``aws_call`` on its own, so an error the caller raises
while it handles a page is never taken for the listing's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from autotuner_core.aws.calls import aws_call


def every_page(client: Any, operation: str, action: str, resource: str, **request: Any) -> Iterator[dict[str, Any]]:
    """The pages of ``client.<operation>(**request)``, read as they are needed (``PaginationConfig`` too)."""
    pages = iter(client.get_paginator(operation).paginate(**request))
    while True:
        with aws_call(action, resource):
            page = next(pages, None)
        if page is None:
            return
        yield page
