"""MeasureConfigurations: the step in autotuner_core/steps/measure_configuration.py, run by steps/handler.py."""

from autotuner_core.steps import measure_configuration
from autotuner_core.steps.handler import handler

lambda_handler = handler(measure_configuration.run)
