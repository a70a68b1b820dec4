"""Discovery: resolve each target, refuse what must not be tuned, wait out Pending/InProgress.

Refused: the tuner's own functions, a function whose last update failed, one outside the tag
scope when applying, one on a capacity provider (Lambda Managed Instances: not priced by
GB-seconds), and one switched off with reserved concurrency 0.
"""

from __future__ import annotations

from typing import Any

from autotuner_core.aws import lambda_control
from autotuner_core.aws.lambda_control import get_function, refuse_capacity_provider, refuse_failed, wait_until_settled
from autotuner_core.documents.request import TargetRef, TuningRequest
from autotuner_core.documents.target import DiscoveredTarget
from autotuner_core.measuring import shadow
from autotuner_core.measuring.live_traffic import find_live_traffic, refuse_live
from autotuner_core.measuring.payloads import allowed_buckets, resolve_source
from autotuner_core.policy.errors import InvalidInputError, PermissionDeniedError
from autotuner_core.settings import TUNER_STACK_TAG, Settings


def discover(
    client: Any,
    request: TuningRequest,
    targets: list[TargetRef],
    settings: Settings,
    *,
    cloudwatch: Any = None,
    s3: Any = None,
) -> list[DiscoveredTarget]:
    """GetFunction for every target; the first problem ends discovery before any change.

    A qualified target (version or alias) must exist, but the configuration that is read and
    later changed is the function's own (``$LATEST``): published versions are immutable.
    A run that measures first looks for live traffic on ``$LATEST`` (needs ``cloudwatch``): an idle
    one is measured on versions, a live one on a shadow copy where the deployment allows it
    (ShadowRoleArns) or in place where the input asks for it (measureOnLive); any other live
    target is refused, since measuring moves ``$LATEST`` through the candidate sizes.
    """
    # Telemetry mode measures nothing: no payload, no live-traffic search (telemetry/reading.py reads its own).
    measuring = not request.fixed and not request.from_telemetry
    if measuring and cloudwatch is None:
        raise ValueError("discovery of a measured run needs a CloudWatch client to look for live traffic")
    discovered = []
    for target in targets:
        if target.qualifier and target.qualifier != "$LATEST":
            get_function(client, target.arn, target.qualifier)
        state = get_function(client, target.arn, tags_needed=True)  # the decisions below read its tags
        refuse_failed(state)
        refuse_capacity_provider(state)
        lambda_control.refuse_switched_off(state)
        owner = state.tags.get(TUNER_STACK_TAG)
        if owner:
            raise InvalidInputError(
                f"target {target.given!r} is a function of the Lambda Autotuner stack {owner!r}; "
                "the tuner never tunes its own functions"
            )
        if request.apply:
            _refuse_untagged(target, state.tags, settings)
        if not state.settled:
            state = wait_until_settled(
                client,
                target.arn,
                poll_interval_s=settings.status_poll_interval_ms / 1000,
                max_wait_s=settings.max_status_wait_seconds,
            )
        evidence = payload = None
        if measuring:
            # Before anything else is read or made: a sweep's function without a payload is skipped.
            payload = resolve_source(request, target, state.tags, allowed_buckets(settings.payload_buckets), s3=s3)
            evidence = find_live_traffic(client, cloudwatch, target)
            role = state.configuration.role
            measured_on = shadow.decide(evidence, role, settings, measure_on_live=request.measure_on_live)
            if not measured_on:
                refuse_live(target, evidence, how_to_allow=shadow.shadow_refusal(role, settings))
            if measured_on != shadow.SHADOW:
                # Measuring on the target itself publishes versions of it (and in place moves its $LATEST):
                # a change, even in a dry run, and the template allows changes only to tagged functions.
                _refuse_untagged(
                    target, state.tags, settings, because="measuring it publishes versions of it at the candidate sizes"
                )
            evidence = evidence.measured(on=measured_on)
        discovered.append(
            DiscoveredTarget(
                ref=target, configuration=state.configuration, tags=state.tags, live_traffic=evidence, payload=payload
            )
        )
    return discovered


def _refuse_untagged(target: TargetRef, tags: dict[str, str], settings: Settings, *, because: str = "") -> None:
    """PermissionDeniedError naming the tag when the template's tag condition forbids changing the target."""
    if not settings.tag_scoped or tags.get(settings.target_tag_key) == settings.target_tag_value:
        return
    raise PermissionDeniedError(
        f"target {target.arn} is not tagged {settings.target_tag_key}={settings.target_tag_value}; "
        + (f"{because}, and " if because else "")
        + "this tuner may change only functions with that tag (template parameter TargetTagValue)"
    )
