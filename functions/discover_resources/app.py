"""DiscoverResources: the step in autotuner_core/steps/discover_resources.py, run by steps/handler.py."""

from autotuner_core.steps import discover_resources
from autotuner_core.steps.handler import handler

lambda_handler = handler(discover_resources.run)
