"""Fleet sweeps: turn a selector into the list of functions to tune.

Tag selectors use the Resource Groups Tagging API (one paginated query for all tags at once);
a name prefix alone lists every function. The tuner's own functions (tagged
``lambda-autotuner:stack``) are always left out, and so is everything in ``exclude``.
"""

from __future__ import annotations

from typing import Any

from autotuner_core.aws.arns import function_name
from autotuner_core.aws.paging import every_page
from autotuner_core.documents.request import TargetRef, TargetSelector, parse_target
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.settings import TUNER_STACK_TAG


def _tagged(tagging: Any, tag_filters: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Function ARN -> tags, for every function matching all ``tag_filters`` (every page)."""
    pages = every_page(
        tagging,
        "get_resources",
        "tag:GetResources",
        "lambda:function",
        ResourceTypeFilters=["lambda:function"],
        TagFilters=tag_filters,
    )
    return {
        mapping["ResourceARN"]: {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
        for page in pages
        for mapping in page.get("ResourceTagMappingList", [])
    }


def _all_functions(lambda_client: Any) -> list[str]:
    # 50: Lambda's largest ListFunctions page.
    pages = every_page(lambda_client, "list_functions", "lambda:ListFunctions", "*", PaginationConfig={"PageSize": 50})
    return [function["FunctionArn"] for page in pages for function in page.get("Functions", [])]


def select_targets(
    tagging: Any,
    lambda_client: Any,
    selector: TargetSelector,
    *,
    partition: str,
    region: str,
    account: str,
    max_targets: int,
) -> list[TargetRef]:
    """The functions the selector names, sorted by name; more than ``max_targets`` is an error."""
    if selector.tags:
        matches = _tagged(tagging, [{"Key": key, "Values": [value]} for key, value in selector.tags.items()])
        own = {arn for arn, tags in matches.items() if TUNER_STACK_TAG in tags}
        arns = set(matches) - own
    else:
        own = set(_tagged(tagging, [{"Key": TUNER_STACK_TAG}]))
        arns = set(_all_functions(lambda_client)) - own
    excluded = set()
    for index, text in enumerate(selector.exclude):
        try:
            excluded.add(parse_target(text, partition=partition, region=region, account=account).arn)
        except InvalidInputError as error:
            raise InvalidInputError(f"select.exclude[{index}]: {error}") from None
    names = sorted(
        function_name(arn)
        for arn in arns - excluded
        if selector.name_prefix is None or function_name(arn).startswith(selector.name_prefix)
    )
    if len(names) > max_targets:
        raise InvalidInputError(
            f"select matched {len(names)} functions; one execution tunes at most {max_targets} "
            "(the SweepMaxTargets parameter): narrow the selector with namePrefix or more tags, or split the sweep"
        )
    return [parse_target(name, partition=partition, region=region, account=account) for name in names]
