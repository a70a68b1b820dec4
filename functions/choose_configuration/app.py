"""ChooseConfiguration: the step in autotuner_core/steps/choose_configuration.py, run by steps/handler.py."""

from autotuner_core.steps import choose_configuration
from autotuner_core.steps.handler import handler

lambda_handler = handler(choose_configuration.run)
