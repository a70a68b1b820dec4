"""UpdateConfiguration: the step in autotuner_core/steps/update_configuration.py, run by steps/handler.py."""

from autotuner_core.steps import update_configuration
from autotuner_core.steps.handler import handler

lambda_handler = handler(update_configuration.run)
