"""CleanupMeasurement: the step in autotuner_core/steps/cleanup_measurement.py, run by steps/handler.py."""

from autotuner_core.steps import cleanup_measurement
from autotuner_core.steps.handler import handler

lambda_handler = handler(cleanup_measurement.run)
